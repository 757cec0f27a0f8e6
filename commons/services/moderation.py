"""Moderation: block an account, revert everything an account changed since a date, remove a
practice with a reason, and restore it.

Accounts are database state, so a block is a row change (who, when, why), made under the write
lock so that it lands between two writes, never during one. Everything done to practices is
new commits — nothing in git is rewritten — so history and attribution stay readable: a
removal is a commit deleting the file with a ``Removed-Because`` trailer (the derived
``removals`` table is rebuilt from those commits), an account's changes are undone by applying
the inverse of each of its commits as a three-way merge, so later changes by other people stay.

Every function takes the acting person; ``operator=True`` is the command line's server access
(no account, credited as :data:`OPERATOR`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..errors import Conflict, Forbidden, NotFound, ValidationError
from ..models import PracticeRecord, Proposal, ProposalEvent, Removal, User, utcnow
from . import accounts, catalog, forks
from . import practice as doc
from .editing import SaveResult, commit_one, require_license, write_lock
from .instance import SEED_AUTHOR, Instance
from .licensing import N_
from .store import CommitInfo, Identity

REASON_MAX = 500
OPERATOR = Identity("Commons moderators", SEED_AUTHOR.email)


def validate_reason(reason: Any) -> str:
    """A reason goes into a commit trailer and onto pages: one line of 1 to 500 characters."""
    if not isinstance(reason, str) or "\x00" in reason or "\n" in reason or "\r" in reason \
            or not reason.strip() or len(reason.strip()) > REASON_MAX:
        raise ValidationError("A reason is one line of 1 to %(n)s characters.", field="reason",
                              n=REASON_MAX)
    return " ".join(reason.split())


def parse_since(value: Any) -> datetime:
    """A date (``2026-03-01``, midnight UTC) or an ISO date and time; without a zone, UTC."""
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime(value.year, value.month, value.day)
    else:
        try:
            if not isinstance(value, str) or len(value) > 40:
                raise ValueError
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError("since is a date such as 2026-03-01, or an ISO date and time "
                                  "such as 2026-03-01T14:00:00+00:00.", field="since") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _who(operator: bool) -> Identity | None:
    """The commit author: the acting person's identity (None), or the operator's."""
    return OPERATOR if operator else None


# ---- blocking accounts ---

def block_account(inst: Instance, session: Session, actor: User | None, username: Any, *,
                  reason: Any, include_admin: bool = False, operator: bool = False) -> User:
    """Block an account: it can still sign in and read (and learn why), but every write and
    every request with one of its API tokens is refused. Nobody blocks themselves; blocking an
    administrator must be asked for explicitly (``include_admin``), for a hijacked account."""
    if not operator:
        actor = accounts.require_admin(actor)
    reason = validate_reason(reason)
    target = accounts.require_user(session, username)
    if actor is not None and target.id == actor.id:
        raise Forbidden("You cannot block your own account.")
    if target.is_admin and include_admin is not True:
        raise Conflict("%(name)s is an administrator. To block an administrator's account, "
                       "confirm it explicitly.", field="include_admin", name=target.username)
    with write_lock(inst, session):  # lands between two writes; every later write sees it
        target = session.get(User, target.id)
        target.blocked_at = utcnow()
        target.blocked_by = actor.username if actor is not None else None
        target.blocked_reason = reason
        session.commit()
    return target


def unblock_account(inst: Instance, session: Session, actor: User | None, username: Any, *,
                    operator: bool = False) -> User:
    if not operator:
        actor = accounts.require_admin(actor)
    target = accounts.require_user(session, username)
    with write_lock(inst, session):
        target = session.get(User, target.id)
        target.blocked_at = target.blocked_by = target.blocked_reason = None
        session.commit()
    return target


# ---- declining proposals ---

def _decline_open(session: Session, actor: User | None, reason: str, *,
                  proposer: User | None = None, slugs: set[str] = frozenset()) -> list[int]:
    """Decline, with the moderation's reason, the open proposals of ``proposer`` and those to
    or from ``slugs``; returns their numbers."""
    clauses = []
    if proposer is not None:
        clauses.append(Proposal.proposer_id == proposer.id)
    if slugs:
        clauses += [Proposal.upstream_slug.in_(slugs), Proposal.fork_slug.in_(slugs)]
    if not clauses:
        return []
    declined = []
    for proposal in session.scalars(select(Proposal).where(Proposal.status == "open",
                                                           or_(*clauses))):
        upstream = session.get(PracticeRecord, proposal.upstream_slug)
        if upstream is not None:
            proposal.upstream_revision = upstream.revision  # as proposals._freeze does
        now = utcnow()
        proposal.status = "declined"
        proposal.decline_reason = reason
        proposal.closed_at = proposal.updated_at = now
        proposal.closed_by = actor
        session.add(ProposalEvent(proposal=proposal, kind="declined", author=actor, body=reason,
                                  created_at=now))
        declined.append(proposal.id)
    return declined


# ---- removing and restoring practices ---

def removal_of(session: Session, slug: str) -> Removal | None:
    return session.get(Removal, slug) if doc.is_valid_slug(slug) else None


def removed_record(removal: Removal) -> PracticeRecord:
    """The practice as it last was, as a detached row: its history, old revisions and
    attribution read the same way as a present practice's."""
    data = dict(removal.record or {})
    for column in ("created_at", "updated_at"):
        data[column] = catalog._parse_iso(data.get(column)) or removal.removed_at
    data.setdefault("title", removal.slug)
    data.setdefault("revision", removal.revision)
    return PracticeRecord(slug=removal.slug, **{k: v for k, v in data.items()
                                                if k in catalog.REMOVAL_SNAPSHOT})


