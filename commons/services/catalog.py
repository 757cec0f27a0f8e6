"""Derived tables, kept in step with git.

The practice metadata, tags, per-practice change list and rename redirects are a cache of the
repository: :func:`catch_up` applies any commits the tables have not seen (including commits
made behind the app's back), :func:`rebuild` throws them away and replays the whole history, and
:func:`check` reports every way the repository and the tables disagree.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..errors import CommonsError, PracticeNotFound
from ..models import (ChangeRecord, PracticeRecord, PracticeSteward, PracticeTag, Redirect,
                      Removal, State, User)
from . import practice as doc
from . import provenance
from .accounts import NOREPLY_DOMAIN, username_from_email
from .store import REVISION_RE, CommitInfo, Store

CO_AUTHOR_RE = re.compile(r"(.+?)\s*<([^<>\s]+@[^<>\s]+)>")

HEAD_KEY = "head"
MAILMAP = ".mailmap"


def _ts(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def _parse_iso(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


# The derived row's fields a removal keeps (``Removal.record``), to show the practice as it was.
REMOVAL_SNAPSHOT = ("title", "summary", "language", "license", "tags", "stewards",
                    "translations", "forked_from", "source", "credits", "authors", "revision",
                    "blob_id", "created_at", "updated_at", "upstream_slug", "fork_point",
                    "given_back")


def derived_head(session: Session) -> str | None:
    row = session.get(State, HEAD_KEY)
    return row.value if row else None


def _set_head(session: Session, revision: str) -> None:
    row = session.get(State, HEAD_KEY)
    if row is None:
        session.add(State(key=HEAD_KEY, value=revision))
    else:
        row.value = revision


def get_record(session: Session, slug: str) -> PracticeRecord:
    record = session.get(PracticeRecord, slug) if doc.is_valid_slug(slug) else None
    if record is None:
        raise PracticeNotFound("There is no practice called %(slug)s.", slug=slug)
    return record


def find_record(session: Session, slug: str) -> tuple[PracticeRecord | None, str | None]:
    """(record, redirect target): the practice, or where a renamed slug now lives."""
    if not doc.is_valid_slug(slug):
        return None, None
    record = session.get(PracticeRecord, slug)
    if record is not None:
        return record, None
    redirect = session.get(Redirect, slug)
    return None, (redirect.new_slug if redirect else None)


def slug_taken(session: Session, store: Store, slug: str) -> bool:
    return (session.get(PracticeRecord, slug) is not None
            or session.get(Redirect, slug) is not None
            or session.get(Removal, slug) is not None  # reserved until restored
            or store.read(doc.path_for(slug)) is not None)


def version_at(store: Store, session: Session, slug: str, revision: str
               ) -> tuple[str, str] | None:
    """(text, blob id) of a practice at an older revision, following renames back in time."""
    names = [slug] + list(session.scalars(select(Redirect.old_slug)
                                          .where(Redirect.new_slug == slug)))
    for name in names:
        found = store.read(doc.path_for(name), revision)
        if found is not None:
            return found
    return None


# ---- applying commits -----------------------------------------------------------------------------

@dataclass
class _Mailmap:
    """Pseudonyms of people who deleted their account (CC BY-SA 4.0 §3(a)(3))."""

    by_email: dict[str, str]

    @classmethod
    def load(cls, store: Store, revision: str | None = None) -> "_Mailmap":
        found = store.read(MAILMAP, revision) if store.head() else None
        mapping: dict[str, str] = {}
        if found:
            for line in found[0].splitlines():
                line = line.strip()
                if not line or line.startswith("#") or "<" not in line:
                    continue
                name, _, rest = line.partition("<")
                email = rest.split(">", 1)[0].strip().lower()
                if name.strip():
                    mapping[email] = name.strip()
        return cls(mapping)

    def author(self, name: str, email: str) -> tuple[str, str | None]:
        """(display name, username or None) for a commit's author."""
        pseudonym = self.by_email.get((email or "").lower())
        if pseudonym:
            return pseudonym, None
        return name, username_from_email(email)


def _public_email_users(session: Session) -> dict[str, str]:
    rows = session.execute(select(User.email, User.username).where(
        User.email_public.is_(True), User.deleted_at.is_(None))).all()
    return {email.lower(): username for email, username in rows if email}


