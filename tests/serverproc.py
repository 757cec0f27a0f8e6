"""A real Commons server for the concurrency tests, and the stand-alone HTTP clients they run.

Imported by ``test_concurrency.py`` for the server side (``commons serve`` → gunicorn, in its
own process group so every worker is stopped with it). Run as a script, it is one client
process: it only uses the standard library (urllib), so it starts fast and shares nothing with
the test process, and it prints one JSON report on stdout::

    python serverproc.py edit   BASE_URL TOKEN SLUG WHO WHERE N
    python serverproc.py create BASE_URL TOKEN TITLE WHO N
    python serverproc.py soak   BASE_URL TOKEN WHO SEED SECONDS HOT UPSTREAM ANCHOR STEWARD

``WHERE`` is ``start`` (insert each new line before the body) or ``end`` (append it). Once
ready, a client prints ``ready`` and waits for a line on stdin, so the test can release all
clients at the same moment.
"""
from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

COMMONS = Path(sys.executable).with_name("commons")
MAX_RETRIES = 10


# ---- server side (used by the tests) ------------------------------------------------------------

def clean_env(home: Path) -> dict[str, str]:
    """The environment of a CLI or server process for the instance at ``home`` (nothing from the
    caller's own Commons settings leaks in)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("COMMONS_") and k != "DATABASE_URL" and not k.startswith("GIT_")}
    env["COMMONS_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def cli(home: Path, *args: str, check: bool = True, timeout: float = 60
        ) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(COMMONS), *args], env=clean_env(home), capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"commons {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``commons serve --workers N`` on 127.0.0.1; ``stop()`` kills the whole process group."""

    def __init__(self, home: Path, workers: int = 2, log_dir: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.home = home
        self.env = env or {}  # extra settings for the server process
        self.workers = workers
        self.log_dir = log_dir or home.parent
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 40) -> "Server":
        for _attempt in range(3):  # the free port may be taken between probe and bind
            self.port = free_port()
            self._out = open(self.log_dir / f"server-{self.port}.out", "wb")
            self._err = open(self.log_dir / f"server-{self.port}.err", "wb")
            self.proc = subprocess.Popen(
                [str(COMMONS), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", str(self.workers)],
                # every real-server test is a load test from one address: no rate limits
                # unless a test's ``env`` asks for them
                env={**clean_env(self.home), "COMMONS_RATE_LIMITS": "off", **self.env,
                     "COMMONS_BASE_URL": self.url},
                stdout=self._out, stderr=self._err,
                stdin=subprocess.DEVNULL, start_new_session=True)
            if self._wait_ready(timeout):
                return self
            log = self.logs()
            self.stop()
            if "Address already in use" not in log:
                raise AssertionError(f"the server did not answer on {self.url}:\n{log}")
        raise AssertionError("could not find a free port for the server")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.url + "/api/v1/practices?per_page=1",
                                            timeout=2) as resp:
                    if resp.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.1)
        return False

    def logs(self) -> str:
        text = ""
        for name in ("out", "err"):
            path = self.log_dir / f"server-{self.port}.{name}"
            if path.exists():
                text += f"--- {name}\n" + path.read_text(errors="replace")[-6000:]
        return text

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # gunicorn master and its workers
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:  # stragglers (a worker that outlived its master) and a master that hung
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if proc.poll() is None:
            proc.wait(timeout=10)
        for fh in (self._out, self._err):
            fh.close()


# ---- client side (run as a script) ---------------------------------------------------------------

def request(method: str, url: str, token: str, payload: dict | None = None
            ) -> tuple[int, dict | str]:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json",
        "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")[:2000]


def _wait_for_go() -> None:
    print("ready", flush=True)
    sys.stdin.readline()


def _jitter() -> None:
    """A few milliseconds between saves, so one client does not keep the write lock's queue
    to itself and the two really alternate."""
    time.sleep(random.uniform(0, 0.03))


def edit_client(base: str, token: str, slug: str, who: str, where: str, n: int) -> dict:
    """N sequential saves, each adding one distinct line, each from the revision this client
    last saw. A 409 is answered by refetching and saving again (counted in ``retries``)."""
    url = f"{base}/api/v1/practices/{slug}"
    report: dict = {"who": who, "saves": [], "retries": 0, "conflicts": [], "errors": []}
    status, data = request("GET", url, token)
    if status != 200:
        report["errors"].append({"step": "initial get", "status": status, "data": data})
        return report
    body, revision = data["body"], data["revision"]
    _wait_for_go()
    for i in range(n):
        line = f"{who}-line-{i:02d}"
        for attempt in range(MAX_RETRIES + 1):
            if where == "end":
                new_body = body.rstrip("\n") + "\n" + line + "\n"
            else:
                new_body = line + "\n" + body
            sent = time.time()
            status, data = request("PUT", url, token, {
                "body": new_body, "base_revision": revision, "agree_license": True,
                "message": f"{who} adds line {i}"})
            if status == 200:
                report["saves"].append({"line": line, "base": revision,
                                        "revision": data["revision"],
                                        "merged": data["merged"], "changed": data["changed"],
                                        "attempts": attempt + 1,
                                        "sent": sent, "answered": time.time()})
                body, revision = data["body"], data["revision"]
                _jitter()
                break
            if status == 409 and isinstance(data, dict) \
                    and data.get("error", {}).get("code") == "conflict":
                report["retries"] += 1
                report["conflicts"].append({"line": line, "base": revision,
                                            "current": data.get("current_revision")})
                status, data = request("GET", url, token)
                if status != 200:
                    report["errors"].append({"step": f"refetch {line}", "status": status,
                                             "data": data})
                    return report
                body, revision = data["body"], data["revision"]
                continue
            report["errors"].append({"step": f"put {line}", "status": status, "data": data})
            break
        else:
            report["errors"].append({"step": f"put {line}", "status": "gave up after retries"})
    return report


