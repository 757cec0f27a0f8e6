"""Full-text search of the practices: the Whoosh index, kept in step with git, and the query.

The index is derived data: every field comes from a practice's file at its current revision and
from the derived tables, so ``commons reindex`` rebuilds it from git and ``commons check`` names
any practice whose indexed revision is not the one in git. Writes happen inside the store's
write lock (``editing.commit_one``), which is what makes gunicorn workers take turns; a rebuild
replaces every segment in one commit, so a reader sees the old index or the new one, never a
half-built one.

Text is analysed per practice language (:mod:`analysis`): a practice's title, summary and body
go into the fields of its language (``*_en``, ``*_fr``, or ``*_xx`` for a language Commons does
not stem). A query is parsed against the fields of both languages, so it is analysed the French
way and the English way and both are searched; the fields of the reader's own language weigh a
little more. Forks are grouped under the root of their family, so ten variants of a popular
practice take one place in the results (``variants`` says how many more matched).
"""
from __future__ import annotations

import dataclasses
import math
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session
from whoosh import highlight, index, qparser, writing
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.query import And, AndNot, Every, Not, Or, Phrase, Query, Term

from ..errors import ValidationError
from ..models import PracticeRecord
from . import analysis, catalog, indexmerge, scoring, searchsets
from . import practice as doc

if TYPE_CHECKING:
    from .instance import Instance

TEXT_LANGUAGES = ("en", "fr", "xx")  # xx: any language Commons does not stem
BOOSTS = {"title": 4.0, "summary": 2.0, "body": 1.0}
OWN_LANGUAGE = 2.0  # the reader's language weighs more
QUERY_MAX = 500
PHRASE_SLOP = 3
SNIPPET_CHARS = 240
RESULTS_KEPT = 256  # searches remembered per searcher (per index generation)
WRITE_TIMEOUT = 10.0
MERGE_AT_SEGMENTS = 32  # a save merges (in its own time) only past this many segments
# Merges after the response are tiered: segments fall in size classes each MERGE_TIER times
# the one below, and MERGE_TIER segments of one class are merged into one of the next. A
# practice is copied about log4(saves) times in all (always merging the few smallest copied
# the growing second-biggest segment again and again: 84 copies per save over 1,000 saves),
# while searches see at most a dozen or two small segments beside the big one.
MERGE_TIER = 4
LOCK_RETRY = 0.005  # seconds between a save's tries for the index's write lock
# Segments are written as separate files, not one compound file: Whoosh reads a compound
# file through an mmap copied into memory per open reader (tens of MB at 10,000 practices, in
# every worker, again after every save), while separate files are read in place.
NO_TAGS = "-"  # older indexes held this for a practice without tags: never a facet
_md = MarkdownIt("commonmark").enable("table")
WIKILINK = re.compile(r"\[\[([a-z0-9-]+)(?:\|([^\]\n]+))?\]\]")


def schema() -> Schema:
    fields: dict[str, Any] = {
        "slug": ID(stored=True, unique=True),
        "revision": ID(stored=True),
        "title": STORED(), "summary": STORED(), "content": STORED(),
        "tags": KEYWORD(stored=True, commas=True, lowercase=True, scorable=True),
        "language": KEYWORD(stored=True, lowercase=True),
        "license": KEYWORD(stored=True, lowercase=True),
        "license_id": STORED(),
        "forked_from": ID(stored=True),
        "root": ID(stored=True, sortable=True),
        "stewards": KEYWORD(commas=True),
        "updated": DATETIME(stored=True, sortable=True),
        # unstemmed, folded words of every practice: what "did you mean" is made from
        "spell": TEXT(analyzer=analysis.language_analyzer(None), phrase=False),
    }
    for lang in TEXT_LANGUAGES:
        stemmed = lang if lang != "xx" else None
        for part, boost in BOOSTS.items():
            analyzer = analysis.language_analyzer(stemmed, join_pairs=part == "title")
            fields[f"{part}_{lang}"] = TEXT(analyzer=analyzer, field_boost=boost,
                                            multitoken_query="or")
    return Schema(**fields)


