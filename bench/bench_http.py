#!/usr/bin/env python3
"""Generic HTTP benchmark harness for wiki-like Flask apps (stdlib + wrk only).

Copied from the workplace's peer measurement (../shared/bench/bench_http.py); changed here:
wrk requests may carry extra headers (a session cookie for signed-in views), and
``Client.request`` may send a raw body (JSON for an API).

It is pointed at a running server through URL templates, so the same
measurements can be run against An Otter Wiki, a hello-world ceiling, or the
Commons wiki later.  Every loop is bounded both in count and in time.

Sub-commands
------------
suite      run the phases described by a JSON target file against a running
           server and write a JSON result file (see TARGET FILE below)
coldstart  start a server command, measure time until the first successful
           response of a probe URL, then stop that server (by its PID)
report     turn result JSON files into a Markdown table
wrk        only the throughput phase (random pages through a wrk Lua script)

TARGET FILE (JSON; every phase is optional, phases run in this order)
{
  "label": "otter-sync-1000",
  "base": "http://127.0.0.1:18110",
  "corpus": "$PEERS_DIR/corpus-1000",        # folder of <slug>.md (slugs + edit content)
  "exclude_slugs": ["some-slug"],            # never used for view sample / edits
  "check":   {"template": "/{slug}", "n": 5},            # sanity GETs, must be 200
  "view":    {"template": "/{slug}", "sample": 1000,      # wrk over random slugs
              "duration": 10, "threads": 2, "connections": 16,
              "repeats": 3, "warmup": 3, "timeout": 30},
  "search":  {"template": "/-/search/{q}", "queries": ["retrospective"],
              "reps": 5, "rounds": 3, "max_seconds": 120},
  "history": {"template": "/{slug}/history", "slug": "x", "reps": 30,
              "max_seconds": 120},
  "edit":    {"form": "/{slug}/edit", "post": "/{slug}/save",
              "csrf_field": "csrf_token",                 # null if no CSRF
              "fields": {"content": "{content}", "commit": "bench edit {i}"},
              "count": 100, "expect_status": [200, 302, 303],
              "verify": "/{slug}", "max_seconds": 300}
}
Placeholders: {slug}, {q}, {i} (edit number), {content} (the corpus file of
the page with one line appended).  Values are URL-quoted in paths.

Python API: Client, measure_sequential(), measure_edits(form_url=callable,
post_url=callable, fields=callable, ...), run_wrk(), so that an app with a
different edit protocol (JSON API, ETag, ...) can be measured with callables.
"""
import argparse
import http.client
import json
import math
import os
import random
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

# --------------------------------------------------------------------------
# small HTTP client (one fresh connection per request, cookies kept)
# --------------------------------------------------------------------------


class Client:
    def __init__(self, base, timeout=120):
        u = urllib.parse.urlsplit(base)
        if u.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("refusing non-loopback base URL %r" % base)
        self.host, self.port = u.hostname, u.port or 80
        self.prefix = u.path.rstrip("/")
        self.timeout = timeout
        self.cookies = {}

    def request(self, method, path, fields=None, headers=None, body=None):
        """Return (status, headers(dict, lower-case), body bytes, seconds).  ``body``
        (bytes) is sent as is when there are no form ``fields``."""
        hdrs = {"User-Agent": "bench_http/1", "Accept": "text/html"}
        if self.cookies:
            hdrs["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if fields is not None:
            body = urllib.parse.urlencode(fields).encode("utf-8")
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        if headers:
            hdrs.update(headers)
        t0 = time.perf_counter()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, self.prefix + path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            dt = time.perf_counter() - t0
            for sc in resp.msg.get_all("Set-Cookie") or []:
                nv = sc.split(";", 1)[0]
                if "=" in nv:
                    k, v = nv.split("=", 1)
                    self.cookies[k.strip()] = v.strip()
            rh = {k.lower(): v for k, v in resp.getheaders()}
            return resp.status, rh, data, dt
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)


def q(v):
    return urllib.parse.quote(str(v), safe="")


def fill(template, **kw):
    """Fill {slug}/{q}/{i}; path values are URL-quoted."""
    return template.format(**{k: q(v) for k, v in kw.items()})


def pct(values, p):
    """Percentile with linear interpolation (numpy default)."""
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    f, c = math.floor(k), math.ceil(k)
    if f == c:
        return s[int(k)]
    return s[f] + (s[c] - s[f]) * (k - f)


