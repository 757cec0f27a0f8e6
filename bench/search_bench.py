"""Search benchmark: latency of ``search.search`` and the time to rebuild the index from git.

Not a test: it prints figures and asserts nothing about them. For each size N it generates a
deterministic commons of N practices (fixed seed) from the real texts of ``tests/corpora`` and
``content/practices`` (paragraphs sampled and recombined, ~60 % English, ~40 % French, tags from
a fixed list, 5 % forks), writes them into a fresh instance in a temporary folder with one
``Store.commit`` for the originals and one for the forks (committing them one by one through
the API would take hours), brings the derived tables up (``catalog.catch_up``), and times
``search.rebuild`` (the index rebuilt from git) and ``commons reindex`` (derived tables and
index, as a subprocess).

Queries are chosen from the generated corpus's own document frequencies, so "frequent",
"rare" and "absent" are true by construction, and their frequencies are printed. Latency is
measured in-process, warm, many repetitions, p50 and p95 per class and overall; optionally
through a real ``commons serve`` server when the checkout has an HTTP search route.

    .venv/bin/python bench/search_bench.py [--sizes 1000,10000] [--json out.json]
"""
from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import random
import re
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere: import the checkout
    sys.path.insert(0, str(ROOT))

from whoosh.lang import stopwords_for_language  # noqa: E402

from commons import config as settings  # noqa: E402
from commons.services import analysis, catalog, reuse_export, search  # noqa: E402
from commons.services import practice as doc  # noqa: E402
from commons.services.instance import Instance  # noqa: E402
from commons.services.store import Identity  # noqa: E402

SEED = 20240611
WHEN = 1_717_000_000  # fixed commit dates: the same seed gives the same commits
AUTHOR = Identity("Bench contributor", "bench@users.noreply.commons")
LICENSE = "CC-BY-SA-4.0"
FRENCH_SHARE = 0.4
FORK_SHARE = 0.05
TAGS = ["facilitation", "retrospective", "meeting", "decision-making", "onboarding",
        "feedback", "remote", "coworking", "governance", "sociocracy", "design", "research",
        "agile", "workshop", "community", "coaching", "conflict", "planning", "kickoff",
        "rituals", "product", "strategy", "learning", "wellbeing"]
TAG_WEIGHTS = [1.0 / (1 + i * 0.3) for i in range(len(TAGS))]  # a few tags are common
ABSENT = ["zyxwv", "qwxzkj", "blorptangle", "vrozzimuth"]
CLASSES = ("frequent", "rare", "absent", "multi")
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# link targets are not text a reader sees (nor what the index holds)
LINK_TARGET = re.compile(r"\]\([^)]*\)|<?https?://\S+")


# ---- the corpus -----------------------------------------------------------------------------

@dataclass
class Corpus:
    """Real text to recombine, per language: paragraphs, section headings and titles."""

    paragraphs: dict[str, list[str]] = field(default_factory=lambda: {"en": [], "fr": []})
    headings: dict[str, list[str]] = field(default_factory=lambda: {"en": [], "fr": []})
    titles: dict[str, list[str]] = field(default_factory=lambda: {"en": [], "fr": []})


def _usable(paragraph: str) -> bool:
    """Prose, not a table, an image, a link list or a fragment."""
    text = paragraph.strip()
    return (60 <= len(text) <= 1500 and not text.startswith(("|", "!", "<", "```", "---"))
            and len(WORD.findall(text)) >= 10)


