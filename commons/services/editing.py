"""Writes to practices: create, edit (with three-way merge), revert, rename, stewards.

Each write is one unit: permission check → document validation → under the write lock, bring
the derived tables up to date, merge against the editor's base revision if it is stale, commit
with the licence trailer, update the derived tables → commit the database session. If anything
fails after the git commit, the next write (or ``commons reindex``) replays that commit into the
derived tables, so git, the source of truth, never disagrees for long and nothing is lost.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ..errors import EditConflict, LicenseRequired, NotFound, SlugTaken, ValidationError
from ..models import PracticeRecord, Redirect, Removal, User
from . import accounts, catalog, failpoints, licensing, reuse_export, search
from . import practice as doc
from .instance import Instance
from .store import validate_revision

MESSAGE_MAX = 500


@dataclass
class SaveResult:
    record: PracticeRecord
    revision: str
    changed: bool = True
    merged: bool = False


def require_license(agree_license: Any, license_id: str) -> None:
    if agree_license is not True:
        raise LicenseRequired(
            "To save, you must agree to release your contribution under %(license)s "
            "(Creative Commons Attribution-ShareAlike 4.0), the licence of every practice in "
            "the commons, so that anyone may take, improve and give back your work.",
            license=license_id)


def change_message(message: Any, default: str) -> str:
    if message is None or (isinstance(message, str) and not message.strip()):
        return default
    if not isinstance(message, str) or len(message) > MESSAGE_MAX or "\x00" in message:
        raise ValidationError("A change message is at most %(n)s characters.",
                              field="message", n=MESSAGE_MAX)
    # One line per paragraph; no fake trailers smuggled into the commit message.
    return " ".join(message.split())


@contextmanager
def write_lock(inst: Instance, session: Session) -> Iterator[None]:
    """Hold the write lock, seeing the database as the last writer left it.

    Whatever was read before the lock (the permission check, the view's 404 check) may be
    stale: another worker may have committed since, a SQLite read transaction keeps the
    snapshot it started with, and the session's identity map keeps the rows it loaded. So the
    transaction is ended and every loaded row expired before the derived tables catch up with
    git; every read under the lock then sees the latest commit. That includes the person
    writing: one blocked while waiting for the lock is refused here.
    """
    with inst.store.lock():
        session.commit()  # only reads happen before the lock: this just ends the snapshot
        session.expire_all()
        accounts.recheck_actor(session)
        catalog.catch_up(session, inst.store)
        yield


def commit_one(inst: Instance, session: Session, changes: dict[str, str | None], user: User | None,
               message: str, trailers: list[tuple[str, str]], author=None,
               committer=None) -> str | None:
    """Commit with the licence trailer, then bring the derived tables up to date."""
    ident = author or accounts.identity(user)
    # A practice whose licence starts or stops differing from the commons' changes REUSE.toml
    # in the same commit, so every revision of the repository is REUSE-compliant.
    changes = {**changes, **reuse_export.follow(inst.store, changes, inst.license)}
    failpoints.hit("locked")  # crash tests only (see failpoints): a no-op otherwise
    revision = inst.store.commit(changes, author=ident, message=message, committer=committer,
                                 trailers=trailers + [("License", inst.license)])
    if revision is not None:
        failpoints.hit("after_git_commit")
        catalog.catch_up(session, inst.store)
        failpoints.hit("after_catalog")
        # Still under the write lock, before the request returns: a search right after a save
        # finds the new text.
        search.index_changes(inst, session, changes)
        from . import proposals  # proposals build on editing: imported when first needed
        for path in changes:
            slug = doc.slug_from_path(path)
            if slug:
                proposals.follow_all(session, slug)
        failpoints.hit("after_index")
    return revision


def unique_slug(session: Session, inst: Instance, title: str) -> str:
    base = doc.slugify(title) or "practice"
    slug, n = base, 2
    while catalog.slug_taken(session, inst.store, slug):
        suffix = f"-{n}"
        slug = base[:doc.SLUG_MAX - len(suffix)].rstrip("-") + suffix
        n += 1
    return slug


def create_practice(inst: Instance, session: Session, user: User | None, *, title: Any,
                    body: Any = None, summary: Any = None, language: Any = "en", tags: Any = None,
                    slug: Any = None, message: Any = None, agree_license: Any = False,
                    extra_meta: dict | None = None) -> SaveResult:
    user = accounts.require_signed_in(user)
    require_license(agree_license, inst.license)
    language = language or "en"
    if body is None or (isinstance(body, str) and not body.strip()):
        body = doc.template_body(language if isinstance(language, str) else "en")
    doc.validate_fields(title, summary, language, body)
    tags = doc.normalise_tags(tags)
    if slug not in (None, ""):
        doc.validate_slug(slug)
    title = title.strip()
    meta: dict[str, Any] = {"title": title}
    if summary:
        meta["summary"] = summary.strip()
    meta.update({"language": language, "tags": tags, "license": inst.license,
                 "stewards": [user.username]})
    meta.update(extra_meta or {})
    text = doc.serialize(doc.Practice(meta, body))
    msg = change_message(message, f"Create {title}")
    with write_lock(inst, session):
        if slug not in (None, ""):
            if catalog.slug_taken(session, inst.store, slug):
                raise SlugTaken("The address %(slug)s is already used by another practice.",
                                field="slug", slug=slug)
        else:
            slug = unique_slug(session, inst, title)
        revision = commit_one(inst, session, {doc.path_for(slug): text}, user, msg, [])
        session.commit()
    return SaveResult(catalog.get_record(session, slug), revision)


def read_current(inst: Instance, record: PracticeRecord) -> doc.Practice:
    return doc.parse(inst.store.read_blob(record.blob_id))


def text_at(inst: Instance, session: Session, slug: str, revision: str) -> str | None:
    found = catalog.version_at(inst.store, session, slug, revision)
    return found[0] if found else None


def update_practice(inst: Instance, session: Session, user: User | None, slug: str, *,
                    base_revision: Any, title: Any = None, body: Any = None, summary: Any = None,
                    language: Any = None, tags: Any = None, message: Any = None,
                    agree_license: Any = False, license: Any = None) -> SaveResult:
    """Save an edit made from ``base_revision``. A stale base is merged three ways; a merge
    with conflicts raises :class:`EditConflict` carrying both versions and the marked merge."""
    record = catalog.get_record(session, slug)
    user = accounts.require_editor(user, record)
    require_license(agree_license, inst.license)
    if base_revision in (None, ""):
        raise ValidationError("base_revision is required: send the revision you started "
                              "editing from, so a concurrent change is never overwritten.",
                              field="base_revision")
    validate_revision(base_revision)
    if license not in (None, ""):
        licensing.require_commons_license(license, inst.licenses)
    msg = change_message(message, f"Edit {slug}")
    with write_lock(inst, session):
        record = catalog.get_record(session, slug)
        user = accounts.require_editor(user, record)  # the stewards may have changed meanwhile
        current = read_current(inst, record)
        mine = current.copy()
        if title is not None:
            mine.meta["title"] = title.strip() if isinstance(title, str) else title
        if summary is not None:
            mine.meta["summary"] = summary.strip() if isinstance(summary, str) else summary
        if language is not None:
            mine.meta["language"] = language
        if license not in (None, ""):
            mine.meta["license"] = license
        if tags is not None:
            mine.meta["tags"] = doc.normalise_tags(tags)
        if body is not None:
            mine.body = body.replace("\r\n", "\n") if isinstance(body, str) else body
        doc.validate_fields(mine.meta.get("title"), mine.meta.get("summary"),
                            mine.meta.get("language", "en"), mine.body)
        if not mine.meta.get("summary"):
            mine.meta.pop("summary", None)
        new_text = doc.serialize(mine)
        current_text = doc.serialize(current)
        merged = False
        full_base = inst.store.resolve(base_revision)
        if full_base != record.revision:
            if not inst.store.is_ancestor(full_base, inst.store.head()):
                raise ValidationError("base_revision is not a revision of the commons.",
                                      field="base_revision")
            base_text = text_at(inst, session, slug, full_base)
            if base_text is None:
                raise ValidationError("This practice did not exist at base_revision.",
                                      field="base_revision")
            result, clean = inst.store.merge_texts(base_text, current_text, new_text)
            if clean:
                try:
                    doc.parse(result)
                except ValidationError:
                    clean = False
            if not clean:
                raise EditConflict(
                    "Someone else changed this practice since you started editing, and both "
                    "changes touch the same lines. Your text is kept below: resolve the "
                    "conflict and save again.",
                    details=dict(current_revision=record.revision, base_revision=full_base,
                                 yours=new_text, theirs=current_text,
                                 merged_with_markers=result))
            new_text, merged = result, True
        if new_text == current_text:
            return SaveResult(record, record.revision, changed=False, merged=merged)
        revision = commit_one(inst, session, {doc.path_for(slug): new_text}, user, msg, [])
        session.commit()
    return SaveResult(catalog.get_record(session, slug), revision, merged=merged)


def revert_practice(inst: Instance, session: Session, user: User | None, slug: str, *,
                    revision: Any, message: Any = None, agree_license: Any = False) -> SaveResult:
    record = catalog.get_record(session, slug)
    user = accounts.require_editor(user, record)
    require_license(agree_license, inst.license)
    validate_revision(revision)
    full = inst.store.resolve(revision)
    with write_lock(inst, session):
        record = catalog.get_record(session, slug)
        user = accounts.require_editor(user, record)  # the stewards may have changed meanwhile
        old_text = text_at(inst, session, slug, full)
        if old_text is None:
            raise NotFound("This practice did not exist at revision %(rev)s.", rev=revision)
        doc.parse(old_text)
        msg = change_message(message, f"Revert {slug} to {full[:10]}")
        new = commit_one(inst, session, {doc.path_for(slug): old_text}, user, msg,
                          [("Reverts", full)])
        session.commit()
        if new is None:
            return SaveResult(record, record.revision, changed=False)
    return SaveResult(catalog.get_record(session, slug), new)


def rename_practice(inst: Instance, session: Session, user: User | None, slug: str, *,
                    new_slug: Any, message: Any = None, agree_license: Any = False) -> SaveResult:
    """``git mv`` in one commit with a ``Renamed-from`` trailer; the old URL redirects."""
    record = catalog.get_record(session, slug)
    user = accounts.require_editor(user, record)
    require_license(agree_license, inst.license)
    doc.validate_slug(new_slug)
    if new_slug == slug:
        raise ValidationError("The new address is the same as the old one.", field="slug")
    with write_lock(inst, session):
        record = catalog.get_record(session, slug)
        user = accounts.require_editor(user, record)  # the stewards may have changed meanwhile
        redirect = session.get(Redirect, new_slug)
        if session.get(PracticeRecord, new_slug) or (redirect and redirect.new_slug != slug) \
                or session.get(Removal, new_slug):  # a removed practice keeps its address
            raise SlugTaken("The address %(slug)s is already used by another practice.",
                            field="slug", slug=new_slug)
        text = inst.store.read_blob(record.blob_id)
        msg = change_message(message, f"Rename {slug} to {new_slug}")
        revision = commit_one(inst, session, {doc.path_for(slug): None,
                                               doc.path_for(new_slug): text},
                               user, msg, [("Renamed-from", slug)])
        session.commit()
    return SaveResult(catalog.get_record(session, new_slug), revision)


def add_steward(inst: Instance, session: Session, actor: User | None, slug: str, username: Any,
                *, agree_license: Any = False, author=None) -> SaveResult:
    """Stewards and admins add stewards; the list lives in the front matter, so in git."""
    record = catalog.get_record(session, slug)
    if author is None:
        actor = accounts.require_editor(actor, record)
    require_license(agree_license, inst.license)
    new = accounts.require_user(session, username)
    with write_lock(inst, session):
        record = catalog.get_record(session, slug)
        if author is None:  # the stewards may have changed meanwhile
            actor = accounts.require_editor(actor, record)
        current = read_current(inst, record)
        if new.username in current.stewards:
            return SaveResult(record, record.revision, changed=False)
        current.meta["stewards"] = current.stewards + [new.username]
        revision = commit_one(inst, session, {doc.path_for(slug): doc.serialize(current)},
                               actor, f"Add {new.username} as a steward of {slug}",
                               [("Metadata-Only", "stewards")],
                               author=author)
        session.commit()
    return SaveResult(catalog.get_record(session, slug), revision)


def delete_account(inst: Instance, session: Session, user: User) -> str:
    """Delete an account: the person's contributions stay in the commons (they were given under
    CC BY-SA 4.0) but are credited to a pseudonym from now on, as §3(a)(3) of the licence lets
    a licensor ask. The pseudonym goes into the repository's ``.mailmap`` so clones honour it
    too. Returns the pseudonym."""
    import secrets

    from sqlalchemy import delete as sql_delete

    from ..models import ApiToken, utcnow

    pseudonym = f"Former contributor {secrets.token_hex(3)}"
    emails = [accounts.noreply(user.username)]
    if user.email_public and user.email:
        emails.append(user.email)
    with write_lock(inst, session):
        current = inst.store.read(catalog.MAILMAP)
        text = current[0] if current else "# Pseudonyms of contributors who left (CC BY-SA 4.0 §3(a)(3))\n"
        text += "".join(f"{pseudonym} <{email}>\n" for email in emails)
        inst.store.commit({catalog.MAILMAP: text}, author=accounts.identity(user),
                          message="Credit a former contributor under a pseudonym")
        catalog.catch_up(session, inst.store)
        search.mark_current(inst, session)  # no practice changed: the index is up to date
        session.execute(sql_delete(ApiToken).where(ApiToken.user_id == user.id))
        user.display_name = pseudonym
        user.email = None
        user.email_public = False
        user.password_hash = None
        user.deleted_at = utcnow()
        session.commit()
    return pseudonym