def summarize_ms(values):
    ms = [v * 1000 for v in values]
    if not ms:
        return {"n": 0}
    return {"n": len(ms), "min": min(ms), "p50": pct(ms, 50), "p95": pct(ms, 95),
            "max": max(ms), "mean": statistics.fmean(ms)}


def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# corpus helpers
# --------------------------------------------------------------------------


def corpus_slugs(corpus):
    return sorted(fn[:-3] for fn in os.listdir(corpus) if fn.endswith(".md"))


def corpus_text(corpus, slug):
    with open(os.path.join(corpus, slug + ".md"), encoding="utf-8") as f:
        return f.read()


# --------------------------------------------------------------------------
# phases
# --------------------------------------------------------------------------


def check(client, paths):
    out = []
    for p in paths:
        st, _, body, dt = client.get(p)
        out.append({"path": p, "status": st, "bytes": len(body), "ms": dt * 1000})
    return out


def measure_sequential(client, paths, reps=5, rounds=1, max_seconds=120,
                       expect=(200,)):
    """GET each path reps times per round; returns per-path and overall ms."""
    deadline = time.time() + max_seconds
    per = {p: [] for p in paths}
    statuses = {}
    sizes = {}
    truncated = False
    for _ in range(rounds):
        for p in paths:
            for _ in range(reps):
                if time.time() > deadline:
                    truncated = True
                    break
                st, _, body, dt = client.get(p)
                statuses[st] = statuses.get(st, 0) + 1
                sizes[p] = len(body)
                if st in expect:
                    per[p].append(dt)
    allv = [v for vs in per.values() for v in vs]
    return {"per_path": {p: dict(summarize_ms(v), bytes=sizes.get(p))
                         for p, v in per.items()},
            "overall": summarize_ms(allv), "statuses": statuses,
            "truncated_by_time": truncated}


CSRF_INPUT = re.compile(r"<input\b[^>]*>", re.I)
CSRF_META = re.compile(r"<meta\b[^>]*>", re.I)


def extract_field(html, name):
    """value of <input name=NAME value=...> or <meta name=NAME content=...>"""
    for tag in CSRF_INPUT.findall(html):
        if re.search(r'name=["\']%s["\']' % re.escape(name), tag):
            m = re.search(r'value=["\']([^"\']*)["\']', tag)
            if m:
                return m.group(1)
    for tag in CSRF_META.findall(html):
        if re.search(r'name=["\']%s["\']' % re.escape(name), tag):
            m = re.search(r'content=["\']([^"\']*)["\']', tag)
            if m:
                return m.group(1)
    return None


def measure_edits(client, slugs, form_url, post_url, fields, csrf_field=None,
                  expect_status=(200, 302, 303), verify_url=None,
                  verify_text=None, max_seconds=300):
    """For each slug: GET form_url(slug) (timed separately, CSRF extracted),
    then POST fields(i, slug) to post_url(slug) (timed = 'save latency').
    form_url/post_url/fields/verify_url/verify_text are callables."""
    deadline = time.time() + max_seconds
    form_t, save_t, statuses, errors = [], [], {}, []
    verified = []
    for i, slug in enumerate(slugs):
        if time.time() > deadline:
            errors.append("stopped by max_seconds after %d saves" % i)
            break
        token = None
        if form_url is not None:
            st, _, body, dt = client.get(form_url(slug))
            form_t.append(dt)
            if st != 200:
                errors.append("form %s -> %d" % (slug, st))
                continue
            if csrf_field:
                token = extract_field(body.decode("utf-8", "replace"), csrf_field)
                if token is None:
                    errors.append("no csrf field %r in form of %s" % (csrf_field, slug))
                    continue
        f = dict(fields(i, slug))
        if csrf_field and token is not None:
            f[csrf_field] = token
        st, hdr, body, dt = client.request("POST", post_url(slug), fields=f)
        statuses[st] = statuses.get(st, 0) + 1
        if st in expect_status:
            save_t.append(dt)
        else:
            errors.append("save %s -> %d %s" % (slug, st, body[:200]))
        if verify_url and (i == 0 or i == len(slugs) - 1):
            vst, _, vbody, _ = client.get(verify_url(slug))
            verified.append({"slug": slug, "status": vst,
                             "found": verify_text(i, slug) in vbody.decode("utf-8", "replace")})
    return {"save": summarize_ms(save_t), "form_get": summarize_ms(form_t),
            "statuses": statuses, "errors": errors[:20],
            "n_errors": len(errors), "verified": verified}


