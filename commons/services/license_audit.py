"""The licence audit of ``commons check``: what in git would take the commons out of share-alike.

The services refuse these on the way in; the audit finds them however they got there (a commit
made with plain git, an older version of Commons, an operator who narrowed the accepted
licences). It reads git only, since git is the record that travels with every clone; the
derived tables are used just to name the commit that last changed a file and to follow renames.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import CommonsError
from ..models import PracticeRecord, Redirect
from . import licensing, reuse_export
from . import practice as doc
from .store import Store


def _read(store: Store, blob: str) -> doc.Practice | None:
    try:
        return doc.parse(store.read_blob(blob))
    except (CommonsError, UnicodeDecodeError):
        return None  # malformed front matter is reported by the catalog check


def _upstream_slug(session: Session, forked_from: Any, present: set[str]) -> str | None:
    """The upstream's current slug, following a rename through the redirects."""
    slug = forked_from.get("slug") if isinstance(forked_from, dict) else None
    if not doc.is_valid_slug(slug):
        return None
    if slug in present:
        return slug
    moved = session.get(Redirect, slug)
    return moved.new_slug if moved is not None and moved.new_slug in present else None


def problems(session: Session, store: Store, commons_license: str,
             accepted: tuple[str, ...]) -> list[str]:
    """One ``path@revision: reason`` line per licence problem at the head of ``main``."""
    head = store.head()
    if head is None:
        return []
    files = store.list_files(doc.PRACTICES_DIR)
    rows = {r.slug: r for r in session.scalars(select(PracticeRecord))}
    practices: dict[str, tuple[str, str, doc.Practice]] = {}
    for path, blob in sorted(files.items()):
        slug = doc.slug_from_path(path)
        parsed = _read(store, blob) if slug else None
        if parsed is not None:
            row = rows.get(slug)
            revision = row.revision if row is not None and row.blob_id == blob else head
            practices[slug] = (path, revision, parsed)
    found: list[str] = []
    for slug, (path, revision, parsed) in practices.items():
        where = f"{path}@{revision}"
        lic = parsed.license
        if lic not in accepted:
            found.append(f"{where}: licence {lic[:80] or '(none)'} is not accepted in the commons "
                         f"(accepted: {', '.join(accepted)})")
        source = parsed.meta.get("source")
        if isinstance(source, dict):
            reason = licensing.refusal(source.get("license"))
            if reason is not None:
                found.append(f"{where}: imported from a source whose licence the commons "
                             f"refuses: {reason}")
        upstream = _upstream_slug(session, parsed.meta.get("forked_from"), set(practices))
        if upstream is not None and upstream != slug:
            up_path, _rev, up = practices[upstream]
            reason = licensing.share_alike_refusal(up.license, lic)
            if reason is not None:
                found.append(f"{where}: breaks the share-alike of its upstream {up_path}: "
                             f"{reason}")
    found += _reuse_problems(store, head, commons_license)
    return found


def _reuse_problems(store: Store, head: str, commons_license: str) -> list[str]:
    """``LICENSES/`` and ``REUSE.toml`` must say what the front matter says."""
    if store.read(reuse_export.REUSE_TOML) is None:
        return [(f"{reuse_export.REUSE_TOML}@{head}: missing: the repository does not state "
                 "its licensing in the REUSE layout (run 'commons init')")]
    changes = reuse_export.full_sync(store, commons_license)
    return [f"{path}@{head}: "
            + ("no longer used by any file" if text is None
               else "does not match the practices' licences")
            + " (run 'commons init')"
            for path, text in sorted(changes.items())]
