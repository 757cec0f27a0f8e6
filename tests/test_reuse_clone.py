"""Taking the whole commons away: a REUSE-compliant repository and zip, and a read-only clone.

The clone goes through a real ``commons serve`` (gunicorn) and the real git client over smart
HTTP; compliance is judged by the real ``reuse`` tool (PyPI ``reuse``), and the licence it
reports for each file is compared with that file's front matter.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from commons.services import editing, forks, reuse_export
from commons.services import practice as doc
from commons.services.instance import SEED_AUTHOR

from .conftest import make_app
from .serverproc import Server

REUSE = str(Path(sys.executable).with_name("reuse"))


# ---- helpers ------------------------------------------------------------------------------------

def reuse_lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([REUSE, "--root", str(root), "lint"], capture_output=True, text=True,
                          check=False)


def reuse_licenses(root: Path) -> dict[str, str]:
    """{path: licence} as the reuse tool reads the folder (its SPDX bill of materials)."""
    out = subprocess.run([REUSE, "--root", str(root), "spdx"], capture_output=True, text=True,
                         check=True).stdout
    found, name = {}, None
    for line in out.splitlines():
        if line.startswith("FileName: "):
            name = line.removeprefix("FileName: ./")
        elif line.startswith("LicenseInfoInFile: ") and name:
            found.setdefault(name, []).append(line.removeprefix("LicenseInfoInFile: "))
    return {path: " AND ".join(ids) for path, ids in found.items()}


def assert_reuse_matches_front_matter(root: Path) -> int:
    """Every practice file: the licence REUSE reports is its front matter's ``license``."""
    reported = reuse_licenses(root)
    practices = sorted((root / "practices").glob("*.md"))
    assert practices
    for path in practices:
        rel = path.relative_to(root).as_posix()
        expected = doc.parse(path.read_text(encoding="utf-8")).license
        assert reported.get(rel) == expected, (rel, reported.get(rel), expected)
    return len(practices)


def git(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_TERMINAL_PROMPT": "0", "GIT_AUTHOR_NAME": "Mallory",
                "GIT_AUTHOR_EMAIL": "m@example.org", "GIT_COMMITTER_NAME": "Mallory",
                "GIT_COMMITTER_EMAIL": "m@example.org"})
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env,
                          check=check, timeout=120)


def plant(inst, changes: dict, message: str = "planted", trailers=(("License", "CC-BY-SA-4.0"),)):
    """A commit made through the store alone, bypassing the services."""
    with inst.store.lock():
        return inst.store.commit(changes, author=SEED_AUTHOR, message=message,
                                 trailers=list(trailers))


def with_license(text: str, license_id: str) -> str:
    practice = doc.parse(text)
    practice.meta["license"] = license_id
    return doc.serialize(practice)


# ---- the repository -----------------------------------------------------------------------------

def test_seed_writes_licence_texts_and_reuse_toml(inst, tmp_path):
    licence = inst.store.read("LICENSES/CC-BY-SA-4.0.txt")
    assert licence is not None
    shipped = (Path(reuse_export.__file__).parent.parent / "licenses" / "CC-BY-SA-4.0.txt")
    assert licence[0] == shipped.read_text(encoding="utf-8")
    assert "Attribution-ShareAlike 4.0 International" in licence[0]
    toml = inst.store.read("REUSE.toml")[0]
    assert 'SPDX-License-Identifier = "CC-BY-SA-4.0"' in toml
    # one seed commit holds everything, practices and licensing together
    assert len(inst.store.log()) == 1
    assert {p for _, p, _ in inst.store.log()[0].changes} >= {
        "REUSE.toml", "LICENSES/CC-BY-SA-4.0.txt", "practices/co-development-group.md"}


def test_a_differing_licence_is_annotated_in_the_same_commit_and_removed_again(inst, users):
    """A practice's licence is only the commons' one through the services; written directly
    (as an older Commons or an import might have), REUSE.toml still follows its front matter."""
    from commons.models import User
    with inst.session() as session:
        alice = session.query(User).filter_by(username="alice").one()
        path = doc.path_for("detox-zone")
        text = inst.store.read(path)[0]
        before = inst.store.read("REUSE.toml")[1]
        with editing.write_lock(inst, session):
            plain = editing.commit_one(inst, session, {path: text + "\nOne more line.\n"},
                                       alice, "an ordinary edit", [])
        assert inst.store.read("REUSE.toml")[1] == before  # an ordinary save leaves it alone
        assert {p for _, p, _ in inst.store.log(max_count=1)[0].changes} == {path}
        with editing.write_lock(inst, session):
            other = editing.commit_one(inst, session,
                                       {path: with_license(text, "CC-BY-SA-3.0")}, alice,
                                       "relicense", [])
        commit = inst.store.log(max_count=1)[0]
        assert commit.revision == other != plain
        assert {p for _, p, _ in commit.changes} == {path, "REUSE.toml"}
        toml = inst.store.read("REUSE.toml")[0]
        assert reuse_export.declared(toml, inst.license) == {path: "CC-BY-SA-3.0"}
        assert 'precedence = "override"' in toml
        with editing.write_lock(inst, session):
            editing.commit_one(inst, session, {path: text}, alice, "back", [])
        assert inst.store.read("REUSE.toml")[1] == before


