"""Merging small index segments off the write lock (:mod:`commons.services.indexmerge`): a
save commits while the merged segment is being written, an edit landing in between is not
brought back by the swap, a rebuild in between makes the merge give up cleanly, and the
merged index answers every search as before."""
from __future__ import annotations

import os
from pathlib import Path

from commons.services import indexmerge
from commons.services import search as engine

from .test_search import create, edit, find, slugs


def segments(inst) -> list:
    return list(engine.open_index(inst)._read_toc().segments)


def several_segments(api, inst, n: int = 4) -> list[str]:
    made = [create(api, f"Merge subject {i}", f"Blorptastic text number {i}.\n")["slug"]
            for i in range(n)]
    assert len(segments(inst)) >= n
    return made


def smallest(segs: list) -> list:
    """Any three but the biggest: these tests are about merging, not about which to merge."""
    return sorted(segs, key=lambda s: s.doc_count_all())[:-1][:3]


def test_merge_keeps_every_search_the_same(api, inst):
    several_segments(api, inst)
    queries = ["blorptastic", "merge subject", "number", '"text number"', "blorp*"]
    before = {q: (find(api, q)["total"], sorted(slugs(find(api, q, per_page=100))))
              for q in queries}
    count = len(segments(inst))
    assert indexmerge.merge(engine.open_index(inst), smallest)
    assert len(segments(inst)) == count - 3 + 1
    for q in queries:
        assert (find(api, q)["total"], sorted(slugs(find(api, q, per_page=100)))) \
            == before[q], q
    with inst.session() as session:
        assert engine.check(inst, session) == []
    assert not list((Path(inst.config["INDEX_DIR"]) / indexmerge.STAGING).iterdir())


def slugs_in(inst, chosen: list) -> set[str]:
    from whoosh.reading import SegmentReader

    ix = engine.open_index(inst)
    found = set()
    for segment in chosen:
        reader = SegmentReader(ix.storage, ix.schema, segment)
        found |= {fields["slug"] for _, fields in reader.iter_docs()}
        reader.close()
    return found


def test_a_save_commits_while_the_merge_writes_and_its_deletion_is_kept(api, inst):
    made = several_segments(api, inst)
    ix = engine.open_index(inst)
    toc = ix._read_toc()
    chosen = smallest(list(toc.segments))
    folder = Path(inst.config["INDEX_DIR"]) / indexmerge.STAGING / "test"
    segment, kept = indexmerge._write_merged(ix, toc, chosen, folder)
    # the merged segment is written, yet nobody holds the index: a save goes through now
    target = min(slugs_in(inst, chosen) & set(made))
    edit(api, target, "Rewritten: only zorbulent words now.\n")
    assert slugs(find(api, "zorbulent")) == [target]
    assert indexmerge._swap(ix, chosen, kept, segment, folder, 0.005)
    # the old text (deleted by the save after the merge copied it) stays deleted
    assert slugs(find(api, "zorbulent")) == [target]
    old = find(api, "blorptastic", per_page=100)
    assert target not in slugs(old)
    assert sorted(slugs(old)) == sorted(s for s in made if s != target)
    with engine.open_index(inst).searcher() as searcher:
        assert searcher.doc_count() == len(engine.indexed_revisions(inst))
        assert [d["slug"] for d in searcher.documents(slug=target)] == [target]


def test_a_rebuild_in_between_makes_the_merge_give_up(api, inst):
    several_segments(api, inst)
    ix = engine.open_index(inst)
    toc = ix._read_toc()
    chosen = smallest(list(toc.segments))
    folder = Path(inst.config["INDEX_DIR"]) / indexmerge.STAGING / "test"
    segment, kept = indexmerge._write_merged(ix, toc, chosen, folder)
    with inst.session() as session:
        engine.rebuild(inst, session)
    after = [s.segment_id() for s in segments(inst)]
    assert not indexmerge._swap(ix, chosen, kept, segment, folder, 0.005)
    assert [s.segment_id() for s in segments(inst)] == after  # untouched
    assert find(api, "blorptastic")["total"] == 4


