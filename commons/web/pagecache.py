"""A full-page cache for anonymous readers, shared by every worker, in front of the app.

Most page views are anonymous reads of a few pages (a practice, its history, the home page).
Their HTML depends only on the address, the interface language and the state of the commons,
and that state has two cheap fingerprints: git's head (one ref file) and the database's change
stamp (:mod:`commons.services.generation`, one small file replaced after every committed
write). So a page is stored with both, and served again only while both still match: any commit
or database change makes every stored page a miss at once (over-invalidation, never
staleness). A hit reads three small files and never reaches Flask: no session, no Babel, no
database, no rate limiter.

Only GET and HEAD of the allow-listed pages are eligible, and only for a visitor without a
session or remember-me cookie and without an ``Authorization`` header: a signed-in person (or
anyone who chose a language, which lives in the session) is always served by the app, and never
stores a page either. A response is stored only when it is a 200 HTML page that sets no cookie.
The key holds the interface language exactly as :func:`commons.web.select_locale` picks it for
such a visitor (``Accept-Language`` against ``LANGUAGES``, else the default), so French and
English never mix.

Entries live in ``CACHE_DIR/pages``, each written to a temporary file and renamed (a reader never
sees half a page), bounded in total size (the oldest are evicted), and the folder may be deleted
at any time: it only holds copies.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_cookie

from ..services.generation import Generation

# "/", a practice, its history (the slug's own rules are the app's: a bad one is a 404, which
# is never stored)
CACHED_PATHS = re.compile(r"^/(?:p/[a-z0-9]+(?:-[a-z0-9]+)*(?:/history)?)?$")
QUERY_MAX = 200
DROPPED_HEADERS = {"set-cookie", "content-length", "date", "server", "connection",
                   "transfer-encoding", "x-commons-page-cache"}
STAMP_ENVIRON = "commons.page_stamp"
HEADER = "X-Commons-Page-Cache"
EVICT_EVERY = 64  # stores per process between two size checks


class PageCache:
    """WSGI middleware: answer eligible anonymous requests from disk, store what the app
    answered otherwise."""

    def __init__(self, app: Callable, directory: str | os.PathLike, *,
                 head: Callable[[], str | None], generation: Generation,
                 languages: Iterable[str], default_locale: str,
                 cookie_names: Iterable[str], max_bytes: int) -> None:
        self.app = app
        self.directory = Path(directory)
        self.head = head
        self.generation = generation
        self.languages = list(languages)
        self.default_locale = default_locale
        self.cookie_names = set(cookie_names)
        self.max_bytes = max_bytes
        self._stores = 0

    # -- eligibility and key ----------------------------------------------------------------
    def language(self, environ: dict[str, Any]) -> str:
        """The UI language of a visitor without a session, as ``select_locale`` picks it."""
        header = environ.get("HTTP_ACCEPT_LANGUAGE")
        if header:
            best = parse_accept_header(header, LanguageAccept).best_match(self.languages)
            if best:
                return best
        return self.default_locale

    def key(self, environ: dict[str, Any]) -> str | None:
        """The entry's key, or None when this request must go to the app untouched."""
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return None
        if not CACHED_PATHS.match(environ.get("PATH_INFO") or ""):
            return None
        if environ.get("HTTP_AUTHORIZATION"):
            return None
        cookies = environ.get("HTTP_COOKIE")
        if cookies and self.cookie_names & set(parse_cookie(cookies)):
            return None
        query = environ.get("QUERY_STRING") or ""
        if len(query) > QUERY_MAX:
            return None
        # the mount point changes every link the page holds
        prefix = (environ.get("SCRIPT_NAME") or "") + "\x00" + \
            (environ.get("HTTP_X_FORWARDED_PREFIX") or "")
        return "\x00".join((prefix, environ["PATH_INFO"], query, self.language(environ)))

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
        return self.directory / digest[:2] / f"{digest[2:40]}.page"

    def stamp(self) -> tuple[str, str]:
        """(database stamp, git head), read *before* a page is made: a write that lands while
        it renders leaves the entry with the old stamp, so it is never served."""
        return self.generation.read(), self.head() or ""

    # -- WSGI -------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        key = self.key(environ)
        if key is None:
            return self.app(environ, start_response)
        stamp = self.stamp()
        path = self._path(key)
        entry = self._load(path, key, stamp)
        if entry is not None:
            return self._serve(environ, start_response, *entry)
        environ[STAMP_ENVIRON] = stamp
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers + [(HEADER, "miss")], exc_info)

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        if environ["REQUEST_METHOD"] == "GET" and self._storable(captured):
            self._store(path, key, stamp, captured["headers"], body)
        return [body]

    def _storable(self, captured: dict[str, Any]) -> bool:
        if not str(captured.get("status", "")).startswith("200"):
            return False
        headers = {name.lower(): value for name, value in captured.get("headers", [])}
        if "set-cookie" in headers or not headers.get("content-type", "").startswith("text/html"):
            return False
        return "no-store" not in headers.get("cache-control", "") and \
            "private" not in headers.get("cache-control", "")

    def _serve(self, environ: dict[str, Any], start_response: Callable,
               headers: list[tuple[str, str]], body: bytes) -> Iterable[bytes]:
        etag = next((v for n, v in headers if n.lower() == "etag"), None)
        if etag and etag_matches(environ.get("HTTP_IF_NONE_MATCH"), etag):
            kept = [(n, v) for n, v in headers if n.lower() not in ("content-type",)]
            start_response("304 Not Modified", kept + [(HEADER, "hit")])
            return [b""]
        start_response("200 OK", headers + [("Content-Length", str(len(body))), (HEADER, "hit")])
        return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [body]

    # -- storage ----------------------------------------------------------------------------
    def _load(self, path: Path, key: str, stamp: tuple[str, str]
              ) -> tuple[list[tuple[str, str]], bytes] | None:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except (FileNotFoundError, NotADirectoryError):
            return None
        head, sep, body = data.partition(b"\n")
        if not sep:
            return None
        try:
            meta = json.loads(head)
        except ValueError:
            return None
        if meta.get("key") != key or meta.get("stamp") != list(stamp):
            return None
        return [(str(n), str(v)) for n, v in meta.get("headers", [])], body

    def _store(self, path: Path, key: str, stamp: tuple[str, str],
               headers: list[tuple[str, str]], body: bytes) -> None:
        kept = [(n, v) for n, v in headers if n.lower() not in DROPPED_HEADERS]
        head = json.dumps({"key": key, "stamp": list(stamp), "headers": kept},
                          ensure_ascii=True).encode("ascii")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(head + b"\n" + body)
            os.replace(tmp, path)
        except OSError:
            return  # a cache that cannot write (disk full, folder deleted) only misses
        self._stores += 1
        if self._stores % EVICT_EVERY == 0:
            self.evict()

    def evict(self) -> int:
        return evict_folder(self.directory, self.max_bytes)


