"""Search relevance, measured: success@3 and MRR over the judged query set.

    .venv/bin/python scripts/relevance.py [--verbose] [--json FILE]

Builds a throwaway instance with the seed and every folder of ``tests/corpora`` imported (in
sorted order, as the judgements assumed), runs each query of ``tests/search/queries.yaml`` as
a reader of its ``ui`` language would, and prints success@3 (an expected practice in the top
3), MRR (over the top 10), the same per kind of query, and the suggestion hit rate. The test
suite (``tests/test_relevance.py``) runs the same code and fails below success@3 0.85 or MRR
0.70. The queries were judged before any tuning; tune the engine, never the judgements.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "tests" / "search" / "queries.yaml"
CORPORA = ROOT / "tests" / "corpora"
TOP = 10


@dataclass
class Report:
    success_at_3: float
    mrr: float
    suggestions: float
    by_kind: dict[str, dict[str, float]] = field(default_factory=dict)
    misses: list[dict] = field(default_factory=list)
    wrong_suggestions: list[dict] = field(default_factory=list)
    queries: int = 0
    seconds: float = 0.0


def build_instance(home: Path):
    """A Commons with the seed and the corpora imported, as the query set was judged on."""
    from commons import create_app
    from commons.services import importer

    app = create_app({"COMMONS_HOME": str(home), "SECRET_KEY": "relevance",
                      "PASSWORD_HASH_PROFILE": "cheapest"})
    inst = app.extensions["commons"]
    for folder in sorted(p for p in CORPORA.iterdir() if p.is_dir()):
        with inst.session() as session:
            importer.import_many(inst, session, None, importer.read_sources(folder),
                                 agree_license=True, operator=True)
    return app, inst


def reuse_instance(home: Path):
    """An instance built by an earlier run, with its search index made again from scratch (the
    analysis may have changed since)."""
    import shutil

    from commons import create_app
    shutil.rmtree(home / "index", ignore_errors=True)
    app = create_app({"COMMONS_HOME": str(home), "SECRET_KEY": "relevance"})
    return app, app.extensions["commons"]


def measure(inst, judged: dict) -> Report:
    from commons.services import search

    started = time.perf_counter()
    hits3, reciprocal = [], []
    kinds: dict[str, list[tuple[bool, float]]] = defaultdict(list)
    misses = []
    for item in judged["queries"]:
        results = search.search(inst, item["q"], ui_lang=item.get("ui", "en"), per_page=TOP)
        ranked = [hit.slug for hit in results.hits]
        expected = set(item["expected"])
        rank = next((i + 1 for i, slug in enumerate(ranked) if slug in expected), None)
        ok, rr = rank is not None and rank <= 3, 1.0 / rank if rank else 0.0
        hits3.append(ok)
        reciprocal.append(rr)
        for kind in item.get("kind", []):
            kinds[kind].append((ok, rr))
        if not ok:
            misses.append({"q": item["q"], "ui": item.get("ui"), "expected": item["expected"],
                           "rank": rank, "top3": ranked[:3]})
    searcher = search._searcher(inst)
    good, wrong = 0, []
    for item in judged.get("suggestions", []):
        expected = item["expected"] if isinstance(item["expected"], list) else [item["expected"]]
        got = search.suggest(searcher, item["word"], item.get("ui", "en"))
        if got in expected:
            good += 1
        else:
            wrong.append({"word": item["word"], "expected": expected, "got": got})
    n = len(hits3)
    return Report(
        success_at_3=sum(hits3) / n, mrr=sum(reciprocal) / n,
        suggestions=good / max(1, len(judged.get("suggestions", []))),
        by_kind={kind: {"n": len(v), "success_at_3": sum(o for o, _ in v) / len(v),
                        "mrr": sum(r for _, r in v) / len(v)} for kind, v in sorted(kinds.items())},
        misses=misses, wrong_suggestions=wrong, queries=n,
        seconds=time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--verbose", action="store_true", help="list the misses")
    parser.add_argument("--json", help="write the report as JSON to this file")
    parser.add_argument("--home", help="keep the instance in this folder and reuse it on the "
                                       "next run (its search index is rebuilt each time)")
    args = parser.parse_args(argv)
    judged = yaml.safe_load(QUERIES.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        home = Path(args.home) if args.home else Path(tmp) / "instance"
        if args.home and (home / "content.git").exists():
            _app, inst = reuse_instance(home)
        else:
            _app, inst = build_instance(home)
        built = time.perf_counter() - started
        report = measure(inst, judged)
        inst.engine.dispose()
    print(f"instance with the seed and the corpora: {built:.1f} s; "
          f"{report.queries} queries in {report.seconds:.2f} s")
    print(f"success@3 {report.success_at_3:.3f}   MRR {report.mrr:.3f}   "
          f"suggestions {report.suggestions:.3f}")
    for kind, figures in report.by_kind.items():
        print(f"  {kind:12} n={figures['n']:3}  success@3 {figures['success_at_3']:.3f}  "
              f"MRR {figures['mrr']:.3f}")
    if args.verbose:
        for miss in report.misses:
            print(f"  miss: {miss['q']!r} ({miss['ui']}) rank={miss['rank']} "
                  f"top3={miss['top3']} expected={miss['expected']}")
        for wrong in report.wrong_suggestions:
            print(f"  suggestion: {wrong['word']!r} -> {wrong['got']!r}, "
                  f"expected {wrong['expected']}")
    if args.json:
        Path(args.json).write_text(json.dumps(report.__dict__, indent=2, ensure_ascii=False),
                                   encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
