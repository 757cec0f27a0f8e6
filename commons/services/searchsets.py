"""Which practices a query matches, and the facet counts, as sets of document numbers.

A search shows ten practices but counts every match: the families (a practice and its forks
count once), the tags, languages and licences. Whoosh counts those by visiting and scoring
every matching document (9,500 of 10,000 practices for "retrospective"), one Python call per
document and per field, on top of scoring them. Here the matches are unions and intersections
of posting lists, read a block at a time, and each facet value is a set of documents
intersected with them; Whoosh still scores the matches to rank them (see
:func:`search.search`), but counts nothing.

What never changes in a segment (its facet postings, each document's family) is kept per
segment, so a save, which adds one small segment, leaves the big one's sets in memory; what
depends on the whole index (deletions, document numbers) is kept per searcher. Both are
derived from the index and dropped with it.
"""
from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from itertools import accumulate
from typing import Any, Sequence

from whoosh.matching.wrappers import FilterMatcher
from whoosh.query import (
    And,
    AndMaybe,
    AndNot,
    DisjunctionMax,
    Every,
    Not,
    Or,
    Query,
    Require,
    Term,
)
from whoosh.query.compound import DefaultOr, PreloadedOr, SplitOr
from whoosh.query.qcore import _NullQuery

FACET_FIELDS = ("tags", "language", "license")
_UNIONS = (Or, DefaultOr, SplitOr, PreloadedOr, DisjunctionMax)
SEGMENTS_KEPT = 64
POSTINGS_KEPT = 1_500_000  # decoded postings kept across searches (8 bytes each: ~12 MB)

_segments: OrderedDict[tuple[str, str], _Segment] = OrderedDict()
_lock = threading.Lock()
_postings: OrderedDict[tuple[str, str, bytes], tuple[array, array]] = OrderedDict()
_postings_kept = 0
_NONE: tuple[array, array] = (array("i"), array("f"))


def term_ids(reader: Any, fieldname: str, text: Any) -> Sequence[int]:
    """The document numbers (deleted ones included) of a term in one segment reader."""
    return postings(reader, fieldname, text)[0]


def postings(reader: Any, fieldname: str, text: Any) -> tuple[Sequence[int], Sequence[float]]:
    """The documents (deleted ones included) and weights of a term in one segment reader.

    A segment's postings never change (deletions are kept apart), so they are decoded once
    and kept, up to POSTINGS_KEPT in all, while the segment lives: the search after a save,
    on a new searcher, finds the big segment's postings of the words searched before."""
    field = reader.schema[fieldname]
    try:
        tbytes = field.to_bytes(text) if not isinstance(text, bytes) else text
    except ValueError:
        return _NONE
    segment = getattr(reader, "segment", None)
    key = (segment().segment_id(), fieldname, tbytes) if segment is not None else None
    global _postings_kept
    if key is not None:
        with _lock:
            found = _postings.get(key)
            if found is not None:
                _postings.move_to_end(key)
                return found
    if (fieldname, tbytes) not in reader:
        return _NONE
    found = _decode(reader.postings(fieldname, tbytes))
    if key is not None:
        with _lock:
            if key not in _postings:
                _postings[key] = found
                _postings_kept += len(found[0])
            while _postings_kept > POSTINGS_KEPT and len(_postings) > 1:
                _postings_kept -= len(_postings.popitem(last=False)[1][0])
    return found


def _decode(matcher: Any) -> tuple[array, array]:
    if isinstance(matcher, FilterMatcher):  # deletions: removed later, with the live set
        matcher = matcher.child
    ids, weights = array("i"), array("f")
    if not all(hasattr(matcher, a) for a in ("_goto", "_read_data", "_byteids")):
        while matcher.is_active():  # not Whoosh 3's block format: one at a time
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        return ids, weights
    # Whoosh 3 postings: blocks of (delta-encoded ids, weights, values); a block at a time.
    while not matcher._atend and matcher._blocklength:
        if matcher._data is None:
            matcher._read_data()
        block, blockweights = matcher._data[0], matcher._data[1]
        ids.extend(block if matcher._byteids else accumulate(block))
        if blockweights is None or isinstance(blockweights, float):
            weights.extend([1.0 if blockweights is None else blockweights]
                           * matcher._blocklength)
        else:
            weights.extend(blockweights)
        if matcher._lastblock:
            break
        matcher._goto(matcher._nextoffset)
    return ids, weights