# ---- the index on disk ----------------------------------------------------------------------

_indexes: dict[str, index.Index] = {}
_searchers: dict[str, Any] = {}
_lock = threading.Lock()
_merge_wanted: set[str] = set()  # index folders whose small segments are due for a merge
_slug_readers: dict[str, dict[str, Any]] = {}  # index folder -> segment id -> SegmentReader


def open_index(inst: Instance) -> index.Index:
    """The instance's index, created empty the first time (one object per process)."""
    folder = str(inst.config["INDEX_DIR"])
    with _lock:
        ix = _indexes.get(folder)
        if ix is None:
            Path(folder).mkdir(parents=True, exist_ok=True)
            ix = index.open_dir(folder) if index.exists_in(folder) else \
                index.create_in(folder, schema())
            _indexes[folder] = ix
        return ix


def _searcher(inst: Instance):
    """A searcher on the newest committed index, reused while nothing changed."""
    ix = open_index(inst)
    key = str(inst.config["INDEX_DIR"])
    with _lock:
        current = _searchers.get(key)
        # Whoosh's refresh() reuses the old segment readers with their old deletions, so an
        # edited practice would still be found by its removed words: open a new searcher.
        if current is None or not current.up_to_date():
            current = ix.searcher()
            _searchers[key] = current
        return current


def plain_text(markdown: str) -> str:
    """The words a reader sees, without Markdown syntax (what is indexed and quoted)."""
    out: list[str] = []
    for token in _md.parse(WIKILINK.sub(lambda m: m.group(2) or m.group(1), markdown)):
        if token.type == "inline" and token.children:
            out.append("".join(child.content if child.type in ("text", "code_inline") else " "
                               for child in token.children
                               if child.type in ("text", "code_inline", "softbreak",
                                                 "hardbreak")))
        elif token.type in ("fence", "code_block"):
            out.append(token.content)
    return "\n".join(part for part in out if part.strip())


def _text_language(language: str | None) -> str:
    return language if language in ("en", "fr") else "xx"


def _document(inst: Instance, record: PracticeRecord, root: str) -> dict[str, Any]:
    try:
        body = doc.parse(inst.store.read_blob(record.blob_id)).body
    except Exception:
        body = ""
    text = plain_text(body)
    lang = _text_language(record.language)
    tags = [t for t in (record.tags or []) if isinstance(t, str)]
    summary = record.summary or ""
    upstream = record.upstream_slug or ""
    return {
        "slug": record.slug, "revision": record.revision, "title": record.title,
        "summary": summary, "content": text, "tags": ",".join(tags),
        "language": record.language or "", "license": record.license or "",
        "license_id": record.license or "", "forked_from": upstream, "root": root,
        "stewards": ",".join(s for s in record.stewards or [] if isinstance(s, str)),
        "updated": record.updated_at,
        # each written form once: the field keeps which words exist, not how often (a third
        # of the analysis for the same terms)
        "spell": " ".join(dict.fromkeys(" ".join([record.title, summary, text]).split())),
        f"title_{lang}": record.title,
        # tags read as words too, so "retrospective" finds a practice tagged retrospectives
        f"summary_{lang}": " ".join([summary] + [t.replace("-", " ") for t in tags]),
        f"body_{lang}": text,
    }


def _roots(session: Session) -> dict[str, str]:
    """Each practice's family: the slug of its oldest ancestor still in the commons."""
    upstream = dict(session.execute(select(PracticeRecord.slug,
                                           PracticeRecord.upstream_slug)).all())
    roots: dict[str, str] = {}
    for slug in upstream:
        seen, current = [slug], slug
        while upstream.get(current) in upstream and upstream[current] not in seen:
            current = upstream[current]
            seen.append(current)
        roots[slug] = current
    return roots