def create_client(base: str, token: str, title: str, who: str, n: int) -> dict:
    report: dict = {"who": who, "created": [], "errors": []}
    _wait_for_go()
    for i in range(n):
        status, data = request("POST", f"{base}/api/v1/practices", token, {
            "title": title, "body": f"## Why\n\nCreated by {who}, number {i}.\n",
            "agree_license": True})
        if status == 201 and isinstance(data, dict):
            report["created"].append({"slug": data["slug"], "revision": data["revision"],
                                      "body": data["body"]})
        else:
            report["errors"].append({"step": f"create {i}", "status": status, "data": data})
        _jitter()
    return report


# ---- the soak test's client: a random mix of writes for a while -------------------------------

SOAK_WEIGHTS = {"hot": 6, "own": 2, "create": 1, "fork": 1, "fork_edit": 2, "propose": 1,
                "accept": 2}


class Soak:
    """One editor of the soak test. Every write answered 2xx is recorded with the revision the
    server returned and the unique marker it wrote; every 409 is recorded as a conflict; any
    5xx or unexpected answer is recorded as an error. Saves go from the revision this client
    last saw, so with many clients most bases are stale: inserts at the start or the end merge,
    edits of the shared middle line conflict."""

    def __init__(self, base: str, token: str, who: str, seed: int, hot: str, upstream: str,
                 anchor: str, steward: bool) -> None:
        self.api, self.token, self.who = base + "/api/v1", token, who
        self.rng = random.Random(seed)
        self.hot, self.upstream, self.anchor, self.steward = hot, upstream, anchor, steward
        self.n = 0
        self.seen: dict[str, tuple[str, str]] = {}  # slug -> (body, revision) last seen
        self.own: str | None = None
        self.fork: str | None = None
        self.report: dict = {"who": who, "acks": [], "conflicts": [], "refused": [],
                             "errors": [], "accepts": [], "proposals": [], "ops": 0}

    def marker(self, kind: str) -> str:
        self.n += 1
        return f"SOAK-{kind}-{self.who}-{self.n:05d}"

    def call(self, op: str, method: str, path: str, payload: dict | None = None):
        status, data = request(method, self.api + path, self.token, payload)
        if status >= 500 or not isinstance(data, dict):
            self.report["errors"].append({"op": op, "status": status, "data": str(data)[:500]})
        return status, data

    def fetch(self, slug: str) -> bool:
        status, data = self.call("get", "GET", f"/practices/{slug}")
        if status == 200:
            self.seen[slug] = (data["body"], data["revision"])
            return True
        self.report["errors"].append({"op": "get", "slug": slug, "status": status})
        return False

    def save(self, op: str, slug: str, new_body: str, base: str, marker: str) -> None:
        status, data = self.call(op, "PUT", f"/practices/{slug}", {
            "body": new_body, "base_revision": base, "agree_license": True,
            "message": marker})
        if status == 200:
            self.report["acks"].append({"op": op, "slug": slug, "revision": data["revision"],
                                        "marker": marker, "merged": data["merged"],
                                        "changed": data["changed"], "at": time.time()})
            self.seen[slug] = (data["body"], data["revision"])
        elif status == 409 and data.get("error", {}).get("code") == "conflict":
            self.report["conflicts"].append({"op": op, "slug": slug, "base": base,
                                             "marker": marker})
            self.fetch(slug)
        elif status < 500:
            self.report["errors"].append({"op": op, "slug": slug, "status": status,
                                          "data": str(data)[:500]})

    def do_hot(self) -> None:
        if self.hot not in self.seen and not self.fetch(self.hot):
            return
        body, base = self.seen[self.hot]
        where = self.rng.choice(["start", "end", "middle"])
        mark = self.marker("hot")
        lines = body.splitlines()
        if where == "start":
            lines.insert(0, mark)
        elif where == "end":
            lines.append(mark)
        else:
            lines = [f"HOT-MIDDLE {mark}" if line.startswith("HOT-MIDDLE") else line
                     for line in lines]
        self.save("hot", self.hot, "\n".join(lines) + "\n", base, mark)

    def do_own(self) -> None:
        if self.own is None:
            return self.do_create(own=True)
        body, base = self.seen[self.own]
        mark = self.marker("own")
        self.save("own", self.own, body.rstrip("\n") + "\n" + mark + "\n", base, mark)

    def do_create(self, own: bool = False) -> None:
        mark = self.marker("create")
        status, data = self.call("create", "POST", "/practices", {
            "title": f"Soak practice of {self.who}", "agree_license": True,
            "body": f"## Why\n\n{mark}\n"})
        if status == 201:
            self.report["acks"].append({"op": "create", "slug": data["slug"], "marker": mark,
                                        "revision": data["revision"], "merged": False,
                                        "changed": True, "at": time.time()})
            self.seen[data["slug"]] = (data["body"], data["revision"])
            if own or self.own is None:
                self.own = data["slug"]
        elif status < 500:
            self.report["errors"].append({"op": "create", "status": status,
                                          "data": str(data)[:500]})

    def do_fork(self) -> None:
        mark = self.marker("fork")
        status, data = self.call("fork", "POST", f"/practices/{self.upstream}/forks", {
            "title": f"Fork {mark}", "agree_license": True})
        if status == 201:
            self.report["acks"].append({"op": "fork", "slug": data["slug"], "marker": mark,
                                        "revision": data["revision"], "merged": False,
                                        "changed": True, "at": time.time()})
            self.seen[data["slug"]] = (data["body"], data["revision"])
            self.fork = data["slug"]
        elif status < 500:
            self.report["errors"].append({"op": "fork", "status": status,
                                          "data": str(data)[:500]})

    def do_fork_edit(self) -> None:
        if self.fork is None:
            return self.do_fork()
        body, base = self.seen[self.fork]
        mark = self.marker("fork-line")
        lines = body.splitlines()
        at = lines.index(self.anchor) + 1 if self.anchor in lines else len(lines)
        lines.insert(at, mark)
        self.save("fork_edit", self.fork, "\n".join(lines) + "\n", base, mark)

    def do_propose(self) -> None:
        if self.fork is None:
            return self.do_fork()
        status, data = self.call("propose", "POST", f"/practices/{self.fork}/proposals", {
            "title": f"Proposal from {self.who}", "message": "soak"})
        if status == 201:
            self.report["proposals"].append({"id": data["id"], "fork": self.fork,
                                             "fork_revision": data["fork_revision"]})
        elif status < 500:  # already open, or nothing to give back: refused, not lost
            self.report["refused"].append({"op": "propose", "status": status,
                                           "code": data.get("error", {}).get("code")})

    def do_accept(self) -> None:
        if not self.steward:
            return self.do_hot()
        status, data = self.call("list", "GET", f"/proposals?status=open&practice="
                                                f"{self.upstream}&per_page=50")
        if status != 200 or not data.get("proposals"):
            return
        pid = self.rng.choice(data["proposals"])["id"]
        status, prop = self.call("review", "GET", f"/proposals/{pid}")
        if status != 200 or prop.get("status") != "open":
            return
        if prop.get("clean") is False:  # the same lines changed upstream: decline it
            status, _ = self.call("decline", "POST", f"/proposals/{pid}/decline",
                                  {"reason": "conflicts with the upstream"})
            self.report["refused"].append({"op": "decline", "status": status})
            return
        status, done = self.call("accept", "POST", f"/proposals/{pid}/accept", {
            "fork_revision": prop["fork_revision"], "agree_license": True,
            "upstream_revision": prop["upstream_revision"]})
        if status == 200:
            self.report["accepts"].append({"id": pid, "upstream": self.upstream,
                                           "fork": prop["fork"]["slug"],
                                           "fork_revision": prop["fork_revision"],
                                           "revision": done["accepted_revision"],
                                           "at": time.time()})
        elif status == 409:
            self.report["conflicts"].append({"op": "accept", "id": pid})
        elif status < 500:
            self.report["refused"].append({"op": "accept", "status": status,
                                           "code": done.get("error", {}).get("code")})

    def run(self, seconds: float) -> dict:
        ops = list(SOAK_WEIGHTS)
        weights = [SOAK_WEIGHTS[o] for o in ops]
        self.do_create(own=True)
        self.fetch(self.hot)
        _wait_for_go()
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            getattr(self, "do_" + self.rng.choices(ops, weights)[0])()
            self.report["ops"] += 1
            time.sleep(self.rng.uniform(0, 0.02))
        self.report["elapsed"] = time.monotonic() - start
        return self.report


def main(argv: list[str]) -> int:
    mode, args = argv[0], argv[1:]
    if mode == "edit":
        base, token, slug, who, where, n = args
        report = edit_client(base, token, slug, who, where, int(n))
    elif mode == "create":
        base, token, title, who, n = args
        report = create_client(base, token, title, who, int(n))
    elif mode == "soak":
        base, token, who, seed, seconds, hot, upstream, anchor, steward = args
        report = Soak(base, token, who, int(seed), hot, upstream, anchor,
                      steward == "1").run(float(seconds))
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    json.dump(report, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
