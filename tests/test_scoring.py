"""Ranking word searches on the posting blocks (:mod:`commons.services.scoring`): the same
BM25F as Whoosh to the last bits, the coordination bonus for documents with more of the
query's terms, Whoosh's own ranking for anything that is not only words, and one ranking
after a rebuild cuts the index differently (Whoosh's coordination recounted the terms per
segment)."""
from __future__ import annotations

import pytest
from whoosh.query import Or

from commons.services import scoring, searchsets
from commons.services import search as engine

from .test_search import create, edit, find, slugs

TEXTS = [("Gloaming circles", "Gloaming circles meet weekly; the gloaming circle decides.\n"),
         ("Circle weekly", "A weekly circle, gloaming once.\n"),
         ("Weekly", "Weekly, weekly, weekly rituals without the other words.\n"),
         ("Cercle du soir", "Le cercle gloaming se réunit chaque semaine.\n")]


@pytest.fixture
def world(api, inst):
    made = [create(api, title, body, language="fr" if i == 3 else "en")["slug"]
            for i, (title, body) in enumerate(TEXTS)]
    edit(api, made[1], "A weekly circle, gloaming twice: gloaming.\n")  # a deleted document
    return made


def parsed(inst, words: str):
    searcher = engine._searcher(inst)
    query = engine._loosen_phrases(engine._parser(engine.open_index(inst), "en").parse(words))
    sets = searchsets.for_searcher(str(inst.config["INDEX_DIR"]), searcher)
    return searcher, query, sets.docs(query)


@pytest.mark.parametrize("words", ["gloaming", "weekly circle", "gloaming circles weekly",
                                   "cercle", "nothingmatches"])
def test_bm25f_is_whoosh_s_to_the_last_bits(world, inst, words):
    searcher, query, allowed = parsed(inst, words)
    plain = Or(list(query.subqueries)) if isinstance(query, Or) else query  # no coordination
    mine = scoring.rank(searcher, plain, allowed)
    theirs = searcher.search(plain, limit=None, filter=allowed, terms=False).top_n \
        if allowed else []
    assert [d for _, d in mine] == [d for _, d in theirs], words
    for (a, _), (b, _) in zip(mine, theirs):
        assert a == pytest.approx(b, rel=1e-12), words
    assert len(mine) == len(allowed)


def test_more_of_the_query_s_terms_earn_the_coordination_bonus(world, inst):
    searcher, query, allowed = parsed(inst, "gloaming weekly")
    assert query.scale  # the parser's OrGroup.factory
    plain = {d: s for s, d in scoring.rank(searcher, Or(list(query.subqueries)), allowed)}
    coordinated = {d: s for s, d in scoring.rank(searcher, query, allowed)}
    present = sum(1 for t in query.subqueries if searcher.doc_frequency(t.fieldname, t.text))
    bonus, factor = 1 / (present - query.scale) ** 2, (present - 1) / present
    for doc, score in coordinated.items():
        terms = sum(1 for t in query.subqueries
                    if doc in searchsets.for_searcher(str(inst.config["INDEX_DIR"]), searcher)
                    .docs(t))
        assert score == pytest.approx((plain[doc] + (terms - 1) * bonus) * factor), doc


@pytest.mark.parametrize("words", ['"gloaming circle"', "gloam*", "gloaming NOT weekly",
                                   "gloaming AND weekly"])
def test_anything_but_words_is_left_to_whoosh(api, world, inst, words):
    searcher, query, allowed = parsed(inst, words)
    assert scoring.rank(searcher, query, allowed) is None
    assert find(api, words)["total"] >= 1  # and Whoosh ranks it as before


def test_a_rebuild_into_one_segment_keeps_the_ranking(api, world, inst):
    before = find(api, "gloaming circle weekly", per_page=100)
    searcher = engine._searcher(inst)
    assert len(searcher.reader().leaf_readers()) > 1  # each save wrote a segment
    with inst.session() as session:
        engine.rebuild(inst, session)  # one segment now
    assert len(engine._searcher(inst).reader().leaf_readers()) == 1
    after = find(api, "gloaming circle weekly", per_page=100)
    # (the scores move a little: Whoosh's statistics count an edit's old, deleted version
    # until a rebuild drops it; the order does not)
    assert slugs(after) == slugs(before)
    assert slugs(after)[0] == world[0]  # the one with every word, in its title too