def _family_root(session: Session, slug: str) -> str:
    seen, current = {slug}, slug
    while True:
        parent = session.scalar(select(PracticeRecord.upstream_slug)
                                .where(PracticeRecord.slug == current))
        if not parent or parent in seen or session.get(PracticeRecord, parent) is None:
            return current
        seen.add(parent)
        current = parent


def _descendants(session: Session, slug: str) -> list[str]:
    found, todo = [], [slug]
    while todo and len(found) < 100_000:
        children = session.scalars(select(PracticeRecord.slug)
                                   .where(PracticeRecord.upstream_slug.in_(todo))).all()
        todo = [c for c in children if c not in found and c != slug]
        found += todo
    return found


def _mark_path(inst: Instance) -> Path:
    return Path(inst.config["INDEX_DIR"]) / "HEAD"


def indexed_head(inst: Instance) -> str | None:
    """The git revision the index was last brought up to (kept beside the index, so deleting
    the index folder forgets it too)."""
    try:
        return _mark_path(inst).read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def _mark(inst: Instance, revision: str | None) -> None:
    if not revision:
        return
    path = _mark_path(inst)
    tmp = path.with_name(f".HEAD.{os.getpid()}")
    tmp.write_text(revision + "\n", encoding="ascii")
    os.replace(tmp, path)


def mark_current(inst: Instance, session: Session) -> None:
    """Record that the index is at the derived head, after a commit that changed no practice
    (indexing first whatever earlier commits the index missed)."""
    index_changes(inst, session, ())


def _unindexed(inst: Instance, session: Session, just_made: set[str] | None) -> set[str] | None:
    """The paths written since the index's mark: normally those of the commit just made
    (``just_made``, known without asking git); more when a worker was killed between its git
    commit and its index update, or an index update failed, so that the next save of any
    worker indexes them too. None when the mark is not behind on main's history (no index
    yet, or an index of another history): only a rebuild will do."""
    head = catalog.derived_head(session)
    mark = indexed_head(inst)
    if head is None or mark == head:
        return set(just_made or ())
    if mark is None:
        return None
    if just_made is not None and mark in inst.store.parents(head):
        return just_made
    if not inst.store.is_ancestor(mark, head):
        return None
    missed = {path for commit in inst.store.log_range(mark, head)
              for _, path, _ in commit.changes}
    return missed | (just_made or set())


def catch_up(inst: Instance, session: Session) -> int:
    """Bring the index to the derived tables' head: the practices changed since its mark, or
    a rebuild for a new, deleted or foreign index. Returns how many practices were indexed."""
    head = catalog.derived_head(session)
    if head is None or (indexed_head(inst) == head and open_index(inst).doc_count()):
        return 0
    paths = _unindexed(inst, session, None) if open_index(inst).doc_count() else None
    if paths is None:
        return rebuild(inst, session)
    return _index_paths(inst, session, paths)


def index_changes(inst: Instance, session: Session, changes: Iterable[str]) -> None:
    """Bring the index up to date with a commit that wrote ``changes`` (paths), once the
    derived tables have caught up, and with any commit before it that the index missed.
    Called under the write lock, before the request returns."""
    paths = _unindexed(inst, session, set(changes))
    if paths is None:
        rebuild(inst, session)
    else:
        _index_paths(inst, session, paths)