def test_reuse_follows_front_matter_not_tags_typed_in_a_body(inst, tmp_path):
    path = doc.path_for("detox-zone")
    text = inst.store.read(path)[0]
    sneaky = with_license(text, "CC-BY-SA-3.0") + "\nSPDX-License-Identifier: MIT\n"
    changes = {path: sneaky}
    changes.update(reuse_export.follow(inst.store, changes, inst.license))
    revision = plant(inst, changes)
    out = tmp_path / "tree"
    zipfile.ZipFile(io.BytesIO(inst.store.archive_zip(revision))).extractall(out)
    assert assert_reuse_matches_front_matter(out) == 20
    assert reuse_licenses(out)["practices/detox-zone.md"] == "CC-BY-SA-3.0"
    lint = reuse_lint(out)
    # CC BY-SA 3.0 is declared truthfully; Commons ships no text for it, and reuse says so
    assert lint.returncode == 1 and "CC-BY-SA-3.0" in lint.stdout
    assert "MIT" not in lint.stdout


def test_an_instance_made_before_reuse_is_brought_up_to_date_on_start(home, tmp_path):
    app = make_app(home)
    inst = app.extensions["commons"]
    files = ["REUSE.toml", *inst.store.list_files("LICENSES")]
    plant(inst, {p: None for p in files}, "as an older Commons left it", trailers=())
    old_head = inst.store.head()
    app.extensions["commons"].engine.dispose()
    inst = make_app(home).extensions["commons"]  # starting the app runs init
    assert inst.store.head() != old_head
    assert inst.store.read("REUSE.toml") is not None
    assert "REUSE" in inst.store.log(max_count=1)[0].subject
    out = tmp_path / "tree"
    zipfile.ZipFile(io.BytesIO(inst.store.archive_zip(inst.store.head()))).extractall(out)
    assert reuse_lint(out).returncode == 0
    inst.engine.dispose()


# ---- the zip and the git routes through the test client ------------------------------------------

