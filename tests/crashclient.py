"""One client process of the crash test (``test_crash.py``): saves until told to stop.

    python crashclient.py BASE_URL TOKEN WHO SLUG SEED STOP_FILE

Standard library only (it reuses ``serverproc.request``). Each step appends a unique marker line
to the client's own practice (a PUT from the revision it last saw) or, now and then, creates a
practice holding a marker. A 2xx is an *acknowledged* save and is recorded with the revision and
the exact body the server answered; a 409 is answered by refetching; a dropped connection or a
5xx (the worker was killed) is recorded as a failure, and the client refetches and goes on. It
stops when ``STOP_FILE`` exists and prints one JSON report on stdout.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import sys
import time
import urllib.error

from serverproc import request


def call(method: str, url: str, token: str, payload: dict | None = None
         ) -> tuple[int | str, dict | str]:
    """serverproc.request, with a dropped connection (a worker killed mid-request) answered as
    the status ``"dropped"`` instead of an exception."""
    try:
        return request(method, url, token, payload)
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError, OSError) as exc:
        return "dropped", repr(exc)


def run(base: str, token: str, who: str, slug: str, seed: int, stop_file: str) -> dict:
    rng = random.Random(seed)
    api = base + "/api/v1"
    report: dict = {"who": who, "acks": [], "failures": [], "conflicts": 0, "errors": []}
    body = revision = None
    n = 0
    print("ready", flush=True)
    sys.stdin.readline()
    while not os.path.exists(stop_file):
        if body is None:  # (re)read the practice: at start, after a conflict or a failure
            status, data = call("GET", f"{api}/practices/{slug}", token)
            if status != 200:
                time.sleep(0.05)
                continue
            body, revision = data["body"], data["revision"]
        n += 1
        marker = f"CRASH-{who}-{n:05d}"
        sent = time.time()
        if rng.random() < 0.15:
            op = "create"
            status, data = call("POST", f"{api}/practices", token, {
                "title": f"Crash {who} {n}", "body": f"## Why\n\n{marker}\n",
                "agree_license": True, "message": marker})
        else:
            op = "edit"
            status, data = call("PUT", f"{api}/practices/{slug}", token, {
                "body": body.rstrip("\n") + "\n\n" + marker + "\n", "base_revision": revision,
                "agree_license": True, "message": marker})
        answered = time.time()
        if isinstance(status, int) and 200 <= status < 300 and isinstance(data, dict):
            report["acks"].append({"op": op, "slug": data["slug"], "revision": data["revision"],
                                   "body": data["body"], "marker": marker,
                                   "sent": sent, "answered": answered})
            if op == "edit":
                body, revision = data["body"], data["revision"]
        elif status == 409:
            report["conflicts"] += 1
            body = None
        elif status == "dropped" or (isinstance(status, int) and status >= 500):
            report["failures"].append({"op": op, "marker": marker, "status": status,
                                       "sent": sent, "answered": answered,
                                       "detail": str(data)[:300]})
            body = None
        else:
            report["errors"].append({"op": op, "marker": marker, "status": status,
                                     "detail": str(data)[:300]})
            body = None
        time.sleep(rng.uniform(0, 0.01))
    return report


if __name__ == "__main__":
    base_url, api_token, name, practice, seed_text, stop = sys.argv[1:]
    json.dump(run(base_url, api_token, name, practice, int(seed_text), stop), sys.stdout)
