"""The counts of a search (families, tags, languages, licences, variants) come from posting
sets (:mod:`commons.services.searchsets`), not from Whoosh visiting every match: checked
against Whoosh's own grouping over the same index, with several segments (each save writes
one), deleted documents (edits replace them) and forks. Also: the small segments the saves
leave are merged after the response, and a repeated search is never answered stale."""
from __future__ import annotations

from pathlib import Path

from whoosh import sorting

from commons.services import search as engine
from commons.services import searchsets

from .test_search import create, edit, find, fork, ok, slugs

WORDS = ["gloopmire", "snarfle", "gloopmire snarfle", "gloop*", '"gloopmire snarfle"',
         "gloopmire NOT snarfle", "snarfle lang:fr", "gloopmire tag:zeta-tag", ""]


def whoosh_counts(inst, q: str) -> tuple[int, dict[str, dict[str, int]], dict[str, int]]:
    """Families, facets and family sizes as the engine counted them before: Whoosh's groups
    over every match."""
    searcher = engine._searcher(inst)
    words, required, excluded = engine.split_fields(q)
    parser = engine._parser(engine.open_index(inst), "en")
    query = engine._loosen_phrases(parser.parse(words)) if words else engine.Every()
    results = searcher.search(
        query, limit=None, filter=engine._filters([], None, None, required),
        mask=engine.Or(excluded) if excluded else None, terms=False,
        groupedby={"tags": sorting.FieldFacet("tags", allow_overlap=True,
                                              maptype=sorting.Count),
                   "language": sorting.FieldFacet("language", maptype=sorting.Count),
                   "license": sorting.FieldFacet("license", maptype=sorting.Count),
                   "root": sorting.FieldFacet("root", maptype=sorting.Count)})
    facets = {name: {k: n for k, n in results.groups(name).items() if k}
              for name in ("tags", "language", "license")}
    return len(results.groups("root")), facets, results.groups("root")


def test_counts_agree_with_whoosh_grouping(api, inst):
    made = []
    for i in range(4):
        made.append(create(api, f"Gloopmire {i}", f"The gloopmire snarfle number {i}.\n",
                           tags=["zeta-tag"] if i % 2 else ["eta-tag", "zeta-tag"],
                           language="fr" if i == 3 else "en")["slug"])
    edit(api, made[0], "Now only gloopmire here.\n")  # a deleted document in a segment
    fork(api, made[1], "bob", "gloopmire-bob")
    fork(api, made[1], "bob", "gloopmire-bob-two")
    create(api, "Unrelated", "Snarfle alone, without the other word.\n", tags=["eta-tag"])
    assert len(engine.open_index(inst).reader().leaf_readers()) > 1  # several segments
    for q in WORDS:
        data = find(api, q)
        families, facets, sizes = whoosh_counts(inst, q)
        assert data["total"] == families, q
        assert data["facets"]["tags"] == facets["tags"], q
        assert data["facets"]["language"] == facets["language"], q
        assert {k.lower(): n for k, n in data["facets"]["license"].items()} \
            == facets["license"], q
        roots = {r["slug"]: r for r in data["results"]}
        for hit in data["results"]:
            root = engine._searcher(inst).document(slug=hit["slug"])["root"]
            assert hit["variants"] == sizes[root] - 1, (q, hit["slug"])
        assert len(roots) == len(data["results"])
    family = find(api, "gloopmire", per_page=100)
    assert "gloopmire-bob" not in slugs(family) and made[1] in slugs(family)
    assert next(h for h in family["results"] if h["slug"] == made[1])["variants"] == 2


def test_a_repeated_search_sees_a_save_at_once(api):
    slug = create(api, "Plinkerbob", "Plinkerbob first words.\n")["slug"]
    assert slugs(find(api, "plinkerbob")) == [slug]
    assert slugs(find(api, "wuzzlequat")) == []
    edit(api, slug, "Now it speaks of wuzzlequat.\n")
    assert slugs(find(api, "wuzzlequat")) == [slug]  # the same search, answered anew
    assert slugs(find(api, "plinkerbob")) == [slug]  # the title still says it


def index_segments(inst) -> int:
    return len(list(Path(inst.config["INDEX_DIR"]).glob("*.pst")))


def test_small_segments_are_merged_after_the_response(api, inst):
    slug = create(api, "Merge me", "Mergeworthy text.\n")["slug"]
    for i in range(2 * engine.MERGE_TIER + 1):
        current = ok(api("get", f"/practices/{slug}"))
        response = api("put", f"/practices/{slug}", "alice", json={
            "body": f"Mergeworthy text, quorbit{i}.\n", "base_revision": current["revision"],
            "agree_license": True})
        assert response.status_code == 200
        before = index_segments(inst)
        assert engine.merge_due(inst)
        response.close()  # what the server does once the response is sent
        assert not engine.merge_due(inst)
        if index_segments(inst) < before:
            break
    else:
        raise AssertionError("no merge ever ran")
    assert not engine.merge_due(inst)
    assert slugs(find(api, "mergeworthy")) == [slug]
    assert slugs(find(api, f"quorbit{i}")) == [slug]  # the last save, after the merge
    old = find(api, f"quorbit{i - 1}")  # the version before is gone…
    assert old["total"] == 0 or old["suggestion"] == f"quorbit{i}"  # …found only as a typo


def test_decoded_postings_are_kept_within_their_budget(api, inst, monkeypatch):
    for i in range(3):
        create(api, f"Budget {i}", f"Budgetword text {i} with budgetword again.\n")
    monkeypatch.setattr(searchsets, "_postings", type(searchsets._postings)())
    monkeypatch.setattr(searchsets, "_postings_kept", 0)
    monkeypatch.setattr(searchsets, "POSTINGS_KEPT", 2)
    reader = engine._searcher(inst).reader()
    leaves = [leaf for leaf, _ in reader.leaf_readers()]
    field = "body_en"
    kept = []
    for leaf in leaves:
        for term in ("budgetword", "text"):
            ids, weights = searchsets.postings(leaf, field, term)
            assert len(ids) == len(weights)
            kept.append(len(ids))
    assert sum(kept) > 2
    assert searchsets._postings_kept == sum(len(v[0]) for v in searchsets._postings.values())
    assert searchsets._postings_kept <= 2 or len(searchsets._postings) == 1
    # a kept entry is the same object next time; one dropped is decoded again, equal
    again = searchsets.postings(leaves[-1], field, "text")
    assert list(again[0]) == list(searchsets.postings(leaves[-1], field, "text")[0])
