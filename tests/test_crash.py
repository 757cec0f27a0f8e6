"""Crash tests: workers killed with SIGKILL in the middle of saves lose nothing acknowledged.

A save is: take the write lock → git objects → move ``main`` (compare-and-swap) → derived tables
→ search index → commit the database session → release the lock. A worker can die between any
two of these. Git is the truth; everything after it is derived and must catch up.

Two kinds of tests, every kill a real ``kill -9``:

* single kills at each failpoint (``commons.services.failpoints``), in a child process, while
  this process plays the long-running worker that did not restart and makes the next save; and
  the locks a dead process held (our ``flock``, Whoosh's ``WRITELOCK``, SQLite's transaction,
  a ``main.lock`` left by a killed git);
* the full run: ``commons serve`` (gunicorn, 2 workers, restarted by gunicorn when killed) with
  client processes saving non-stop, one phase per failpoint (``COMMONS_FAILPOINTS=point:3``:
  each worker dies at its third pass there) and one phase where this test kills random workers
  at random moments. After each phase the server is stopped and restarted: every acknowledged
  save is in ``main`` with its exact text, ``git fsck`` is clean, ``commons check`` passes (or
  names only derived data, which ``commons reindex`` repairs), and the first save after the
  restart — and after every kill — does not wait for a stale lock.

``CRASH_KILLS`` (default 6) is the number of kills per failpoint phase; the random phase makes
twice as many. Five failpoints: 30 + 12 = 42 kills by default. ``CRASH_KILLS=40 pytest
tests/test_crash.py -s`` runs a long one.
"""
from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from sqlalchemy import select
from whoosh.index import LockError

from commons.errors import LockTimeout
from commons.models import User
from commons.services import accounts, catalog, editing, failpoints, search
from commons.services import practice as doc
from commons.services.store import REF, file_lock

from .conftest import PASSWORD, make_app
from .serverproc import Server, clean_env, cli
from .test_concurrency import git
from .test_soak import read_blobs

pytestmark = pytest.mark.crash

ROOT = Path(__file__).resolve().parent.parent
CLIENT = Path(__file__).with_name("crashclient.py")
KILLS_PER_PHASE = int(os.environ.get("CRASH_KILLS", "6"))
PHASE_TIMEOUT = 60 + 10 * KILLS_PER_PHASE  # a phase that cannot reach its kills fails
CLIENTS = 3
WRITE_LOCK_TIMEOUT = 10.0  # the default WRITE_LOCK_TIMEOUT: a stale lock would cost this much
DERIVED = ("derived data out of date", "search index")


# ---- single kills, one point at a time -------------------------------------------------------