class _Applier:
    def __init__(self, session: Session, store: Store) -> None:
        self.session = session
        self.store = store
        self.mailmap = _Mailmap.load(store)
        self.public_emails = _public_email_users(session)

    def author_of(self, commit: CommitInfo) -> tuple[str, str | None]:
        return self.person(commit.author_name, commit.author_email)

    def person(self, name: str, email: str) -> tuple[str, str | None]:
        """(display name, username or None) for a name and email found in a commit."""
        name, username = self.mailmap.author(name, email)
        if username is None and email.lower() not in self.mailmap.by_email:
            username = self.public_emails.get(email.lower())
        return name, username

    def co_author(self, value: str) -> tuple[str, str | None]:
        """(name, username or None) of a ``Co-authored-by: Name <email>`` trailer."""
        match = CO_AUTHOR_RE.fullmatch(value.strip())
        if match is None:
            return value.strip()[:200], None
        return self.person(match.group(1).strip()[:200], match.group(2))

    def apply(self, commit: CommitInfo) -> None:
        trailers = commit.trailers
        renamed_from = trailers.get("Renamed-from", [None])[0]
        name, username = self.author_of(commit)
        when = _ts(commit.timestamp)
        paths = {path for _, path, _ in commit.changes}
        if MAILMAP in paths:
            self.mailmap = _Mailmap.load(self.store, commit.revision)
            self._apply_mailmap()
        for status, path, blob in commit.changes:
            slug = doc.slug_from_path(path)
            if slug is None:
                continue
            if status == "D":
                if renamed_from == slug:
                    continue  # handled with the added file
                self._remember_removal(slug, commit, name, username, when)
                self._delete(slug)
                self._change(commit, slug, "delete", name, username, when)
                continue
            record = self.session.get(PracticeRecord, slug)
            kind = "edit" if record else "create"
            previous = None
            removal = self.session.get(Removal, slug) if record is None else None
            if removal is not None:
                # Back after a removal: it keeps its authors and age; restoring credits no one.
                kind, record = "restore", PracticeRecord(
                    slug=slug, authors=list(removal.record.get("authors") or []),
                    created_at=_parse_iso(removal.record.get("created_at")) or when)
                self.session.add(record)
                self.session.delete(removal)
            elif renamed_from and renamed_from != slug and f"practices/{renamed_from}.md" in paths:
                kind, previous = "rename", renamed_from
                record = self._rename(renamed_from, slug)
            elif record is None and "Forked-from" in trailers:
                kind = "fork"
            elif "Metadata-Only" in trailers:
                kind = "metadata"  # stewards or attribution: nobody becomes an author by it
            elif "Source-License" in trailers:
                kind = "import"
            elif "Synced-from" in trailers:
                kind = "sync"
            elif "Proposal" in trailers:
                kind = "give-back"
            elif "Reverts" in trailers or "Moderation" in trailers:
                kind = "revert"
            # A moderator undoing someone's changes, or restoring a practice, writes nothing
            # of their own: they do not become an author by it.
            record = self._upsert(record, slug, blob, commit, name, username, when,
                                  authored=kind not in ("metadata", "restore")
                                  and "Moderation" not in trailers)
            given_back = trailers.get("Given-back", [None])[0]
            if given_back and REVISION_RE.match(given_back):
                record.given_back = given_back
            self._change(commit, slug, kind, name, username, when, previous)
        _set_head(self.session, commit.revision)

    def _remember_removal(self, slug: str, commit: CommitInfo, name: str,
                          username: str | None, when: datetime) -> None:
        """A practice deleted (not renamed): who, when, why (``Removed-Because``), and its
        last derived row, so its page can answer 410 with its history and attribution."""
        record = self.session.get(PracticeRecord, slug)
        snapshot = {}
        if record is not None:
            snapshot = {column: getattr(record, column) for column in REMOVAL_SNAPSHOT}
            for column in ("created_at", "updated_at"):
                snapshot[column] = snapshot[column].isoformat() if snapshot[column] else None
        reason = commit.trailers.get("Removed-Because", [""])[0][:500]
        self.session.merge(Removal(slug=slug, revision=commit.revision, removed_at=when,
                                   removed_by_name=name[:200], removed_by_username=username,
                                   reason=reason, record=snapshot))

    def _delete(self, slug: str) -> None:
        self.session.execute(delete(PracticeTag).where(PracticeTag.slug == slug))
        self.session.execute(delete(PracticeSteward).where(PracticeSteward.slug == slug))
        self.session.execute(delete(PracticeRecord).where(PracticeRecord.slug == slug))

    def _rename(self, old: str, new: str) -> PracticeRecord | None:
        record = self.session.get(PracticeRecord, old)
        self.session.execute(update(ChangeRecord).where(ChangeRecord.slug == old)
                             .values(slug=new))
        self.session.execute(update(Redirect).where(Redirect.new_slug == old)
                             .values(new_slug=new))
        self.session.execute(delete(Redirect).where(Redirect.old_slug == new))
        self.session.merge(Redirect(old_slug=old, new_slug=new))
        self.session.execute(update(PracticeRecord).where(PracticeRecord.upstream_slug == old)
                             .values(upstream_slug=new))
        carried = None
        if record is not None:
            carried = PracticeRecord(slug=new, authors=list(record.authors or []),
                                     created_at=record.created_at, given_back=record.given_back)
            self._delete(old)
            self.session.flush()
            self.session.add(carried)
        return carried

    def _upsert(self, record: PracticeRecord | None, slug: str, blob: str, commit: CommitInfo,
                name: str, username: str | None, when: datetime, authored: bool = True
                ) -> PracticeRecord:
        if record is None:
            record = PracticeRecord(slug=slug, authors=[], created_at=when)
            self.session.add(record)
        error = None
        try:
            parsed = doc.parse(self.store.read_blob(blob))
        except (CommonsError, UnicodeDecodeError) as exc:
            parsed, error = doc.Practice({}, ""), str(exc) or "unreadable"
        meta = parsed.meta
        record.title = parsed.title[:200] or slug
        record.summary = parsed.summary
        record.language = parsed.language[:8]
        record.license = parsed.license[:64]
        record.tags = [t for t in parsed.tags if doc.TAG_RE.match(t)][:40]
        record.stewards = parsed.stewards
        record.translations = parsed.translations
        record.forked_from = meta.get("forked_from") if isinstance(meta.get("forked_from"), dict) else None
        record.source = meta.get("source") if isinstance(meta.get("source"), dict) else None
        record.credits = meta.get("credits") if isinstance(meta.get("credits"), list) else []
        authors = list(record.authors or [])
        if authored:
            # The author, then everyone credited with ``Co-authored-by`` (an accepted proposal
            # credits every author of the proposed changes that way).
            people = [(name, username)] + [self.co_author(value) for value in
                                           commit.trailers.get("Co-authored-by", [])]
            for person_name, person_username in people:
                key = person_username or person_name
                if key and not any((a.get("username") or a.get("name")) == key
                                   for a in authors):
                    authors.append({"name": person_name, "username": person_username})
        record.authors = authors
        record.revision = commit.revision
        record.blob_id = blob
        record.updated_at = when
        record.error = error
        record.upstream_slug, record.fork_point = self._upstream(record.forked_from, slug)
        record.source_key = None if record.forked_from else provenance.key(record.source)
        self.session.flush()
        self.session.execute(delete(PracticeTag).where(PracticeTag.slug == slug))
        for tag in record.tags:
            self.session.add(PracticeTag(slug=slug, tag=tag))
        self.session.execute(delete(PracticeSteward).where(PracticeSteward.slug == slug))
        for username in dict.fromkeys(u for u in record.stewards
                                      if isinstance(u, str) and 0 < len(u) <= 40):
            self.session.add(PracticeSteward(slug=slug, username=username))
        return record

    def _upstream(self, forked_from: dict | None, slug: str) -> tuple[str | None, str | None]:
        """(upstream's current slug, fork point) from ``forked_from``; renames are followed
        through the redirects, so a fork keeps its upstream when the upstream moves."""
        if not forked_from:
            return None, None
        upstream, revision = forked_from.get("slug"), forked_from.get("revision")
        if not (isinstance(upstream, str) and doc.is_valid_slug(upstream)):
            return None, None
        redirect = self.session.get(Redirect, upstream)
        if redirect is not None and self.session.get(PracticeRecord, upstream) is None:
            upstream = redirect.new_slug
        if upstream == slug:
            return None, None
        point = revision if isinstance(revision, str) and REVISION_RE.match(revision) else None
        return upstream, point

    def _change(self, commit: CommitInfo, slug: str, kind: str, name: str, username: str | None,
                when: datetime, previous: str | None = None) -> None:
        proposal = commit.trailers.get("Proposal", [""])[0]
        self.session.add(ChangeRecord(revision=commit.revision, slug=slug, kind=kind,
                                      author_name=name[:200], author_username=username,
                                      timestamp=when, message=commit.subject[:500],
                                      previous_slug=previous,
                                      proposal_id=int(proposal) if proposal.isdigit() and
                                      len(proposal) < 10 else None))

    def _apply_mailmap(self) -> None:
        """Replace deleted accounts' names with their pseudonyms in what was already derived."""
        gone = {email.split("@")[0]: pseudo for email, pseudo in self.mailmap.by_email.items()
                if username_from_email(email)}
        if not gone:
            return
        self.session.flush()
        for username, pseudo in gone.items():
            self.session.execute(update(ChangeRecord).where(ChangeRecord.author_username == username)
                                 .values(author_name=pseudo, author_username=None))
        for record in self.session.scalars(select(PracticeRecord)):
            authors = record.authors or []
            if any(a.get("username") in gone for a in authors):
                record.authors = [{"name": gone[a["username"]], "username": None}
                                  if a.get("username") in gone else a for a in authors]


