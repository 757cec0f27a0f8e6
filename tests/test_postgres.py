"""The same Commons on a real PostgreSQL server: migrations from empty, a seeded instance that
``commons check`` passes, an API smoke test, and the database layer's own tests run again.

The server comes from ``scripts/postgres.sh`` (``bash scripts/test.sh`` starts it and exports
COMMONS_TEST_POSTGRES_URL). Each test gets a database of its own, created through that URL's role
and dropped afterwards, so the tests stay independent of each other and of earlier runs.
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from commons import create_app, db
from commons.models import PracticeRecord
from commons.services import catalog

from .conftest import make_app

# The database layer's tests, collected here a second time so they run against PostgreSQL
# through this module's ``app`` fixture (they run on SQLite in their own modules).
from .test_accounts import (  # noqa: F401
    test_commits_use_display_name_and_noreply_unless_email_published,
    test_delete_account_keeps_contributions_under_a_pseudonym, test_profile_and_password,
    test_register_sign_in_sign_out, test_registration_errors)
from .test_api import (  # noqa: F401
    test_create_practice, test_derived_slug_gets_suffix_and_explicit_taken_slug_is_409,
    test_history_diff_revert, test_lists_and_changes, test_rename_redirects_and_keeps_links)
from .test_forks import (  # noqa: F401
    test_closed_proposals_read_as_they_were_closed,
    test_decline_withdraw_comments_and_permissions, test_fork_is_a_new_practice_with_its_lineage_in_git,
    test_ledger_figures_after_a_scripted_scenario,
    test_proposal_accepted_cleanly_credits_every_author,
    test_proposal_conflicting_after_upstream_moved_is_resolved_and_accepted,
    test_reindex_restores_lineage_standing_and_ledger_from_git, w)

pytestmark = pytest.mark.postgres

COMMONS = str(Path(sys.executable).with_name("commons"))
HOW_TO = ("COMMONS_TEST_POSTGRES_URL is not set, so the PostgreSQL tests have no server. Run the "
          "suite with 'bash scripts/test.sh', or start the test server in your shell first with "
          "'source scripts/postgres.sh; ensure_postgres' (or deselect them with -m 'not "
          "postgres').")


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = os.environ.get("COMMONS_TEST_POSTGRES_URL")
    if not url:
        pytest.fail(HOW_TO, pytrace=False)
    return url


@pytest.fixture
def pg_url(pg_admin_url) -> Iterator[str]:
    """A fresh, empty database for one test; dropped afterwards, connections and all."""
    yield from _fresh_database(pg_admin_url)


@pytest.fixture
def other_pg_url(pg_admin_url) -> Iterator[str]:
    """A second empty database, for a restore."""
    yield from _fresh_database(pg_admin_url)


def _fresh_database(pg_admin_url: str) -> Iterator[str]:
    name = f"commons_test_{secrets.token_hex(6)}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def app(home, pg_url, monkeypatch):
    """conftest's ``app`` on PostgreSQL: the seeded repository copied, its derived tables rebuilt
    from git into the empty database; the CLI run by a test in its own process gets the same
    database through DATABASE_URL."""
    monkeypatch.setenv("DATABASE_URL", pg_url)
    app = make_app(home, DATABASE_URL=pg_url)
    assert app.extensions["commons"].engine.dialect.name == "postgresql"
    yield app
    app.extensions["commons"].engine.dispose()


def test_migrations_from_empty_build_exactly_the_models_schema(pg_url):
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from commons.models import Base

    engine = db.make_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.dialect.name == "postgresql"
            assert conn.execute(text("SELECT count(*) FROM pg_tables "
                                     "WHERE schemaname = 'public'")).scalar() == 0
        db.upgrade(engine)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
            tables = set(conn.execute(text("SELECT tablename FROM pg_tables "
                                           "WHERE schemaname = 'public'")).scalars())
        assert set(Base.metadata.tables) | {"alembic_version"} == tables
        command.downgrade(db.alembic_config(engine), "base")
        db.upgrade(engine)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()


def test_new_instance_initialises_seeds_and_passes_check(tmp_path, pg_url):
    home = tmp_path / "instance"
    app = create_app({"COMMONS_HOME": str(home), "DATABASE_URL": pg_url, "SECRET_KEY": "test"})
    inst = app.extensions["commons"]
    try:
        assert inst.engine.dialect.name == "postgresql"
        assert inst.is_initialised()
        with inst.session() as session:
            assert session.scalar(select(func.count()).select_from(PracticeRecord)) == 20
            assert catalog.check(session, inst.store, inst.license, inst.licenses) == []
    finally:
        inst.engine.dispose()
    assert not (home / "commons.db").exists()  # nothing went to SQLite on the side
    env = {**os.environ, "COMMONS_HOME": str(home), "DATABASE_URL": pg_url}
    result = subprocess.run([COMMONS, "check"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All consistent." in result.stderr


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.get_json())
    return r.get_json()


def test_api_smoke(api, inst):
    """The JSON API end to end on PostgreSQL: create, a merged edit on a stale base, history,
    fork, propose, accept, search, ledger — and the derived data still agree with git."""
    body = "## Why\n\nFirst paragraph.\n\nSecond paragraph.\n\nThird paragraph.\n"
    created = ok(api("post", "/practices", "alice",
                     json={"title": "Postgres smoke ritual", "body": body, "tags": ["Team"],
                           "agree_license": True}), 201)
    slug, first = created["slug"], created["revision"]
    second = ok(api("put", f"/practices/{slug}", "alice",
                    json={"body": body.replace("First paragraph.", "First, by Alice."),
                          "base_revision": first, "agree_license": True}))
    assert second["merged"] is False
    stale = ok(api("put", f"/practices/{slug}", "alice",  # from the first revision again
                   json={"body": body.replace("Third paragraph.", "Third, later."),
                         "base_revision": first, "agree_license": True}))
    assert stale["merged"] is True
    current = ok(api("get", f"/practices/{slug}"))
    assert "First, by Alice." in current["body"] and "Third, later." in current["body"]
    history = ok(api("get", f"/practices/{slug}/history"))
    revisions = [entry["revision"] for entry in history["history"]]
    assert revisions[-1] == first and len(revisions) == 3

    fork = ok(api("post", f"/practices/{slug}/forks", "bob", json={"agree_license": True}),
              201)["slug"]
    forked = ok(api("get", f"/practices/{fork}"))
    ok(api("put", f"/practices/{fork}", "bob",
           json={"body": forked["body"].replace("Second paragraph.", "Second, with a buddy."),
                 "base_revision": forked["revision"], "agree_license": True}))
    proposal = ok(api("post", f"/practices/{fork}/proposals", "bob",
                      json={"title": "A buddy", "message": "It worked."}), 201)
    review = ok(api("get", f"/proposals/{proposal['id']}"))
    assert review["clean"] is True
    accepted = ok(api("post", f"/proposals/{proposal['id']}/accept", "alice",
                      json={"fork_revision": review["fork_revision"],
                            "upstream_revision": review["upstream_revision"],
                            "agree_license": True}))
    assert accepted["status"] == "accepted"
    assert "Second, with a buddy." in ok(api("get", f"/practices/{slug}"))["body"]

    found = ok(api("get", "/search?q=smoke+ritual"))
    assert slug in [hit["slug"] for hit in found["results"]]
    ledger = ok(api("get", "/ledger"))
    assert ledger["totals"]["accepted"] >= 1
    with inst.session() as session:
        assert catalog.check(session, inst.store, inst.license, inst.licenses) == []


def test_backup_and_restore_on_postgresql(home, api, users, tmp_path, pg_url, other_pg_url):
    """pg_dump into the backup, pg_restore into another, empty database."""
    from .test_backup import backup_then_restore
    backup_then_restore(home, api, users, tmp_path, database_url=pg_url,
                        restored_url=other_pg_url)
