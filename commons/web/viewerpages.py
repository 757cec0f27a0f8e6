"""Pages kept for the signed-in person who reads them again.

The anonymous page cache cannot serve a signed-in person: their page carries their name and
their form tokens. But the same person rereading the same page in the same state of the commons
gets the same page, so it is kept for them: under their account id, their language inputs and
the address (:func:`commons.web.httpcache.viewer_key`), with the commons' state in the key
(:mod:`commons.web.fragments`), and with a sentinel where their form token was — the token of
the request that reads it is put back in. A hit skips the view, its queries and the templates;
it still goes through the app's hooks (security headers, ETag).

Never kept: a page that showed a flashed message, anything but a 200 HTML page of the
allow-list.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, g, request, session
from flask.globals import request_ctx

from . import fragments
from .httpcache import PAGES, viewer_key

_KEY = "viewer_page_key"


def _key() -> tuple | None:
    if request.method != "GET" or request.endpoint not in PAGES:
        return None
    if session.get("_user_id") is None or session.get("_flashes"):
        return None  # anonymous readers have the page cache; a message is shown once
    if current_app.config.get("WTF_CSRF_TIME_LIMIT") is not None:
        return None  # a kept page's form token could have expired
    viewer = viewer_key()
    if viewer is None:
        return None
    return ("viewer-page", *viewer, request.full_path, request.script_root)


def serve_kept() -> Response | None:
    """``before_request``: this person's page, if it is kept for this state of the commons."""
    key = _key()
    if key is None:
        return None
    text = fragments.load(key)
    if text is None:
        g.setdefault(_KEY, key)
        return None
    lang, _sep, html = text.partition("\n")
    g.lang = lang  # the Content-Language header, as the page had it
    return Response(fragments.with_token(html), mimetype="text/html")


def keep(response: Response) -> Response:
    """``after_request``: keep the page this person was just given, token taken out."""
    key = g.pop(_KEY, None)
    if key is None or response.status_code != 200 or response.mimetype != "text/html":
        return response
    # The page was made from the session as the request brought it (the key says so): what
    # the request changed in it since (a first form secret, Flask-Login marking the session
    # not fresh) is not on the page. A flashed message is, once: such a page is not kept.
    if request_ctx.flashes or response.direct_passthrough:
        return response
    html = response.get_data(as_text=True)
    token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    if token:
        html = html.replace(token, fragments.csrf_sentinel())
    fragments.store(key, f"{g.get('lang', '')}\n{html}")
    return response


def init_app(app: Flask) -> None:
    app.before_request(serve_kept)
    app.after_request(keep)
