"""The moderation commands: commons user block/unblock, commons moderate revert, commons
practice remove/restore — real processes on a real instance folder."""
from __future__ import annotations

import time

from .conftest import make_app
from .test_cli import git, run


def test_block_and_unblock_from_the_command_line(home):
    assert run(home, "user", "add", "alice", "--password", "s3cret-pass").returncode == 0
    assert run(home, "user", "add", "boss", "--password", "s3cret-pass",
               "--role", "admin").returncode == 0
    token = run(home, "token", "create", "alice").stdout.strip()
    r = run(home, "user", "block", "alice", "--reason", "Spam links")
    assert r.returncode == 0 and "Blocked alice" in r.stdout
    refused = run(home, "token", "create", "alice")
    assert refused.returncode != 0 and "Spam links" in refused.stderr
    missing = run(home, "user", "block", "nobody", "--reason", "x")
    assert missing.returncode != 0 and "nobody" in missing.stderr
    no_reason = run(home, "user", "block", "alice")
    assert no_reason.returncode != 0 and "--reason" in no_reason.stderr
    admin = run(home, "user", "block", "boss", "--reason", "hijacked")
    assert admin.returncode != 0 and "administrator" in admin.stderr
    assert run(home, "user", "block", "boss", "--reason", "hijacked", "--admin").returncode == 0

    app = make_app(home)
    client = app.test_client()
    r = client.get("/api/v1/practices", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and "Spam links" in r.get_json()["error"]["message"]
    assert run(home, "user", "unblock", "alice").returncode == 0
    r = client.get("/api/v1/practices", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    app.extensions["commons"].engine.dispose()


def test_remove_revert_restore_and_reindex_from_the_command_line(home):
    assert run(home, "user", "add", "alice", "--password", "s3cret-pass").returncode == 0
    token = run(home, "token", "create", "alice").stdout.strip()
    time.sleep(1 - time.time() % 1 + 0.01)
    since = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    app = make_app(home)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    r = client.post("/api/v1/practices", headers=auth,
                    json={"title": "Spam from the shell", "agree_license": True})
    assert r.status_code == 201
    spam = r.get_json()["slug"]
    app.extensions["commons"].engine.dispose()

    r = run(home, "moderate", "revert", "alice", "--since", since, "--reason", "Spam run")
    assert r.returncode == 0, r.stderr
    assert f"removed   {spam}" in r.stdout
    assert "Moderation: revert alice since" in git(home, "log", "-1", "--format=%B")
    bad = run(home, "moderate", "revert", "alice", "--since", "last week", "--reason", "x")
    assert bad.returncode != 0 and "since" in bad.stderr

    r = run(home, "practice", "remove", "detox-zone", "--reason", "Out of date")
    assert r.returncode == 0, r.stderr
    assert "Removed-Because: Out of date" in git(home, "log", "-1", "--format=%B")
    again = run(home, "practice", "remove", "detox-zone", "--reason", "Out of date")
    assert again.returncode != 0 and "already removed" in again.stderr
    assert run(home, "practice", "remove", "nothing-here", "--reason", "x").returncode != 0
    bad_reason = run(home, "practice", "remove", "some-slug", "--reason", "")
    assert bad_reason.returncode != 0

    # the database is derived: delete it, rebuild it from git, the removal is still there
    (home / "commons.db").unlink()
    for p in home.glob("commons.db-*"):
        p.unlink()
    assert run(home, "db", "upgrade").returncode == 0
    assert run(home, "reindex").returncode == 0
    assert run(home, "check").returncode == 0
    app = make_app(home)
    page = app.test_client().get("/p/detox-zone")
    assert page.status_code == 410 and "Out of date" in page.get_data(as_text=True)
    app.extensions["commons"].engine.dispose()

    r = run(home, "practice", "restore", "detox-zone")
    assert r.returncode == 0 and "Restored detox-zone" in r.stdout
    app = make_app(home)
    assert app.test_client().get("/p/detox-zone").status_code == 200
    app.extensions["commons"].engine.dispose()
    assert run(home, "practice", "restore", "detox-zone").returncode != 0
    assert run(home, "check").returncode == 0
