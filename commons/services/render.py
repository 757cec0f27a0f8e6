"""Markdown → safe HTML, cached by blob id.

markdown-it-py (CommonMark + tables, strikethrough, footnotes, task lists, heading anchors) renders
the body; nh3 sanitises the result, so raw HTML in Markdown never reaches a page unsanitised. The
sanitised HTML is cached on disk under (renderer version, blob id): a blob never changes, so the
cache never goes stale. What can change — whether a linked practice exists, UI labels — is
resolved after the cache by :func:`resolve_links`.
"""
from __future__ import annotations

import html as html_lib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable

import nh3
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from .practice import is_valid_slug, slugify

RENDERER_VERSION = "1"
PRACTICE_LINK_RE = re.compile(r"^([a-z0-9]+(?:-[a-z0-9]+)*)\.md(#[\w-]*)?$")

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "input",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "section", "small", "span", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"title", "lang"},
    "a": {"href", "id"},
    "abbr": {"title"},
    "h1": {"id"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "img": {"src", "alt", "width", "height"},
    "input": {"checked", "disabled"},
    "li": {"id"},
    "ol": {"start"},
    "sup": {"id"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
}
ALLOWED_CLASSES = {
    "a": {"practice-link", "footnote-backref"},
    "hr": {"footnotes-sep"},
    "input": {"task-list-item-checkbox"},
    "li": {"task-list-item", "footnote-item"},
    "ol": {"footnotes-list"},
    "section": {"footnotes"},
    "sup": {"footnote-ref"},
    "ul": {"contains-task-list"},
}


def _wikilink(state, silent: bool) -> bool:
    """``[[slug]]`` and ``[[slug|text]]`` become the same link as ``[text](slug.md)``."""
    src, pos = state.src, state.pos
    if not src.startswith("[[", pos):
        return False
    end = src.find("]]", pos + 2)
    if end == -1:
        return False
    inner = src[pos + 2:end]
    if not inner or "\n" in inner or "[" in inner:
        return False
    target, _, label = inner.partition("|")
    slug = target.strip() if is_valid_slug(target.strip()) else slugify(target)
    if not slug:
        return False
    if not silent:
        token = state.push("link_open", "a", 1)
        token.attrs = {"href": f"{slug}.md"}
        text = state.push("text", "", 0)
        text.content = label.strip() or target.strip()
        state.push("link_close", "a", -1)
    state.pos = end + 2
    return True


def _build() -> MarkdownIt:
    md = (MarkdownIt("commonmark", {"html": True, "typographer": False})
          .enable(["table", "strikethrough"])
          .use(footnote_plugin)
          .use(tasklists_plugin)
          .use(anchors_plugin, min_level=1, max_level=4, slug_func=_heading_slug))
    md.inline.ruler.before("link", "wikilink", _wikilink)
    default_link_open = md.renderer.rules.get("link_open")

    def link_open(renderer, tokens, idx, options, env):
        token = tokens[idx]
        href = token.attrGet("href") or ""
        match = PRACTICE_LINK_RE.match(href)
        if match:
            token.attrSet("href", f"/p/{match.group(1)}{match.group(2) or ''}")
            token.attrSet("class", "practice-link")
        if default_link_open:
            return default_link_open(tokens, idx, options, env)
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


def _heading_slug(text: str) -> str:
    return slugify(text) or "section"


_MD = _build()


def sanitize(html: str) -> str:
    """The one sanitiser configuration every piece of user HTML goes through."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        tag_attribute_values={"input": {"type": {"checkbox"}}},
        url_schemes={"http", "https", "mailto"},
        allowed_classes=ALLOWED_CLASSES,
        link_rel="noopener noreferrer nofollow",
    )


def render_markdown(text: str) -> str:
    """Sanitised HTML for a Markdown body (no caching)."""
    return sanitize(_MD.render(text))


class RenderCache:
    """Disk cache of sanitised HTML keyed by (renderer version, blob id)."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory) / "render" / RENDERER_VERSION
        self.renders = 0  # how many times this process actually rendered (for tests)

    def _path(self, blob_id: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{40}", blob_id):
            raise ValueError("invalid blob id")
        return self.directory / blob_id[:2] / f"{blob_id}.html"

    def get(self, blob_id: str, load_body: Callable[[], str]) -> str:
        path = self._path(blob_id)
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            pass
        html = render_markdown(load_body())
        self.renders += 1
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.replace(tmp, path)
        return html

    def get_json(self, blob_id: str, kind: str, compute: Callable[[], Any]) -> Any:
        """A small fact derived from a blob (its contents list, its front matter…), kept
        beside its HTML as ``<blob>.<kind>.json``: a blob never changes, so neither does
        anything derived from it."""
        path = self._path(blob_id).with_name(f"{blob_id}.{kind}.json")
        try:
            return json.loads(path.read_bytes())
        except (FileNotFoundError, ValueError):
            pass
        value = compute()
        try:
            data = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError):
            return value  # not plain data (a date in the front matter): used, not kept
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
        os.replace(tmp, path)
        return json.loads(data)


_LINK_RE = re.compile(r'<a href="/p/([a-z0-9-]+)((?:#[^"]*)?)"([^>]*) class="practice-link"')
_LINK_RE_ANY = re.compile(r'<a ([^>]*)class="practice-link"([^>]*)>')
_HREF_RE = re.compile(r'href="/p/([a-z0-9-]+)((?:#[^"]*)?)"')


def linked_slugs(html: str) -> set[str]:
    return {m.group(1) for tag in _LINK_RE_ANY.finditer(html)
            for m in [_HREF_RE.search(tag.group(0))] if m}


def resolve_links(html: str, existing: Iterable[str], practice_url: Callable[[str], str],
                  new_url: Callable[[str], str], missing_label: str) -> str:
    """Point practice links at their pages, or at "create this practice" when missing."""
    existing = set(existing)

    def fix(tag_match: re.Match) -> str:
        tag = tag_match.group(0)
        href = _HREF_RE.search(tag)
        if not href:
            return tag
        slug, anchor = href.group(1), href.group(2)
        if slug in existing:
            return tag.replace(href.group(0), f'href="{html_lib.escape(practice_url(slug) + anchor)}"')
        tag = tag.replace(href.group(0), f'href="{html_lib.escape(new_url(slug))}"')
        tag = tag.replace('class="practice-link"',
                          f'class="practice-link missing" title="{html_lib.escape(missing_label)}"')
        return tag

    return _LINK_RE_ANY.sub(fix, html)