def removal_json(removal: Removal) -> dict[str, Any]:
    return {"slug": removal.slug, "title": (removal.record or {}).get("title") or removal.slug,
            "removed": removal.removed_at.isoformat(), "revision": removal.revision,
            "last_revision": (removal.record or {}).get("revision"),
            "removed_by": {"username": removal.removed_by_username,
                           "name": removal.removed_by_name},
            "reason": removal.reason}


def may_remove(user: User | None, record: PracticeRecord) -> bool:
    """Administrators, and a practice's stewards for their own practice."""
    return bool(user and user.is_active and not user.is_blocked
                and (user.is_admin or accounts.is_steward(user, record)))


def require_remover(user: User | None, record: PracticeRecord) -> User:
    user = accounts.require_signed_in(user)
    if not may_remove(user, record):
        raise Forbidden("Only this practice's stewards or an administrator can remove it.")
    return user


def remove_practice(inst: Instance, session: Session, actor: User | None, slug: Any, *,
                    reason: Any, operator: bool = False) -> Removal:
    """One commit deleting the file, the reason in a ``Removed-Because`` trailer. Its open
    proposals (to it or from it) are declined with that reason; its forks stay."""
    if isinstance(slug, str) and removal_of(session, slug) is not None:
        raise Conflict("This practice was already removed.")
    record = catalog.get_record(session, slug)
    if not operator:
        actor = require_remover(actor, record)
    reason = validate_reason(reason)
    with write_lock(inst, session):
        record = catalog.get_record(session, slug)
        if not operator:  # the stewards may have changed meanwhile
            actor = require_remover(actor, record)
        commit_one(inst, session, {doc.path_for(record.slug): None}, actor,
                   f"Remove {record.slug}", [("Removed-Because", reason)],
                   author=_who(operator))
        _decline_open(session, actor, reason, slugs={record.slug})
        session.commit()
    return session.get(Removal, slug)


def restore_practice(inst: Instance, session: Session, actor: User | None, slug: Any, *,
                     agree_license: Any = False, operator: bool = False) -> SaveResult:
    """Administrators bring a removed practice back: a commit with its last text, authors and
    history unchanged (``Restores: <removing commit>``)."""
    if not operator:
        actor = accounts.require_admin(actor)
    require_license(agree_license, inst.license)
    if not isinstance(slug, str) or removal_of(session, slug) is None:
        raise NotFound("There is no removed practice called %(slug)s.", slug=slug)
    with write_lock(inst, session):
        removal = removal_of(session, slug)
        if removal is None:
            raise NotFound("There is no removed practice called %(slug)s.", slug=slug)
        path = doc.path_for(slug)
        parent = inst.store.log(revision=removal.revision, max_count=1)[0].parents[0]
        found = inst.store.read(path, parent)
        if found is None:
            raise NotFound("There is no removed practice called %(slug)s.", slug=slug)
        commit_one(inst, session, {path: found[0]}, actor, f"Restore {slug}",
                   [("Restores", removal.revision)], author=_who(operator))
        session.commit()
    record = catalog.get_record(session, slug)
    return SaveResult(record, record.revision)


# ---- reverting an account's changes ---

@dataclass
class RevertReport:
    """What a revert-since did: practices whose changes were undone, practices the account
    created that were removed, practices left for a person to look at (slug, why), and the
    account's open proposals that were declined."""

    username: str
    since: datetime
    revision: str | None = None
    reverted: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    manual: list[tuple[str, str]] = field(default_factory=list)
    declined: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"username": self.username, "since": self.since.isoformat(),
                "revision": self.revision, "reverted": self.reverted, "removed": self.removed,
                "manual_review": [{"slug": s, "reason": why} for s, why in self.manual],
                "declined_proposals": self.declined}


@dataclass
class _Plan:
    commits: list[CommitInfo] = field(default_factory=list)  # newest first
    created: bool = False
    manual: str | None = None


# Why a practice is left for manual review (msgids, translated where they are shown).
RENAMED = N_("renamed by this account")
DELETED = N_("removed by this account")
CONFLICTS = N_("later changes by other people touch the same lines")
BROKEN = N_("undoing the changes would leave invalid front matter")


def _emails(user: User) -> set[str]:
    """The author addresses the account's commits carry (as ``catalog`` attributes them)."""
    emails = {accounts.noreply(user.username)}
    if user.email_public and user.email:
        emails.add(user.email.lower())
    return emails


def _plans(commits: list[CommitInfo]) -> dict[str, _Plan]:
    plans: dict[str, _Plan] = {}
    for commit in commits:
        renamed = "Renamed-from" in commit.trailers
        for status, path, _blob in commit.changes:
            slug = doc.slug_from_path(path)
            if slug is None:
                continue
            plan = plans.setdefault(slug, _Plan())
            if renamed:
                plan.manual = RENAMED
            elif status == "D":
                plan.manual = plan.manual or DELETED
            elif status == "A":
                plan.created = True
            else:
                plan.commits.append(commit)
    return plans


def revert_since(inst: Instance, session: Session, actor: User | None, username: Any, *,
                 since: Any, reason: Any, agree_license: Any = False,
                 operator: bool = False) -> RevertReport:
    """Undo every change the account made at or after ``since``, in one commit.

    For each practice it touched, the inverse of each of its commits is merged three ways into
    the current text, newest first (base = after its commit, ours = now, theirs = before it),
    so what other people changed later stays. A practice it created in that time is removed
    (``Removed-Because: reason``). A practice whose inverse does not merge cleanly, or that it
    renamed or removed, is left as it is and reported. Its open proposals are declined with
    the reason."""
    if not operator:
        actor = accounts.require_admin(actor)
    require_license(agree_license, inst.license)
    reason = validate_reason(reason)
    when = parse_since(since)
    target = accounts.require_user(session, username)
    report = RevertReport(target.username, when)
    store = inst.store
    with write_lock(inst, session):
        target = session.get(User, target.id)
        emails, cutoff = _emails(target), when.timestamp()
        mine = [c for c in store.log() if c.timestamp >= cutoff
                and c.author_email.lower() in emails]
        changes: dict[str, str | None] = {}
        done: set[str] = set()
        for slug, plan in sorted(_plans(mine).items()):
            current = forks.resolve_slug(session, slug)
            if current is None or current in done:
                continue  # gone already, or reached through another of its names
            done.add(current)
            path = doc.path_for(current)
            if plan.manual:
                report.manual.append((current, plan.manual))
            elif plan.created:
                changes[path] = None
                report.removed.append(current)
            else:
                text = _undo(store, path, slug, plan.commits)
                if isinstance(text, tuple):
                    report.manual.append((current, text[0]))
                elif text != store.read(path)[0]:
                    changes[path] = text
                    report.reverted.append(current)
        if changes:
            iso = when.isoformat()
            trailers = [("Moderation", f"revert {target.username} since {iso}")]
            if report.removed:
                trailers.append(("Removed-Because", reason))
            report.revision = commit_one(
                inst, session, changes, actor,
                f"Revert the changes of {target.username} since {iso}: {reason}"[:500],
                trailers, author=_who(operator))
        report.declined = _decline_open(session, actor, reason, proposer=target,
                                        slugs=set(report.removed))
        session.commit()
    return report


def _undo(store, path: str, slug: str, commits: list[CommitInfo]) -> str | tuple[str]:
    """The current text with each commit's change taken out (newest first), or (why,)."""
    text = store.read(path)[0]
    old_path = doc.path_for(slug)
    for commit in commits:
        after = store.read(old_path, commit.revision)
        before = store.read(old_path, commit.parents[0]) if commit.parents else None
        if after is None or before is None:
            return (RENAMED,)
        merged, clean = store.merge_texts(after[0], text, before[0])
        if not clean:
            return (CONFLICTS,)
        text = merged
    try:
        doc.parse(text)
    except ValidationError:
        return (BROKEN,)
    return text