def child(code: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_held(proc: subprocess.Popen) -> None:
    line = proc.stdout.readline()
    assert line.strip() == "held", line + proc.stderr.read()


def kill_after_go(proc: subprocess.Popen) -> None:
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.wait(timeout=30) == -signal.SIGKILL, proc.stderr.read()


HOLD_AND_DIE = """
import os, signal, sys
{setup}
print("held", flush=True)
sys.stdin.readline()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_write_lock_of_a_killed_process_is_free_at_once(tmp_path):
    path = tmp_path / "write.lock"
    proc = child(HOLD_AND_DIE.format(setup=(
        "from commons.services.store import file_lock\n"
        f"cm = file_lock({str(path)!r}, 1); cm.__enter__()")))
    wait_held(proc)
    with pytest.raises(LockTimeout), file_lock(path, 0.2):  # really held
        pass
    kill_after_go(proc)
    started = time.monotonic()
    with file_lock(path, WRITE_LOCK_TIMEOUT):
        waited = time.monotonic() - started
    assert waited < 0.5, waited


def test_whoosh_write_lock_of_a_killed_process_is_free_at_once(inst):
    folder = str(inst.config["INDEX_DIR"])
    ix = search.open_index(inst)
    proc = child(HOLD_AND_DIE.format(setup=(
        "from whoosh import index\n"
        f"w = index.open_dir({folder!r}).writer()")))
    wait_held(proc)
    with pytest.raises(LockError):  # Whoosh's WRITELOCK is really held
        ix.writer(timeout=0.2)
    kill_after_go(proc)
    started = time.monotonic()
    writer = ix.writer(timeout=search.WRITE_TIMEOUT)  # an flock: the kernel freed it
    writer.cancel()
    assert time.monotonic() - started < 0.5


def test_sqlite_transaction_of_a_killed_process_rolls_back(home, inst):
    proc = child(HOLD_AND_DIE.format(setup=(
        "from tests.conftest import make_app\n"
        "from commons.services import accounts\n"
        f"inst = make_app({str(home)!r}).extensions['commons']\n"
        "s = inst.session().__enter__()\n"
        f"accounts.create_user(s, 'ghost', {PASSWORD!r}); s.flush()")),
        env=clean_env(home))
    wait_held(proc)
    kill_after_go(proc)
    started = time.monotonic()
    with inst.session() as s:
        accounts.create_user(s, "after", PASSWORD)
        s.commit()
        names = set(s.scalars(select(User.username)))
    assert "after" in names and "ghost" not in names
    assert time.monotonic() - started < 2


def test_a_ref_lock_left_by_a_killed_git_does_not_block_saves(app, inst, users):
    """git ``update-ref`` killed between creating ``main.lock`` and renaming it leaves the lock
    behind, and git then refuses every update of main. Under our write lock it is stale."""
    with inst.session() as s:
        alice = accounts.get_user(s, "alice")
        slug = editing.create_practice(inst, s, alice, title="Lock left behind",
                                       agree_license=True).record.slug
    lock = inst.store.path / f"{REF}.lock"
    lock.write_text("0" * 40 + "\n")
    old = time.time() - 60
    os.utime(lock, (old, old))
    with inst.session() as s:
        alice = accounts.get_user(s, "alice")
        record = catalog.get_record(s, slug)
        started = time.monotonic()
        saved = editing.update_practice(inst, s, alice, slug, base_revision=record.revision,
                                        body="Saved after a crash.\n", agree_license=True)
    assert time.monotonic() - started < WRITE_LOCK_TIMEOUT / 2
    assert inst.store.head() == saved.revision and not lock.exists()


KILLED_SAVE = """
from tests.conftest import make_app
from commons.services import accounts, catalog, editing
inst = make_app({home!r}).extensions["commons"]
with inst.session() as s:
    user = accounts.get_user(s, "alice")
    record = catalog.get_record(s, {slug!r})
    editing.update_practice(inst, s, user, {slug!r}, base_revision=record.revision,
                            body="Written by a worker that died: quokkaword.\\n",
                            agree_license=True)
print("survived")
"""


@pytest.mark.parametrize("point", failpoints.POINTS)
def test_the_next_save_of_a_living_worker_repairs_a_kill_at(point, home, app, inst, users):
    """A worker dies at ``point`` in the middle of a save; this process is the other worker,
    which keeps running (no restart, no ``init``) and makes the next save. After it, git, the
    database and the search index agree, and a search finds the dead worker's text if its
    commit landed."""
    with inst.session() as s:
        alice = accounts.get_user(s, "alice")
        victim = editing.create_practice(inst, s, alice, title="Victim",
                                         agree_license=True).record.slug
        other = editing.create_practice(inst, s, alice, title="Bystander",
                                        agree_license=True).record.slug
    assert search.search(inst, "quokkaword").total == 0
    before = inst.store.head()
    env = {**clean_env(home), failpoints.ENV: point}
    proc = subprocess.run([sys.executable, "-c", KILLED_SAVE.format(home=str(home), slug=victim)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    assert f"commons failpoint {point}: SIGKILL" in proc.stderr
    landed = inst.store.head() != before
    assert landed == (failpoints.POINTS.index(point) >= failpoints.POINTS.index("after_git_commit"))

    with inst.session() as s:
        alice = accounts.get_user(s, "alice")
        record = catalog.get_record(s, other)
        started = time.monotonic()
        editing.update_practice(inst, s, alice, other, base_revision=record.revision,
                                body="The next save.\n", agree_license=True)
        waited = time.monotonic() - started
        assert waited < WRITE_LOCK_TIMEOUT / 2, waited
        assert catalog.check(s, inst.store, inst.license, inst.licenses) == []
        assert search.check(inst, s) == []
        assert catalog.get_record(s, victim).revision == (
            inst.store.log(doc.path_for(victim), max_count=1)[0].revision)
    found = [hit.slug for hit in search.search(inst, "quokkaword").hits]
    assert found == ([victim] if landed else [])
    fsck = git(inst.store.path, "fsck", "--full", "--strict", "--no-dangling", check=False)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr


# ---- the full run: a real server, many kills --------------------------------------------------

def setup_instance(home: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Users k0..k{CLIENTS-1} with tokens, each with a practice of their own; a probe
    practice of k0's for the test's own saves."""
    app = make_app(home)
    inst = app.extensions["commons"]
    tokens, slugs = {}, {}
    with inst.session() as s:
        for i in range(CLIENTS):
            user = accounts.create_user(s, f"k{i}", PASSWORD)
            tokens[user.username] = accounts.create_token(s, user, "crash")
            s.commit()
            slugs[user.username] = editing.create_practice(
                inst, s, user, title=f"Crash practice {i}", body="Lines saved so far:\n",
                agree_license=True).record.slug
        # the test's own timed saves go to a practice no client edits, so they never conflict
        slugs["probe"] = editing.create_practice(
            inst, s, accounts.get_user(s, "k0"), title="Crash probe", body="Probes:\n",
            agree_license=True).record.slug
    inst.engine.dispose()
    return tokens, slugs


def workers_of(server: Server, log: Path) -> list[int]:
    """The living gunicorn workers: children of the master that it logged as workers."""
    booted = {int(p) for p in re.findall(r"Booting worker with pid: (\d+)",
                                         log.read_text(errors="replace"))}
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) not in booted:
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[1]) == server.proc.pid:
            found.append(int(entry))
    return found


