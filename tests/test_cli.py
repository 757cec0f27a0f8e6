"""The ``commons`` command: init, users, tokens, stewards, reindex, check."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

COMMONS = str(Path(sys.executable).with_name("commons"))


def run(home, *args, input=None):
    env = {**os.environ, "COMMONS_HOME": str(home)}
    return subprocess.run([COMMONS, *args], capture_output=True, text=True, env=env, input=input)


def git(home, *args, **kw):
    return subprocess.run(["git", "--git-dir", str(home / "content.git"), *args],
                          capture_output=True, text=True, check=True, **kw).stdout


@pytest.fixture
def home(seeded_home, tmp_path):
    import shutil
    target = tmp_path / "instance"
    shutil.copytree(seeded_home, target)
    return target


def test_init_is_idempotent(tmp_path):
    home = tmp_path / "new"
    first = run(home, "init")
    assert first.returncode == 0, first.stderr
    assert "seeded 20 starter practices" in first.stdout
    assert "commons user add" in first.stdout  # says how to create the first admin
    head = git(home, "rev-parse", "main")
    again = run(home, "init")
    assert again.returncode == 0 and "seeded" not in again.stdout
    assert git(home, "rev-parse", "main") == head
    assert run(home, "check").returncode == 0


def test_users_tokens_and_stewards(home):
    r = run(home, "user", "add", "alice", "--password", "s3cret-pass", "--role", "admin")
    assert r.returncode == 0, r.stderr
    assert run(home, "user", "add", "alice", "--password", "s3cret-pass").returncode != 0
    bad = run(home, "user", "add", "Bad!", "--password", "s3cret-pass")
    assert bad.returncode != 0 and "username" in bad.stderr
    token = run(home, "token", "create", "alice")
    assert token.returncode == 0 and token.stdout.strip().startswith("cmn_")
    assert token.stdout.count("\n") == 1  # alone on stdout
    assert run(home, "token", "create", "nobody").returncode != 0
    assert run(home, "user", "passwd", "alice", "--password", "new-pass-123").returncode == 0
    r = run(home, "steward", "add", "detox-zone", "alice")
    assert r.returncode == 0, r.stderr
    assert "stewards: [alice]" in git(home, "show", "main:practices/detox-zone.md")
    assert "License: CC-BY-SA-4.0" in git(home, "log", "-1", "--format=%B")
    missing = run(home, "steward", "add", "nothing-here", "alice")
    assert missing.returncode != 0 and "nothing-here" in missing.stderr


def commit_behind_the_back(home, path, text, message="sneaky edit"):
    """A commit made with plain git, as someone with shell access might."""
    work = home.parent / "work"
    subprocess.run(["git", "clone", "-q", str(home / "content.git"), str(work)], check=True)
    (work / path).write_text(text)
    env = {**os.environ, "GIT_AUTHOR_NAME": "Mallory", "GIT_AUTHOR_EMAIL": "m@example.org",
           "GIT_COMMITTER_NAME": "Mallory", "GIT_COMMITTER_EMAIL": "m@example.org"}
    subprocess.run(["git", "-C", str(work), "add", path], check=True)
    subprocess.run(["git", "-C", str(work), "commit", "-qm", message], check=True, env=env)
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "main"], check=True)


def test_check_names_each_kind_of_problem(home):
    assert run(home, "check").returncode == 0
    commit_behind_the_back(home, "practices/detox-zone.md",
                           "---\ntitle: [broken\n---\nbody\n")
    r = run(home, "check")
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    head = git(home, "rev-parse", "main").strip()
    assert f"content@{head}: commit made outside Commons (committer Mallory)" in lines
    assert any(l.startswith(f"practices/detox-zone.md@{head}: missing 'License: CC-BY-SA-4.0'")
               for l in lines)
    assert any(l.startswith("practices/detox-zone.md@") and "invalid front matter" in l
               for l in lines)
    assert any("derived data out of date" in l for l in lines)
    for line in lines:  # one line per problem, path@revision: reason
        assert "@" in line.split(":")[0]
    # reindex repairs the derived data; the other problems are in git and stay reported
    assert run(home, "reindex").returncode == 0
    r = run(home, "check")
    assert not any("derived data out of date" in l for l in r.stdout.splitlines())
    assert r.returncode == 1


def test_reindex_after_deleting_the_database_loses_nothing(home):
    run(home, "user", "add", "alice", "--password", "s3cret-pass")
    (home / "commons.db").unlink()
    for p in home.glob("commons.db-*"):
        p.unlink()
    r = run(home, "db", "upgrade")
    assert r.returncode == 0, r.stderr
    assert run(home, "reindex").returncode == 0
    assert run(home, "check").returncode == 0


def test_commands_need_an_initialised_instance(tmp_path):
    r = run(tmp_path / "none", "check")
    assert r.returncode != 0 and "commons init" in r.stderr


def test_serve_on_a_fresh_folder_creates_the_instance_and_says_how_to_add_an_admin(tmp_path):
    """The README's first command ends in ``commons serve``: on an empty folder it initialises
    the instance, serves it with gunicorn and prints the URL and the admin command to run."""
    import urllib.request

    from .serverproc import Server

    home = tmp_path / "instance"
    server = Server(home, workers=2, log_dir=tmp_path)
    try:
        server.start()
        with urllib.request.urlopen(server.url + "/p/co-development-group", timeout=10) as r:
            assert r.status == 200
        out = server.logs()
    finally:
        server.stop()
    assert f"Commons is running at {server.url}/" in out
    assert f"{COMMONS} user add NAME --email you@example.org --role admin" in out
    assert "gunicorn" in out and (home / "content.git").is_dir() and (home / "index").is_dir()
    assert f"Control socket listening at {home / 'gunicorn.ctl'}" in out or "Control" not in out