def evict_folder(directory: Path, max_bytes: int) -> int:
    """Delete the oldest files of a two-level cache folder while it holds more than
    ``max_bytes`` (down to 80 % of it, so the scan is rare); returns how many were deleted."""
    entries = []
    total = 0
    try:
        shards = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for shard in shards:
        if not shard.is_dir():
            continue
        for item in os.scandir(shard.path):
            try:
                st = item.stat()
            except FileNotFoundError:
                continue
            if item.name.endswith(".tmp") and st.st_mtime < time.time() - 60:
                _unlink(item.path)  # left by a worker killed while writing
                continue
            entries.append((st.st_mtime, st.st_size, item.path))
            total += st.st_size
    if total <= max_bytes:
        return 0
    deleted = 0
    for _mtime, size, name in sorted(entries):
        if total <= max_bytes * 0.8:
            break
        _unlink(name)
        total -= size
        deleted += 1
    return deleted


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison, as RFC 9110 asks
    for it)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == bare for t in if_none_match.split(","))


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def install(app: Any) -> None:
    """Put the page cache in front of ``app`` (``PAGE_CACHE_MB``, env
    ``COMMONS_PAGE_CACHE_MB``: its size on disk; 0 turns it off)."""
    megabytes = float(app.config.get("PAGE_CACHE_MB", 256) or 0)
    if megabytes <= 0:
        return
    inst = app.extensions["commons"]
    app.wsgi_app = PageCache(
        app.wsgi_app, Path(app.config["CACHE_DIR"]) / "pages", head=inst.store.head,
        generation=inst.generation, languages=app.config["LANGUAGES"],
        default_locale=app.config["BABEL_DEFAULT_LOCALE"],
        cookie_names={app.config.get("SESSION_COOKIE_NAME") or "session",
                      app.config.get("REMEMBER_COOKIE_NAME") or "remember_token"},
        max_bytes=int(megabytes * 1024 * 1024))
