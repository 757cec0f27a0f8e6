"""Licence-checked import of practices from Markdown files, folders and zips.

Each file is read (front matter + Markdown), its licence checked against the registry
(:func:`licensing.refusal`), and written as one commit — or refused, with a reason a person
understands, and nothing written. The practice carries the commons licence; the licence the
material was taken under stays in ``source.license`` and in the commit's ``Source-License``
trailer, its original authors in ``credits``.

Re-importing the same source (its identity: :mod:`provenance`) updates the practice by a
three-way merge. The base is the text as last imported, kept in git at
``imports/<source key>.md`` and rewritten by every import: the practice's own text at the last
import would not do, since after a merged update it already holds the edits made in Commons,
and the next merge would take them out again. The body is merged line by line (``git
merge-file``); the front matter keys the import sets are merged key by key; a key or a line
changed on both sides is a conflict, and the file is refused.
"""
from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import CommonsError, ValidationError
from ..models import PracticeRecord, User
from . import accounts, editing, licensing, provenance
from . import practice as doc
from .instance import Instance
from .licensing import N_, translate
from .store import Identity

# Who commits an import made from the command line without --as: the same no-reply identity
# as the starter practices, under its own name.
IMPORT_AUTHOR = Identity("Commons import", "commons@users.noreply.commons")

FILE_MAX = doc.BODY_MAX + doc.FRONT_MATTER_MAX  # a practice's body plus its front matter
ZIP_ENTRIES_MAX = 5000
ZIP_TOTAL_MAX = 32 * 1024 * 1024  # Markdown read out of one zip, all entries together
SKIPPED = re.compile(r"^(readme|licen[cs]e|copying)\b", re.IGNORECASE)  # a library's own papers
TEXT_MAX = 2000
STATEMENTS_MAX = 50

STATUSES = ("accepted", "updated", "unchanged", "refused")
# The front matter keys an import writes; every other key (stewards, translations…) is the
# commons' own and an import never touches it.
IMPORTED_KEYS = ("title", "summary", "language", "tags", "license", "source", "credits")
_MISSING = object()


@dataclass(frozen=True)
class Source:
    """One file to import: its name as given, its text, or why it could not be read."""

    name: str
    text: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Outcome:
    file: str
    status: str  # one of STATUSES
    slug: str | None = None
    reason: str | None = None

    def line(self) -> str:
        """How the command line reports it."""
        if self.status == "refused":
            return f"{self.file}: refused: {self.reason}"
        return f"{self.file}: {self.status} {self.slug}"

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "status": self.status, "slug": self.slug,
                "reason": self.reason}


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _message(exc: CommonsError) -> str:
    from flask import has_request_context
    return exc.message if has_request_context() else str(exc)


# ---- reading --------------------------------------------------------------------------------

def _shown(name: str) -> str:
    """A file name fit to print: no control characters, bounded."""
    return re.sub(r"[\x00-\x1f\x7f]", "?", name)[:300]


def _decode(name: str, data: bytes) -> Source:
    if len(data) > FILE_MAX:
        return Source(name, problem=translate(N_(
            "The file is too large: a practice is at most 512 KB of text.")))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Source(name, problem=translate(N_("The file is not UTF-8 text.")))
    return Source(name, text.replace("\r\n", "\n"))


