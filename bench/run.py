"""Issue 8's benchmark: Commons against a Flask hello-world ceiling and An Otter Wiki, one run.

Not a test: it prints figures (with the issue's targets beside them) and asserts nothing. For
each size N it

1. generates N practices with the peer measurement's own generator (``make_corpus.py``, seed 42:
   the same pages An Otter Wiki is measured on), one of them with 200 revisions;
2. builds a Commons instance fast: the practices in one ``Store.commit``, 199 more commits of
   the long-history practice through ``Store.commit``, then ``catalog.catch_up`` and
   ``search.rebuild`` (10,000 creates through the API would take hours), a contributor and an
   API token through the services;
3. times a cold start (gunicorn on the existing instance → first 200 of a practice page), then
   runs Commons under gunicorn (2 sync workers, ``gunicorn_conf.py``, loopback) and measures
   page views with wrk (anonymous, then signed in with a session cookie), and one request at a
   time: API search over a fixed query set, API saves (PUT with a base revision), the history
   page of the 200-revision practice, every sampled page's size; then each worker's resident
   memory, and ``commons reindex`` as a subprocess;
4. serves a page of Commons' median practice-page size from a Flask hello-world under the same
   gunicorn settings (the ceiling), and An Otter Wiki (its own virtual environment, in a cache
   folder) on the same pages, measured the same way.

It prints a table (figure, issue 8's target and pass/miss, Commons / ceiling, Commons / Otter
Wiki) and writes everything as JSON with ``--json``.

    .venv/bin/python bench/run.py --sizes 1000,10000 --json out.json
    .venv/bin/python bench/run.py --quick --no-peer          # 200 practices, seconds of wrk
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for folder in (ROOT, HERE):  # run as a script from anywhere: import the checkout and bench/
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import bench_http
import make_corpus
import search_bench

from commons import config as settings
from commons.services import accounts, reuse_export, search
from commons.services import practice as doc
from commons.services.instance import Instance
from commons.services.store import Identity

SEED = 42  # make_corpus.py's seed: the pages the peers were measured on
WHEN = 1_735_689_600  # fixed commit dates (2025-01-01): the same seed gives the same commits
HISTORY_SLUG = "adaptive-advice-process"  # the peer's 200-revision page (when N holds it)
REVISIONS = 200
LICENSE = "CC-BY-SA-4.0"
USER, PASSWORD = "bench", "bench-password-0123"
OTTER_VERSION = "2.26.1"
# the peer's five words, plus a frequent English word and a second absent one
QUERIES = {"frequent": ["retrospective", "sociocratie", "facilitator"],
           "medium": ["fishbowl"], "rare": ["zeitgeber"],
           "absent": ["xylophonique", "blorptangle"]}
TARGETS_AT = 10_000  # issue 8 states its targets at 10,000 practices


# ---- the corpus -------------------------------------------------------------------------------

class Corpus:
    """N pages of ``make_corpus.py``: for Otter Wiki as the peer had them (``/slug`` links, a
    ``# Title`` line), for Commons as practices (front matter, ``slug.md`` links)."""

    def __init__(self, n: int, seed: int = SEED) -> None:
        self.titles = make_corpus.make_titles(random.Random(seed), n)
        self.seed = seed
        slugs = [slug for slug, _ in self.titles]
        self.history_slug = HISTORY_SLUG if HISTORY_SLUG in slugs else slugs[0]
        self.slugs = slugs

    def page(self, idx: int, link_template: str) -> str:
        # the generator draws the same numbers whatever the link template, so both wikis get
        # the same words in the same order
        return make_corpus.page(random.Random(f"{self.seed}:{idx}"), idx, self.titles,
                                link_template, False)[1]

    def otter(self, idx: int) -> str:
        return self.page(idx, "/{slug}")

    def practice(self, idx: int) -> str:
        slug, title = self.titles[idx]
        text = self.page(idx, "{slug}.md")
        body = text.split("\n", 2)[2].lstrip("\n")  # Commons shows the title itself
        rng = random.Random(f"commons:{self.seed}:{slug}")
        lead = re.sub(r"[*_\[\]]|\([^)]*\)", "", body.split("\n", 1)[0])
        meta = {"title": title, "summary": lead.split(". ")[0].rstrip(".")[:200] + ".",
                "language": "fr" if rng.random() < 0.4 else "en",
                "tags": sorted(rng.sample(make_corpus.TAGS, rng.randint(1, 3))),
                "license": LICENSE, "stewards": [USER]}
        return doc.serialize(doc.Practice(meta, body))

    def documents_with(self, word: str) -> int:
        """Pages holding the word (case-folded substring, as the peer counted)."""
        return sum(word in self.page(i, "/{slug}").lower() for i in range(len(self.titles)))


def history_line(i: int) -> str:
    return f"\nRevision {i}: the facilitator records one more lesson.\n"


# ---- Commons: the instance --------------------------------------------------------------------

def build_commons(home: Path, corpus: Corpus, log: Callable[[str], None]) -> dict[str, Any]:
    """A fresh instance holding the corpus: one commit of every practice (and the REUSE files),
    199 commits of the long-history practice, derived tables, index, a contributor, a token."""
    config = settings.defaults(home)
    config["SECRET_KEY"] = "bench"
    inst = Instance(config)
    inst.init(seed=False)
    author = Identity(USER, accounts.noreply(USER))
    timings: dict[str, Any] = {}
    started = time.perf_counter()
    files = {doc.path_for(slug): corpus.practice(i) for i, slug in enumerate(corpus.slugs)}
    timings["generate_s"] = time.perf_counter() - started
    started = time.perf_counter()
    hist_path = doc.path_for(corpus.history_slug)
    with inst.store.lock():
        reuse = reuse_export.files_for({path: LICENSE for path in files}, inst.license)
        inst.store.commit({**files, **reuse}, author=author, when=WHEN,
                          message=f"Bench: {len(files)} practices",
                          trailers=[("License", inst.license)])
        text = files[hist_path]
        for i in range(1, REVISIONS):
            text += history_line(i)
            inst.store.commit({hist_path: text}, author=author, when=WHEN + 60 * i,
                              message=f"Edit {i} of {corpus.history_slug}",
                              trailers=[("License", inst.license)])
    timings["git_commits_s"] = time.perf_counter() - started
    log(f"  git: {len(files)} practices + {REVISIONS - 1} commits in "
        f"{timings['git_commits_s']:.1f} s")
    search_bench.derive(inst, len(files), timings)
    with inst.session() as session:
        user = accounts.create_user(session, USER, PASSWORD, role="contributor")
        token = accounts.create_token(session, user, "bench")
    (home / "secret_key").write_text("bench-secret-" + "0" * 40)  # both workers read one key
    key = str(config["INDEX_DIR"])  # let go of the index, cat-file and the database
    searcher = search._searchers.pop(key, None)
    if searcher is not None:
        searcher.close()
    search._indexes.pop(key, None)
    inst.store.repo.close()
    inst.engine.dispose()
    log(f"  derived tables {timings['derived_tables_s']:.1f} s, index "
        f"{timings['index_rebuild_s']:.1f} s")
    return {"timings": timings, "token": token}


def commons_env(home: Path) -> dict[str, str]:
    """The server's environment: this instance only, no rate limits (the benchmark is one
    client hammering from one address), nothing of the caller's Commons settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COMMONS_", "GIT_")) and k != "DATABASE_URL"}
    env.update(COMMONS_HOME=str(home), COMMONS_RATE_LIMITS="off", PYTHONUNBUFFERED="1")
    return env


# ---- servers ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_cmd(python: str, app: str) -> list[str]:
    return [python, "-m", "gunicorn", "-c", str(HERE / "gunicorn_conf.py"), app]


class Gunicorn:
    """One gunicorn (master + 2 sync workers) started here, in its own session; only that
    process group is ever stopped."""

    def __init__(self, python: str, app: str, env: dict[str, str], workdir: Path,
                 cwd: Path | None = None) -> None:
        self.python, self.app, self.cwd = python, app, cwd
        self.port = free_port()
        self.workdir = workdir
        self.env = {**env, "BENCH_BIND": f"127.0.0.1:{self.port}",
                    "BENCH_CONTROL_SOCKET": str(workdir / f"gunicorn-{self.port}.ctl")}
        self.log_path = workdir / f"server-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cmd(self) -> list[str]:
        return gunicorn_cmd(self.python, self.app)

    def start(self, probe: str, timeout: float = 120) -> Gunicorn:
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(self.cmd(), env=self.env, cwd=self.cwd, stdout=out,
                                         stderr=out, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        client = bench_http.Client(self.base, timeout=60)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.app} exited {self.proc.returncode}:\n{self.logs()}")
            try:
                if client.get(probe)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.app} did not answer 200 on {probe}:\n{self.logs()}")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def workers(self) -> list[int]:
        return children(self.proc.pid) if self.proc else []

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the master stops its workers
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        try:  # a worker that outlived its master: our own process group only
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if proc.poll() is None:
            proc.wait(timeout=10)


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (gunicorn's workers), read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def coldstart(python: str, app: str, env: dict[str, str], workdir: Path, probe: str,
              cwd: Path | None = None) -> dict[str, Any]:
    """Spawn → first 200 on ``probe``, on a server that is then stopped (the harness's own
    ``coldstart``, which stops only the process it started)."""
    port = free_port()
    env = {**env, "BENCH_BIND": f"127.0.0.1:{port}",
           "BENCH_CONTROL_SOCKET": str(workdir / f"gunicorn-{port}.ctl")}
    return bench_http.coldstart(gunicorn_cmd(python, app), probe, f"http://127.0.0.1:{port}",
                                env=env, cwd=str(cwd) if cwd else None,
                                log_file=str(workdir / f"coldstart-{port}.log"))


# ---- measuring --------------------------------------------------------------------------------

def summary_ms(seconds: list[float]) -> dict[str, Any]:
    return bench_http.summarize_ms(seconds)


def page_sizes(client: bench_http.Client, paths: list[str]) -> dict[str, Any]:
    """GET each page once, one at a time (the first view of each: its HTML may not be cached
    yet): sizes, statuses and latencies."""
    sizes, times, statuses = [], [], {}
    for path in paths:
        status, _, body, dt = client.get(path)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            sizes.append(len(body))
            times.append(dt)
    return {"n": len(sizes), "statuses": statuses, "median_bytes": statistics.median(sizes),
            "max_bytes": max(sizes), "min_bytes": min(sizes), "first_view": summary_ms(times)}


def wrk(base: str, paths: list[str], opts: dict[str, Any], headers: dict | None = None
        ) -> dict[str, Any]:
    return bench_http.run_wrk(base, paths, duration=opts["duration"], threads=2,
                              connections=16, repeats=opts["repeats"], warmup=opts["warmup"],
                              timeout=opts["timeout"], headers=headers)


def sequential(client: bench_http.Client, paths: dict[str, str], reps: int,
               max_seconds: float) -> dict[str, Any]:
    """GET every path ``reps`` times, interleaved, one at a time: overall and per label."""
    deadline = time.monotonic() + max_seconds
    samples: dict[str, list[float]] = {label: [] for label in paths}
    statuses: dict[int, int] = {}
    sizes: dict[str, int] = {}
    for _ in range(reps):
        for label, path in paths.items():
            if time.monotonic() > deadline:
                break
            status, _, body, dt = client.get(path)
            statuses[status] = statuses.get(status, 0) + 1
            sizes[label] = len(body)
            if status == 200:
                samples[label].append(dt)
    return {"overall": summary_ms([x for v in samples.values() for x in v]),
            "per": {label: dict(summary_ms(v), bytes=sizes.get(label))
                    for label, v in samples.items()},
            "statuses": statuses}


def signed_in_cookie(base: str) -> str:
    """Sign in through the real form (CSRF token read from it) and return the Cookie header."""
    client = bench_http.Client(base)
    status, _, body, _ = client.get("/login")
    token = bench_http.extract_field(body.decode("utf-8", "replace"), "csrf_token")
    if status != 200 or not token:
        raise RuntimeError(f"no sign-in form (status {status})")
    status, _, _, _ = client.request("POST", "/login", fields={
        "username": USER, "password": PASSWORD, "csrf_token": token})
    if status not in (302, 303):
        raise RuntimeError(f"sign-in refused (status {status})")
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def api_saves(base: str, token: str, slugs: list[str], max_seconds: float) -> dict[str, Any]:
    """PUT a changed body on each practice with the revision read just before (not timed):
    the save latency as an API client sees it (git commit, database, index)."""
    client = bench_http.Client(base)
    auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    times, statuses, errors = [], {}, []
    deadline = time.monotonic() + max_seconds
    for i, slug in enumerate(slugs):
        if time.monotonic() > deadline:
            errors.append(f"stopped by max_seconds after {i} saves")
            break
        status, _, raw, _ = client.get(f"/api/v1/practices/{slug}", headers=auth)
        if status != 200:
            errors.append(f"GET {slug} -> {status}")
            continue
        current = json.loads(raw)
        payload = json.dumps({"body": current["body"].rstrip("\n") + f"\n\nBench save {i}.\n",
                              "base_revision": current["revision"], "agree_license": True,
                              "message": f"Bench save {i}"}).encode()
        status, _, raw, dt = client.request(
            "PUT", f"/api/v1/practices/{slug}", body=payload,
            headers={**auth, "Content-Type": "application/json"})
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            times.append(dt)
        else:
            errors.append(f"PUT {slug} -> {status} {raw[:200]!r}")
    return {"save": summary_ms(times), "statuses": statuses, "errors": errors[:10],
            "n_errors": len(errors)}


def measure_commons(home: Path, corpus: Corpus, token: str, opts: dict[str, Any],
                    workdir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    rng = random.Random(7)
    env = commons_env(home)
    pool = [s for s in corpus.slugs if s != corpus.history_slug]
    sample = rng.sample(pool, min(opts["view_sample"], len(pool)))
    result: dict[str, Any] = {}
    log("  cold start…")
    probe_slug = rng.choice([s for s in pool if s not in sample] or pool)
    result["coldstart"] = coldstart(sys.executable, "commons.wsgi_app:app", env, workdir,
                                    f"/p/{probe_slug}")
    server = Gunicorn(sys.executable, "commons.wsgi_app:app", env, workdir).start(
        f"/p/{sample[0]}")
    try:
        client = bench_http.Client(server.base)
        paths = [f"/p/{s}" for s in sample]
        log(f"  page sizes and first views of {len(paths)} practices…")
        result["pages"] = page_sizes(client, paths)
        log("  wrk, anonymous…")
        result["view_anonymous"] = wrk(server.base, paths, opts["wrk"])
        cookie = signed_in_cookie(server.base)
        status, _, body, _ = bench_http.Client(server.base).get(paths[0],
                                                                headers={"Cookie": cookie})
        result["signed_in_check"] = {"status": status, "shows_user": USER.encode() in body
                                     and b"/logout" in body}
        log("  wrk, signed in…")
        result["view_signed_in"] = wrk(server.base, paths, opts["wrk"], {"Cookie": cookie})
        log("  search…")
        queries = {q: "/api/v1/search?" + urllib.parse.urlencode({"q": q})
                   for qs in QUERIES.values() for q in qs}
        # The first time a query meets a searcher nothing is cached: reported on its own, as
        # the figure a search after a save pays; the repeated figure is what the target reads.
        result["search_first"] = sequential(client, queries, 1, 60)
        sequential(client, queries, 1, 60)  # the other worker's searcher warm too
        result["search"] = sequential(client, queries, opts["search_reps"], 300)
        for q, path in queries.items():
            _, _, raw, _ = client.get(path)
            result["search"]["per"][q]["total"] = json.loads(raw).get("total")
        log("  history…")
        result["history"] = sequential(client, {"history": f"/p/{corpus.history_slug}/history"},
                                       opts["history_reps"], 120)
        log("  saves…")
        result["saves"] = api_saves(server.base, token,
                                    rng.sample(pool, min(opts["saves"], len(pool))), 300)
        workers = server.workers()
        result["workers_rss_mb"] = {str(pid): rss_mb(pid) for pid in workers}
    finally:
        server.stop()
    log("  commons reindex…")
    started = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).with_name("commons")), "reindex"],
                          env=env, capture_output=True, text=True, timeout=3600, check=False)
    result["reindex"] = {"wall_s": time.perf_counter() - started, "rc": proc.returncode,
                         "output": (proc.stdout + proc.stderr).strip()[-500:]}
    return result


def measure_ceiling(size: int, paths: list[str], opts: dict[str, Any], workdir: Path,
                    log: Callable[[str], None]) -> dict[str, Any]:
    log(f"  hello-world ceiling ({size} B)…")
    env = {**os.environ, "BENCH_HELLO_BYTES": str(size)}
    server = Gunicorn(sys.executable, "hello_app:app", env, workdir, cwd=HERE).start("/")
    try:
        _, _, body, _ = bench_http.Client(server.base).get(paths[0])
        result = {"page_bytes": len(body), "view": wrk(server.base, paths, opts["wrk"])}
        result["workers_rss_mb"] = {str(pid): rss_mb(pid) for pid in server.workers()}
    finally:
        server.stop()
    return result


# ---- An Otter Wiki ----------------------------------------------------------------------------

def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "commons-bench"


def otter_venv(log: Callable[[str], None]) -> Path:
    """An Otter Wiki in its own virtual environment (kept in a cache folder), with the gunicorn
    version Commons runs on, so both serve under the same server."""
    import gunicorn
    venv = cache_dir() / f"otterwiki-{OTTER_VERSION}-gunicorn-{gunicorn.__version__}"
    python = venv / "bin" / "python"
    if not (venv / "ok").exists():
        log(f"  installing otterwiki {OTTER_VERSION} into {venv}…")
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"otterwiki=={OTTER_VERSION}",
                        f"gunicorn=={gunicorn.__version__}"], check=True)
        (venv / "ok").write_text("installed\n")
    return python


def measure_otter(corpus: Corpus, sample: list[str], opts: dict[str, Any], workdir: Path,
                  log: Callable[[str], None]) -> dict[str, Any]:
    """The peer measurement's method (``run_peers.sh``, ``targets/otterwiki.json``) on the same
    pages: settings file, schema created once before gunicorn starts (two workers race on it)."""
    import prepare_git_repo
    python = otter_venv(log)
    version = subprocess.run([str(python), "-c", ("import importlib.metadata as m; "
                                                  "print(m.version('otterwiki'))")],
                             capture_output=True, text=True, check=False)
    folder = workdir / "otter"
    pages, repo, data = folder / "corpus", folder / "repo", folder / "data"
    pages.mkdir(parents=True)
    data.mkdir()
    for i, slug in enumerate(corpus.slugs):
        (pages / f"{slug}.md").write_text(corpus.otter(i), encoding="utf-8")
    log(f"  otter repository ({REVISIONS} revisions of {corpus.history_slug})…")
    prepare_git_repo.main(["--corpus", str(pages), "--repo", str(repo), "--history-slug",
                           corpus.history_slug, "--revisions", str(REVISIONS)])
    cfg = data / "settings.cfg"
    cfg.write_text(f"REPOSITORY = {str(repo)!r}\nSECRET_KEY = 'bench-secret-key-0123456789abcdef'\n"
                   f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{data / 'db.sqlite'}'\n"
                   "SITE_NAME = 'Otter bench'\n")
    env = {**os.environ, "OTTERWIKI_SETTINGS": str(cfg)}
    subprocess.run([str(python), "-c", "import otterwiki.server"], env=env, check=True,
                   capture_output=True, cwd=HERE)
    result: dict[str, Any] = {"version": version.stdout.strip()}
    paths = [f"/{s}" for s in sample]
    log("  otter cold start…")
    result["coldstart"] = coldstart(str(python), "otterwiki.server:app", env, workdir,
                                    paths[-1], cwd=HERE)
    server = Gunicorn(str(python), "otterwiki.server:app", env, workdir, cwd=HERE).start(paths[0])
    slow = dict(opts["wrk"])
    if len(corpus.slugs) >= 5000:  # a view takes over a second: the peer's longer windows
        slow.update(duration=slow["duration"] * 2, timeout=60)
    try:
        client = bench_http.Client(server.base)
        log("  otter page sizes…")
        result["pages"] = page_sizes(client, paths[:opts["otter_sizes"]])
        log("  otter wrk…")
        result["view_anonymous"] = wrk(server.base, paths, slow)
        log("  otter search…")
        queries = {q: "/-/search/" + urllib.parse.quote(q) for qs in QUERIES.values() for q in qs}
        result["search"] = sequential(client, queries, opts["otter_search_reps"], 240)
        log("  otter history…")
        result["history"] = sequential(client, {"history": f"/{corpus.history_slug}/history"},
                                       opts["otter_history_reps"], 120)
        log("  otter saves…")
        pool = [s for s in corpus.slugs if s != corpus.history_slug]
        eslugs = random.Random(8).sample(pool, min(opts["otter_saves"], len(pool)))
        index = {slug: i for i, slug in enumerate(corpus.slugs)}
        result["saves"] = bench_http.measure_edits(
            client, eslugs, form_url=lambda s: f"/{s}/edit", post_url=lambda s: f"/{s}/save",
            fields=lambda i, s: {"content": corpus.otter(index[s]).rstrip("\n")
                                 + f"\n\nBench save {i}.\n", "commit": f"Bench save {i}"},
            csrf_field="csrf_token", expect_status=(302, 303), max_seconds=180)
        result["workers_rss_mb"] = {str(pid): rss_mb(pid) for pid in server.workers()}
    finally:
        server.stop()
    return result


# ---- the report -------------------------------------------------------------------------------

def _get(d: dict, *keys: str) -> Any:
    for key in keys:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def figures(size: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per figure: Commons' value, the ceiling's and Otter Wiki's where they exist,
    issue 8's target and whether it is met."""
    c, h, o = size["commons"], size.get("ceiling") or {}, size.get("otterwiki") or {}
    ceiling_rps = _get(h, "view", "rps_median")

    def max_rss(d: dict) -> float | None:
        values = [v for v in (d.get("workers_rss_mb") or {}).values() if v]
        return max(values) if values else None

    rows = [
        ("anonymous page views", "req/s", _get(c, "view_anonymous", "rps_median"), ceiling_rps,
         _get(o, "view_anonymous", "rps_median"), ">=", 0.5, "ceiling"),
        ("signed-in page views", "req/s", _get(c, "view_signed_in", "rps_median"), ceiling_rps,
         None, ">=", 0.2, "ceiling"),
        ("page view wrk p50 (anonymous)", "ms", _get(c, "view_anonymous", "lat_p50_ms_median"),
         _get(h, "view", "lat_p50_ms_median"), _get(o, "view_anonymous", "lat_p50_ms_median"),
         None, None, None),
        ("first view of a page p50 (sequential)", "ms", _get(c, "pages", "first_view", "p50"),
         None, _get(o, "pages", "first_view", "p50"), None, None, None),
        ("search p50", "ms", _get(c, "search", "overall", "p50"), None,
         _get(o, "search", "overall", "p50"), "<=", 10, None),
        ("search p95", "ms", _get(c, "search", "overall", "p95"), None,
         _get(o, "search", "overall", "p95"), "<=", 30, None),
        ("search p50, first time (nothing cached)", "ms", _get(c, "search_first", "overall", "p50"),
         None, _get(o, "search", "overall", "p50"), None, None, None),
        ("search max, first time (nothing cached)", "ms", _get(c, "search_first", "overall", "max"),
         None, _get(o, "search", "overall", "max"), None, None, None),
        ("save p50", "ms", _get(c, "saves", "save", "p50"), None, _get(o, "saves", "save", "p50"),
         "<=", 40, None),
        ("save p95", "ms", _get(c, "saves", "save", "p95"), None, _get(o, "saves", "save", "p95"),
         "<=", 80, None),
        ("history (200 revisions) p50", "ms", _get(c, "history", "overall", "p50"), None,
         _get(o, "history", "overall", "p50"), "<=", 15, None),
        ("largest practice page", "KB", (_get(c, "pages", "max_bytes") or 0) / 1024 or None,
         None, (_get(o, "pages", "max_bytes") or 0) / 1024 or None, "<=", 60, None),
        ("median practice page", "KB", (_get(c, "pages", "median_bytes") or 0) / 1024 or None,
         (_get(h, "page_bytes") or 0) / 1024 or None,
         (_get(o, "pages", "median_bytes") or 0) / 1024 or None, None, None, None),
        ("cold start to first page", "s", _get(c, "coldstart", "first_200_s"), None,
         _get(o, "coldstart", "first_200_s"), "<=", 1, None),
        ("commons reindex", "s", _get(c, "reindex", "wall_s"), None, None, "<=", 90, None),
        ("resident memory, largest worker", "MB", max_rss(c), max_rss(h), max_rss(o), "<=", 150,
         None),
    ]
    out = []
    for name, unit, value, ceiling, otter, op, target, relative in rows:
        row: dict[str, Any] = {"figure": name, "unit": unit, "commons": value,
                               "ceiling": ceiling, "otterwiki": otter}
        row["commons_over_ceiling"] = value / ceiling if value and ceiling else None
        row["commons_over_otterwiki"] = value / otter if value and otter else None
        if op:
            limit = target * ceiling if relative and ceiling else (None if relative else target)
            row["target"] = f"{op} {target} x ceiling" if relative else f"{op} {target} {unit}"
            row["met"] = (None if value is None or limit is None else
                          (value >= limit if op == ">=" else value <= limit))
        out.append(row)
    return out


def fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "met" if v else "MISSED"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"


def print_table(n: int, rows: list[dict[str, Any]], out=sys.stdout) -> None:
    head = ("figure", "unit", "Commons", "ceiling", "Otter Wiki", "C/ceiling", "C/Otter",
            f"target (at {TARGETS_AT:,})", "")
    lines = [head]
    for r in rows:
        lines.append((r["figure"], r["unit"], fmt(r["commons"]), fmt(r["ceiling"]),
                      fmt(r["otterwiki"]), fmt(r["commons_over_ceiling"]),
                      fmt(r["commons_over_otterwiki"]), r.get("target", ""),
                      fmt(r.get("met")) if "met" in r else ""))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    print(f"\n== {n:,} practices", file=out)
    for k, line in enumerate(lines):
        print("| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) + " |",
              file=out)
        if k == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|", file=out)


def versions(otter: str | None) -> dict[str, Any]:
    import importlib.metadata

    import gunicorn

    def first_line(cmd: list[str]) -> str | None:
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
        except OSError:
            return None
        return ((proc.stdout or proc.stderr).strip().splitlines() or [None])[0]

    return {"python": platform.python_version(), "gunicorn": gunicorn.__version__,
            "flask": importlib.metadata.version("flask"),
            "wrk": (first_line(["wrk", "--version"]) or "").split(" [")[0] or None,
            "git": first_line(["git", "--version"]), "otterwiki": otter}


def machine() -> dict[str, Any]:
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "ram_gib": mem, "platform": platform.platform(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


# ---- the run ----------------------------------------------------------------------------------

def options(quick: bool) -> dict[str, Any]:
    if quick:
        return {"wrk": {"duration": 2, "repeats": 1, "warmup": 1, "timeout": 10},
                "view_sample": 60, "search_reps": 3, "history_reps": 5, "saves": 10,
                "otter_sizes": 10, "otter_search_reps": 1, "otter_history_reps": 3,
                "otter_saves": 5}
    return {"wrk": {"duration": 10, "repeats": 3, "warmup": 3, "timeout": 30},
            "view_sample": 1000, "search_reps": 20, "history_reps": 30, "saves": 100,
            "otter_sizes": 100, "otter_search_reps": 4, "otter_history_reps": 30,
            "otter_saves": 50}


def ensure_wrk(log: Callable[[str], None]) -> None:
    if shutil.which("wrk") is None:
        log("wrk is missing: bench/setup.sh installs it with apt")
        subprocess.run(["bash", str(HERE / "setup.sh")], check=True)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is still missing after bench/setup.sh")


def run_size(n: int, args: argparse.Namespace, opts: dict[str, Any],
             log: Callable[[str], None]) -> dict[str, Any]:
    corpus = Corpus(n)
    result: dict[str, Any] = {"practices": n, "history_slug": corpus.history_slug,
                              "history_revisions": REVISIONS}
    result["queries"] = {cls: {q: corpus.documents_with(q) for q in qs}
                         for cls, qs in QUERIES.items()}
    with tempfile.TemporaryDirectory(prefix=f"commons-bench-{n}-") as tmp:
        workdir = Path(tmp)
        home = workdir / "instance"
        log(f"[{n}] building the Commons instance…")
        built = build_commons(home, corpus, log)
        result["build"] = built["timings"]
        log(f"[{n}] measuring Commons…")
        result["commons"] = measure_commons(home, corpus, built["token"], opts, workdir, log)
        pool = [s for s in corpus.slugs if s != corpus.history_slug]
        sample = random.Random(7).sample(pool, min(opts["view_sample"], len(pool)))
        median = int(result["commons"]["pages"]["median_bytes"])
        result["ceiling"] = measure_ceiling(median, [f"/p/{s}" for s in sample], opts, workdir,
                                            log)
        if args.peer:
            log(f"[{n}] measuring An Otter Wiki…")
            try:
                result["otterwiki"] = measure_otter(corpus, sample, opts, workdir, log)
            except Exception as exc:  # noqa: BLE001 — keep Commons' figures, say why
                result["otterwiki"] = {"error": f"{type(exc).__name__}: {exc}"}
                log(f"  An Otter Wiki not measured: {exc}")
        else:
            result["otterwiki"] = {"skipped": "--no-peer"}
    result["figures"] = figures(result)
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000",
                        help="comma-separated numbers of practices (default 1000,10000)")
    parser.add_argument("--quick", action="store_true",
                        help="200 practices, 2-second wrk runs, few repetitions (the test suite)")
    parser.add_argument("--peer", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure An Otter Wiki (needs PyPI the first time)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    args = parser.parse_args(argv)
    args.sizes = [200] if args.quick else search_bench.parse_sizes(parser, args.sizes)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log = (lambda msg: print(msg, file=sys.stderr, flush=True))
    ensure_wrk(log)
    opts = options(args.quick)
    report: dict[str, Any] = {"issue": 8, "quick": args.quick, "options": opts,
                              "machine": machine(), "sizes": {}}
    started = time.perf_counter()
    for n in args.sizes:
        report["sizes"][str(n)] = run_size(n, args, opts, log)
    report["total_s"] = time.perf_counter() - started
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    otter = next((s["otterwiki"].get("version") for s in report["sizes"].values()
                  if s.get("otterwiki", {}).get("version")), None)
    report["versions"] = versions(otter)
    m, v = report["machine"], report["versions"]
    print(f"Commons benchmark (issue 8) — {m['nproc']} CPUs, {m['ram_gib']} GiB, Python "
          f"{v['python']}, gunicorn {v['gunicorn']} (2 sync workers), {v['wrk']}, {v['git']}, "
          f"otterwiki {v['otterwiki'] or '-'}; load average {m['load_average_at_start']} → "
          f"{m['load_average_at_end']}; {report['total_s']:.0f} s in all")
    for n, size in report["sizes"].items():
        print_table(int(n), size["figures"])
        print(f"  queries (pages holding the word): {size['queries']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str) + "\n",
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
