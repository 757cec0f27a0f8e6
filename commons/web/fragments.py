"""Parts of pages that are the same for many viewers (or for one viewer, again and again),
kept on disk and shared by the workers.

A page for a signed-in person cannot go to the anonymous page cache (their name, their form
tokens), but most of a practice page — the text, its contents, family and attribution — is the
same for everyone who sees the same buttons, and a person rereading a page gets the same page.
Each such part is kept under a key naming what decides it and the state of the commons (git
head and database stamp, read before the page's rows), so any commit or database write makes
every kept part a miss at once. Form tokens are never kept: a part holds :func:`csrf_sentinel`
where the viewer's token goes, and the token of the request is put in when it is served.
Written atomically, bounded in size, deletable at any time like every cache.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import current_app

from .httpcache import page_stamp
from .pagecache import evict_folder

EVICT_EVERY = 64
_stores = 0


def _limit() -> int:
    return int(float(current_app.config.get("FRAGMENT_CACHE_MB", 128) or 0) * 1024 * 1024)


def _folder() -> Path:
    return Path(current_app.config["CACHE_DIR"]) / "fragments"


def _path(key: tuple) -> tuple[Path, str]:
    generation, head = page_stamp()
    name = "\x00".join(map(str, (generation, head) + key))
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()
    return _folder() / digest[:2] / f"{digest[2:40]}.html", digest


def load(key: tuple) -> str | None:
    """The text kept for ``key`` in the commons' current state, or None."""
    if _limit() <= 0:
        return None
    path, digest = _path(key)
    try:
        with open(path, "rb") as fh:
            first, _sep, body = fh.read().partition(b"\n")
        if first.decode("ascii", "replace") == digest:
            return body.decode("utf-8")
    except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError):
        pass
    return None


def store(key: tuple, text: str) -> None:
    global _stores
    limit = _limit()
    if limit <= 0:
        return
    path, digest = _path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(digest.encode() + b"\n" + text.encode("utf-8"))
        os.replace(tmp, path)
    except OSError:
        return  # a cache that cannot write only misses
    _stores += 1
    if _stores % EVICT_EVERY == 0:
        evict_folder(_folder(), limit)


def get(key: tuple, make: Callable[[], str]) -> str:
    """The kept text for ``key``, else ``make()``, kept."""
    text = load(key)
    if text is None:
        text = make()
        store(key, text)
    return text


def csrf_sentinel() -> str:
    """Stands for the viewer's form token in a kept part: derived from the secret key, so no
    practice text can contain it, by chance or on purpose."""
    return hashlib.sha256(b"commons-csrf-sentinel\x00" +
                          str(current_app.secret_key).encode()).hexdigest()


def with_token(text: str) -> str:
    """A kept part with this request's form token where the sentinel stands."""
    sentinel = csrf_sentinel()
    if sentinel not in text:
        return text
    from flask_wtf.csrf import generate_csrf
    return text.replace(sentinel, generate_csrf())
