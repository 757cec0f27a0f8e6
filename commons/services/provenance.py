"""Where imported material comes from: the identity of a source, and where its imported text
is kept.

A source's identity is its repository + path, else its URL without the commit, else its
original title. It is computed from the ``source`` mapping of a practice's front matter, so the
catalog can derive it from git alone (``PracticeRecord.source_key``), and the text as last
imported lives in git too (``imports/<key>.md``), the base of the next re-import's merge.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

IMPORTS_DIR = "imports"
_COMMIT_SEGMENT = re.compile(r"/(blob|tree|raw|src|commit)/[0-9a-f]{7,40}(?=/|$)")


def _clean(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def url_without_commit(url: str) -> str:
    """``…/blob/<commit>/path?x#y`` → ``…/blob/path``: the same page at any revision."""
    url = url.split("#", 1)[0].split("?", 1)[0].rstrip("/")
    return _COMMIT_SEGMENT.sub(r"/\1", url)


def _repo(value: str) -> str:
    repo = value.rstrip("/").removesuffix(".git")
    return repo.lower() if repo.startswith(("http://", "https://")) else repo


def identity(source: Any) -> str | None:
    """The identity of a ``source`` mapping (None when it names nothing)."""
    if not isinstance(source, dict):
        return None
    repo, path = _clean(source.get("repo")), _clean(source.get("path"))
    if repo and path:
        return f"repo:{_repo(repo)}:{path.lstrip('/')}"
    url = _clean(source.get("url"))
    if url:
        return f"url:{url_without_commit(url)}"
    title = _clean(source.get("title"))
    if title:
        return "title:" + " ".join(title.casefold().split())
    return None


def key(source: Any) -> str | None:
    """A fixed-length digest of the identity, as stored and indexed in the derived tables."""
    ident = identity(source)
    return hashlib.sha256(ident.encode("utf-8")).hexdigest() if ident else None


def imported_path(source_key: str) -> str:
    """Where the text as last imported from this source is kept (never shown as a practice)."""
    if not re.fullmatch(r"[0-9a-f]{64}", source_key):
        raise ValueError("not a source key")
    return f"{IMPORTS_DIR}/{source_key}.md"
