"""Attribution that travels: what CC BY-SA 4.0 §3(a) asks of anyone who shares a practice.

Whoever shares a practice, or an adaptation of it, must keep: the identification of its
creators and anyone designated to receive credit, a copyright notice, a notice that refers to
the licence, a notice that refers to the disclaimer of warranties, a link to the material
(§3(a)(1)); and indicate that it was modified, keeping an indication of previous
modifications (§3(a)(1)(B)). A practice is rarely made in one place: it may be a fork of a
fork, and the oldest of them may have been imported from outside. So the attribution built here
covers the practice and every work it was adapted from — each ancestor at the exact revision
it was taken from, and the imported source under the licence it was taken under.

Everything comes from git: the authors from the derived change rows (themselves rebuilt from
the commits), the credits, sources and removal requests from the front matter. A person may ask
to be left out (§3(a)(3)); the request is kept in the practice's front matter
(``attribution_removed``), so it survives a rebuild and travels with every clone.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import Forbidden, ValidationError
from ..models import ChangeRecord, PracticeRecord, User
from . import accounts, catalog, forks, licensing
from . import practice as doc
from .editing import SaveResult, commit_one, read_current, require_license, write_lock
from .instance import Instance
from .licensing import N_, translate

REMOVED_KEY = "attribution_removed"
NAME_MAX = 200
TEXT_MAX = 300
URL_MAX = 2000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass
class Person:
    """Someone credited: a git author (with a username when they have an account), a person
    named in ``credits`` (with a role), or an author of an imported source."""

    name: str
    username: str | None = None
    role: str | None = None


@dataclass
class LicenseInfo:
    id: str
    name: str
    url: str | None
    note: str | None = None  # how the licence was read (a source that names no version)


@dataclass
class Work:
    """One work the practice was adapted from: an ancestor in the commons ("fork") or the
    material imported from outside ("source")."""

    kind: str
    title: str
    url: str | None
    revision: str | None
    revision_url: str | None
    authors: list[Person]
    license: LicenseInfo | None
    copyright: str
    modifications: list[str] = field(default_factory=list)
    slug: str | None = None
    missing: bool = False


@dataclass
class Attribution:
    """What §3(a) requires, for one practice at its current revision."""

    slug: str
    title: str
    url: str
    revision: str
    revision_url: str
    license: LicenseInfo
    authors: list[Person]
    copyright: str
    disclaimer: str
    disclaimer_url: str | None
    modifications: list[str]
    chain: list[Work]

    @property
    def tasl(self) -> str:
        """The short line: Title, Author, Source, Licence."""
        return tasl_line(self.title, self.url, self.authors, self.license)


# ---- reading the front matter (text people typed: cleaned, capped, never trusted) ------------

def _text(value: Any, limit: int = TEXT_MAX) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return ""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


def safe_url(value: Any) -> str | None:
    """An http(s) address fit for an ``href``; anything else (``javascript:``, relative paths,
    spaces, quotes) is dropped rather than linked."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or len(url) > URL_MAX or _CONTROL.search(url) or any(c in url for c in ' "<>`\\'):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _people(values: Any, *, with_role: bool = False) -> list[Person]:
    """``credits: [{name, role}]`` or ``source.authors: [name | {name}]``."""
    people = []
    for item in values if isinstance(values, list) else []:
        name = _text(item.get("name") if isinstance(item, dict) else item, NAME_MAX)
        if not name:
            continue
        role = _text(item.get("role"), 80) if with_role and isinstance(item, dict) else ""
        people.append(Person(name, None, role or None))
    return people


def removed_names(meta: dict[str, Any]) -> list[str]:
    """The names a practice's front matter asks to leave out of its attribution."""
    values = meta.get(REMOVED_KEY)
    return [n for n in (_text(v, NAME_MAX) for v in values) if n] \
        if isinstance(values, list) else []


def _key(person: Person) -> str:
    return (person.username or person.name).casefold()


def _dedupe(people: list[Person]) -> list[Person]:
    seen: set[str] = set()
    result = []
    for person in people:
        if _key(person) not in seen:
            seen.add(_key(person))
            result.append(person)
    return result


def is_removed(person: Person, removed: set[str]) -> bool:
    return person.name.casefold() in removed or \
        bool(person.username and person.username.casefold() in removed)


def visible_authors(authors: list[dict[str, Any]], meta: dict[str, Any]) -> list[dict[str, Any]]:
    """A practice's derived ``authors`` rows without those its front matter removed."""
    removed = {n.casefold() for n in removed_names(meta)}
    return [a for a in authors or []
            if not is_removed(Person(str(a.get("name") or ""), a.get("username")), removed)]


def license_info(license_id: Any, *, imported: bool = False) -> LicenseInfo:
    """A licence as the registry names it; an id it does not know is shown as given."""
    entry = licensing.get(license_id)
    if entry is None:
        shown = _text(license_id, 80) or translate(N_("no licence stated"))
        return LicenseInfo(shown, shown, None)
    note = None
    if entry.versionless and imported:
        note = translate(N_("The source names no version of the licence; it was read as a "
                            "version from 2.0 on."))
    return LicenseInfo(entry.id, entry.name, entry.url, note)


# ---- who wrote what, from the derived change rows -----------------------------------------------

def _git_authors_until(session: Session, slug: str, revision: str | None
                       ) -> tuple[list[Person], datetime | None, datetime | None]:
    """Authors of a practice up to ``revision`` (first contribution first), and the dates of
    its first and last change then. The current authors are ``PracticeRecord.authors``; this is
    the same fact at an older revision, for an ancestor taken at that revision."""
    query = (select(ChangeRecord).where(ChangeRecord.slug == slug,
                                        ChangeRecord.kind != "metadata")
             .order_by(ChangeRecord.id))
    if revision:
        limit = session.scalar(select(func.min(ChangeRecord.id)).where(
            ChangeRecord.slug == slug, ChangeRecord.revision == revision)) or \
            session.scalar(select(func.min(ChangeRecord.id))
                           .where(ChangeRecord.revision == revision))
        if limit:
            query = query.where(ChangeRecord.id <= limit)
    rows = list(session.scalars(query))
    people = _dedupe([Person(r.author_name, r.author_username) for r in rows])
    return people, (rows[0].timestamp if rows else None), (rows[-1].timestamp if rows else None)


def _years(first: datetime | None, last: datetime | None) -> str:
    if first is None:
        return ""
    if last is None or last.year == first.year:
        return str(first.year)
    return f"{first.year}–{last.year}"


def copyright_notice(years: str, people: list[Person]) -> str:
    """"© 2024–2025 Alice, Bob": a copyright notice is names and years, in no language."""
    if not years and not people:
        return ""
    return " ".join(part for part in ("©", years, ", ".join(p.name for p in people)) if part)


def _names(people: list[Person]) -> str:
    return ", ".join(p.name for p in people)


def tasl_line(title: str, url: str | None, authors: list[Person], lic: LicenseInfo | None) -> str:
    where = f" ({url})" if url else ""
    licence = lic.name + (f" ({lic.url})" if lic and lic.url else "") if lic else ""
    if authors and licence:
        return translate(N_('"%(title)s"%(url)s by %(authors)s is licensed under %(license)s.'),
                         title=title, url=where, authors=_names(authors), license=licence)
    if licence:
        return translate(N_('"%(title)s"%(url)s is licensed under %(license)s.'),
                         title=title, url=where, license=licence)
    if authors:
        return translate(N_('"%(title)s"%(url)s by %(authors)s.'), title=title, url=where,
                         authors=_names(authors))
    return f'"{title}"{where}'


# ---- building -----------------------------------------------------------------------------------

@dataclass
class _Node:
    """The practice or one of its ancestors, as it was when its child was taken."""

    slug: str
    title: str
    meta: dict[str, Any]
    git_authors: list[Person]
    first: datetime | None
    last: datetime | None
    revision: str | None
    missing: bool = False

    @property
    def credits(self) -> list[Person]:
        return _people(self.meta.get("credits"), with_role=True)

    @property
    def source(self) -> dict[str, Any] | None:
        source = self.meta.get("source")
        return source if isinstance(source, dict) else None


def _source_key(source: dict[str, Any] | None) -> str | None:
    if not source:
        return None
    parts = [_text(source.get(k), URL_MAX).casefold() for k in ("repo", "path", "url", "title")]
    return "\x1f".join(parts) if any(parts) else None


def _meta_at(inst: Instance, session: Session, slug: str, revision: str | None
             ) -> dict[str, Any]:
    found = catalog.version_at(inst.store, session, slug, revision) if revision else None
    if not found:
        return {}
    try:
        return doc.parse(found[0]).meta
    except (ValidationError, UnicodeDecodeError):
        return {}


META_KEYS = ("credits", "source", "license", REMOVED_KEY)


def current_meta(inst: Instance, record: PracticeRecord) -> dict[str, Any]:
    """What the attribution reads of the practice's front matter now (credits, source,
    licence, removal requests); empty when it is broken (its page says so), so the
    attribution still shows what git knows. Kept beside the blob's render: a blob never
    changes, so a view reads a small file instead of git and YAML."""
    def compute() -> dict[str, Any]:
        try:
            meta = read_current(inst, record).meta
        except (ValidationError, UnicodeDecodeError):
            return {}
        return {k: meta[k] for k in META_KEYS if k in meta}

    return inst.cache.get_json(record.blob_id, "attribution-meta", compute)


def _lineage(inst: Instance, session: Session, record: PracticeRecord
             ) -> tuple[list[_Node], set[str]]:
    """The practice and its ancestors (nearest first), and every name any of them — as they
    are now — asks to leave out: a request to be removed holds for the whole attribution."""
    meta = current_meta(inst, record)
    nodes = [_Node(record.slug, record.title, meta,
                   _dedupe([Person(str(a.get("name") or a.get("username") or ""),
                                   a.get("username")) for a in record.authors or []]),
                   record.created_at, record.updated_at, record.revision)]
    removed = {n.casefold() for n in removed_names(meta)}
    for ancestor in forks.ancestors(session, record):
        slug, revision = ancestor["slug"], ancestor.get("revision")
        if not doc.is_valid_slug(slug):
            break
        parent = session.get(PracticeRecord, slug)
        if parent is not None:
            removed |= {n.casefold() for n in removed_names(current_meta(inst, parent))}
        meta_then = _meta_at(inst, session, slug, revision)
        people, first, last = _git_authors_until(session, slug, revision)
        title = _text(meta_then.get("title"), 200) or ancestor.get("title") or slug
        nodes.append(_Node(slug, title, meta_then, people, first, last, revision,
                           missing=bool(ancestor.get("missing"))))
    return nodes, removed


def _source_work(source: dict[str, Any], removed: set[str]) -> Work:
    url = safe_url(source.get("url")) or safe_url(source.get("repo"))
    path = _text(source.get("path"))
    title = _text(source.get("title")) or path or url or _text(source.get("repo")) or \
        translate(N_("imported material"))
    revision = _text(source.get("revision") or source.get("commit"), 64) or None
    authors = [p for p in _dedupe(_people(source.get("authors"))) if not is_removed(p, removed)]
    notice = _text(source.get("copyright"))
    return Work("source", title, url, revision, None, authors,
                license_info(source.get("license"), imported=True),
                notice or copyright_notice("", authors))


def _source_label(source: dict[str, Any]) -> str:
    return safe_url(source.get("url")) or _text(source.get("title")) or \
        " ".join(p for p in (_text(source.get("repo")), _text(source.get("path"))) if p) or \
        translate(N_("imported material"))


_built: OrderedDict[tuple, Attribution] = OrderedDict()
_built_lock = threading.Lock()
BUILT_MAX = 2048


def build(inst: Instance, session: Session, record: PracticeRecord) -> Attribution:
    """The attribution of ``record`` at its current revision, with the chain of works it was
    adapted from.

    Kept per process by (practice, revision, language, git head, database stamp): every
    commit and every database write changes the key, so a kept attribution is never stale;
    the stamps are read before anything is built, so one built from newer rows can only be
    filed under an older key. Treat the result as read-only: it is shared."""
    key = _build_key(inst, record)
    with _built_lock:
        found = _built.get(key)
        if found is not None:
            _built.move_to_end(key)
            return found
    attr = _build(inst, session, record)
    with _built_lock:
        _built[key] = attr
        while len(_built) > BUILT_MAX:
            _built.popitem(last=False)
    return attr


def _build_key(inst: Instance, record: PracticeRecord) -> tuple:
    from flask import has_request_context
    lang = ""
    if has_request_context():
        from flask_babel import get_locale
        lang = str(get_locale() or "")
    return (str(inst.home), record.slug, record.revision, record.blob_id, record.license,
            record.title, lang, inst.generation.read(), inst.store.head() or "",
            str(inst.config.get("COMMONS_BASE_URL") or ""))


def _build(inst: Instance, session: Session, record: PracticeRecord) -> Attribution:
    base = str(inst.config.get("COMMONS_BASE_URL") or "").rstrip("/")

    def page(slug: str) -> str:
        return f"{base}/p/{slug}"

    def at(slug: str, revision: str) -> str:
        return f"{base}/p/{slug}/at/{revision}"

    nodes, removed = _lineage(inst, session, record)

    def shown(people: list[Person]) -> list[Person]:
        return [p for p in _dedupe(people) if not is_removed(p, removed)]

    # Credits copied along with a fork belong to the upstream's entry, not to the fork's.
    own_credits = []
    for i, node in enumerate(nodes):
        inherited = {_key(p) for p in nodes[i + 1].credits} if i + 1 < len(nodes) else set()
        own_credits.append([p for p in node.credits if _key(p) not in inherited])

    notices: list[list[str]] = []
    sources: list[tuple[str, dict[str, Any]]] = []
    for i, node in enumerate(nodes):
        mine: list[str] = []
        upstream = nodes[i + 1] if i + 1 < len(nodes) else None
        if upstream is not None:
            where = at(upstream.slug, upstream.revision) if upstream.revision and \
                not upstream.missing else f"{upstream.slug}@{upstream.revision or '?'}"
            changed_by = shown(node.git_authors)
            if changed_by:
                mine.append(translate(N_('Adapted from "%(title)s" (%(url)s) by %(authors)s.'),
                                      title=upstream.title, url=where,
                                      authors=_names(changed_by)))
            else:
                mine.append(translate(N_('Adapted from "%(title)s" (%(url)s).'),
                                      title=upstream.title, url=where))
        key = _source_key(node.source)
        if key and node.source is not None:
            # The source belongs to the oldest practice that carries it: forks copy it along.
            if upstream is None or _source_key(upstream.source) != key:
                mine.append(translate(N_("Adapted from %(source)s."),
                                      source=_source_label(node.source)))
            if key not in {k for k, _ in sources}:
                sources.append((key, node.source))
        notices.append(mine)

    chain: list[Work] = []
    for i, node in enumerate(nodes[1:], start=1):
        authors = shown(own_credits[i] + node.git_authors)
        chain.append(Work(
            "fork", node.title,
            None if node.missing else page(node.slug), node.revision,
            at(node.slug, node.revision) if node.revision and not node.missing else None,
            authors, license_info(node.meta.get("license")) if node.meta.get("license")
            else None, copyright_notice(_years(node.first, node.last), authors),
            notices[i], node.slug, node.missing))
    chain += [_source_work(source, removed) for _key_, source in sources]

    me = nodes[0]
    authors = shown(own_credits[0] + me.git_authors)
    lic = license_info(record.license or inst.license)
    disclaimer_url = f"{lic.url}#s5" if lic.url and lic.id.endswith("-4.0") else lic.url
    return Attribution(
        slug=record.slug, title=record.title, url=page(record.slug),
        revision=record.revision, revision_url=at(record.slug, record.revision), license=lic,
        authors=authors, copyright=copyright_notice(_years(me.first, me.last), authors),
        disclaimer=translate(N_("This practice is offered as-is and as-available: its authors "
                                "make no representations or warranties of any kind about it "
                                "and, as far as the law allows, are not liable for its use "
                                "(section 5 of the licence, disclaimer of warranties and "
                                "limitation of liability).")),
        disclaimer_url=disclaimer_url, modifications=notices[0], chain=chain)


# ---- renderers ----------------------------------------------------------------------------------

def as_json(attr: Attribution) -> dict[str, Any]:
    data = asdict(attr)
    data["tasl"] = attr.tasl
    return data


def as_text(attr: Attribution) -> str:
    """A plain-text block to paste beside a copy (also valid Markdown: paragraphs and lists)."""
    lines = [attr.tasl, "",
             translate(N_("This version: revision %(revision)s, %(url)s"),
                       revision=attr.revision, url=attr.revision_url), "",
             attr.copyright, "",
             attr.disclaimer + (f" {attr.disclaimer_url}" if attr.disclaimer_url else "")]
    earlier = [n for work in attr.chain for n in work.modifications]
    if attr.modifications or earlier:
        lines += ["", translate(N_("Changes:"))]
        lines += [f"- {notice}" for notice in attr.modifications + earlier]
    if attr.chain:
        lines += ["", translate(N_("Adapted from:"))]
        for work in attr.chain:
            item = tasl_line(work.title, work.url, work.authors, work.license)
            if work.license is not None and work.license.note:
                item += " " + work.license.note
            lines.append(f"- {item}")
            if work.revision:
                lines.append("  " + translate(N_("Revision %(revision)s%(url)s"),
                                              revision=work.revision,
                                              url=f", {work.revision_url}" if work.revision_url
                                              else ""))
            if work.copyright:
                lines.append(f"  {work.copyright}")
    return "\n".join(lines) + "\n"


# ---- §3(a)(3): leaving the attribution ----------------------------------------------------------

def _validate_name(name: Any) -> str:
    cleaned = _text(name, NAME_MAX + 1) if isinstance(name, str) else ""
    if not cleaned or len(cleaned) > NAME_MAX:
        raise ValidationError("Give the name or username to remove, at most %(n)s characters.",
                              field="name", n=NAME_MAX)
    return cleaned


def _require_remover(actor: User | None, record: PracticeRecord, name: str) -> User:
    actor = accounts.require_signed_in(actor)
    if accounts.can_edit(actor, record) or actor.username == name.casefold():
        return actor
    raise Forbidden("Only this practice's stewards, an administrator, or the person named can "
                    "remove a name from its attribution.")


def _mentions(people: list[Person], name: str) -> bool:
    return any(is_removed(p, {name.casefold()}) for p in people)


def remove_from_attribution(inst: Instance, session: Session, actor: User | None, slug: str,
                            name: Any, agree_license: Any = False, *, author=None
                            ) -> SaveResult:
    """Leave ``name`` (a username or a name as credited) out of the practice's attribution, as
    §3(a)(3) lets a licensor ask. Stewards and admins may do it for anyone, a person for their
    own username. The request is committed to the front matter (``attribution_removed``), so it
    holds after a rebuild and in every clone; the git history itself is not rewritten — the
    commits still carry their authors, as a repository's history must stay verifiable."""
    record = catalog.get_record(session, slug)
    name = _validate_name(name)
    if author is None:
        actor = _require_remover(actor, record, name)
    require_license(agree_license, inst.license)
    with write_lock(inst, session):
        record = catalog.get_record(session, slug)
        if author is None:  # the stewards may have changed meanwhile
            actor = _require_remover(actor, record, name)
        current = read_current(inst, record)
        already = removed_names(current.meta)
        if name.casefold() in {n.casefold() for n in already}:
            return SaveResult(record, record.revision, changed=False)
        nodes, _removed = _lineage(inst, session, record)
        everyone = [p for node in nodes for p in node.credits + node.git_authors]
        everyone += [p for node in nodes if node.source
                     for p in _people(node.source.get("authors"))]
        if not _mentions(everyone, name):
            raise ValidationError("%(name)s is not among the authors credited in this "
                                  "practice's attribution.", field="name", name=name)
        current.meta[REMOVED_KEY] = already + [name]
        revision = commit_one(inst, session, {doc.path_for(record.slug): doc.serialize(current)},
                              actor, f"Remove a name from the attribution of {record.slug}",
                              [("Metadata-Only", "attribution")],
                              author=author)
        session.commit()
    return SaveResult(catalog.get_record(session, record.slug), revision)
