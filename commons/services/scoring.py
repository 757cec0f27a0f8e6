"""Ranking a search made only of words, on the posting blocks, without Whoosh's matchers.

Whoosh ranks by walking a tree of matchers, a few Python calls per matching document and per
field: 110 ms for "retrospective" at 10,000 practices (9,400 matches across nine fields),
60 % of it in its coordination bonus, which also recounts the query's terms part-way through
each segment (so a document's score depended on where the segments were cut and on how far
the walk had gone). Most searches are a few words, parsed into an Or of field terms; for
those, this module reads each term's postings a block at a time, with each segment's field
lengths kept while the segment lives, and computes the same BM25F as Whoosh (its idf, average
lengths and B/K1 from the searcher's weighting, the term boosts of the reader's language)
plus the same coordination bonus ("SQR": more of the query's terms in a document rank it
higher), counted over the whole index. Anything else (phrases, prefixes, NOT, another
weighting) returns None and is ranked by Whoosh as before.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.query import Or, Query, Term
from whoosh.scoring import BM25F
from whoosh.util.numeric import byte_to_length

from . import searchsets

LENGTHS_KEPT = 256  # (segment, field) length tables kept in memory

_lengths: OrderedDict[tuple[str, str], list[int]] = OrderedDict()
_lock = threading.Lock()


def _is_words(query: Query) -> bool:
    """A Term, or Ors of them (any nesting): what a search of plain words parses into."""
    if isinstance(query, Term):
        return True
    return type(query) is Or and bool(query.subqueries) and all(
        _is_words(sub) for sub in query.subqueries)


def rank(searcher: Any, query: Query, allowed: Any) -> list[tuple[float, int]] | None:
    """(score, document) of every document in ``allowed`` that the query matches, best first
    and, for equal scores, in index order; None when the query is not only words.
    ``allowed`` holds live documents only (deleted ones are never in it)."""
    weighting = searcher.weighting
    if not _is_words(query) or type(weighting) is not BM25F:
        return None
    scores: dict[int, float] = {}
    if not _add(_Stats(searcher), weighting, query, allowed, scores, {}):
        return None
    ordered = sorted([(-score, doc) for doc, score in scores.items()])
    return [(-negated, doc) for negated, doc in ordered]


def _add(stats: _Stats, weighting: BM25F, query: Query, allowed: Any,
         scores: dict[int, float], counts: dict[int, int]) -> bool:
    """Add the query's score for each allowed document that it matches into ``scores``, and
    how many of its field terms the document has into ``counts``. An Or sums its parts and,
    when it has a ``scale`` (the parser's ``OrGroup.factory``), adds Whoosh's coordination
    bonus (``CoordMatcher._sqr``) over its terms that occur in the index. False when a part
    cannot be scored here."""
    if isinstance(query, Term):
        return _add_term(stats, weighting, query, allowed, scores, counts)
    scale = query.scale
    present = _present(stats, query)
    if not scale or present <= 1 or present == scale:
        return all(_add(stats, weighting, sub, allowed, scores, counts)
                   for sub in query.subqueries)
    mine: dict[int, float] = {}
    matched: dict[int, int] = {}
    if not all(_add(stats, weighting, sub, allowed, mine, matched)
               for sub in query.subqueries):
        return False
    bonus, factor = 1 / (present - scale) ** 2, (present - 1) / present
    score_of, count_of = scores.get, counts.get
    for doc, score in mine.items():
        count = matched[doc]
        scores[doc] = score_of(doc, 0.0) + (score + (count - 1) * bonus) * factor
        counts[doc] = count_of(doc, 0) + count
    return True


class _Stats:
    """The searcher, with each term's document frequency asked once per search (a sum over
    the segments, wanted by every Or above the term and by its scorer)."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.schema = searcher.schema
        self._frequencies: dict[tuple[str, Any], int] = {}

    def doc_frequency(self, fieldname: str, text: Any) -> int:
        key = (fieldname, text)
        found = self._frequencies.get(key)
        if found is None:
            found = self._frequencies[key] = self.searcher.doc_frequency(fieldname, text)
        return found


def _present(stats: _Stats, query: Query) -> int:
    """How many of the query's field terms occur in the index (Whoosh counts the matchers)."""
    if isinstance(query, Term):
        return 1 if stats.doc_frequency(query.fieldname, query.text) else 0
    return sum(_present(stats, sub) for sub in query.subqueries)


def _add_term(stats: _Stats, weighting: BM25F, term: Term, allowed: Any,
              scores: dict[int, float], counts: dict[int, int]) -> bool:
    """BM25F of one field term for each allowed document that has it, exactly as Whoosh's
    ``BM25FScorer`` (its idf and average length from the whole searcher, the one-byte field
    lengths of the document), times the term's boost."""
    searcher, fieldname = stats.searcher, term.fieldname
    if fieldname not in searcher.schema or not searcher.schema[fieldname].scorable:
        return False
    field = searcher.schema[fieldname]
    text = term.text if isinstance(term.text, bytes) else field.to_bytes(term.text)
    if not stats.doc_frequency(term.fieldname, term.text):
        return True
    k1, b = weighting.K1, weighting._field_B.get(fieldname, weighting.B)
    avgfl = searcher.avg_field_length(fieldname) or 1
    # BM25: idf * tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl)), times the boost
    top = term.boost * searcher.idf(fieldname, text) * (k1 + 1)
    base, slope = k1 * (1 - b), k1 * b / avgfl
    score_of, count_of = scores.get, counts.get
    for reader, offset in searcher.reader().leaf_readers():
        if (fieldname, text) not in reader:
            continue
        lengths = _field_lengths(reader, fieldname)
        ids, weights = searchsets.postings(reader, fieldname, text)
        for docnum, weight in zip(ids, weights):
            doc = offset + docnum
            if doc in allowed:
                scores[doc] = score_of(doc, 0.0) + top * weight / (
                    weight + base + slope * (lengths[docnum] or 1))
                counts[doc] = count_of(doc, 0) + 1
    return True


_BYTE_LENGTHS = [byte_to_length(b) for b in range(256)]


def _field_lengths(reader: Any, fieldname: str) -> list[int]:
    """Each document's length in a field, as Whoosh scores it (its one-byte approximation);
    kept per segment, which never changes."""
    key = (reader.segment().segment_id(), fieldname)
    with _lock:
        found = _lengths.get(key)
        if found is not None:
            _lengths.move_to_end(key)
            return found
    count = reader.doc_count_all()
    column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        found = [0] * count
    elif isinstance(column, LENGTHS_COLUMN.Reader) and column._fixedlen == 1:
        # one byte per document from the column's start: read at once, not one at a time
        stored = min(column._count, count)
        raw = column._dbfile.get(column._basepos, stored) if stored else b""
        found = [_BYTE_LENGTHS[b] for b in raw] + [0] * (count - stored)
    else:
        found = [byte_to_length(column[d]) if column[d] else 0 for d in range(count)]
    with _lock:
        _lengths[key] = found
        while len(_lengths) > LENGTHS_KEPT:
            _lengths.popitem(last=False)
    return found
