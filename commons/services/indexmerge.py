"""Merging the search index's small segments without holding its write lock.

Every save writes one small segment (see ``search._index_paths``); left alone they pile up and
make each search open and look through more of them. Whoosh merges inside a writer, holding
the index's write lock from the first posting read to the last written: tens of milliseconds
during which every other worker's save waits. Here the merged segment is written with no lock
(the segments being merged are immutable files), in a staging folder Whoosh's clean-up never
looks at; the lock is then taken only to swap it in, which is a few file renames and a new
table of contents. A document deleted from a merged segment meanwhile (a save that replaced
it) is deleted from the new segment at the swap, so a search before, during or after finds
the same practices. If the segments changed under it (another merge, a rebuild), the merge
is dropped and its files removed: it can always be done again later.
"""
from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from whoosh import index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, LockError, clean_files
from whoosh.reading import SegmentReader
from whoosh.util.filelock import try_for
from whoosh.writing import SegmentWriter

STAGING = ".merging"  # dot-named: Whoosh's clean_files skips it
SWAP_TIMEOUT = 5.0
STALE = 600.0  # seconds after which a staging folder is a killed merge's leftovers


class _Staging:
    """What a SegmentWriter needs of an index, pointing its files at a private folder."""

    def __init__(self, ix: index.Index, toc: Any, folder: Path) -> None:
        self.storage = FileStorage(str(folder)).create()
        self.indexname = ix.indexname
        self._toc = toc

    def _read_toc(self) -> Any:
        return self._toc


def merge(ix: index.Index, choose: Callable[[list], list], *, delay: float = 0.005) -> bool:
    """Merge the segments ``choose`` picks from the current ones into one. Returns whether a
    merge was swapped in (False: nothing to merge, another merge running, or the segments
    changed meanwhile)."""
    merging = ix.lock("MERGELOCK")  # one merge at a time: two would pick the same segments
    if not merging.acquire(blocking=False):
        return False
    staging = Path(ix.storage.folder) / STAGING
    _sweep(staging)
    folder = staging / uuid.uuid4().hex
    try:
        toc = ix._read_toc()
        chosen = choose(list(toc.segments))
        if len(chosen) < 2:
            return False
        try:
            segment, kept = _write_merged(ix, toc, chosen, folder)
        except OSError:  # a merged segment's files went (a rebuild committed meanwhile)
            return False
        return _swap(ix, chosen, kept, segment, folder, delay)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        merging.release()


def _write_merged(ix: index.Index, toc: Any, chosen: list, folder: Path) -> tuple[Any, list]:
    """Write the live documents of ``chosen`` as one segment in ``folder``; returns it and,
    per merged segment, the document numbers copied (in order: new number = position)."""
    writer = SegmentWriter(_Staging(ix, toc, folder), _lk=False, compound=False)
    kept: list[list[int]] = []
    try:
        for old in chosen:
            reader = SegmentReader(ix.storage, toc.schema, old)
            try:
                kept.append(list(reader.all_doc_ids()))
                writer.add_reader(reader)
            finally:
                reader.close()
        segment = writer._finalize_segment()
    finally:
        writer._tempstorage.destroy()
        writer.is_closed = True
    return segment, kept


def _swap(ix: index.Index, chosen: list, kept: list, segment: Any, folder: Path,
          delay: float) -> bool:
    """Under the write lock: move the new segment's files in and write a table of contents
    that lists it instead of the merged ones, carrying over deletions made meanwhile."""
    lock = ix.lock("WRITELOCK")
    if not try_for(lock.acquire, timeout=SWAP_TIMEOUT, delay=delay):
        raise LockError("the search index stayed locked; the merge is dropped")
    try:
        toc = ix._read_toc()
        current = {s.segment_id(): s for s in toc.segments}
        ids = [s.segment_id() for s in chosen]
        if any(i not in current for i in ids):
            return False
        new_number = 0
        for i, numbers in zip(ids, kept):
            now = current[i]
            for old in numbers:
                if now.is_deleted(old):
                    segment.delete_document(new_number)
                new_number += 1
        target = Path(ix.storage.folder)
        for name in os.listdir(folder):
            if name.startswith(f"{ix.indexname}_"):
                os.replace(folder / name, target / name)
        segments = [s for s in toc.segments if s.segment_id() not in ids] + [segment]
        generation = toc.generation + 1
        TOC(toc.schema, segments, generation).write(ix.storage, ix.indexname)
        clean_files(ix.storage, ix.indexname, generation, segments)
        return True
    finally:
        lock.release()


def _sweep(staging: Path) -> None:
    """Remove what merges killed half-way left (only they write here, one at a time)."""
    try:
        leftovers = list(staging.iterdir())
    except OSError:
        return
    for path in leftovers:
        try:
            if time.time() - path.stat().st_mtime > STALE:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass
