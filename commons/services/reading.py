"""The read side: what a page shows, from the derived tables and the render cache only.

A page view must not start a git process or parse Markdown once its HTML is cached; everything
here reads rows and cached HTML, and resolves what may have changed since (which linked practices
exist) with one query.
"""
from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Callable

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from ..models import ChangeRecord, PracticeRecord, PracticeTag, Redirect
from . import render
from .instance import Instance


def existing_slugs(session: Session, slugs: set[str]) -> set[str]:
    """Which of ``slugs`` lead to a page (a practice, or an old name that redirects): one
    indexed query for just the page's own links, never the whole commons."""
    if not slugs:
        return set()
    wanted = sorted(slugs)
    return set(session.scalars(union(
        select(PracticeRecord.slug).where(PracticeRecord.slug.in_(wanted)),
        select(Redirect.old_slug).where(Redirect.old_slug.in_(wanted)))))


def body_html(inst: Instance, session: Session, blob_id: str, practice_url: Callable[[str], str],
              new_url: Callable[[str], str], missing_label: str) -> str:
    """Cached, sanitised HTML of a blob, with practice links resolved now."""
    html = inst.cache.get(blob_id, lambda: _body_of(inst, blob_id))
    slugs = set(_facts(inst, blob_id, html)["links"])
    return render.resolve_links(html, existing_slugs(session, slugs), practice_url, new_url,
                                missing_label)


def _facts(inst: Instance, blob_id: str, html: str | None = None) -> dict:
    """What a view needs of a blob's HTML besides the HTML — the practices it links to and
    its headings — computed once per blob and kept beside the render."""
    def compute() -> dict:
        body = html if html is not None else inst.cache.get(blob_id,
                                                            lambda: _body_of(inst, blob_id))
        return {"links": sorted(render.linked_slugs(body)),
                "headings": [[h.level, h.id, h.text] for h in headings(body)]}
    return inst.cache.get_json(blob_id, "facts", compute)


def contents(inst: Instance, blob_id: str, minimum: int | None = None) -> list[Heading]:
    """The table of contents of a blob (see :func:`table_of_contents`), without parsing its
    HTML again on every view."""
    found = [Heading(level, ident, text)
             for level, ident, text in _facts(inst, blob_id)["headings"]]
    return found if len(found) >= (TOC_MIN_HEADINGS if minimum is None else minimum) else []


def preview_html(session: Session, text: str, practice_url: Callable[[str], str],
                 new_url: Callable[[str], str], missing_label: str) -> str:
    """Exactly what the page will show for ``text`` (uncached: it is not saved yet)."""
    html = render.render_markdown(text)
    return render.resolve_links(html, existing_slugs(session, render.linked_slugs(html)),
                                practice_url, new_url, missing_label)


def _body_of(inst: Instance, blob_id: str) -> str:
    from . import practice as doc
    return doc.parse(inst.store.read_blob(blob_id)).body


def titles(session: Session, slugs: set[str]) -> dict[str, str]:
    """Titles of the practices among ``slugs`` (following renames)."""
    if not slugs:
        return {}
    redirects = dict(session.execute(select(Redirect.old_slug, Redirect.new_slug)
                                     .where(Redirect.old_slug.in_(slugs))).all())
    wanted = set(slugs) | set(redirects.values())
    rows = dict(session.execute(select(PracticeRecord.slug, PracticeRecord.title)
                                .where(PracticeRecord.slug.in_(wanted))).all())
    return {s: rows[redirects.get(s, s)] for s in slugs if redirects.get(s, s) in rows}


def recent_practices(session: Session, limit: int = 20) -> list[PracticeRecord]:
    return list(session.scalars(select(PracticeRecord).order_by(
        PracticeRecord.updated_at.desc(), PracticeRecord.slug).limit(limit)))


def list_practices(session: Session, page: int, per_page: int,
                   tag: str | None = None) -> tuple[int, list[PracticeRecord]]:
    query = select(PracticeRecord)
    count = select(func.count()).select_from(PracticeRecord)
    if tag:
        query = query.join(PracticeTag).where(PracticeTag.tag == tag)
        count = select(func.count()).select_from(PracticeTag).where(PracticeTag.tag == tag)
    total = session.scalar(count) or 0
    rows = session.scalars(query.order_by(PracticeRecord.title, PracticeRecord.slug)
                           .offset((page - 1) * per_page).limit(per_page))
    return total, list(rows)