def _index_paths(inst: Instance, session: Session, changes: Iterable[str]) -> int:
    """Re-index the practices at ``changes`` (and the families below a removed one), then
    mark the index as at the derived head. Returns how many practices were indexed."""
    slugs = {s for s in (doc.slug_from_path(p) for p in changes) if s}
    if not slugs:
        _mark(inst, catalog.derived_head(session))
        return 0
    present = {s for s in slugs if session.get(PracticeRecord, s) is not None}
    gone = slugs - present
    if gone:  # a rename or a removal: the families below it have a new root
        for slug in list(present) + list(gone):  # a removed practice's forks lead their own
            present.update(_descendants(session, slug))
    ix = open_index(inst)
    # A merge after another worker's response may hold the index for a few tens of
    # milliseconds: retry often (Whoosh's default is every 100 ms).
    writer = ix.writer(timeout=WRITE_TIMEOUT, delay=LOCK_RETRY, compound=False)
    try:
        finder = _SlugFinder.for_writer(writer)
        for slug in gone | present:
            finder.delete(writer, slug)
        for slug in sorted(present):
            record = session.get(PracticeRecord, slug)
            writer.add_document(**_document(inst, record, _family_root(session, slug)))
        # A save writes one small segment and merges nothing: merging costs a save far more
        # than the save itself, so it is left to merge_small(), which the web app runs after
        # the response is sent. Only when nobody merged (no web app, or it was busy) does a
        # save merge, once the segments would otherwise pile up.
        existing = len(writer.segments)
        writer.commit(merge=existing >= MERGE_AT_SEGMENTS)
    except BaseException:
        writer.cancel()
        raise
    if existing + 1 < MERGE_AT_SEGMENTS:
        _merge_wanted.add(str(inst.config["INDEX_DIR"]))
    _mark(inst, catalog.derived_head(session))
    return len(present)