def test_zip_download_is_reuse_compliant(client, inst, tmp_path):
    r = client.get("/commons.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    head = inst.store.head()
    assert f'filename="commons-{head[:12]}.zip"' in r.headers["Content-Disposition"]
    out = tmp_path / "zip"
    zipfile.ZipFile(io.BytesIO(r.data)).extractall(out)
    root = out / f"commons-{head[:12]}"
    assert {p.name for p in root.iterdir()} == {"LICENSES", "REUSE.toml", "practices"}
    lint = reuse_lint(root)
    assert lint.returncode == 0, lint.stdout
    assert assert_reuse_matches_front_matter(root) == 20
    for path, blob in inst.store.list_files("practices").items():
        assert (root / path).read_text(encoding="utf-8") == inst.store.read_blob(blob)


def test_git_routes_refuse_pushes_and_unknown_services(client):
    for r in (client.get("/commons.git/info/refs?service=git-receive-pack"),
              client.post("/commons.git/git-receive-pack", data=b"0000",
                          content_type="application/x-git-receive-pack-request")):
        assert r.status_code == 403 and "read-only" in r.get_data(as_text=True)
    assert client.get("/commons.git/info/refs").status_code == 404  # no dumb protocol
    assert client.get("/commons.git/info/refs?service=git-evil").status_code == 404
    assert client.get("/commons.git/HEAD").status_code == 404
    assert client.get("/commons.git/objects/info/packs").status_code == 404
    assert client.post("/commons.git/git-upload-pack", data=b"0000",
                       content_type="text/plain").status_code == 415
    r = client.get("/commons.git/info/refs?service=git-upload-pack")
    assert r.status_code == 200
    assert r.mimetype == "application/x-git-upload-pack-advertisement"
    assert r.data.startswith(b"001e# service=git-upload-pack\n")
    v2 = client.get("/commons.git/info/refs?service=git-upload-pack",
                    headers={"Git-Protocol": "version=2"})
    assert v2.data.startswith(b"000eversion 2\n")


def test_git_http_time_limit_stops_the_backend(home, tmp_path, monkeypatch):
    """A backend that hangs (here a ``git`` whose http-backend never answers) is killed at the
    time limit and the client gets a 504, not a worker stuck for ever."""
    import shutil
    import time

    app = make_app(home, GIT_HTTP_TIMEOUT=1)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "git").write_text(f'#!/bin/sh\n[ "$1" = http-backend ] && exec sleep 60\n'
                              f'exec {shutil.which("git")} "$@"\n')
    (fake / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:{os.environ['PATH']}")
    try:
        started = time.monotonic()
        r = app.test_client().get("/commons.git/info/refs?service=git-upload-pack")
        assert r.status_code == 504
        assert 0.9 < time.monotonic() - started < 10
    finally:
        app.extensions["commons"].engine.dispose()


# ---- a real clone through a real server ----------------------------------------------------------

@pytest.fixture
def served(home, tmp_path):
    """A fork made through the services, then ``commons serve`` on the instance."""
    app = make_app(home)
    inst = app.extensions["commons"]
    from commons.services import accounts
    with inst.session() as session:
        bob = accounts.create_user(session, "bob", "correct horse battery", display_name="Bob")
        fork = forks.fork_practice(inst, session, bob, "detox-zone", agree_license=True)
        fork_slug = fork.record.slug
    inst.engine.dispose()
    server = Server(home, workers=2, log_dir=tmp_path)
    server.start()
    try:
        yield server, inst, fork_slug
    finally:
        server.stop()


def test_git_clone_over_http_has_content_history_lineage_and_is_read_only(served, tmp_path):
    server, inst, fork_slug = served
    url = f"{server.url}/commons.git"
    clone = tmp_path / "clone"
    r = git("clone", "--quiet", url, str(clone), check=False)
    assert r.returncode == 0, r.stderr + server.logs()
    # content: every practice, byte for byte
    files = inst.store.list_files("practices")
    assert len(files) == 21
    assert sorted(p.as_posix() for p in (clone / "practices").glob("*.md")) == \
        sorted((clone / p).as_posix() for p in files)
    for path, blob in files.items():
        assert (clone / path).read_bytes() == inst.store.read_blob(blob).encode("utf-8")
    # history: the same commits
    assert git("rev-parse", "HEAD", cwd=clone).stdout.strip() == inst.store.head()
    count = int(git("rev-list", "--count", "HEAD", cwd=clone).stdout)
    assert count == len(inst.store.log()) == 2
    # lineage: the fork's trailer travels with the clone
    log = git("log", "--format=%B%x00", f"practices/{fork_slug}.md", cwd=clone).stdout
    upstream_rev = inst.store.log()[-1].revision
    assert f"Forked-from: detox-zone@{upstream_rev}" in log
    assert "License: CC-BY-SA-4.0" in log
    # REUSE-compliant, and each file's licence is its front matter's
    lint = reuse_lint(clone)
    assert lint.returncode == 0, lint.stdout
    assert assert_reuse_matches_front_matter(clone) == 21
    # the older protocol works too
    v0 = git("-c", "protocol.version=0", "clone", "--quiet", url, str(tmp_path / "v0"),
             check=False)
    assert v0.returncode == 0, v0.stderr
    # pushing is refused and changes nothing
    (clone / "practices" / "detox-zone.md").write_text("vandalised\n")
    git("commit", "-qam", "push me", cwd=clone)
    push = git("push", "origin", "HEAD:main", cwd=clone, check=False)
    assert push.returncode != 0 and "403" in push.stderr
    assert inst.store.head() == git("rev-parse", "HEAD~1", cwd=clone).stdout.strip()


def test_zip_from_the_server_unpacks_to_a_compliant_tree(served, tmp_path):
    server, _inst, _fork = served
    with urllib.request.urlopen(server.url + "/commons.zip", timeout=30) as resp:
        data = resp.read()
        disposition = resp.headers["Content-Disposition"]
    name = re.search(r'filename="(commons-[0-9a-f]{12})\.zip"', disposition).group(1)
    zipfile.ZipFile(io.BytesIO(data)).extractall(tmp_path / "zip")
    root = tmp_path / "zip" / name
    assert reuse_lint(root).returncode == 0
    assert assert_reuse_matches_front_matter(root) == 21
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(server.url + "/commons.git/info/refs?service=git-receive-pack",
                               timeout=30)
    assert refused.value.code == 403
