"""The search benchmark still runs: generator, instance, queries and measurement at N=50.

No timing is asserted (a test machine's speed says nothing); only that every query class gets
figures, that the classes mean what they say, and that the JSON written is valid.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "search_bench.py"


def test_search_bench_runs_at_50(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(BENCH), "--sizes", "50", "--repeat", "2",
                           "--warmup", "1", "--no-http", "--no-profile", "--json", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["machine"]["cpu_count"] and report["machine"]["python"]
    size = report["sizes"]["50"]
    assert size["practices"] == 50 and size["forks"] >= 1
    assert set(size["languages"]) == {"en", "fr"}
    assert size["index_rebuild_s"] > 0 and size["reindex_cli"]["wall_s"] > 0
    assert "50 practices" in size["reindex_cli"]["output"]
    for cls in ("frequent", "rare", "absent", "multi", "overall"):
        figures = size["latency"][cls]
        assert figures["n"] > 0 and 0 < figures["p50_ms"] <= figures["p95_ms"], cls
    queries = size["queries"]
    assert all(item["documents"] == 0 and item["families_found"] == 0
               for item in queries["absent"])
    assert all(item["documents"] >= 1 and item["families_found"] >= 1
               for item in queries["rare"])
    assert min(i["documents"] for i in queries["frequent"]) > \
        max(i["documents"] for i in queries["rare"])
    assert "p50 ms" in proc.stdout and "frequent" in proc.stdout