class _SlugFinder:
    """Finds a practice's indexed documents for a save to delete, without what Whoosh's
    ``update_document`` does for that: open a reader on every segment, every save (a few
    milliseconds with a dozen segments). A segment's terms never change, so its reader is
    kept while the segment lives; whether a document is already deleted is read from the
    writer's own segment list, which holds every deletion (a kept reader may know fewer)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    @classmethod
    def for_writer(cls, writer: Any) -> _SlugFinder:
        finder = cls(str(writer.storage.folder))
        finder._sync(writer.segments, writer.storage, writer.schema)
        return finder

    def _sync(self, segments: list, storage: Any, schema: Schema) -> None:
        from whoosh.reading import SegmentReader

        kept = _slug_readers.get(self.folder, {})
        fresh = {}
        for segment in segments:
            sid = segment.segment_id()
            fresh[sid] = kept.pop(sid, None) or SegmentReader(storage, schema, segment)
        for reader in kept.values():  # segments merged away or cleared by a rebuild
            reader.close()
        _slug_readers[self.folder] = fresh

    def delete(self, writer: Any, slug: str) -> None:
        """Delete every live document of ``slug`` (normally one) in the writer."""
        readers = _slug_readers[self.folder]
        base = 0
        for segment in writer.segments:
            reader = readers[segment.segment_id()]
            if ("slug", slug) in reader:
                for docnum in reader.postings("slug", slug).all_ids():
                    if not segment.is_deleted(docnum):
                        writer.delete_document(base + docnum)
            base += segment.doc_count_all()


def merge_due(inst: Instance) -> bool:
    """Whether a save of this process since the last merge attempt may have completed a size
    class (:func:`tier_to_merge` decides, after the response)."""
    return str(inst.config["INDEX_DIR"]) in _merge_wanted


def merge_small(inst: Instance) -> bool:
    """Merge a few of the small segments the saves wrote (the big one is left alone) without
    holding the index while the merged segment is written (:mod:`indexmerge`), so a save in
    another worker does not wait for it. Changes no document, so a search before, during or
    after finds the same practices. False when another merge runs or the segments changed
    meanwhile: a later save asks again."""
    _merge_wanted.discard(str(inst.config["INDEX_DIR"]))
    return indexmerge.merge(open_index(inst), tier_to_merge, delay=LOCK_RETRY)


def tier_to_merge(segments: list) -> list:
    """The segments one merge should join: MERGE_TIER of the smallest size class that has
    that many (the biggest segment, the last rebuild's, is never one), or none."""
    classes: dict[int, list] = {}
    for segment in sorted(segments, key=lambda s: s.doc_count_all())[:-1]:
        size = max(1, segment.doc_count_all())
        classes.setdefault(int(math.log(size, MERGE_TIER)), []).append(segment)
    for _, members in sorted(classes.items()):
        if len(members) >= MERGE_TIER:
            return members[:MERGE_TIER]
    return []


def rebuild(inst: Instance, session: Session, procs: int = 1) -> int:
    """Index every practice again from the derived tables and git, replacing the whole index
    in one commit (readers keep the old one until then). ``procs`` > 1 (``commons reindex``
    on a machine with cores to spare) analyses in that many processes, each writing its own
    segment, while this one reads git: the analysis is most of the time."""
    ix = open_index(inst)
    roots = _roots(session)
    if procs > 1:
        writer = ix.writer(timeout=WRITE_TIMEOUT, procs=procs, multisegment=True,
                           limitmb=128, compound=False, batchsize=200)
    else:
        writer = ix.writer(timeout=WRITE_TIMEOUT, procs=1, limitmb=256, compound=False)
    count = 0
    try:
        for record in session.scalars(select(PracticeRecord).order_by(PracticeRecord.slug)):
            writer.add_document(**_document(inst, record, roots.get(record.slug, record.slug)))
            count += 1
        writer.commit(mergetype=writing.CLEAR)
    except BaseException:
        writer.cancel()
        raise
    _mark(inst, catalog.derived_head(session))
    return count


def indexed_revisions(inst: Instance) -> dict[str, str]:
    with open_index(inst).searcher() as searcher:
        return {fields["slug"]: fields["revision"] for fields in searcher.all_stored_fields()}


def check(inst: Instance, session: Session) -> list[str]:
    """One line per practice whose indexed revision is not its revision in git."""
    indexed = indexed_revisions(inst)
    problems = []
    for slug, revision in session.execute(select(PracticeRecord.slug,
                                                 PracticeRecord.revision)).all():
        seen = indexed.pop(slug, None)
        if seen is None:
            problems.append(f"practices/{slug}.md@{revision}: not in the search index "
                            "(run 'commons reindex')")
        elif seen != revision:
            problems.append(f"practices/{slug}.md@{revision}: the search index holds revision "
                            f"{seen} (run 'commons reindex')")
    for slug, revision in sorted(indexed.items()):
        problems.append(f"practices/{slug}.md@{revision}: in the search index but no longer "
                        "in the commons (run 'commons reindex')")
    return problems


# ---- searching ------------------------------------------------------------------------------

@dataclass
class Hit:
    slug: str
    title: str
    summary: str
    snippet: Markup
    score: float
    language: str
    tags: list[str]
    license: str
    forked_from: str | None
    variants: int = 0


@dataclass
class Results:
    query: str
    total: int  # families of practices (a practice and its matching forks count once)
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    suggestion: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _fields(ui_lang: str) -> tuple[list[str], dict[str, float]]:
    names, boosts = [], {}
    for lang in TEXT_LANGUAGES:
        for part in BOOSTS:
            name = f"{part}_{lang}"
            names.append(name)
            if lang == ui_lang:
                boosts[name] = OWN_LANGUAGE
    return names, boosts


def _parser(ix: index.Index, ui_lang: str) -> qparser.QueryParser:
    names, boosts = _fields(ui_lang)
    parser = qparser.MultifieldParser(names, ix.schema, fieldboosts=boosts,
                                      group=qparser.OrGroup.factory(0.9))
    parser.add_plugin(qparser.FieldAliasPlugin({"tags": ["tag"], "language": ["lang"]}))
    # Only these fields may be named in a query; anything else is read as words.
    parser.remove_plugin_class(qparser.FieldsPlugin)
    parser.add_plugin(qparser.FieldsPlugin(expr=r"(?P<text>tag|tags|lang|language|license):"))
    return parser


_WORD = re.compile(r"(?<![\w:*\"])([^\W\d_][\w'’-]*)(?![\w:*])", re.UNICODE)
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}