def _wanted(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base.lower().endswith(".md") and not SKIPPED.match(base)


def read_sources(path: str | os.PathLike) -> list[Source]:
    """The files to import from a Markdown file, a folder (its ``*.md`` files, recursively;
    README and LICENSE files skipped) or a zip. Raises ValidationError for anything else."""
    p = Path(path)
    if p.is_dir():
        return _read_folder(p)
    if p.is_file() and (p.suffix.lower() == ".zip" or zipfile.is_zipfile(p)):
        with open(p, "rb") as fh:
            return read_zip(fh, p.name)
    if p.is_file() and p.suffix.lower() == ".md":
        if p.stat().st_size > FILE_MAX:
            return [_decode(p.name, b"\0" * (FILE_MAX + 1))]
        return [_decode(p.name, p.read_bytes())]
    raise ValidationError("Nothing to import at %(path)s: give a Markdown (.md) file, a folder "
                          "or a .zip archive.", path=_shown(str(path)))


def _read_folder(root: Path) -> list[Source]:
    sources = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            full = Path(folder) / name
            rel = full.relative_to(root).as_posix()
            if name.startswith(".") or not _wanted(rel) or full.is_symlink():
                continue
            if full.stat().st_size > FILE_MAX:
                sources.append(_decode(rel, b"\0" * (FILE_MAX + 1)))
            else:
                sources.append(_decode(rel, full.read_bytes()))
    return sources


def _unsafe(entry: str) -> bool:
    parts = entry.replace("\\", "/").split("/")
    return (entry.startswith(("/", "\\")) or bool(re.match(r"^[A-Za-z]:", entry))
            or ".." in parts or "\x00" in entry)


def read_zip(fileobj: BinaryIO, name: str) -> list[Source]:
    """The Markdown entries of a zip, read in memory with bounds a zip bomb cannot pass: the
    number of entries, each entry's size (read, not trusted from the header) and the total."""
    try:
        archive = zipfile.ZipFile(fileobj)
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return [Source(_shown(name), problem=translate(N_("This is not a readable zip archive.")))]
    if len(infos) > ZIP_ENTRIES_MAX:
        return [Source(_shown(name), problem=translate(
            N_("The archive holds more than %(n)s entries."), n=ZIP_ENTRIES_MAX))]
    sources: list[Source] = []
    total = 0
    for info in infos:
        entry = _shown(info.filename)
        if _unsafe(info.filename):
            sources.append(Source(entry, problem=translate(N_(
                "Refused: an entry of the archive points outside it (an absolute path or "
                "'..')."))))
            continue
        parts = info.filename.replace("\\", "/").split("/")
        if info.is_dir() or not _wanted(info.filename) or any(p.startswith(".") or
                                                               p == "__MACOSX" for p in parts):
            continue
        if info.file_size > FILE_MAX:
            sources.append(_decode(entry, b"\0" * (FILE_MAX + 1)))
            continue
        try:
            with archive.open(info) as fh:
                data = fh.read(FILE_MAX + 1)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError,
                ValueError):
            sources.append(Source(entry, problem=translate(
                N_("This entry of the archive cannot be read (damaged or encrypted)."))))
            continue
        total += len(data)
        if total > ZIP_TOTAL_MAX:
            sources.append(Source(_shown(name), problem=translate(
                N_("The archive holds more than %(n)s MB of Markdown: import it in parts."),
                n=ZIP_TOTAL_MAX // (1024 * 1024))))
            break
        sources.append(_decode(entry, data))
    return sources


def read_upload(filename: str, data: bytes) -> list[Source]:
    """An uploaded file: a .md file or a .zip archive."""
    name = _shown((filename or "upload").replace("\\", "/").rsplit("/", 1)[-1]) or "upload"
    if name.lower().endswith(".zip"):
        return read_zip(io.BytesIO(data), name)
    if name.lower().endswith(".md"):
        return [_decode(name, data)]
    return [Source(name, problem=translate(
        N_("Only Markdown (.md) files and .zip archives can be imported.")))]


# ---- from a file to a practice ----------------------------------------------------------------

@dataclass
class _Incoming:
    """A file that passed the checks: the practice it becomes."""

    meta: dict[str, Any]  # the imported keys
    body: str
    license_id: str
    commit: str | None

    @property
    def key(self) -> str:
        return provenance.key(self.meta["source"])  # type: ignore[return-value]

    def text(self, stewards: list[str]) -> str:
        meta = {k: self.meta[k] for k in doc.KEY_ORDER if k in self.meta}
        meta["stewards"] = stewards
        return doc.serialize(doc.Practice(meta, self.body))


def _line(value: Any, limit: int = TEXT_MAX) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value if value and len(value) <= limit else None


def _url(value: Any) -> str | None:
    value = _line(value)
    return value if value and re.match(r"^https?://[^\s]+$", value) else None


def _strings(value: Any, limit: int = STATEMENTS_MAX) -> list[str]:
    items = value if isinstance(value, list) else [value]
    result = []
    for item in items:
        if isinstance(item, dict):  # {name: …} as some sources write authors
            item = item.get("name")
        text = _line(item)
        if text and text not in result:
            result.append(text)
    return result[:limit]


def _tags(value: Any) -> list[str]:
    """Tags as the commons writes them; a tag it cannot use is dropped, not a refusal."""
    items = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    result: list[str] = []
    for item in items:
        try:
            tags = doc.normalise_tags(item if isinstance(item, str) else None)
        except ValidationError:
            continue
        for tag in tags:
            if tag not in result and len(result) < 20:
                result.append(tag)
    return result


def _prepare(source: Source, commons_license: str) -> _Incoming:
    if source.problem:
        raise _Refused(source.problem)
    parsed = doc.parse(source.text or "")
    meta = parsed.meta
    license_id = meta.get("license")
    if license_id in (None, ""):
        raise _Refused(translate(N_(
            "No licence: the front matter has no 'license' key, so nobody can tell whether "
            "the text may be adapted under CC BY-SA 4.0.")))
    why = licensing.refusal(license_id)
    if why:
        raise _Refused(why)
    title = _line(meta.get("title"), 200)
    if not title:
        raise ValidationError("A practice needs a title.", field="title")
    language = meta.get("language") or "en"
    language = language.strip().lower() if isinstance(language, str) else language
    source_meta = meta.get("source_meta") if isinstance(meta.get("source_meta"), dict) else {}
    summary = _line(meta.get("summary"), 500) or _line(source_meta.get("subtitle"), 500)
    doc.validate_fields(title, summary, language, parsed.body)
    authors = _strings(meta.get("authors"))
    statements = _strings(meta.get("license_statements") or meta.get("license_statement"))
    commit = meta.get("source_commit")
    commit = commit if isinstance(commit, str) and re.fullmatch(r"[0-9a-f]{7,40}", commit) \
        else None
    origin = {"title": title, "url": _url(meta.get("source_url")),
              "repo": _line(meta.get("source_repo")), "path": _line(meta.get("source_path")),
              "commit": commit, "license": license_id, "authors": authors,
              "license_statements": statements}
    imported: dict[str, Any] = {"title": title}
    if summary:
        imported["summary"] = summary
    imported.update({
        "language": language, "tags": _tags(meta.get("tags")), "license": commons_license,
        "source": {k: v for k, v in origin.items() if v},
        "credits": [{"name": name, "role": "original author"} for name in authors]})
    return _Incoming(imported, parsed.body, license_id, commit)


# ---- writing --------------------------------------------------------------------------------

def _find(session: Session, key: str) -> PracticeRecord | None:
    return session.scalars(select(PracticeRecord).where(PracticeRecord.source_key == key)
                           .order_by(PracticeRecord.created_at, PracticeRecord.slug)).first()


def _trailers(incoming: _Incoming) -> list[tuple[str, str]]:
    trailers = [("Source-License", incoming.license_id)]
    if incoming.commit:
        trailers.append(("Source-Commit", incoming.commit))
    return trailers


def _merge(inst: Instance, slug: str, base: doc.Practice, ours: doc.Practice,
           theirs: doc.Practice) -> doc.Practice:
    """Ours with the source's changes since the last import; refused on any conflict."""
    merged = ours.copy()
    conflicts = []
    for key in IMPORTED_KEYS:
        b, o, t = (p.meta.get(key, _MISSING) for p in (base, ours, theirs))
        if o == t or t == b:
            continue
        if o == b:
            if t is _MISSING:
                merged.meta.pop(key, None)
            else:
                merged.meta[key] = t
        else:
            conflicts.append(key)
    body, clean = inst.store.merge_texts(base.body, ours.body, theirs.body,
                                         labels=("commons", "last import", "source"))
    if not clean:
        conflicts.append(translate(N_("the text (conflicting places: %(n)s)"),
                                   n=body.count("\n<<<<<<< ") + body.startswith("<<<<<<< ")))
    if conflicts:
        raise _Refused(translate(N_(
            "conflict: %(slug)s was edited in the commons since its last import, and the "
            "source changed the same parts: %(parts)s. Nothing was written; bring the source's "
            "changes in by hand."), slug=slug, parts=", ".join(conflicts)))
    merged.body = body
    return merged


def _write(inst: Instance, session: Session, user: User | None, incoming: _Incoming,
           operator: bool, name: str) -> Outcome:
    key = incoming.key
    base_path = provenance.imported_path(key)
    author = accounts.identity(user) if user is not None else IMPORT_AUTHOR
    theirs_text = incoming.text([user.username] if user is not None else [])
    record = _find(session, key)
    if record is None:
        slug = editing.unique_slug(session, inst, incoming.meta["title"])
        editing.commit_one(inst, session, {doc.path_for(slug): theirs_text,
                                           base_path: theirs_text},
                           user, f"Import {incoming.meta['title']}", _trailers(incoming),
                           author=author)
        return Outcome(name, "accepted", slug)
    slug = record.slug
    if not operator and not accounts.can_edit(user, record):
        raise _Refused(translate(N_(
            "%(slug)s was imported before, and only its stewards or an administrator can "
            "update it from its source."), slug=slug))
    ours_text = inst.store.read_blob(record.blob_id)
    found = inst.store.read(base_path)
    base_text = found[0] if found else ""
    base = doc.parse(base_text) if found else doc.Practice({}, "")
    merged = _merge(inst, slug, base, doc.parse(ours_text), doc.parse(theirs_text))
    doc.validate_fields(merged.meta.get("title"), merged.meta.get("summary"),
                        merged.meta.get("language", "en"), merged.body)
    new_text = doc.serialize(merged)
    changes: dict[str, str | None] = {}
    if new_text != ours_text:
        changes[doc.path_for(slug)] = new_text
    if theirs_text != base_text:
        changes[base_path] = theirs_text  # the next re-import merges from here
    if not changes:
        return Outcome(name, "unchanged", slug)
    editing.commit_one(inst, session, changes, user, f"Update {slug} from its source",
                       _trailers(incoming), author=author)
    return Outcome(name, "updated" if doc.path_for(slug) in changes else "unchanged", slug)


def check_allowed(user: User | None, agree_license: Any, license_id: str,
                  operator: bool = False) -> None:
    """Who may import: anyone signed in (an operator at the command line), having agreed to
    release the import under the commons licence."""
    if not operator:
        accounts.require_signed_in(user)
    editing.require_license(agree_license, license_id)


def import_one(inst: Instance, session: Session, user: User | None, source: Source, *,
               agree_license: Any, operator: bool = False) -> Outcome:
    """Import one file, all or nothing: one commit (``accepted``/``updated``), none
    (``unchanged``), or a refusal with its reason and nothing written. ``operator`` is the
    command line: no sign-in, and updates need not come from a steward."""
    check_allowed(user, agree_license, inst.license, operator)
    try:
        incoming = _prepare(source, inst.license)
        with editing.write_lock(inst, session):
            outcome = _write(inst, session, user, incoming, operator, source.name)
            session.commit()
        return outcome
    except _Refused as exc:
        session.rollback()
        return Outcome(source.name, "refused", reason=exc.reason)
    except CommonsError as exc:
        session.rollback()
        return Outcome(source.name, "refused", reason=_message(exc))


def import_many(inst: Instance, session: Session, user: User | None, sources: Iterable[Source],
                *, agree_license: Any, operator: bool = False) -> list[Outcome]:
    """Import every file, each on its own; the checks that concern the person come first."""
    check_allowed(user, agree_license, inst.license, operator)
    return [import_one(inst, session, user, source, agree_license=agree_license,
                       operator=operator) for source in sources]


def import_uploads(inst: Instance, session: Session, user: User | None,
                   files: list[tuple[str, bytes]], *, agree_license: Any) -> list[Outcome]:
    """What the web form and the API receive: uploaded .md files and .zip archives."""
    check_allowed(user, agree_license, inst.license)
    if not files:
        raise ValidationError("Choose at least one Markdown (.md) file or .zip archive to "
                              "import.", field="file")
    sources = [source for name, data in files for source in read_upload(name, data)]
    return import_many(inst, session, user, sources, agree_license=agree_license)