def apply_commits(session: Session, store: Store, commits: list[CommitInfo]) -> None:
    applier = _Applier(session, store)
    for commit in commits:
        applier.apply(commit)


def catch_up(session: Session, store: Store) -> int:
    """Apply the commits the derived tables have not seen; returns how many. Call with the
    write lock held, before a write, so derived data always reflects every commit."""
    head = store.head()
    seen = derived_head(session)
    if head is None or head == seen:
        return 0
    if seen is None or not store.is_ancestor(seen, head):
        return rebuild(session, store)
    commits = store.log_range(seen, head)
    apply_commits(session, store, commits)
    return len(commits)


def rebuild(session: Session, store: Store) -> int:
    """Forget every derived row and replay the repository's history."""
    for model in (PracticeTag, PracticeSteward, ChangeRecord, Redirect, Removal,
                  PracticeRecord):
        session.execute(delete(model))
    session.execute(delete(State).where(State.key == HEAD_KEY))
    session.flush()
    commits = store.log(reverse=True)
    applier = _Applier(session, store)
    applier.mailmap = _Mailmap({})
    for commit in commits:
        applier.apply(commit)
    return len(commits)


# ---- check ----------------------------------------------------------------------------------------

def _is_member_email(session: Session, email: str) -> bool:
    return session.scalar(select(User.id).where(User.email == email,
                                                User.email_public.is_(True))) is not None