def suggest(searcher, text: str, ui_lang: str = "en") -> str | None:
    """The query with each word the index does not know replaced by the nearest word it does
    know (edit distance ≤ 2), or None when every word is known or nothing is near."""
    reader = searcher.reader()
    changed = False

    def fix(match: re.Match) -> str:
        nonlocal changed
        word = match.group(1)
        if word in _OPERATORS or len(word) < 3:
            return word
        folded = list(analysis.words(word))
        if not folded or all(reader.doc_frequency("spell", w) for w in folded):
            return word
        best = nearest(reader, folded[0], ui_lang)
        if best is None:
            return word
        changed = True
        return best

    # words inside quotes are left alone: a phrase means what it says
    parts = re.split(r'("[^"]*")', text)
    fixed = "".join(p if p.startswith('"') else _WORD.sub(fix, p) for p in parts)
    return fixed if changed else None


def nearest(reader, word: str, ui_lang: str = "en") -> str | None:
    """The index's word nearest to a misspelt one: fewest edits first (Whoosh's corrector
    ranks every word within the distance by frequency alone, so "stakholder" became the more
    frequent "stakeholders"), then the likelier edit (a letter left out or two swapped are the
    commonest slips), then a word of the reader's language, then the word more practices use."""
    maxdist = 2 if len(word) > 4 else 1
    for distance in range(1, maxdist + 1):
        # the first letter is nearly always right, and requiring it keeps this fast
        candidates = [t for t in reader.terms_within("spell", word, distance, prefix=1)
                      if t != word]
        if not candidates:
            continue
        own = f"body_{ui_lang if ui_lang in ('en', 'fr') else 'en'}"
        stem = reader.schema[own].analyzer

        def rank(term: str) -> tuple:
            stems = [t.text for t in stem(term)]
            in_own = bool(stems) and reader.doc_frequency(own, stems[0]) > 0
            return (typing_cost(word, term), not in_own,
                    -reader.doc_frequency("spell", term), term)

        return min(candidates, key=rank)
    return None


def typing_cost(typed: str, meant: str) -> float:
    """An edit distance weighted by how people mistype: a left-out letter or two swapped
    letters cost less than a wrong letter or an extra one."""
    n, m = len(typed), len(meant)
    cost = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        cost[i][0] = float(i)
    for j in range(m + 1):
        cost[0][j] = j * 0.8
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            same = typed[i - 1] == meant[j - 1]
            cost[i][j] = min(cost[i - 1][j] + 1.0,            # a letter typed too many
                             cost[i][j - 1] + 0.8,            # a letter left out
                             cost[i - 1][j - 1] + (0.0 if same else 1.0))
            if (i > 1 and j > 1 and typed[i - 1] == meant[j - 2]
                    and typed[i - 2] == meant[j - 1]):
                cost[i][j] = min(cost[i][j], cost[i - 2][j - 2] + 0.7)  # two letters swapped
    return cost[n][m]


def _loosen_phrases(query: Query) -> Query:
    """Adjust what the parser gives to what people mean.

    A phrase's stop words are not indexed but keep their place ("definition of done" is
    "definition _ done"), so a phrase may skip that many words between its own. And with
    words joined by OR, "coworking NOT newcomers" would read "coworking OR (NOT newcomers)":
    a NOT excludes from what the other words find."""
    if isinstance(query, Phrase):
        query.slop = max(query.slop, PHRASE_SLOP)
        return query
    if hasattr(query, "subqueries"):
        query.subqueries = [_loosen_phrases(sub) for sub in query.subqueries]
        if isinstance(query, Or):
            excluded = [sub.query for sub in query.subqueries if isinstance(sub, Not)]
            kept = [sub for sub in query.subqueries if not isinstance(sub, Not)]
            if excluded and kept:
                return AndNot(Or(kept) if len(kept) > 1 else kept[0],
                              Or(excluded) if len(excluded) > 1 else excluded[0])
    elif hasattr(query, "child"):
        query.child = _loosen_phrases(query.child)
    return query