def timed_save(url: str, token: str, slug: str, marker: str) -> tuple[float, dict]:
    """One save by the test itself; returns (seconds, ack)."""
    from .serverproc import request
    started = time.monotonic()
    status, data = request("GET", f"{url}/api/v1/practices/{slug}", token)
    assert status == 200, data
    status, saved = request("PUT", f"{url}/api/v1/practices/{slug}", token, {
        "body": data["body"].rstrip("\n") + "\n\n" + marker + "\n",
        "base_revision": data["revision"], "agree_license": True, "message": marker})
    assert status == 200, saved
    return time.monotonic() - started, {"op": "edit", "slug": slug, "revision": saved["revision"],
                                        "body": saved["body"], "marker": marker}


def run_phase(home: Path, logs: Path, tokens: dict[str, str], slugs: dict[str, str],
              name: str, env: dict[str, str], random_kills: int = 0) -> dict:
    """Start the server, save from every client until the phase's kills are done, stop."""
    logs.mkdir(parents=True, exist_ok=True)
    server = Server(home, workers=2, log_dir=logs,
                    env={"COMMONS_RATE_LIMITS": "off", **env})
    server.start()
    err = logs / f"server-{server.port}.err"
    phase: dict = {"name": name, "kills": 0, "acks": []}
    stop = logs / "stop"
    procs = []
    try:
        # the first save after a restart: nothing a killed worker left may make it wait
        phase["first_save_s"], ack = timed_save(server.url, tokens["k0"], slugs["probe"],
                                                f"FIRST-{name}")
        phase["acks"].append(ack)
        seeds = {who: str(zlib.crc32(f"{name}-{who}".encode())) for who in tokens}
        procs = [subprocess.Popen([sys.executable, str(CLIENT), server.url, tokens[who], who,
                                   slugs[who], seeds[who], str(stop)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for who in tokens]
        for proc in procs:
            line = proc.stdout.readline()
            assert line.strip() == "ready", line + proc.stderr.read()
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        deadline = time.monotonic() + PHASE_TIMEOUT
        rng = random.Random(name)
        while time.monotonic() < deadline:
            if random_kills:
                if phase["kills"] >= random_kills:
                    break
                time.sleep(rng.uniform(0.3, 1.5))  # a random moment in the stream of saves
                alive = workers_of(server, err)
                if alive:
                    os.kill(rng.choice(alive), signal.SIGKILL)
                    phase["kills"] += 1
            else:
                phase["kills"] = err.read_text(errors="replace").count("commons failpoint ")
                if phase["kills"] >= KILLS_PER_PHASE:
                    break
                time.sleep(0.2)
        if random_kills:
            # a save right after the last kill, on the same server: the surviving worker
            # and the restarted one must both take saves at once
            time.sleep(0.2)
            phase["after_kill_save_s"], ack = timed_save(server.url, tokens["k0"],
                                                         slugs["probe"], f"AFTER-{name}")
            phase["acks"].append(ack)
        stop.touch()
        reports = []
        for proc in procs:
            out, errtext = proc.communicate(timeout=120)
            assert proc.returncode == 0, out + errtext
            reports.append(json.loads(out))
        assert server.proc.poll() is None, "the gunicorn master died:\n" + server.logs()
    finally:
        stop.touch()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        server.stop()
        stop.unlink(missing_ok=True)
    log = err.read_text(errors="replace")
    phase["kills_logged"] = log.count("was sent SIGKILL")
    if not random_kills:
        phase["kills"] = log.count("commons failpoint ")
    phase["acks"] += [a for r in reports for a in r["acks"]]
    failures = [f for r in reports for f in r["failures"]]
    phase["failures"] = len(failures)
    phase["failures_5xx"] = [f for f in failures if f["status"] != "dropped"]
    phase["errors"] = [e for r in reports for e in r["errors"]]
    phase["conflicts"] = sum(r["conflicts"] for r in reports)
    # git refusing to move main because of a main.lock nobody will ever remove
    phase["stale_ref_lock"] = re.findall(r"Unable to create '[^']*main\.lock': File exists", log)
    # how long after each failed save (≈ a kill) the next save of anyone was acknowledged
    answered = sorted(a["answered"] for r in reports for a in r["acks"])
    gaps = []
    for f in failures:
        later = [t for t in answered if t > f["answered"]]
        if later:
            gaps.append(later[0] - f["answered"])
    phase["gaps"] = gaps
    return phase


def verify(home: Path, acks: list[dict]) -> dict:
    """Everything acknowledged is in git with its exact text; git is sound; derived data agrees
    or is named as derived and repaired by ``commons reindex``."""
    repo = home / "content.git"
    assert not (repo / f"{REF}.lock").exists()
    history = set(git(repo, "rev-list", "main").stdout.split())
    lost = [a for a in acks if a["revision"] not in history]
    texts = read_blobs(repo, [f"{a['revision']}:{doc.path_for(a['slug'])}" for a in acks])
    wrong = [a for a in acks
             if doc.parse(texts[f"{a['revision']}:{doc.path_for(a['slug'])}"] or "").body
             != a["body"] or a["marker"] not in a["body"]]
    assert lost == [], f"{len(lost)} acknowledged saves are not in main: {lost[:3]}"
    assert wrong == [], f"{len(wrong)} acknowledged saves lack their text: {wrong[:3]}"
    fsck = git(repo, "fsck", "--full", "--strict", "--no-dangling", check=False)
    assert fsck.returncode == 0, f"git fsck failed:\n{fsck.stdout}\n{fsck.stderr}"
    check = cli(home, "check", check=False, timeout=300)
    result = {"check_problems": 0, "reindexed": False}
    if check.returncode != 0:
        problems = check.stdout.strip().splitlines()
        result["check_problems"] = len(problems)
        assert all(any(word in line for word in DERIVED) for line in problems), check.stdout
        cli(home, "reindex", timeout=300)
        result["reindexed"] = True
        check = cli(home, "check", check=False, timeout=300)
    assert check.returncode == 0, f"commons check after the kills:\n{check.stdout}{check.stderr}"
    return result


def test_kill_workers_during_saves(seeded_home, tmp_path):
    import shutil
    home = tmp_path / "instance"
    shutil.copytree(seeded_home, home)
    tokens, slugs = setup_instance(home)
    started = time.monotonic()
    phases = [(point, {failpoints.ENV: f"{point}:3"}, 0) for point in failpoints.POINTS]
    phases.append(("random", {}, 2 * KILLS_PER_PHASE))
    acks: list[dict] = []
    summary = []
    for name, env, random_kills in phases:
        phase = run_phase(home, tmp_path / name, tokens, slugs, name, env, random_kills)
        acks += phase["acks"]
        checked = verify(home, acks)
        row = {"phase": name, "kills": phase["kills"], "kills_logged": phase["kills_logged"],
               "acknowledged": len(phase["acks"]), "failed_saves": phase["failures"],
               "failed_5xx": len(phase["failures_5xx"]),
               "conflicts": phase["conflicts"],
               "first_save_after_restart_s": round(phase["first_save_s"], 2),
               "max_s_to_next_ack_after_a_kill": round(max(phase["gaps"], default=0), 2),
               **checked}
        if "after_kill_save_s" in phase:
            row["save_right_after_last_kill_s"] = round(phase["after_kill_save_s"], 2)
        summary.append(row)
        print("crash phase:", json.dumps(row))
        assert phase["errors"] == [], phase["errors"][:5]
        # a lock left by a dead worker would show as 503 "busy" (a LockTimeout) here
        assert [f for f in phase["failures_5xx"] if f["status"] == 503] == [], \
            phase["failures_5xx"][:5]
        assert phase["stale_ref_lock"] == [], phase["stale_ref_lock"][:3]
        assert phase["kills"] >= (random_kills or KILLS_PER_PHASE), row
        assert phase["kills_logged"] >= phase["kills"], row
        assert phase["first_save_s"] < WRITE_LOCK_TIMEOUT / 2, row
        assert max(phase["gaps"], default=0) < WRITE_LOCK_TIMEOUT, row
        # saves went on after every failed save (but a client's last one, made as it stopped)
        assert phase["failures"] - len(phase["gaps"]) <= CLIENTS, row
        assert phase.get("after_kill_save_s", 0) < WRITE_LOCK_TIMEOUT / 2, row
    kills = sum(row["kills"] for row in summary)
    figures = {"kills": kills, "acknowledged": len(acks), "lost": 0,
               "failed_saves": sum(row["failed_saves"] for row in summary),
               "max_s_to_next_ack_after_a_kill": max(row["max_s_to_next_ack_after_a_kill"]
                                                      for row in summary),
               "reindex_needed": sum(row["reindexed"] for row in summary),
               "seconds": round(time.monotonic() - started, 1)}
    print("crash figures:", json.dumps(figures))
    assert kills >= 30, figures
    # the kills came during a stream of saves, and saves went on after each of them
    assert all(row["acknowledged"] >= row["kills"] for row in summary), summary
