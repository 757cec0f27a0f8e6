"""Backup and restore with the real CLI: a git bundle plus a database dump bring back every
practice, account, token and proposal; the search index and derived tables are rebuilt; a
restore never overwrites an instance that holds something."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from commons.services import backup as backups

from .conftest import auth, make_app

COMMONS = str(Path(sys.executable).with_name("commons"))


def run(home: Path, *args: str, database_url: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("COMMONS_") and k != "DATABASE_URL"}
    env["COMMONS_HOME"] = str(home)
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run([COMMONS, *args], capture_output=True, text=True, env=env, timeout=120)


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.get_json())
    return response.get_json()


def scenario(api) -> dict:
    """What only the database holds (accounts, tokens, an open proposal with a comment) and
    what only git holds (practices, their history)."""
    created = ok(api("post", "/practices", "alice",
                     json={"title": "Backup drill", "body": "## Steps\n\nCopy, then check.\n",
                           "agree_license": True}), 201)
    fork = ok(api("post", f"/practices/{created['slug']}/forks", "bob",
                  json={"agree_license": True}), 201)
    forked = ok(api("get", f"/practices/{fork['slug']}"))
    ok(api("put", f"/practices/{fork['slug']}", "bob",
           json={"body": forked["body"] + "\nRestore into a spare folder first.\n",
                 "base_revision": forked["revision"], "agree_license": True}))
    proposal = ok(api("post", f"/practices/{fork['slug']}/proposals", "bob",
                      json={"title": "Rehearse restores", "message": "We lost a day once."}),
                  201)
    ok(api("post", f"/proposals/{proposal['id']}/comments", "alice",
           json={"body": "Good point, let me read it."}), 201)
    return {"slug": created["slug"], "fork": fork["slug"], "proposal": proposal["id"]}


def backup_then_restore(home: Path, api, users, tmp_path: Path, *, database_url=None,
                        restored_url=None) -> None:
    """The whole drill, shared with the PostgreSQL tests."""
    made = scenario(api)
    folder = tmp_path / "backup-1"
    result = run(home, "backup", str(folder), database_url=database_url)
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((folder / backups.MANIFEST).read_text())
    assert manifest["head"] == run_git(home, "rev-parse", "main")
    assert set(manifest["files"]) == {backups.BUNDLE, backups.POSTGRES_DUMP if database_url
                                      else backups.SQLITE_DUMP}

    # A change made after the backup is not in it.
    later = ok(api("get", f"/practices/{made['slug']}"))
    ok(api("put", f"/practices/{made['slug']}", "alice",
           json={"body": later["body"] + "\nAfter the backup.\n",
                 "base_revision": later["revision"], "agree_license": True}))

    spare = tmp_path / "spare" / "instance"
    result = run(spare, "restore", str(folder), database_url=restored_url)
    assert result.returncode == 0, result.stdout + result.stderr
    check = run(spare, "check", database_url=restored_url)
    assert check.returncode == 0, check.stdout + check.stderr
    assert run_git(spare, "rev-parse", "main") == manifest["head"]
    fsck = subprocess.run(["git", "--git-dir", str(spare / "content.git"), "fsck", "--strict"],
                          capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stderr

    extra = {"DATABASE_URL": restored_url} if restored_url else {}
    app = make_app(spare, **extra)
    try:
        client = app.test_client()
        practice = client.get(f"/api/v1/practices/{made['slug']}").get_json()
        assert "Copy, then check." in practice["body"]
        assert "After the backup." not in practice["body"]
        review = client.get(f"/api/v1/proposals/{made['proposal']}").get_json()
        assert review["status"] == "open" and review["title"] == "Rehearse restores"
        # Tokens are stored as digests in the database: bob's old token still works.
        comment = client.post(f"/api/v1/proposals/{made['proposal']}/comments",
                              headers=auth(users["bob"]), json={"body": "Restored fine."})
        assert comment.status_code == 201, comment.get_json()
        # The search index was rebuilt from git.
        found = client.get("/api/v1/search?q=backup+drill").get_json()
        assert made["slug"] in [hit["slug"] for hit in found["results"]]
        lineage = client.get(f"/api/v1/practices/{made['fork']}/lineage").get_json()
        assert made["slug"] in json.dumps(lineage)
    finally:
        app.extensions["commons"].engine.dispose()


def run_git(home: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(home / "content.git"), *args],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_backup_and_restore_on_sqlite(home, api, users, tmp_path):
    backup_then_restore(home, api, users, tmp_path)


def test_restore_refuses_an_instance_that_holds_something(home, api, users, tmp_path):
    folder = tmp_path / "backup"
    assert run(home, "backup", str(folder)).returncode == 0
    head = run_git(home, "rev-parse", "main")
    result = run(home, "restore", str(folder))
    assert result.returncode == 1
    assert "already holds a repository" in result.stderr
    assert run_git(home, "rev-parse", "main") == head

    # A database with tables but no repository: refused too, and no repository is left behind.
    other = tmp_path / "other"
    other.mkdir()
    (other / "commons.db").write_bytes((home / "commons.db").read_bytes())
    result = run(other, "restore", str(folder))
    assert result.returncode == 1 and "empty database" in result.stderr
    assert not (other / "content.git" / "HEAD").exists()


def test_backup_and_restore_refuse_bad_folders(home, tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    result = run(home, "backup", str(busy))
    assert result.returncode == 1 and "not empty" in result.stderr
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]

    empty = tmp_path / "nothing"
    empty.mkdir()
    result = run(tmp_path / "new", "restore", str(empty))
    assert result.returncode == 1 and "holds no Commons backup" in result.stderr

    (empty / backups.MANIFEST).write_text("{not json")
    result = run(tmp_path / "new", "restore", str(empty))
    assert result.returncode == 1 and "damaged" in result.stderr

    (empty / backups.MANIFEST).write_text(json.dumps({"format": 1, "database": "sqlite"}))
    (empty / backups.BUNDLE).write_text("not a bundle")
    result = run(tmp_path / "new", "restore", str(empty))
    assert result.returncode == 1 and "not a git bundle" in result.stderr
    assert not (tmp_path / "new" / "content.git").exists()