def _fork_point(parsed: doc.Practice) -> str | None:
    forked = parsed.meta.get("forked_from")
    revision = forked.get("revision") if isinstance(forked, dict) else None
    return revision if isinstance(revision, str) and REVISION_RE.match(revision) else None


def check(session: Session, store: Store, license_id: str,
          accepted: tuple[str, ...] | None = None) -> list[str]:
    """Every disagreement between git and the derived data, and every licence problem
    (``accepted``: the licences a practice may carry), as ``path@revision: reason``."""
    from . import license_audit
    from .store import COMMITTER

    problems: list[str] = []
    head = store.head()
    if head is None:
        return ["content@-: the content repository has no commits"]
    for commit in store.log():
        touched = [p for _, p, _ in commit.changes if p.startswith(doc.PRACTICES_DIR + "/")]
        if not touched:
            continue
        where = f"{touched[0]}@{commit.revision}"
        if license_id not in commit.trailers.get("License", []):
            problems.append(f"{where}: missing 'License: {license_id}' trailer")
    # Commons commits everything itself, except an accepted proposal, which the accepting
    # steward commits on the proposer's behalf.
    committers = store._git("log", "--format=%H%x1f%cn%x1f%ce%x1f%(trailers:key=Proposal,"
                            "valueonly,separator=%x2C)", head).stdout.decode().splitlines()
    for line in committers:
        sha, name, email, proposal = line.split("\x1f")
        by_steward = proposal.strip() and (email.endswith("@" + NOREPLY_DOMAIN)
                                           or _is_member_email(session, email))
        if (name, email) != COMMITTER and not by_steward:
            problems.append(f"content@{sha}: commit made outside Commons (committer {name})")
    files = store.list_files(doc.PRACTICES_DIR)
    records = {r.slug: r for r in session.scalars(select(PracticeRecord))}
    for path, blob in sorted(files.items()):
        slug = doc.slug_from_path(path)
        if slug is None:
            problems.append(f"{path}@{head}: not a valid practice file name")
            continue
        parsed = None
        try:
            parsed = doc.parse(store.read_blob(blob))
            if not parsed.title:
                problems.append(f"{path}@{head}: invalid front matter: no title")
        except (CommonsError, UnicodeDecodeError) as exc:
            problems.append(f"{path}@{head}: invalid front matter: {exc}")
        record = records.pop(slug, None)
        if record is None:
            problems.append(f"{path}@{head}: derived data out of date (no row for this practice)")
        elif record.blob_id != blob:
            problems.append(f"{path}@{record.revision}: derived data out of date "
                            f"(row has blob {record.blob_id[:12]}, git has {blob[:12]})")
        elif parsed is not None and record.fork_point != _fork_point(parsed):
            problems.append(f"{path}@{record.revision}: derived data out of date "
                            "(the fork point differs from the front matter's forked_from)")
    for slug, record in sorted(records.items()):
        problems.append(f"practices/{slug}.md@{record.revision}: derived data out of date "
                        "(row for a practice that is not in git)")
    seen = derived_head(session)
    if seen != head:
        problems.append(f"content@{head}: derived data out of date (built from {seen or 'nothing'})")
    problems += license_audit.problems(session, store, license_id, accepted or (license_id,))
    return problems
