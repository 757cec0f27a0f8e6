"""Concurrent and stale saves: nothing written is ever lost, git stays the source of truth.

The first tests run a real server (``commons serve --workers 2`` → gunicorn, two worker
processes sharing one git repository and one SQLite file) and hit it from two separate client
processes at once (``serverproc.py``, plain urllib). The others go through the Flask test client
and check the stale-base rules one by one: a clean three-way merge, a conflict that is resolved
and sent again, and a save that changes nothing.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from commons.services import accounts

from .conftest import PASSWORD, make_app
from .serverproc import Server, cli
from .serverproc import request as http_request

CLIENT = Path(__file__).with_name("serverproc.py")
N_EDITS = 15
N_CREATES = 10
MIDDLE = [f"Middle paragraph {k}, which nobody touches." for k in range(8)]


# ---- helpers ------------------------------------------------------------------------------------

def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "--git-dir", str(repo), *args], capture_output=True,
                          text=True, check=check)


def commits_touching(repo: Path, path: str) -> list[str]:
    """Commits of ``main`` that touch ``path``, oldest first."""
    out = git(repo, "log", "--reverse", "--format=%H", "main", "--", path).stdout
    return out.split()


def file_at(repo: Path, revision: str, path: str) -> str:
    return git(repo, "show", f"{revision}:{path}").stdout


def run_clients(argvs: list[list[str]], timeout: float = 90) -> list[dict]:
    """Start one process per client, release them together once all are ready, wait for all,
    return their JSON reports."""
    procs = [subprocess.Popen([sys.executable, str(CLIENT), *argv], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for argv in argvs]
    reports = []
    try:
        for proc in procs:  # a client that fails before it is ready ends its stdout: no hang
            line = proc.stdout.readline()
            if line.strip() != "ready":
                out, err = proc.communicate(timeout=timeout)
                raise AssertionError(f"client not ready ({proc.returncode}):\n{line}{out}\n{err}")
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            assert proc.returncode == 0, f"client failed ({proc.returncode}):\n{out}\n{err}"
            reports.append(json.loads(out))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return reports


def assert_repository_sound(home: Path) -> None:
    repo = home / "content.git"
    fsck = git(repo, "fsck", "--full", "--strict", "--no-dangling", check=False)
    assert fsck.returncode == 0, f"git fsck failed:\n{fsck.stdout}\n{fsck.stderr}"
    bad = [line for line in (fsck.stdout + fsck.stderr).splitlines()
           if line.split(" ", 1)[0] in ("error", "error:", "missing", "broken", "fatal:")]
    assert not bad, bad
    merges = git(repo, "rev-list", "--merges", "main").stdout.split()
    assert merges == [], "main must stay linear (merges happen in text, not in git)"
    check = cli(home, "check", check=False)
    assert check.returncode == 0, f"commons check reported problems:\n{check.stdout}{check.stderr}"


# ---- a real server with two workers -------------------------------------------------------------

class Served:
    def __init__(self, server: Server, tokens: dict[str, str]) -> None:
        self.server = server
        self.url = server.url
        self.home = server.home
        self.repo = server.home / "content.git"
        self.tokens = tokens

    def call(self, method: str, path: str, who: str, payload: dict | None = None):
        return http_request(method, self.url + "/api/v1" + path, self.tokens[who], payload)


@pytest.fixture(scope="module")
def served(seeded_home, tmp_path_factory, request):
    """A fresh copy of the seeded instance served by ``commons serve --workers 2``; an admin
    (root) and its token made with the CLI, a contributor (alice) made through the services."""
    home = tmp_path_factory.mktemp("served") / "instance"
    shutil.copytree(seeded_home, home)
    cli(home, "user", "add", "root", "--password", PASSWORD, "--role", "admin")
    root_token = cli(home, "token", "create", "root").stdout.strip()
    assert root_token and "\n" not in root_token
    app = make_app(home)
    inst = app.extensions["commons"]
    with inst.session() as session:
        alice = accounts.create_user(session, "alice", PASSWORD, display_name="Alice")
        alice_token = accounts.create_token(session, alice, "tests")
    inst.engine.dispose()

    server = Server(home, workers=2, log_dir=home.parent)
    request.addfinalizer(server.stop)
    server.start()
    yield Served(server, {"root": root_token, "alice": alice_token})
    assert server.proc is not None and server.proc.poll() is None, \
        "the server died during the tests:\n" + server.logs()
    logs = server.logs()
    assert "Traceback" not in logs, logs


def test_server_runs_two_workers(served):
    master = served.server.proc.pid  # `commons serve` exec'd gunicorn: same pid
    out = subprocess.run(["ps", "-o", "pid=,pgid=,args=", "--ppid", str(master)],
                         capture_output=True, text=True).stdout
    workers = [line.split() for line in out.splitlines() if "gunicorn" in line]
    # two workers, in the process group the fixture kills
    assert len(workers) == 2, out
    assert all(int(w[1]) == master for w in workers), out
    status, data = served.call("GET", "/practices?per_page=1", "alice")
    assert status == 200 and data["total"] >= 20


def test_concurrent_saves_from_two_processes_lose_nothing(served):
    body = "## Notes\n\n" + "\n".join(MIDDLE) + "\n"
    status, created = served.call("POST", "/practices", "alice", {
        "title": "Shared notebook under load", "body": body, "agree_license": True})
    assert status == 201, created
    slug, path = created["slug"], f"practices/{created['slug']}.md"

    reports = run_clients([
        ["edit", served.url, served.tokens["alice"], slug, "alice", "end", str(N_EDITS)],
        ["edit", served.url, served.tokens["root"], slug, "root", "start", str(N_EDITS)],
    ])
    by = {r["who"]: r for r in reports}
    summary = {who: {"saves": len(r["saves"]), "retries": r["retries"],
                     "merged": sum(s["merged"] for s in r["saves"]), "errors": r["errors"]}
               for who, r in by.items()}
    t0 = min(s["sent"] for r in reports for s in r["saves"])
    print("concurrent saves:", json.dumps(summary))
    for r in reports:  # the timeline, with -s: sent-answered (seconds), M when merged
        print(f"{r['who']:>5}", " ".join(f"{s['sent'] - t0:.2f}-{s['answered'] - t0:.2f}"
                                         f"{'M' if s['merged'] else ''}" for s in r["saves"]))

    # every save answered 200 (a 409 is only allowed when followed by a successful retry)
    for who, r in by.items():
        assert r["errors"] == [], f"{who}: {r['errors']}"
        assert [s["line"] for s in r["saves"]] == [f"{who}-line-{i:02d}" for i in range(N_EDITS)]
        assert all(s["changed"] for s in r["saves"]), r["saves"]
        assert len(r["conflicts"]) == r["retries"]
    saves = by["alice"]["saves"] + by["root"]["saves"]
    revisions = [s["revision"] for s in saves]
    assert len(set(revisions)) == 2 * N_EDITS, "two saves answered with the same revision"

    # the final text has every line, once, each client's lines in its own order
    status, final = served.call("GET", f"/practices/{slug}", "alice")
    assert status == 200
    lines = final["body"].splitlines()
    for who in ("alice", "root"):
        for i in range(N_EDITS):
            assert lines.count(f"{who}-line-{i:02d}") == 1, \
                f"{who}-line-{i:02d} lost or duplicated; final body:\n{final['body']}"
    assert lines[:N_EDITS] == [f"root-line-{i:02d}" for i in reversed(range(N_EDITS))]
    assert lines[-N_EDITS:] == [f"alice-line-{i:02d}" for i in range(N_EDITS)]
    assert all(line in lines for line in MIDDLE)

    # git: one commit per successful change, in a straight line, each adding exactly its line
    commits = commits_touching(served.repo, path)
    assert commits[0] == created["revision"]
    assert len(commits) == 1 + 2 * N_EDITS, (len(commits), summary)
    assert set(commits[1:]) == set(revisions)
    assert final["revision"] == commits[-1] == git(served.repo, "rev-parse", "main").stdout.strip()
    line_of = {s["revision"]: s["line"] for s in saves}
    marker = lambda text: {l for l in text.splitlines() if "-line-" in l}  # noqa: E731
    seen: set[str] = set()
    for revision in commits[1:]:
        now = marker(file_at(served.repo, revision, path))
        assert seen <= now, f"{revision} dropped {sorted(seen - now)}"
        assert now - seen == {line_of[revision]}, (revision, sorted(now - seen))
        seen = now
        parents = git(served.repo, "rev-list", "--parents", "-n1", revision).stdout.split()[1:]
        assert len(parents) == 1
    # every save was made from a revision this practice really had (or the one before)
    for s in saves:
        assert s["base"] in commits

    # the history API lists the same commits
    status, history = served.call("GET", f"/practices/{slug}/history?per_page=100", "alice")
    assert status == 200
    assert history["total"] == 1 + 2 * N_EDITS
    assert {h["revision"] for h in history["history"]} == set(commits)
    assert {h["author"]["username"] for h in history["history"][:-1]} == {"alice", "root"}

    assert_repository_sound(served.home)
    # the clients really did overlap: some saves were made from a stale base and merged
    assert any(s["merged"] for s in saves), f"the clients never raced: {summary}"


def test_concurrent_creates_with_one_title_get_distinct_slugs(served):
    title = "Concurrent retrospective ritual"
    base = "concurrent-retrospective-ritual"
    head_before = git(served.repo, "rev-parse", "main").stdout.strip()
    reports = run_clients([
        ["create", served.url, served.tokens[who], title, who, str(N_CREATES)]
        for who in ("alice", "root")])
    for r in reports:
        assert r["errors"] == [], f"{r['who']}: {r['errors']}"
        assert len(r["created"]) == N_CREATES
    created = [c for r in reports for c in r["created"]]
    slugs = [c["slug"] for c in created]
    assert len(set(slugs)) == 2 * N_CREATES, sorted(slugs)
    assert set(slugs) == {base} | {f"{base}-{k}" for k in range(2, 2 * N_CREATES + 1)}

    # nobody's practice was overwritten by another's: each slug holds what its creator sent
    for c in created:
        status, data = served.call("GET", f"/practices/{c['slug']}", "alice")
        assert status == 200
        assert data["body"] == c["body"]
        assert data["title"] == title
    new = git(served.repo, "rev-list", "--reverse", f"{head_before}..main").stdout.split()
    assert len(new) == 2 * N_CREATES
    assert set(new) == {c["revision"] for c in created}
    for revision in new:
        changed = git(served.repo, "diff-tree", "--no-commit-id", "--name-status", "-r",
                      revision).stdout.split("\n")
        changed = [line for line in changed if line]
        assert len(changed) == 1 and changed[0].startswith("A\tpractices/"), changed

    # both workers indexed what they wrote before answering: a search through either worker
    # finds each client's practices by the words that client wrote
    from urllib.parse import urlencode
    for who in ("alice", "root"):
        query = urlencode({"q": f'"created by {who}" AND ritual', "per_page": 100})
        for _ in range(4):  # the requests land on either worker
            status, found = served.call("GET", f"/search?{query}", "alice")
            assert status == 200, found
            assert {hit["slug"] for hit in found["results"]} == \
                {c["slug"] for r in reports if r["who"] == who for c in r["created"]}, found
            assert found["total"] == N_CREATES

    assert_repository_sound(served.home)


# ---- stale bases through the API (Flask test client) -------------------------------------------

LINES = ["First line.", "Second line.", "Third line.", "Fourth line.", "Fifth line.",
         "Last line."]


def create(api, who="alice", lines=LINES, title="Stale base practice"):
    r = api("post", "/practices", who, json={"title": title, "body": "\n".join(lines) + "\n",
                                             "agree_license": True})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def put(api, who, slug, lines, base, **extra):
    body = "\n".join(lines) + "\n" if isinstance(lines, list) else lines
    return api("put", f"/practices/{slug}", who,
               json={"body": body, "base_revision": base, "agree_license": True, **extra})


def history(api, slug):
    r = api("get", f"/practices/{slug}/history?per_page=100", "alice")
    assert r.status_code == 200
    return r.get_json()


def test_stale_base_with_clean_merge(api, inst):
    p = create(api)
    slug, base = p["slug"], p["revision"]
    theirs = ["First line, improved by root."] + LINES[1:]
    r1 = put(api, "root", slug, theirs, base)
    assert r1.status_code == 200, r1.get_json()
    assert r1.get_json()["merged"] is False

    mine = LINES[:-1] + ["Last line, improved by alice."]
    r2 = put(api, "alice", slug, mine, base)  # still from the original base
    assert r2.status_code == 200, r2.get_json()
    data = r2.get_json()
    assert data["merged"] is True and data["changed"] is True
    expected = ["First line, improved by root."] + LINES[1:-1] + ["Last line, improved by alice."]
    assert data["body"].splitlines() == expected
    assert data["revision"] not in (base, r1.get_json()["revision"])

    repo = inst.store.path
    path = f"practices/{slug}.md"
    assert commits_touching(repo, path) == [base, r1.get_json()["revision"], data["revision"]]
    assert file_at(repo, "main", path).endswith("\n".join(expected) + "\n")
    assert history(api, slug)["total"] == 3
    assert api("get", f"/practices/{slug}", "bob").get_json()["body"].splitlines() == expected


def test_stale_base_conflict_resolved_and_resubmitted(api, inst):
    p = create(api)
    slug, base = p["slug"], p["revision"]
    theirs = LINES[:1] + ["Second line, the way root sees it."] + LINES[2:]
    r1 = put(api, "root", slug, theirs, base)
    assert r1.status_code == 200
    root_rev = r1.get_json()["revision"]

    mine = LINES[:1] + ["Second line, the way alice sees it."] + LINES[2:]
    r2 = put(api, "alice", slug, mine, base)
    assert r2.status_code == 409, r2.get_json()
    conflict = r2.get_json()
    assert conflict["error"]["code"] == "conflict"
    assert conflict["error"]["message"]
    for key in ("current_revision", "base_revision", "yours", "theirs", "merged_with_markers"):
        assert key in conflict, key
    assert conflict["current_revision"] == root_rev
    assert conflict["base_revision"] == base
    assert "the way alice sees it" in conflict["yours"]
    assert "the way root sees it" in conflict["theirs"]
    marked = conflict["merged_with_markers"]
    assert "<<<<<<<" in marked and "=======" in marked and ">>>>>>>" in marked
    assert "the way alice sees it" in marked and "the way root sees it" in marked
    # the refused save made no commit
    assert history(api, slug)["total"] == 2
    assert inst.store.head() == root_rev

    resolved = LINES[:1] + ["Second line, the way root and alice agreed on."] + LINES[2:]
    r3 = put(api, "alice", slug, resolved, conflict["current_revision"])
    assert r3.status_code == 200, r3.get_json()
    data = r3.get_json()
    assert data["merged"] is False and data["changed"] is True
    assert data["body"].splitlines() == resolved

    # nothing of the first edit was lost: it is in the history and can be read back
    h = history(api, slug)
    assert h["total"] == 3
    assert [c["revision"] for c in h["history"]] == [data["revision"], root_rev, base]
    old = api("get", f"/practices/{slug}?revision={root_rev}", "bob")
    assert old.status_code == 200
    assert old.get_json()["body"].splitlines() == theirs
    assert commits_touching(inst.store.path, f"practices/{slug}.md") == \
        [base, root_rev, data["revision"]]


def test_save_that_changes_nothing_makes_no_commit(api, inst):
    p = create(api)
    slug, base = p["slug"], p["revision"]
    head = inst.store.head()

    r = put(api, "alice", slug, LINES, base)  # the very same text
    assert r.status_code == 200, r.get_json()
    data = r.get_json()
    assert data["changed"] is False and data["merged"] is False
    assert data["revision"] == base
    assert inst.store.head() == head
    assert history(api, slug)["total"] == 1

    # from a stale base, sending a change that is already there is also a no-op
    theirs = ["First line, improved by root."] + LINES[1:]
    r1 = put(api, "root", slug, theirs, base)
    assert r1.status_code == 200
    root_rev = r1.get_json()["revision"]
    r2 = put(api, "alice", slug, theirs, base)
    assert r2.status_code == 200, r2.get_json()
    data = r2.get_json()
    assert data["changed"] is False
    assert data["revision"] == root_rev
    assert inst.store.head() == root_rev
    assert history(api, slug)["total"] == 2
    assert git(inst.store.path, "rev-list", "--count", "main").stdout.strip() == \
        str(int(git(inst.store.path, "rev-list", "--count", base).stdout) + 1)


# ---- the interleaving a busy server produces, replayed step by step -----------------------------

def _user(session, name):
    return accounts.get_user(session, name)


@pytest.mark.parametrize("operation", ["edit", "rename", "add_steward"])
def test_write_queued_behind_another_worker_keeps_its_commit(inst, users, operation):
    """What two gunicorn workers do when both save at once: worker 1 has read the practice's
    row (``record_or_404`` in the view, the first ``get_record`` in the service) and waits for
    the write lock while worker 2 commits an edit; then worker 1 goes on. Its write must build
    on worker 2's commit (merging an edit from the older base), never on the row it read
    before the lock."""
    from commons.services import catalog, editing

    with inst.session() as s:
        created = editing.create_practice(inst, s, _user(s, "alice"), title="Queued writes",
                                          body="\n".join(LINES) + "\n", agree_license=True)
    slug, base = created.record.slug, created.revision

    worker1 = inst.sessions()
    try:
        alice = _user(worker1, "alice")
        record = catalog.get_record(worker1, slug)  # read before waiting for the lock
        with inst.session() as worker2:
            other = editing.update_practice(
                inst, worker2, _user(worker2, "root"), slug, base_revision=base,
                body="\n".join(["First line, improved by root."] + LINES[1:]) + "\n",
                agree_license=True)
        if operation == "edit":
            result = editing.update_practice(
                inst, worker1, alice, record.slug, base_revision=base,
                body="\n".join(LINES[:-1] + ["Last line, improved by alice."]) + "\n",
                agree_license=True)
            assert result.merged is True
        elif operation == "rename":
            result = editing.rename_practice(inst, worker1, alice, record.slug,
                                             new_slug="queued-writes-renamed",
                                             agree_license=True)
            slug = "queued-writes-renamed"
        else:
            result = editing.add_steward(inst, worker1, alice, record.slug, "bob",
                                         agree_license=True)
        worker1.commit()
    finally:
        worker1.close()

    assert result.changed is True
    text = inst.store.read(f"practices/{slug}.md")[0]
    assert "First line, improved by root." in text, \
        f"{operation} silently undid the edit committed at {other.revision[:10]}:\n{text}"
    with inst.session() as s:
        assert catalog.check(s, inst.store, inst.license) == []