_FIELD = re.compile(r'(?<![^\s(])(-|NOT\s+)?(tags?|lang(?:uage)?|license):("[^"]*"|[^\s()]+)')
_FIELD_NAMES = {"tag": "tags", "tags": "tags", "lang": "language", "language": "language",
                "license": "license"}


def split_fields(q: str) -> tuple[str, list[Term], list[Term]]:
    """``tag:``, ``lang:`` and ``license:`` narrow the search rather than add words to it:
    "lang:fr rétrospective" means French practices about retrospectives, not French practices
    or retrospectives. Returns the words left, the required terms and the excluded ones
    (``-tag:x`` or ``NOT tag:x``)."""
    required: list[Term] = []
    excluded: list[Term] = []

    def take(match: re.Match) -> str:
        value = match.group(3).strip('"').strip().lower()
        if value:
            term = Term(_FIELD_NAMES[match.group(2)], value)
            (excluded if match.group(1) else required).append(term)
        return " "

    parts = re.split(r'("[^"]*")', q)
    words = "".join(p if p.startswith('"') else _FIELD.sub(take, p) for p in parts)
    return " ".join(words.split()), required, excluded


def _filters(tags: Iterable[str], language: str | None, license: str | None,
             required: list[Term] = ()) -> Query | None:
    terms: list[Query] = [Term("tags", t.strip().lower()) for t in tags if t and t.strip()]
    if language:
        terms.append(Term("language", language.strip().lower()))
    if license:
        terms.append(Term("license", license.strip().lower()))
    terms += required
    return And(terms) if terms else None


def _snippet(searcher, query: Query, docnum: int, fields: dict[str, Any]) -> Markup:
    """The passage that matched, with the matching words marked; escaped by Whoosh's
    formatter (every piece of the text goes through its HTML escaping)."""
    text = fields.get("content") or ""
    lang = _text_language(fields.get("language"))
    if text:
        name = f"body_{lang}"
        terms = {word for fieldname, word in query.iter_all_terms() if fieldname == name}
        terms = {t.decode() if isinstance(t, bytes) else t for t in terms}
        # Analysing a whole long practice for each hit is slow; a stem is (nearly always) a
        # prefix of the folded word, so only the paragraphs holding one are analysed.
        paragraphs = [p for p in text.split("\n") if p.strip()]
        likely = [p for p in paragraphs if any(t in analysis.fold(p) for t in terms)][:4]
        if likely:
            analyzer = searcher.schema[name].analyzer
            marked = highlight.highlight(
                "\n".join(likely), terms, analyzer,
                highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60),
                highlight.HtmlFormatter(tagname="mark", between=" … ", classname="match",
                                        termclass="t"), top=2)
            if marked:
                return Markup(marked)
    lead = fields.get("summary") or text
    return escape(lead[:SNIPPET_CHARS] + ("…" if len(lead) > SNIPPET_CHARS else ""))


def search(inst: Instance, q: str, *, tags: Iterable[str] = (), language: str | None = None,
           license: str | None = None, page: int = 1, per_page: int = 10,
           ui_lang: str = "en") -> Results:
    """Search the practices: words, "phrases", prefix*, AND/OR/NOT, tag:/lang:/license:.
    Facet counts are over the whole result set; results are grouped by family and paged.

    The same search on the same index is answered from a small cache kept with the searcher:
    a commit makes a new searcher (the next search sees it), so nothing stale is served."""
    if not isinstance(q, str) or len(q) > QUERY_MAX or "\x00" in q:
        raise ValidationError("A search is text of at most %(n)s characters.", field="q",
                              n=QUERY_MAX)
    if page < 1 or not 1 <= per_page <= 100:
        raise ValidationError("page starts at 1 and per_page is between 1 and 100.")
    tags = list(tags)
    q = q.strip()
    searcher = _searcher(inst)
    key = (q, tuple(tags), language, license, page, per_page, ui_lang)
    with _lock:
        cache = searcher.__dict__.setdefault("_commons_results", OrderedDict())
        found = cache.get(key)
        if found is not None:
            cache.move_to_end(key)
    if found is None:
        found = _search(inst, searcher, q, tags, language, license, page, per_page, ui_lang)
        with _lock:
            cache[key] = found
            while len(cache) > RESULTS_KEPT:
                cache.popitem(last=False)
    return dataclasses.replace(found, hits=[dataclasses.replace(h) for h in found.hits],
                               facets={k: dict(v) for k, v in found.facets.items()})


