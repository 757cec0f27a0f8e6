"""HTTP caching: ETags and 304s for the pages people reread, fingerprinted static files.

A page's ETag is a digest of everything that decides its bytes: the git head and the database
stamp (the state of the commons), the interface language, the viewer (an account id or
"anonymous") and, for a signed-in person, their session's CSRF secret (the forms on the page
carry a token made from it). So a ``304 Not Modified`` can only confirm the very page this
browser was given: never another language, never another person's page. ``Vary: Accept-Language,
Cookie`` tells shared caches the same. A page that shows a flashed message has no ETag (the
message is shown once).

Static files are linked with ``?v=<digest of the file>`` (the ``static_url`` template global);
a request carrying the file's current digest may be kept for a year, anything else is
revalidated.
"""
from __future__ import annotations

import hashlib
import os

from flask import Flask, Response, current_app, g, request, session, url_for
from flask.globals import request_ctx

from .pagecache import STAMP_ENVIRON, etag_matches

PAGES = {"practices.show", "history.practice_history", "practices.home"}
LONG = "public, max-age=31536000, immutable"


def page_stamp() -> tuple[str, str]:
    """(database stamp, git head) for this request: the page cache's when it passed the
    request on (read before anything rendered), else read now, before the view runs."""
    stamp = request.environ.get(STAMP_ENVIRON)
    if stamp is None:
        inst = current_app.extensions["commons"]
        stamp = request.environ[STAMP_ENVIRON] = (inst.generation.read(),
                                                  inst.store.head() or "")
    return stamp


def viewer_key() -> tuple[str, ...] | None:
    """Who sees this page and what decides its language, from the (signed) session cookie and
    the request alone — no database: the account id, and the session's language choice or the
    browser's ``Accept-Language`` (a signed-in person's own setting is database state, which
    the page stamp covers). None when the page cannot be named so."""
    user_id = session.get("_user_id")
    if user_id is None:
        if request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME")
                               or "remember_token"):
            return None  # signed in by the remember-me cookie: a page for a person
        from . import select_locale
        return "anonymous", str(select_locale())
    protection = getattr(current_app, "login_manager", None)
    if getattr(protection, "session_protection", None) == "strong":
        return None  # the session may be refused for this request: let the app decide
    return (f"user:{user_id}", str(session.get("lang")),
            request.headers.get("Accept-Language", ""))


def page_etag() -> str | None:
    """The ETag of this request's page, or None when it must not have one."""
    if request.method not in ("GET", "HEAD") or request.endpoint not in PAGES:
        return None
    if session.get("_flashes"):
        return None
    viewer = viewer_key()
    if viewer is None:
        return None
    secret = ""
    if viewer[0] != "anonymous":
        if current_app.config.get("WTF_CSRF_TIME_LIMIT") is not None:
            return None  # a kept page's form tokens could have expired
        secret = str(session.get("csrf_token", ""))
        if not secret and current_app.config.get("WTF_CSRF_ENABLED", True):
            return None  # the page makes the session's first form secret: not a page to keep
    generation, head = page_stamp()
    parts = (generation, head, *viewer, secret, request.full_path, request.script_root)
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogateescape")).hexdigest()
    return f'"{digest[:32]}"'


def _vary(response: Response) -> None:
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")


def _cache_control(response: Response) -> None:
    response.headers["Cache-Control"] = "private, no-cache" \
        if session.get("_user_id") is not None else "no-cache"


def not_modified() -> Response | None:
    """``before_request``: a 304 when the browser already holds this exact page."""
    etag = page_etag()
    g.page_etag = etag
    if etag is None or not etag_matches(request.headers.get("If-None-Match"), etag):
        return None
    response = Response(status=304)
    response.headers["ETag"] = etag
    _vary(response)
    _cache_control(response)
    return response


def tag_page(response: Response) -> Response:
    """``after_request``: ETag, ``Vary`` and ``Cache-Control`` on the pages that have one."""
    etag = g.pop("page_etag", None)
    if request.endpoint == "static":
        return _static_headers(response)
    if etag is None or response.status_code != 200 or response.mimetype != "text/html":
        return response
    if request_ctx.flashes:  # the page shows a message once: it is not a page to keep
        return response
    response.headers["ETag"] = etag
    _vary(response)
    _cache_control(response)
    return response


# ---- static files -------------------------------------------------------------------------------

_digests: dict[str, tuple[tuple[int, int], str]] = {}


def static_digest(filename: str) -> str | None:
    """A short digest of a static file's bytes (recomputed when the file changes)."""
    folder = current_app.static_folder
    if not folder:
        return None
    path = os.path.join(folder, filename)
    try:
        st = os.stat(path)
    except OSError:
        return None
    seen = _digests.get(path)
    if seen is not None and seen[0] == (st.st_mtime_ns, st.st_size):
        return seen[1]
    with open(path, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()[:16]
    _digests[path] = ((st.st_mtime_ns, st.st_size), digest)
    return digest


def static_url(filename: str) -> str:
    """``url_for('static')`` with the file's digest, so it can be kept for a year."""
    digest = static_digest(filename)
    return url_for("static", filename=filename, v=digest) if digest else \
        url_for("static", filename=filename)


def _static_headers(response: Response) -> Response:
    filename = (request.view_args or {}).get("filename", "")
    wanted = request.args.get("v")
    if response.status_code in (200, 304) and wanted and wanted == static_digest(filename):
        response.headers["Cache-Control"] = LONG
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    app.before_request(not_modified)
    app.after_request(tag_page)
    app.add_template_global(static_url, "static_url")
