"""Git objects written in-process: blobs, the trees along the changed paths, and the commit.

A save used to run ``read-tree``, ``hash-object``, ``update-index``, ``write-tree`` and
``commit-tree``: five git processes, two of which rewrite an index of every file in the commons
(10,000 practices: ten thousand index entries for one changed file). Here a commit rewrites
only the trees on the changed paths, from tree objects read through the store's long-lived
``cat-file`` and kept parsed for the next save, and writes each object the way git writes a
loose object (zlib of ``type size\\0data`` into a temporary file renamed into place, so a
killed writer leaves no half object). Git reads them as its own; moving ``main`` stays git's
compare-and-swap ``update-ref`` (:meth:`Store.commit`).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

# ISA-L's zlib: the same stream as zlib at level 1 (git's default for loose objects), about six
# times faster, which matters for the 10,000-entry practices/ tree every save rewrites.
from isal import isal_zlib

BLOB_MODE = b"100644"
TREE_MODE = b"40000"
CACHED_TREES = 16
# git's "crud": what it strips from both ends of a name or an email (ident.c)
_CRUD = frozenset(b" \t\n\r\x0b\x0c,:;<>\"\\'") | frozenset(range(33))


def write_object(objects: Path, kind: bytes, data: bytes) -> str:
    """Store one object as a loose object; returns its id. Idempotent."""
    raw = b"%s %d\x00" % (kind, len(data)) + data
    sha = hashlib.sha1(raw).hexdigest()
    folder = objects / sha[:2]
    final = folder / sha[2:]
    if final.exists():
        return sha
    folder.mkdir(exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="tmp_obj_", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(isal_zlib.compress(raw, 1))
        os.chmod(tmp, 0o444)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return sha


class Tree:
    """A parsed tree object: its bytes and, per entry name, (mode, offset of its 20-byte id)."""

    __slots__ = ("data", "entries")

    def __init__(self, data: bytes,
                 entries: dict[bytes, tuple[bytes, int]] | None = None) -> None:
        self.data = data
        if entries is not None:  # the same names at the same places (an edited tree)
            self.entries = entries
            return
        entries: dict[bytes, tuple[bytes, int]] = {}
        pos, end, find = 0, len(data), data.find
        while pos < end:
            space = find(b" ", pos)
            nul = find(b"\x00", space)
            if space < 0 or nul < 0 or nul + 21 > end:
                raise ValueError("malformed tree object")
            entries[data[space + 1:nul]] = (data[pos:space], nul + 1)
            pos = nul + 21
        self.entries = entries

    def get(self, name: bytes) -> tuple[bytes, bytes] | None:
        """(mode, binary id) of an entry, or None."""
        found = self.entries.get(name)
        if found is None:
            return None
        mode, offset = found
        return mode, self.data[offset:offset + 20]

    def changed(self, updates: Mapping[bytes, tuple[bytes, bytes] | None]) -> Tree:
        """This tree with ``updates`` ({name: (mode, binary id) or None})."""
        if all(name in self.entries and value is not None and value[0] ==
               self.entries[name][0] for name, value in updates.items()):
            # Same names, same modes (an edit): only the ids change, in place.
            data = bytearray(self.data)
            for name, (_mode, binsha) in updates.items():
                offset = self.entries[name][1]
                data[offset:offset + 20] = binsha
            return Tree(bytes(data), self.entries)
        items = {name: self.get(name) for name in self.entries}
        items.update(updates)
        return Tree(serialize({k: v for k, v in items.items() if v is not None}))


def _sort_key(item: tuple[bytes, tuple[bytes, bytes]]) -> bytes:
    name, (mode, _) = item
    return name + b"/" if mode == TREE_MODE else name  # git's order: a folder as "name/"


def serialize(items: Mapping[bytes, tuple[bytes, bytes]]) -> bytes:
    return b"".join(mode + b" " + name + b"\x00" + binsha
                    for name, (mode, binsha) in sorted(items.items(), key=_sort_key))


@dataclass
class Change:
    status: str  # A, M or D, as ``git log --raw`` says
    path: str
    blob: str | None


class TreeWriter:
    """Writes the trees of a commit that changes a few paths, reusing parsed trees."""

    def __init__(self, read: Callable[[str], bytes], objects: Path) -> None:
        self._read = read
        self._objects = objects
        self._cache: OrderedDict[str, Tree] = OrderedDict()
        self._lock = threading.Lock()

    def tree(self, sha: str) -> Tree:
        with self._lock:
            found = self._cache.get(sha)
            if found is not None:
                self._cache.move_to_end(sha)
                return found
        tree = Tree(self._read(sha))
        self._remember(sha, tree)
        return tree

    def _remember(self, sha: str, tree: Tree) -> None:
        with self._lock:
            self._cache[sha] = tree
            self._cache.move_to_end(sha)
            while len(self._cache) > CACHED_TREES:
                self._cache.popitem(last=False)

    def write(self, root: str | None, changes: Mapping[str, bytes | None]
              ) -> tuple[str, list[Change], bool]:
        """(new root tree id, the changes as git would list them, whether every change is a
        plain file written or removed). ``changes``: {path: file bytes, or None to remove}."""
        split: dict[tuple[bytes, ...], bytes | None] = {}
        for path, data in changes.items():
            split[tuple(_parts(path))] = data
        listed: list[Change] = []
        plain = [True]
        sha = self._write(root, split, b"", listed, plain)
        if sha is None:
            sha = write_object(self._objects, b"tree", b"")
        listed.sort(key=lambda c: c.path.encode())
        return sha, listed, plain[0]

    def _write(self, sha: str | None, changes: Mapping[tuple[bytes, ...], bytes | None],
               prefix: bytes, listed: list[Change], plain: list[bool]) -> str | None:
        tree = self.tree(sha) if sha else Tree(b"")
        here: dict[bytes, bytes | None] = {}
        below: dict[bytes, dict[tuple[bytes, ...], bytes | None]] = {}
        for parts, data in changes.items():
            if len(parts) == 1:
                here[parts[0]] = data
            else:
                below.setdefault(parts[0], {})[parts[1:]] = data
        updates: dict[bytes, tuple[bytes, bytes] | None] = {}
        for name, data in here.items():
            old = tree.get(name)
            path = (prefix + name).decode("utf-8")
            if old is not None and old[0] == TREE_MODE:
                raise ValueError(f"{path} is a folder, not a file")
            if data is None:
                if old is not None:
                    updates[name] = None
                    listed.append(Change("D", path, None))
                    plain[0] = plain[0] and old[0] == BLOB_MODE
                continue
            blob = write_object(self._objects, b"blob", data)
            binsha = bytes.fromhex(blob)
            if old is not None and old == (BLOB_MODE, binsha):
                continue
            updates[name] = (BLOB_MODE, binsha)
            listed.append(Change("M" if old is not None else "A", path, blob))
            plain[0] = plain[0] and (old is None or old[0] == BLOB_MODE)
        for name, sub in below.items():
            old = tree.get(name)
            if old is not None and old[0] != TREE_MODE:
                raise ValueError(f"{(prefix + name).decode('utf-8')} is a file, not a folder")
            new = self._write(old[1].hex() if old else None, sub, prefix + name + b"/",
                              listed, plain)
            if new is None:
                if old is not None:
                    updates[name] = None
            elif old is None or old[1].hex() != new:
                updates[name] = (TREE_MODE, bytes.fromhex(new))
        if not updates:
            return sha if tree.entries else None
        new = tree.changed(updates)
        if not new.data:
            return None
        new_sha = write_object(self._objects, b"tree", new.data)
        self._remember(new_sha, new)
        return new_sha


def _parts(path: str) -> list[bytes]:
    parts = path.split("/")
    if any(p in ("", ".", "..") or p.lower() == ".git" or "\x00" in p for p in parts):
        raise ValueError(f"not a path git can store: {path!r}")
    return [p.encode("utf-8") for p in parts]


def clean_ident(value: str) -> str:
    """A name or email as git writes it in a commit: the "crud" (spaces, punctuation, quotes)
    stripped from both ends, and the newlines and angle brackets dropped (git's ident.c)."""
    raw = value.encode("utf-8")
    start, end = 0, len(raw)
    while start < end and raw[start] in _CRUD:
        start += 1
    while end > start and raw[end - 1] in _CRUD:
        end -= 1
    kept = bytes(b for b in raw[start:end] if b not in b"\n<>")
    return kept.decode("utf-8", errors="replace")


def ident_line(name: str, email: str, when: int) -> bytes:
    """``Name <email> 1700000000 +0000``; refuses what git's commit-tree refuses."""
    if not name or not clean_ident(name):
        raise ValueError(f"empty ident name (for <{email}>) not allowed")
    return f"{clean_ident(name)} <{clean_ident(email)}> {int(when)} +0000".encode()


def commit_object(tree: str, parents: list[str], author: bytes, committer: bytes,
                  message: str) -> bytes:
    lines = [b"tree " + tree.encode()] + [b"parent " + p.encode() for p in parents]
    lines += [b"author " + author, b"committer " + committer]
    return b"\n".join(lines) + b"\n\n" + message.encode("utf-8")