def load_corpus(root: Path = ROOT) -> Corpus:
    """Paragraphs of the corpora's practices (licence-refused folders left out) and of the
    starter practices, which hold most of the French text."""
    corpus = Corpus()
    files = [p for p in sorted((root / "tests" / "corpora").glob("**/*.md"))
             if not p.parent.name.startswith("negative-") and p.name != "README.md"]
    files += sorted((settings.CONTENT_DIR / doc.PRACTICES_DIR).glob("*.md"))
    for path in files:
        try:
            parsed = doc.parse(path.read_text(encoding="utf-8"))
        except Exception:  # noqa: BLE001 — a file the parser refuses just gives no text
            continue
        lang = parsed.language
        if lang not in ("en", "fr"):
            continue
        if parsed.title:
            corpus.titles[lang].append(parsed.title.strip()[:120])
        for block in re.split(r"\n\s*\n", parsed.body):
            block = block.strip()
            if re.fullmatch(r"#{2,4} .{3,80}", block):
                corpus.headings[lang].append(block)
            elif _usable(block):
                corpus.paragraphs[lang].append(block)
    for lang in ("en", "fr"):
        if not corpus.headings[lang]:
            corpus.headings[lang] = ["## Why", "## How"] if lang == "en" else \
                ["## Pourquoi", "## Comment"]
    return corpus


@dataclass
class Generated:
    slug: str
    title: str
    language: str
    tags: list[str]
    summary: str
    body: str
    upstream: str | None = None

    def text(self, revision: str | None = None) -> str:
        meta: dict[str, Any] = {"title": self.title, "summary": self.summary,
                                "language": self.language, "tags": self.tags,
                                "license": LICENSE, "stewards": []}
        if self.upstream:
            meta["forked_from"] = {"slug": self.upstream, "revision": revision}
        return doc.serialize(doc.Practice(meta, self.body))

    def words(self) -> set[str]:
        """The folded words a reader could type to find it (title, summary, tags, body)."""
        return set(WORD.findall(analysis.fold(" ".join([self.title, self.summary,
                                                        " ".join(self.tags), self.prose()]))))

    def prose(self) -> str:
        return LINK_TARGET.sub(" ", self.body)


def _summary(paragraph: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s", paragraph.replace("\n", " "), maxsplit=1)[0]
    sentence = re.sub(r"[*_`#>\[\]]", "", sentence).strip()
    return sentence[:200]


def generate(n: int, corpus: Corpus, seed: int = SEED) -> list[Generated]:
    """N practices, the last 5 % of them forks of earlier ones (same seed, same corpus)."""
    rng = random.Random(seed)
    forks = int(n * FORK_SHARE)
    practices: list[Generated] = []
    for i in range(n - forks):
        lang = "fr" if rng.random() < FRENCH_SHARE else "en"
        title = rng.choice(corpus.titles[lang])
        sections = []
        for _ in range(rng.randint(2, 4)):
            paragraphs = rng.sample(corpus.paragraphs[lang], rng.randint(1, 3))
            sections.append("\n\n".join([rng.choice(corpus.headings[lang])] + paragraphs))
        body = "\n\n".join(sections) + "\n"
        tags = sorted(set(rng.choices(TAGS, weights=TAG_WEIGHTS, k=rng.randint(1, 4))))
        summary = _summary(rng.choice(corpus.paragraphs[lang]))
        slug = f"{doc.slugify(title)[:60].strip('-') or 'practice'}-{i:05d}"
        practices.append(Generated(slug, title, lang, tags, summary, body))
    originals = list(practices)
    for k in range(forks):
        upstream = rng.choice(originals)
        extra = rng.choice(corpus.paragraphs[upstream.language])
        suffix = " (variante)" if upstream.language == "fr" else " (variant)"
        practices.append(Generated(
            slug=f"{upstream.slug[:60].strip('-')}-fork-{k:04d}", title=upstream.title + suffix,
            language=upstream.language, tags=upstream.tags, summary=upstream.summary,
            body=upstream.body + "\n" + extra + "\n", upstream=upstream.slug))
    return practices


# ---- the instance ---------------------------------------------------------------------------

def build_instance(home: Path, practices: list[Generated]) -> tuple[Instance, dict[str, float]]:
    """A fresh instance holding ``practices``: one commit of the originals (and the REUSE
    files), one of the forks pointing at it, then the derived tables and the index."""
    config = settings.defaults(home)
    config["SECRET_KEY"] = "bench"
    inst = Instance(config)
    inst.init(seed=False)
    originals = {doc.path_for(p.slug): p.text() for p in practices if not p.upstream}
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with inst.store.lock():
        reuse = reuse_export.files_for({path: LICENSE for path in originals}, inst.license)
        base = inst.store.commit({**originals, **reuse}, author=AUTHOR, when=WHEN,
                                 message=f"Bench: {len(originals)} practices",
                                 trailers=[("License", inst.license)])
        forks = {doc.path_for(p.slug): p.text(base) for p in practices if p.upstream}
        if forks:
            inst.store.commit(forks, author=AUTHOR, when=WHEN + 60,
                              message=f"Bench: {len(forks)} forks",
                              trailers=[("License", inst.license)])
    timings["git_commit_s"] = time.perf_counter() - started
    derive(inst, len(practices), timings)
    return inst, timings


def derive(inst: Instance, expected: int, timings: dict[str, Any]) -> None:
    """Bring the derived tables up to date, then rebuild the search index, timing each (the
    "rebuilt from git" figures); a count other than ``expected`` stops the benchmark."""
    started = time.perf_counter()
    with inst.store.lock(), inst.session() as session:
        catalog.catch_up(session, inst.store)
    timings["derived_tables_s"] = time.perf_counter() - started
    started = time.perf_counter()
    with inst.store.lock(), inst.session() as session:
        indexed = search.rebuild(inst, session)
    timings["index_rebuild_s"] = time.perf_counter() - started
    if indexed != expected:
        raise RuntimeError(f"indexed {indexed} practices, generated {expected}")


def close_instance(inst: Instance) -> None:
    """Let go of the index, the searcher, git's cat-file and the database before the folder
    is deleted (the search module keeps one index per folder for the process's life)."""
    key = str(inst.config["INDEX_DIR"])
    searcher = search._searchers.pop(key, None)
    if searcher is not None:
        searcher.close()
    search._indexes.pop(key, None)
    inst.store.repo.close()
    inst.engine.dispose()


def time_reindex_cli(home: Path) -> dict[str, Any]:
    """``commons reindex`` in its own process: derived tables and index rebuilt from git."""
    from tests.serverproc import cli
    started = time.perf_counter()
    proc = cli(home, "reindex", timeout=1800)
    return {"wall_s": time.perf_counter() - started, "output": proc.stdout.strip()}


# ---- the queries ----------------------------------------------------------------------------

def _stop_words() -> set[str]:
    return {analysis.fold(w) for lang in ("en", "fr") for w in stopwords_for_language(lang)}


def choose_queries(practices: list[Generated], seed: int = SEED
                   ) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Queries per class, picked from the corpus's document frequencies, and the number of
    practices holding each query's words (all of them; a phrase: the words in that order)."""
    rng = random.Random(seed + 1)
    stop = _stop_words()
    df: Counter[str] = Counter()
    by_lang: dict[str, Counter[str]] = {"en": Counter(), "fr": Counter()}
    words_of = []
    for p in practices:
        words = p.words()
        words_of.append(words)
        df.update(words)
        by_lang[p.language].update(words)
    n = len(practices)

    def content(word: str) -> bool:
        return len(word) >= 4 and word not in stop and word not in ABSENT

    top: dict[str, list[str]] = {}
    for lang in ("en", "fr"):  # the most widespread words of each language, not the other's
        other = "fr" if lang == "en" else "en"
        analyzer, stems = analysis.language_analyzer(lang), set()
        top[lang] = []
        for w, count in by_lang[lang].most_common():
            stem = " ".join(t.text for t in analyzer(w))
            if content(w) and by_lang[other][w] < count / 4 and stem and stem not in stems:
                stems.add(stem)  # "team" and "teams" are one word to the index
                top[lang].append(w)
            if len(top[lang]) == 3:
                break
    frequent = top["en"] + top["fr"]
    # rare: in a handful of practices (at most 0.1 %, at least 1)
    ceiling = max(2, n // 1000)
    rare_pool = sorted(w for w, c in df.items() if 1 <= c <= ceiling and content(w)
                       and len(w) >= 6)
    rare = rng.sample(rare_pool, min(6, len(rare_pool)))
    absent = [w for w in ABSENT if df[w] == 0]
    phrases = []
    for lang in ("en", "fr"):
        pair = _common_pair(practices, lang, stop)
        if pair:
            phrases.append(f'"{pair}"')
    multi = [" ".join(words[:2]) for words in top.values() if len(words) >= 2]
    multi += [f"{frequent[0]} {rare[0]}"] if frequent and rare else []
    multi += phrases
    queries = {"frequent": frequent, "rare": rare, "absent": absent, "multi": multi}
    frequencies = {}
    for q in [q for qs in queries.values() for q in qs]:
        if q.startswith('"'):
            phrase = analysis.fold(q.strip('"'))
            frequencies[q] = sum(1 for p in practices if phrase in " ".join(
                WORD.findall(analysis.fold(" ".join([p.title, p.summary, p.prose()])))))
        else:
            terms = q.split()
            frequencies[q] = sum(1 for words in words_of if all(t in words for t in terms))
    return queries, frequencies


def _common_pair(practices: list[Generated], lang: str, stop: set[str]) -> str | None:
    """The two adjacent content words that occur together in the most practices of a
    language (counted on a sample: it is only used to pick a phrase)."""
    pairs: Counter[str] = Counter()
    for p in [p for p in practices if p.language == lang][:400]:
        words = WORD.findall(analysis.fold(p.prose()))
        pairs.update({f"{a} {b}" for a, b in zip(words, words[1:])
                      if len(a) >= 4 and len(b) >= 4 and a not in stop and b not in stop})
    return pairs.most_common(1)[0][0] if pairs else None


# ---- measuring ------------------------------------------------------------------------------

def percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _ui(q: str) -> str:
    return "fr" if any(c in q for c in "éèêàçùôî") else "en"


def measure(inst: Instance, queries: dict[str, list[str]], warmup: int, repeat: int
            ) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Milliseconds per call of ``search.search`` (first page of 10, as the page and the API
    ask), per class; the queries are interleaved so no class runs on a hotter cache."""
    totals = {}
    for q in [q for qs in queries.values() for q in qs]:
        for _ in range(warmup):
            totals[q] = search.search(inst, q, ui_lang=_ui(q)).total
    samples: dict[str, list[float]] = {c: [] for c in queries}
    for _ in range(repeat):
        for cls, qs in queries.items():
            for q in qs:
                started = time.perf_counter()
                search.search(inst, q, ui_lang=_ui(q))
                samples[cls].append((time.perf_counter() - started) * 1000)
    return samples, totals


def summarise(samples: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    out = {cls: {"p50_ms": percentile(v, 50), "p95_ms": percentile(v, 95), "n": len(v)}
           for cls, v in samples.items()}
    everything = [x for v in samples.values() for x in v]
    out["overall"] = {"p50_ms": percentile(everything, 50), "p95_ms": percentile(everything, 95),
                      "n": len(everything)}
    return out


def profile(inst: Instance, q: str, runs: int = 5, top: int = 20) -> str:
    """cProfile of a few warm runs of one query: where the time goes, top functions by own
    time and by cumulative time."""
    search.search(inst, q, ui_lang=_ui(q))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        search.search(inst, q, ui_lang=_ui(q))
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


SEARCH_ROUTES = ("/api/v1/search", "/search")


def measure_http(home: Path, queries: dict[str, list[str]], warmup: int, repeat: int
                 ) -> dict[str, Any]:
    """The same queries through a real ``commons serve`` (gunicorn, 2 workers), one urllib
    request at a time. Skipped, saying why, when the checkout has no search route yet."""
    from tests.serverproc import Server
    server = Server(home, workers=2, log_dir=home.parent).start(timeout=120)
    try:
        route = None
        for candidate in SEARCH_ROUTES:
            try:
                with urllib.request.urlopen(f"{server.url}{candidate}?q=test", timeout=30) as r:
                    if r.status == 200:
                        route = candidate
                        break
            except urllib.error.HTTPError:
                continue
        if route is None:
            return {"skipped": f"no search route answers 200 ({', '.join(SEARCH_ROUTES)})"}

        def get(q: str) -> float:
            url = f"{server.url}{route}?{urllib.parse.urlencode({'q': q})}"
            started = time.perf_counter()
            with urllib.request.urlopen(url, timeout=60) as resp:
                resp.read()
            return (time.perf_counter() - started) * 1000

        for q in [q for qs in queries.values() for q in qs]:
            for _ in range(warmup + 1):  # each worker warms its own searcher
                get(q)
        samples: dict[str, list[float]] = {c: [] for c in queries}
        for _ in range(repeat):
            for cls, qs in queries.items():
                for q in qs:
                    samples[cls].append(get(q))
        return {"route": route, "workers": 2, "latency": summarise(samples)}
    finally:
        server.stop()


# ---- the run --------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    return {"cpu_count": os.cpu_count(), "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(), "processor": platform.processor() or None}


def code_measured() -> dict[str, str]:
    """Digests of the search code as loaded, so figures can be tied to the version they
    measured (the service is tuned between runs)."""
    return {Path(m.__file__).name: hashlib.sha256(Path(m.__file__).read_bytes()).hexdigest()[:12]
            for m in (search, analysis)}


def run_size(n: int, corpus: Corpus, args: argparse.Namespace, largest: bool,
             log=print) -> dict[str, Any]:
    started = time.perf_counter()
    practices = generate(n, corpus, args.seed)
    result: dict[str, Any] = {
        "practices": len(practices),
        "forks": sum(1 for p in practices if p.upstream),
        "languages": dict(Counter(p.language for p in practices)),
        "body_chars_mean": round(sum(len(p.body) for p in practices) / len(practices)),
        "generate_s": time.perf_counter() - started}
    with tempfile.TemporaryDirectory(prefix=f"commons-bench-{n}-") as tmp:
        home = Path(tmp) / "instance"
        log(f"[{n}] generated in {result['generate_s']:.1f} s; writing the instance…")
        inst, timings = build_instance(home, practices)
        result.update(timings)
        log(f"[{n}] git commit {timings['git_commit_s']:.1f} s, derived tables "
            f"{timings['derived_tables_s']:.1f} s, index rebuild {timings['index_rebuild_s']:.1f} s")
        queries, frequencies = choose_queries(practices, args.seed)
        del practices
        result["queries"] = {cls: [{"q": q, "documents": frequencies[q]} for q in qs]
                             for cls, qs in queries.items()}
        samples, totals = measure(inst, queries, args.warmup, args.repeat)
        for cls, qs in queries.items():
            for i, q in enumerate(qs):
                result["queries"][cls][i]["families_found"] = totals[q]
                per_query = samples[cls][i::len(qs)]
                result["queries"][cls][i]["p50_ms"] = percentile(per_query, 50)
        result["latency"] = summarise(samples)
        overall = result["latency"]["overall"]
        log(f"[{n}] search overall p50 {overall['p50_ms']:.1f} ms, p95 {overall['p95_ms']:.1f} ms")
        frequent_p50 = result["latency"]["frequent"]["p50_ms"]
        if not args.no_profile and largest and frequent_p50 > 10:
            q = queries["frequent"][0]
            result["profile"] = {"query": q, "text": profile(inst, q)}
            if queries["absent"] and result["latency"]["absent"]["p50_ms"] > 10:
                q = queries["absent"][0]
                result["profile_absent"] = {"query": q, "text": profile(inst, q, top=12)}
        close_instance(inst)
        if not args.no_reindex:
            log(f"[{n}] commons reindex…")
            result["reindex_cli"] = time_reindex_cli(home)
        if args.http and largest:
            log(f"[{n}] HTTP through commons serve…")
            result["http"] = measure_http(home, queries, args.warmup, max(3, args.repeat // 2))
    return result


def print_report(report: dict[str, Any], out=sys.stdout) -> None:
    m = report["machine"]
    print(f"\nSearch benchmark — {m['cpu_count']} CPUs, Python {m['python']}, "
          f"seed {report['seed']}, {report['repeat']} repetitions per query, "
          f"load average at the end {m.get('load_average_1_5_15_at_end')}, "
          f"{report.get('total_s', 0):.0f} s in all", file=out)
    for n, r in report["sizes"].items():
        print(f"\n== {n} practices ({r['forks']} forks; {r['languages']}; "
              f"mean body {r['body_chars_mean']} chars)", file=out)
        print(f"  write (2 git commits) {r['git_commit_s']:.1f} s · derived tables "
              f"{r['derived_tables_s']:.1f} s · index rebuild from git "
              f"{r['index_rebuild_s']:.1f} s", file=out)
        if "reindex_cli" in r:
            print(f"  commons reindex: {r['reindex_cli']['wall_s']:.1f} s wall "
                  f"({r['reindex_cli']['output']})", file=out)
        print(f"  {'class':<9} {'p50 ms':>8} {'p95 ms':>8} {'samples':>8}", file=out)
        for cls in (*CLASSES, "overall"):
            row = r["latency"].get(cls)
            if row:
                print(f"  {cls:<9} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} {row['n']:>8}",
                      file=out)
        print("  queries (documents holding every word · families found · p50 ms):", file=out)
        for cls in CLASSES:
            for item in r["queries"].get(cls, []):
                print(f"    {cls:<9} {item['q']:<34} {item['documents']:>6} "
                      f"{item['families_found']:>6} {item['p50_ms']:>8.1f}", file=out)
        if "http" in r:
            http = r["http"]
            if "skipped" in http:
                print(f"  HTTP: skipped — {http['skipped']}", file=out)
            else:
                print(f"  HTTP {http['route']} through commons serve "
                      f"({http['workers']} workers):", file=out)
                for cls in (*CLASSES, "overall"):
                    row = http["latency"][cls]
                    print(f"  {cls:<9} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} "
                          f"{row['n']:>8}", file=out)
        for key in ("profile", "profile_absent"):
            if key in r:
                print(f"\n  profile of {r[key]['query']!r} (5 warm runs):", file=out)
                print(r[key]["text"], file=out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000",
                        help="comma-separated numbers of practices (default 1000,10000)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs of each query")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs of each query first")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--http", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure through a real commons serve at the largest size")
    parser.add_argument("--no-reindex", action="store_true",
                        help="skip timing 'commons reindex' as a subprocess")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the cProfile of a frequent word at the largest size")
    args = parser.parse_args(argv)
    args.sizes = parse_sizes(parser, args.sizes)
    return args


def parse_sizes(parser: argparse.ArgumentParser, text: str) -> list[int]:
    """``--sizes 1000,10000`` as numbers of practices (both benchmarks take it)."""
    try:
        sizes = [int(s) for s in str(text).split(",") if s.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 20:
        parser.error("--sizes needs comma-separated numbers of at least 20")
    return sizes


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log = (lambda msg: print(msg, file=sys.stderr, flush=True))
    corpus = load_corpus()
    log(f"corpus: {len(corpus.paragraphs['en'])} English and {len(corpus.paragraphs['fr'])} "
        f"French paragraphs")
    report: dict[str, Any] = {"machine": machine(), "code": code_measured(), "seed": args.seed, "repeat": args.repeat,
                              "warmup": args.warmup, "sizes": {}}
    started = time.perf_counter()
    for n in args.sizes:
        report["sizes"][str(n)] = run_size(n, corpus, args, n == max(args.sizes), log)
    report["total_s"] = time.perf_counter() - started
    # other work on the machine skews the figures: say how busy it was
    report["machine"]["load_average_1_5_15_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