class _Segment:
    """What a segment holds that no later commit changes: each facet value's documents and
    each document's family root (segment-local document numbers)."""

    def __init__(self, reader: Any) -> None:
        self.facets: dict[str, dict[str, list[int]]] = {}
        for name in FACET_FIELDS:
            values: dict[str, list[int]] = {}
            if name in reader.indexed_field_names():
                for text in reader.field_terms(name):
                    values[text] = term_ids(reader, name, text)
            self.facets[name] = values
        roots = reader.column_reader("root") if reader.has_column("root") else None
        self.roots: list[str] = [roots[n] for n in range(reader.doc_count_all())] \
            if roots is not None else [""] * reader.doc_count_all()


def _segment(folder: str, reader: Any) -> _Segment:
    segment = getattr(reader, "segment", None)
    if segment is None:  # an empty index: nothing worth keeping
        return _Segment(reader)
    key = (folder, segment().segment_id())
    with _lock:
        found = _segments.get(key)
        if found is not None:
            _segments.move_to_end(key)
            return found
    built = _Segment(reader)
    with _lock:
        _segments[key] = built
        while len(_segments) > SEGMENTS_KEPT:
            _segments.popitem(last=False)
    return built


class Sets:
    """A searcher's view: live documents, facet sets and families in index document numbers."""

    def __init__(self, folder: str, searcher: Any) -> None:
        self.searcher = searcher
        reader = searcher.reader()
        self.leaves = reader.leaf_readers()
        self.live = frozenset(reader.all_doc_ids())
        self.facets: dict[str, dict[str, frozenset[int]]] = {name: {} for name in FACET_FIELDS}
        self.roots: list[str] = []
        for leaf, offset in self.leaves:
            segment = _segment(folder, leaf)
            for name, values in segment.facets.items():
                into = self.facets[name]
                for text, ids in values.items():
                    shifted = (frozenset(ids) if offset == 0
                               else frozenset(i + offset for i in ids))
                    into[text] = into[text] | shifted if text in into else shifted
            self.roots.extend(segment.roots)
        members: dict[str, list[int]] = {}
        for docnum in self.live:
            members.setdefault(self.roots[docnum], []).append(docnum)
        # only the families with forks: a practice alone is its own family of one
        self.families = {root: frozenset(docs) for root, docs in members.items() if len(docs) > 1}

    def docs(self, query: Query) -> set[int]:
        """The live documents ``query`` matches (scores are not computed)."""
        return self._docs(query) & self.live

    def _docs(self, query: Query) -> set[int]:
        if isinstance(query, Term):
            found: set[int] = set()
            for leaf, offset in self.leaves:
                ids = term_ids(leaf, query.fieldname, query.text)
                found.update(ids if offset == 0 else (i + offset for i in ids))
            return found
        if type(query) in _UNIONS and not getattr(query, "minmatch", 0):
            found = set()
            for sub in query.subqueries:
                found |= self._docs(sub)
            return found
        if isinstance(query, Require):
            return self._docs(query.a) & self._docs(query.b)
        if type(query) is And:  # not its subclasses (Ordered): those mean more
            subs = query.subqueries
            found = self._docs(subs[0]) if subs else set(self.live)
            for sub in subs[1:]:
                if not found:
                    break
                found &= self._docs(sub)
            return found
        if isinstance(query, AndMaybe):
            return self._docs(query.a)
        if isinstance(query, AndNot):
            return self._docs(query.a) - self._docs(query.b)
        if isinstance(query, Not):
            return set(self.live) - self._docs(query.query)
        if isinstance(query, Every):
            return set(self.live)
        if isinstance(query, _NullQuery):
            return set()
        return set(query.docs(self.searcher))  # phrases, prefixes…: Whoosh's own matching

    def counts(self, name: str, matched: set[int]) -> dict[str, int]:
        """Per value of a facet field, how many of ``matched`` have it."""
        out = {}
        for text, ids in self.facets[name].items():
            n = len(matched & ids) if len(ids) < len(matched) else len(ids & matched)
            if n:
                out[text] = n
        return out

    def family_count(self, matched: set[int]) -> int:
        return len(set(map(self.roots.__getitem__, matched)))

    def variants(self, root: str, matched: set[int]) -> int:
        """How many other practices of ``root``'s family match too."""
        members = self.families.get(root)
        return max(0, len(members & matched) - 1) if members else 0


def for_searcher(folder: str, searcher: Any) -> Sets:
    """The sets of a searcher, built on its first search and kept with it."""
    sets = getattr(searcher, "_commons_sets", None)
    if sets is None:
        sets = Sets(folder, searcher)
        searcher._commons_sets = sets
    return sets
