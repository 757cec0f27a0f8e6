"""The search page, and the reading of a search request that the page and the API share.

The engine is :mod:`commons.services.search`; this module only turns ``?q=&tag=&language=
&license=&page=&per_page=`` into a call of it and the results into a page. Bad input is a
:class:`ValidationError` (a 422 page or JSON error), never a 500.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import get_locale

from ..errors import ValidationError
from ..services import search as engine
from .base import instance

bp = Blueprint("search", __name__)

PER_PAGE = 10
MAX_TAGS = 20
MAX_VALUE = 100  # a tag, a language code or a licence id


@dataclass
class SearchRequest:
    """What was asked: the query, the filters in effect and the page."""
    q: str = ""
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    license: str | None = None
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def asked(self) -> bool:
        """Whether there is anything to search for (else the page shows how to search)."""
        return bool(self.q or self.tags or self.language or self.license)

    def args(self, **changes: Any) -> dict[str, Any]:
        """The query string of this search with ``changes``, for links that keep the rest."""
        values = {"q": self.q or None, "tag": list(self.tags) or None,
                  "language": self.language, "license": self.license,
                  "per_page": self.per_page if self.per_page != PER_PAGE else None}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "", [])}


def _whole_number(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValidationError("%(name)s must be a whole number.", field=name,
                              name=name) from None


def _value(name: str, raw: str | None) -> str | None:
    value = (raw or "").strip()
    if len(value) > MAX_VALUE:
        raise ValidationError("%(name)s is at most %(n)s characters.", field=name, name=name,
                              n=MAX_VALUE)
    return value or None


def read_search() -> SearchRequest:
    """The search asked by the request's query string (the page and the API read it alike)."""
    tags: list[str] = []
    for raw in request.args.getlist("tag"):
        tag = _value("tag", raw)
        if tag and tag.lower() not in (t.lower() for t in tags):
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValidationError("At most %(n)s tags can be combined.", field="tag", n=MAX_TAGS)
    return SearchRequest(q=request.args.get("q", ""), tags=tags,
                         language=_value("language", request.args.get("language")),
                         license=_value("license", request.args.get("license")),
                         page=_whole_number("page", 1),
                         per_page=_whole_number("per_page", PER_PAGE))


def run_search(asked: SearchRequest) -> engine.Results:
    """Search, ranked for the reader's language (the fields of that language weigh more)."""
    return engine.search(instance(), asked.q, tags=asked.tags, language=asked.language,
                         license=asked.license, page=asked.page, per_page=asked.per_page,
                         ui_lang=str(get_locale() or "en"))


@bp.after_app_request
def merge_after_response(response: Response) -> Response:
    """After a save, merge the index's small segments once the response has been sent (so
    the person saving does not wait for it); the save itself already committed its own."""
    inst = instance()
    if engine.merge_due(inst):
        def merge() -> None:
            try:
                engine.merge_small(inst)
            except Exception:
                logging.getLogger(__name__).exception("merging the search index failed")
        response.call_on_close(merge)
    return response


@bp.get("/search")
def search_page():
    asked = read_search()
    results = run_search(asked) if asked.asked else None

    def link(**changes: Any) -> str:
        return url_for("search.search_page", **asked.args(page=None, **changes))

    def toggle_tag(tag: str) -> str:
        chosen = [t for t in asked.tags if t.lower() != tag.lower()]
        return link(tag=chosen if len(chosen) < len(asked.tags) else asked.tags + [tag])

    return render_template("search.html", asked=asked, results=results, link=link,
                           toggle_tag=toggle_tag,
                           chosen_tags={t.lower() for t in asked.tags})