# --------------------------------------------------------------------------
# wrk
# --------------------------------------------------------------------------

LUA = """-- generated by bench_http.py
local paths = {%s}
local counter = 1
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  math.randomseed(%d + tid)
end
local headers = %s
request = function()
  return wrk.format("GET", paths[math.random(#paths)], headers)
end
"""


def _to_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", s.strip())
    if not m:
        return None
    v, u = float(m.group(1)), m.group(2)
    return v * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[u]


def parse_wrk(out):
    r = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    r["rps"] = float(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read", out)
    if m:
        r["requests"] = int(m.group(1))
        r["read"] = m.group(3)
    for p in ("50", "75", "90", "99"):
        m = re.search(r"^\s+%s%%\s+([\d.]+\w+)" % p, out, re.M)
        r["lat_p%s_ms" % p] = _to_ms(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx3xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    r["socket_timeouts"] = int(m.group(4)) if m else 0
    return r


def drain(base, path, max_seconds=180):
    """Wait until requests queued by a finished wrk run are served: a slow
    sync server keeps working on the requests of closed connections, which
    would otherwise eat into the next run.  Two sequential GETs queue behind
    that backlog.  Returns the seconds waited."""
    t0 = time.perf_counter()
    c = Client(base, timeout=max_seconds)
    for _ in range(2):
        try:
            c.get(path)
        except OSError:
            break
        if time.perf_counter() - t0 > max_seconds:
            break
    return time.perf_counter() - t0


def run_wrk(base, paths, duration=10, threads=2, connections=16, repeats=3,
            warmup=3, timeout=30, seed=1234, wrk="wrk", headers=None):
    fd, lua = tempfile.mkstemp(prefix="bench_wrk_", suffix=".lua")
    with os.fdopen(fd, "w") as f:
        lua_headers = "{%s}" % ", ".join("[%s] = %s" % (json.dumps(k), json.dumps(v))
                                          for k, v in (headers or {}).items())
        f.write(LUA % (",".join(json.dumps(p) for p in paths), seed, lua_headers))
    base = base.rstrip("/")
    runs = []
    try:
        if warmup:
            subprocess.run([wrk, "-t", str(threads), "-c", str(connections),
                            "-d", "%ds" % warmup, "--timeout", "%ds" % timeout,
                            "-s", lua, base + "/"], capture_output=True, text=True,
                           timeout=warmup + timeout + 30)
            log("drained %.1fs after warmup" % drain(base, paths[0]))
        for k in range(repeats):
            cmd = [wrk, "-t", str(threads), "-c", str(connections), "-d", "%ds" % duration,
                   "--timeout", "%ds" % timeout, "--latency", "-s", lua, base + "/"]
            p = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=duration + timeout + 30)
            r = parse_wrk(p.stdout)
            r["rc"] = p.returncode
            r["drain_s"] = drain(base, paths[0])
            if r["rps"] is None:
                r["raw"] = (p.stdout[-1500:] + "\n--stderr--\n" + p.stderr[-1500:])
                log("wrk output not parsed:\n" + r["raw"])
            runs.append(r)
            log("wrk run %d/%d: %.2f rps p50=%s ms p99=%s ms non2xx=%d sockerr=%d (drain %.1fs)"
                % (k + 1, repeats, r["rps"] if r["rps"] is not None else -1, r["lat_p50_ms"],
                   r["lat_p99_ms"], r["non2xx3xx"], r["socket_errors"], r["drain_s"]))
    finally:
        os.unlink(lua)
    rps = [r["rps"] for r in runs if r["rps"] is not None]
    return {"cmd": " ".join(shlex.quote(c) for c in cmd[:-3]) + " -s <random-paths.lua> " + base + "/",
            "n_paths": len(paths), "runs": runs,
            "rps_min": min(rps) if rps else None,
            "rps_median": statistics.median(rps) if rps else None,
            "rps_max": max(rps) if rps else None,
            "lat_p50_ms_median": statistics.median([r["lat_p50_ms"] for r in runs if r["lat_p50_ms"] is not None] or [0]),
            "lat_p99_ms_median": statistics.median([r["lat_p99_ms"] for r in runs if r["lat_p99_ms"] is not None] or [0]),
            "non2xx3xx_total": sum(r["non2xx3xx"] for r in runs),
            "socket_errors_total": sum(r["socket_errors"] for r in runs)}


# --------------------------------------------------------------------------
# suite
# --------------------------------------------------------------------------


def run_suite(cfg):
    """Run the phases; an exception in one phase is recorded in
    res["phase_errors"] and the remaining phases still run."""
    res = {"phase_errors": {}}
    try:
        _run_suite(cfg, res)
    except Exception as e:  # keep what was measured so far
        import traceback
        res["phase_errors"]["suite"] = traceback.format_exc(limit=3)
        log("suite aborted: %r" % e)
    return res


def _guard(res, phase, fn):
    try:
        fn()
    except Exception as e:
        import traceback
        res["phase_errors"][phase] = "%s: %s" % (type(e).__name__, e)
        log("phase %s failed: %s" % (phase, traceback.format_exc(limit=2)))


def _run_suite(cfg, res):
    base = cfg["base"]
    client = Client(base)
    rng = random.Random(cfg.get("seed", 7))
    res.update({"label": cfg.get("label"), "base": base,
                "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "config": cfg})
    slugs = corpus_slugs(cfg["corpus"]) if cfg.get("corpus") else cfg.get("slugs", [])
    excl = set(cfg.get("exclude_slugs", []))
    pool = [s for s in slugs if s not in excl]

    if "check" in cfg:
        c = cfg["check"]
        paths = [fill(c["template"], slug=s) for s in rng.sample(pool, min(c.get("n", 5), len(pool)))] \
            if "{slug}" in c["template"] else [c["template"]]
        res["check"] = check(client, paths)
        bad = [x for x in res["check"] if x["status"] != 200]
        log("check:", ", ".join("%s %d %dB %.1fms" % (x["path"], x["status"], x["bytes"], x["ms"])
                                for x in res["check"]))
        if bad:
            res["error"] = "sanity check failed: %r" % bad
            return res

    def phase_view():
        v = cfg["view"]
        if "{slug}" in v["template"]:
            sample = rng.sample(pool, min(v.get("sample", len(pool)), len(pool)))
            paths = [fill(v["template"], slug=s) for s in sample]
        else:
            paths = [v["template"]]
        log("view: wrk over %d paths" % len(paths))
        res["view"] = run_wrk(base, paths, duration=v.get("duration", 10),
                              threads=v.get("threads", 2), connections=v.get("connections", 16),
                              repeats=v.get("repeats", 3), warmup=v.get("warmup", 3),
                              timeout=v.get("timeout", 30))
        sz = check(client, paths[:5])
        res["view"]["sample_bytes"] = [x["bytes"] for x in sz]
        res["view"]["sample_status"] = [x["status"] for x in sz]

    def phase_search():
        s = cfg["search"]
        paths = [fill(s["template"], q=qq) for qq in s["queries"]]
        log("search: %d queries x %d reps x %d rounds" % (len(paths), s.get("reps", 5), s.get("rounds", 1)))
        r = measure_sequential(client, paths, reps=s.get("reps", 5), rounds=s.get("rounds", 1),
                               max_seconds=s.get("max_seconds", 120))
        r["queries"] = dict(zip(paths, s["queries"]))
        res["search"] = r

    def phase_history():
        h = cfg["history"]
        path = fill(h["template"], slug=h["slug"])
        log("history: %s x %d" % (path, h.get("reps", 30)))
        res["history"] = measure_sequential(client, [path], reps=h.get("reps", 30),
                                            max_seconds=h.get("max_seconds", 120))

    def phase_edit():
        e = cfg["edit"]
        n = min(e.get("count", 100), len(pool))
        eslugs = rng.sample(pool, n)
        corpus = cfg["corpus"]
        marker = "Bench edit number {i} of {slug}."

        def fields(i, slug):
            content = corpus_text(corpus, slug).rstrip("\n") + "\n\n" + marker.format(i=i, slug=slug) + "\n"
            return {k: v.replace("{content}", content).replace("{i}", str(i)).replace("{slug}", slug)
                    for k, v in e["fields"].items()}
        log("edit: %d saves" % n)
        res["edit"] = measure_edits(
            client, eslugs,
            form_url=(lambda s: fill(e["form"], slug=s)) if e.get("form") else None,
            post_url=lambda s: fill(e["post"], slug=s),
            fields=fields, csrf_field=e.get("csrf_field"),
            expect_status=tuple(e.get("expect_status", (200, 302, 303))),
            verify_url=(lambda s: fill(e["verify"], slug=s)) if e.get("verify") else None,
            verify_text=lambda i, s: marker.format(i=i, slug=s),
            max_seconds=e.get("max_seconds", 300))

    for name, fn in (("view", phase_view), ("search", phase_search),
                     ("history", phase_history), ("edit", phase_edit)):
        if name in cfg:
            _guard(res, name, fn)
    res["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")


# --------------------------------------------------------------------------
# cold start
# --------------------------------------------------------------------------


def coldstart(cmd, probe, base, env=None, cwd=None, max_seconds=120, log_file=None):
    """Start `cmd` (list) in its own session, wait for `probe` to return 200,
    record timings, then stop the process we started (SIGTERM to its PID,
    SIGKILL after 15 s)."""
    u = urllib.parse.urlsplit(base)
    full_env = dict(os.environ, **(env or {}))
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=full_env, cwd=cwd, stdout=out, stderr=out,
                            start_new_session=True)
    log("coldstart: started pid %d: %s" % (proc.pid, " ".join(cmd)))
    r = {"cmd": " ".join(shlex.quote(c) for c in cmd), "pid": proc.pid, "probe": probe}
    client = Client(base)
    try:
        t_listen = None
        deadline = time.time() + max_seconds
        while time.time() < deadline:
            if proc.poll() is not None:
                r["error"] = "server exited with %s" % proc.returncode
                return r
            try:
                with socket.create_connection((u.hostname, u.port), timeout=1):
                    t_listen = time.perf_counter() - t0
                    break
            except OSError:
                time.sleep(0.01)
        if t_listen is None:
            r["error"] = "port never opened"
            return r
        r["listen_s"] = t_listen
        while time.time() < deadline:
            try:
                st, _, body, dt = client.get(probe)
            except OSError:
                time.sleep(0.01)
                continue
            if st == 200:
                r["first_200_s"] = time.perf_counter() - t0
                r["first_request_ms"] = dt * 1000
                r["first_bytes"] = len(body)
                break
            time.sleep(0.01)
        later = []
        for _ in range(5):
            st, _, body, dt = client.get(probe)
            later.append(dt)
        r["next5_ms"] = summarize_ms(later)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        r["stopped_rc"] = proc.returncode
        if log_file:
            out.close()
    return r


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------


def fmt(v, nd=1):
    return "-" if v is None else ("%.*f" % (nd, v))


def report(files):
    rows = []
    for fn in files:
        with open(fn) as f:
            r = json.load(f)
        lab = r.get("label") or os.path.basename(fn)
        if "first_200_s" in r or "listen_s" in r:
            rows.append("| %s | cold start: spawn -> first 200 | %s s (port open %s s, first request %s ms, next 5 p50 %s ms) |"
                        % (lab, fmt(r.get("first_200_s"), 2), fmt(r.get("listen_s"), 2),
                           fmt(r.get("first_request_ms")), fmt(r.get("next5_ms", {}).get("p50"))))
            continue
        if r.get("error"):
            rows.append("| %s | ERROR | %s |" % (lab, r["error"]))
        for ph, err in (r.get("phase_errors") or {}).items():
            rows.append("| %s | %s phase FAILED | %s |" % (lab, ph, str(err).splitlines()[-1][:200]))
        v = r.get("view")
        if v:
            rows.append("| %s | view rps (wrk, %d paths) min / **median** / max | %s / **%s** / %s (wrk p50 %s ms, p99 %s ms; non-2xx %d, sock err %d; page %s B) |"
                        % (lab, v["n_paths"], fmt(v["rps_min"], 2), fmt(v["rps_median"], 2), fmt(v["rps_max"], 2),
                           fmt(v["lat_p50_ms_median"]), fmt(v["lat_p99_ms_median"]),
                           v["non2xx3xx_total"], v["socket_errors_total"],
                           "/".join(str(b) for b in v.get("sample_bytes", [])[:3])))
        s = r.get("search")
        if s:
            for path, st in s["per_path"].items():
                rows.append("| %s | search `%s` p50 / p95 (min-max, n) | %s / %s ms (%s-%s, n=%d, %s B) |"
                            % (lab, s["queries"].get(path, path), fmt(st.get("p50")), fmt(st.get("p95")),
                               fmt(st.get("min")), fmt(st.get("max")), st["n"], st.get("bytes")))
            o = s["overall"]
            rows.append("| %s | search all queries p50 / p95 | %s / %s ms (n=%d, statuses %s) |"
                        % (lab, fmt(o.get("p50")), fmt(o.get("p95")), o["n"], s["statuses"]))
        h = r.get("history")
        if h:
            (path, st), = h["per_path"].items()
            rows.append("| %s | history `%s` p50 / p95 (min-max, n) | %s / %s ms (%s-%s, n=%d, %s B) |"
                        % (lab, path, fmt(st.get("p50")), fmt(st.get("p95")), fmt(st.get("min")),
                           fmt(st.get("max")), st["n"], st.get("bytes")))
        e = r.get("edit")
        if e:
            sv, fg = e["save"], e["form_get"]
            rows.append("| %s | save POST p50 / p95 (min-max, n) | %s / %s ms (%s-%s, n=%d; statuses %s; errors %d; verified %s) |"
                        % (lab, fmt(sv.get("p50")), fmt(sv.get("p95")), fmt(sv.get("min")),
                           fmt(sv.get("max")), sv["n"], e["statuses"], e["n_errors"],
                           [x["found"] for x in e["verified"]]))
            if fg.get("n"):
                rows.append("| %s | edit-form GET p50 / p95 | %s / %s ms (n=%d) |"
                            % (lab, fmt(fg.get("p50")), fmt(fg.get("p95")), fg["n"]))
    return "| run | measure | value |\n|---|---|---|\n" + "\n".join(rows) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("suite")
    s.add_argument("--config", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--set", action="append", default=[],
                   help="override a top-level key (value parsed as JSON if possible): "
                        "--set base=http://127.0.0.1:18111 --set 'search={\"template\": ...}'")
    s.add_argument("--only", default=None,
                   help="comma-separated phases to keep: check,view,search,history,edit")
    c = sub.add_parser("coldstart")
    c.add_argument("--base", required=True)
    c.add_argument("--probe", required=True)
    c.add_argument("--env", action="append", default=[], help="K=V for the server")
    c.add_argument("--label", default=None)
    c.add_argument("--out", required=True)
    c.add_argument("--log", default=None, help="server stdout/stderr file")
    c.add_argument("--max-seconds", type=float, default=120)
    c.add_argument("server_cmd", nargs=argparse.REMAINDER, help="-- command ...")
    w = sub.add_parser("wrk")
    w.add_argument("--base", required=True)
    w.add_argument("--template", default="/{slug}")
    w.add_argument("--corpus", default=None)
    w.add_argument("--duration", type=int, default=10)
    w.add_argument("--repeats", type=int, default=3)
    w.add_argument("--threads", type=int, default=2)
    w.add_argument("--connections", type=int, default=16)
    w.add_argument("--out", default=None)
    rp = sub.add_parser("report")
    rp.add_argument("files", nargs="+")
    a = ap.parse_args(argv)

    if a.cmd == "suite":
        with open(a.config) as f:
            cfg = json.load(f)
        for kv in a.set:
            k, v = kv.split("=", 1)
            try:
                cfg[k] = json.loads(v)
            except ValueError:
                cfg[k] = v
        if a.only:
            keep = set(a.only.split(","))
            for ph in ("check", "view", "search", "history", "edit"):
                if ph not in keep:
                    cfg.pop(ph, None)
        res = run_suite(cfg)
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1, default=str)
        print(report([a.out]))
        return 1 if (res.get("error") or res.get("phase_errors")) else 0
    if a.cmd == "coldstart":
        cmd = a.server_cmd[1:] if a.server_cmd[:1] == ["--"] else a.server_cmd
        env = dict(kv.split("=", 1) for kv in a.env)
        r = coldstart(cmd, a.probe, a.base, env=env, max_seconds=a.max_seconds, log_file=a.log)
        r["label"] = a.label
        with open(a.out, "w") as f:
            json.dump(r, f, indent=1)
        print(report([a.out]))
        return 1 if r.get("error") else 0
    if a.cmd == "wrk":
        if a.corpus:
            paths = [fill(a.template, slug=s) for s in corpus_slugs(a.corpus)]
        else:
            paths = [a.template]
        r = run_wrk(a.base, paths, a.duration, a.threads, a.connections, a.repeats)
        print(json.dumps(r, indent=1))
        if a.out:
            with open(a.out, "w") as f:
                json.dump(r, f, indent=1)
        return 0
    if a.cmd == "report":
        print(report(a.files))
        return 0


if __name__ == "__main__":
    sys.exit(main())