def _search(inst: Instance, searcher: Any, q: str, tags: list[str], language: str | None,
            license: str | None, page: int, per_page: int, ui_lang: str) -> Results:
    ix = open_index(inst)
    parser = _parser(ix, ui_lang if ui_lang in ("en", "fr") else "en")
    words, required, excluded = split_fields(q)
    suggestion = suggest(searcher, words, ui_lang) if words else None
    if words:
        query = _loosen_phrases(parser.parse(words))
        if suggestion:
            query = Or([query, _loosen_phrases(parser.parse(suggestion))])
    else:
        query = Every()
    if suggestion and words != q:  # the suggestion keeps the person's filters
        suggestion = " ".join([suggestion] + [m.group(0).strip() for m in _FIELD.finditer(q)])
    sets = searchsets.for_searcher(str(inst.config["INDEX_DIR"]), searcher)
    matched = sets.docs(query)
    narrowing = _filters(tags, language, license, required)
    if narrowing is not None:
        matched &= sets.docs(narrowing)
    if excluded:
        matched -= sets.docs(Or(excluded))
    counts = {name: dict(sorted(((k, n) for k, n in sets.counts(name, matched).items()
                                 if k and k != NO_TAGS),
                                key=lambda kv: (-kv[1], kv[0])))
              for name in ("tags", "language", "license")}
    # One place per family, its best match; the page is cut from the families in score order.
    # Whoosh scores every match as before (its top-N shortcuts rebuild the coordination
    # matcher part-way and change the scores), but counts nothing more: the totals and the
    # facets come from the sets above.
    shown = []
    if matched:  # (an empty filter means none to Whoosh: nothing to score then)
        # Words only (most searches): ranked on the posting blocks; anything else by Whoosh.
        ranked = scoring.rank(searcher, query, matched)
        if ranked is None:
            ranked = searcher.search(query, limit=None, filter=matched, terms=False).top_n
        first, last = (page - 1) * per_page, page * per_page
        seen: set[str] = set()
        for score, docnum in ranked:
            root = sets.roots[docnum]
            if root in seen:
                continue
            seen.add(root)
            if len(seen) > first:
                shown.append((score, docnum, root))
            if len(seen) >= last:
                break
    hits = []
    for score, docnum, root in shown:
        fields = searcher.stored_fields(docnum)
        hits.append(Hit(
            slug=fields["slug"], title=fields.get("title") or fields["slug"],
            summary=fields.get("summary") or "",
            snippet=_snippet(searcher, query, docnum, fields),
            score=round(float(score or 0.0), 4), language=fields.get("language", ""),
            tags=[t for t in (fields.get("tags") or "").split(",") if t],
            license=fields.get("license_id", ""),
            forked_from=fields.get("forked_from") or None,
            variants=sets.variants(root, matched)))
    counts["license"] = {_spdx(searcher, key): n for key, n in counts["license"].items()}
    return Results(query=q, total=sets.family_count(matched) if matched else 0, page=page,
                   per_page=per_page, hits=hits, facets=counts, suggestion=suggestion)


def _spdx(searcher, key: str) -> str:
    """A licence facet key (indexed lowercase) in its SPDX spelling."""
    for fields in searcher.documents(license=key):
        return fields.get("license_id") or key
    return key