def most_forked(session: Session, limit: int = 8) -> list[tuple[PracticeRecord, int]]:
    """The practices most often taken, with their number of forks (direct forks only, counted
    from the derived lineage column, so one grouped query)."""
    forks = func.count(PracticeRecord.slug).label("forks")
    counted = (select(PracticeRecord.upstream_slug.label("slug"), forks)
               .where(PracticeRecord.upstream_slug.is_not(None))
               .group_by(PracticeRecord.upstream_slug).subquery())
    rows = session.execute(select(PracticeRecord, counted.c.forks)
                           .join(counted, counted.c.slug == PracticeRecord.slug)
                           .order_by(counted.c.forks.desc(), PracticeRecord.title,
                                     PracticeRecord.slug).limit(limit))
    return [(record, n) for record, n in rows]


@dataclass(frozen=True)
class Heading:
    """One entry of a table of contents: the heading's level (2 or 3), anchor id and text."""

    level: int
    id: str
    text: str


class _Headings(HTMLParser):
    """Collects the h2/h3 of sanitised HTML with their ids and plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Heading] = []
        self._open: tuple[int, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h2", "h3"):
            ident = dict(attrs).get("id")
            self._open = (int(tag[1]), ident) if ident else None
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag == f"h{self._open[0]}":
            text = " ".join("".join(self._text).split())
            if text:
                self.found.append(Heading(self._open[0], self._open[1], text))
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)


TOC_MIN_HEADINGS = 3


def headings(html: str) -> list[Heading]:
    """The h2/h3 headings of a rendered body, with their anchors and plain text."""
    parser = _Headings()
    parser.feed(html)
    parser.close()
    return parser.found


def table_of_contents(html: str, minimum: int = TOC_MIN_HEADINGS) -> list[Heading]:
    """The h2/h3 headings of a rendered body, read from the (cached) HTML rather than by
    rendering again; empty for a short practice, where a contents list is only noise."""
    found = headings(html)
    return found if len(found) >= minimum else []


def popular_tags(session: Session, limit: int = 30) -> list[tuple[str, int]]:
    rows = session.execute(select(PracticeTag.tag, func.count()).group_by(PracticeTag.tag)
                           .order_by(func.count().desc(), PracticeTag.tag).limit(limit))
    return [(tag, n) for tag, n in rows]


def history(session: Session, slug: str, page: int, per_page: int
            ) -> tuple[int, list[ChangeRecord]]:
    total = session.scalar(select(func.count()).select_from(ChangeRecord)
                           .where(ChangeRecord.slug == slug)) or 0
    rows = session.scalars(select(ChangeRecord).where(ChangeRecord.slug == slug)
                           .order_by(ChangeRecord.timestamp.desc(), ChangeRecord.id.desc())
                           .offset((page - 1) * per_page).limit(per_page))
    return total, list(rows)


def recent_changes(session: Session, page: int, per_page: int, username: str | None = None
                   ) -> tuple[int, list[ChangeRecord]]:
    where = [ChangeRecord.author_username == username] if username else []
    total = session.scalar(select(func.count()).select_from(ChangeRecord).where(*where)) or 0
    rows = session.scalars(select(ChangeRecord).where(*where)
                           .order_by(ChangeRecord.timestamp.desc(), ChangeRecord.id.desc())
                           .offset((page - 1) * per_page).limit(per_page))
    return total, list(rows)


def practices_of(session: Session, username: str) -> list[PracticeRecord]:
    """Practices a contributor stewards or wrote (JSON columns are filtered in Python to keep
    the SQL portable between SQLite and PostgreSQL)."""
    slugs = set(session.scalars(select(ChangeRecord.slug).where(
        ChangeRecord.author_username == username).distinct()))
    rows = session.scalars(select(PracticeRecord).where(PracticeRecord.slug.in_(slugs))) \
        if slugs else []
    return sorted(rows, key=lambda r: r.title.lower())