def test_only_one_merge_at_a_time(api, inst):
    several_segments(api, inst)
    ix = engine.open_index(inst)
    held = ix.lock("MERGELOCK")
    assert held.acquire(blocking=False)
    try:
        count = len(segments(inst))
        assert not indexmerge.merge(ix, smallest)
        assert len(segments(inst)) == count
    finally:
        held.release()
    assert indexmerge.merge(ix, smallest)


def test_a_killed_merges_leftovers_are_swept(api, inst):
    several_segments(api, inst)
    staging = Path(inst.config["INDEX_DIR"]) / indexmerge.STAGING
    leftover = staging / "killed"
    leftover.mkdir(parents=True)
    (leftover / "MAIN_abc.pst").write_bytes(b"half")
    old = leftover.stat().st_mtime - indexmerge.STALE - 5
    os.utime(leftover, (old, old))
    fresh = staging / "running"
    fresh.mkdir()
    assert indexmerge.merge(engine.open_index(inst), smallest)
    assert not leftover.exists() and fresh.exists()


class Sized:
    def __init__(self, n: int) -> None:
        self.n = n

    def doc_count_all(self) -> int:
        return self.n


def test_merges_are_tiered_so_a_practice_is_copied_a_few_times_not_at_every_merge():
    assert engine.tier_to_merge([Sized(10_000), Sized(1), Sized(1), Sized(1)]) == []
    four = [Sized(1) for _ in range(4)]
    assert engine.tier_to_merge([Sized(10_000), Sized(5), *four]) == four
    # the rebuild's big segment is never merged, whatever the others
    assert engine.tier_to_merge([Sized(3) for _ in range(4)]) == []
    # simulate many saves: each adds a one-practice segment, then one merge may run
    segs, copies, most = [Sized(10_000)], 0, 0
    for _ in range(1000):
        segs.append(Sized(1))
        most = max(most, len(segs))
        chosen = engine.tier_to_merge(segs)
        if chosen:
            segs = [s for s in segs if s not in chosen] + [Sized(sum(s.n for s in chosen))]
            copies += sum(s.n for s in chosen)
    assert sum(s.n for s in segs) == 11_000
    assert copies / 1000 < 5  # always the three smallest: 84 copies per save
    assert most <= 20


def test_a_merge_that_fails_before_its_table_of_contents_changes_nothing(api, inst,
                                                                         monkeypatch):
    """Killed (here: failing) after moving the merged segment's files in but before writing
    the new table of contents: the index is the old one, and the next save's commit deletes
    the files no table of contents names."""
    made = several_segments(api, inst)
    ix = engine.open_index(inst)
    before = [s.segment_id() for s in segments(inst)]
    folder = Path(inst.config["INDEX_DIR"])

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(indexmerge.TOC, "write", fail)
    try:
        indexmerge.merge(ix, smallest)
    except OSError:
        pass
    else:
        raise AssertionError("the failing table of contents was not written")
    monkeypatch.undo()
    names = {s.segment_id() for s in segments(inst)}
    assert [s.segment_id() for s in segments(inst)] == before
    orphans = [p.name for p in folder.iterdir()  # segment files (locks have no dot)
               if p.name.startswith("MAIN_") and "." in p.name
               and p.name.split(".")[0] not in names]
    assert orphans  # the moved files are there, named by no table of contents
    assert sorted(slugs(find(api, "blorptastic", per_page=100))) == sorted(made)
    lock = ix.lock("WRITELOCK")  # the failed swap let go of the index
    assert lock.acquire(blocking=False)
    lock.release()
    edit(api, made[0], "Blorptastic text, saved after the failed merge.\n")
    left = [p.name for p in folder.iterdir() if p.name in orphans]
    assert left == []  # Whoosh's commit cleaned them
    assert sorted(slugs(find(api, "blorptastic", per_page=100))) == sorted(made)
    assert indexmerge.merge(ix, smallest)  # and a later merge goes through
