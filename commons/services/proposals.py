"""Give back: a fork's improvement proposed upstream, reviewed, and accepted with credit.

A proposal's review (status, thread, reviewers) is in the database, because git has no place
for it; the accepted change is in git, in one upstream commit authored by the proposer,
committed by the accepting steward, with ``Co-authored-by`` for every other author of the
proposed changes and ``Proposal``/``Forked-from`` trailers. The fork then gets a ``Synced-from``
commit with ``Given-back: <fork revision>`` so it is no longer ahead.

A proposal is pinned to the fork revision it was made from. When the fork moves while the
proposal is open, the pin follows and an ``updated`` event in the thread tells the reviewers;
an accept sent against the old pin is refused, so nobody accepts what they have not seen.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..errors import Conflict, EditConflict, Forbidden, NotFound, ValidationError
from ..models import PracticeSteward, Proposal, ProposalEvent, User, utcnow
from . import accounts, catalog, diffs, forks
from . import practice as doc
from .editing import commit_one, read_current, require_license, write_lock
from .instance import Instance
from .store import Identity, is_full_revision

STATUSES = ("open", "accepted", "declined", "withdrawn")
TITLE_MAX = 200
TEXT_MAX = 20_000


# What each free-text field is called in messages ("%(name)s is required." reads in both
# languages once the name is translated too).
LABELS = {"title": _l("The title"), "message": _l("The message"), "reason": _l("The reason"),
          "body": _l("The comment")}
STATUS_NAMES = {"open": _lp("proposal", "open"), "accepted": _lp("proposal", "accepted"),
                "declined": _lp("proposal", "declined"), "withdrawn": _lp("proposal", "withdrawn")}


def _text(value: Any, field: str, *, required: bool, maximum: int = TEXT_MAX) -> str:
    name = LABELS[field]
    if value is None:
        value = ""
    if not isinstance(value, str) or "\x00" in value:
        raise ValidationError("%(name)s must be text.", field=field, name=name)
    value = value.strip()
    if required and not value:
        raise ValidationError("%(name)s is required.", field=field, name=name)
    if len(value) > maximum:
        raise ValidationError("%(name)s is at most %(n)s characters.", field=field, name=name,
                              n=maximum)
    return value


def _revision(value: Any, field: str) -> str:
    """A revision the reviewer saw: a full commit id, checked before anything is compared."""
    if not is_full_revision(value):
        raise ValidationError("%(name)s must be the 40-character revision you reviewed.",
                              field=field, name=field)
    return value


ID_MAX = 2**63 - 1  # the largest SQL BIGINT / SQLite INTEGER


def get(session: Session, proposal_id: Any) -> Proposal:
    valid = (isinstance(proposal_id, int) and not isinstance(proposal_id, bool)
             and 0 < proposal_id <= ID_MAX)  # larger ids overflow SQL integers (a 500 before)
    proposal = session.get(Proposal, proposal_id) if valid else None
    if proposal is None:
        raise NotFound("There is no proposal number %(id)s.", id=proposal_id)
    return proposal


def fork_record(session: Session, proposal: Proposal):
    slug = forks.resolve_slug(session, proposal.fork_slug)
    return session.get(forks.PracticeRecord, slug) if slug else None


def upstream_record(session: Session, proposal: Proposal):
    slug = forks.resolve_slug(session, proposal.upstream_slug)
    return session.get(forks.PracticeRecord, slug) if slug else None


def _event(session: Session, proposal: Proposal, kind: str, author: User | None,
           body: str = "", revision: str | None = None) -> ProposalEvent:
    event = ProposalEvent(proposal=proposal, kind=kind, author=author, body=body,
                          revision=revision, created_at=utcnow())
    session.add(event)
    proposal.updated_at = event.created_at
    return event


def follow_fork(session: Session, proposal: Proposal) -> bool:
    """Move an open proposal's pin to the fork's newest revision, telling the reviewers in the
    thread. Returns whether it moved."""
    fork = fork_record(session, proposal)
    if proposal.status != "open" or fork is None or fork.revision == proposal.fork_revision:
        return False
    proposal.fork_revision = fork.revision
    proposal.fork_slug = fork.slug
    _event(session, proposal, "updated", None, revision=fork.revision)
    return True


def follow_all(session: Session, slug: str) -> None:
    """After a commit to a practice (called by the writes): proposals follow a rename, and every
    open proposal from a fork that moved follows it."""
    current = forks.resolve_slug(session, slug)
    if current and current != slug:
        session.execute(update(Proposal).where(Proposal.upstream_slug == slug)
                        .values(upstream_slug=current))
        session.execute(update(Proposal).where(Proposal.fork_slug == slug)
                        .values(fork_slug=current))
        slug = current
    for proposal in session.scalars(select(Proposal).where(Proposal.fork_slug == slug,
                                                           Proposal.status == "open")):
        follow_fork(session, proposal)


@dataclass
class Review:
    """What a reviewer looks at: the proposed text merged into the upstream's text — its current
    text while the proposal is open, the text it was closed against afterwards."""

    proposal: Proposal
    fork: Any
    upstream: Any
    upstream_revision: str
    upstream_body: str
    proposed_body: str
    merged: str
    clean: bool

    @property
    def rows(self) -> list:
        return diffs.diff_rows(self.upstream_body, self.merged)

    @property
    def diff(self) -> str:
        return diffs.unified(self.upstream_body, self.merged,
                             f"{self.upstream.slug}@{self.upstream_revision[:10]}",
                             f"{self.fork.slug}@{self.proposal.fork_revision[:10]}")


def review(inst: Instance, session: Session, proposal: Proposal) -> Review | None:
    """The three-way merge of the pinned fork text into the upstream's text, from the fork
    point the pinned revision was based on. A closed proposal stays readable as it was closed:
    an accepted one shows the change it made upstream, a declined or withdrawn one the merge
    against the upstream text of that moment. None when either practice is gone."""
    fork, upstream = fork_record(session, proposal), upstream_record(session, proposal)
    if fork is None or upstream is None:
        return None
    found = catalog.version_at(inst.store, session, fork.slug, proposal.fork_revision)
    pinned = doc.parse(found[0]) if found else read_current(inst, fork)
    if proposal.status == "open":
        against, upstream_body = upstream.revision, read_current(inst, upstream).body
    else:
        against = proposal.upstream_revision
        upstream_body = forks.body_at(inst, session, upstream.slug, against)
    if proposal.status == "accepted" and proposal.accepted_revision:
        merged = forks.body_at(inst, session, upstream.slug, proposal.accepted_revision)
        return Review(proposal, fork, upstream, against, upstream_body, pinned.body, merged, True)
    point = (pinned.meta.get("forked_from") or {}).get("revision")
    base = forks.body_at(inst, session, upstream.slug, point if isinstance(point, str) else None)
    merged, clean = inst.store.merge_texts(base, upstream_body, pinned.body,
                                           labels=(upstream.slug, "fork point", fork.slug))
    return Review(proposal, fork, upstream, against, upstream_body, pinned.body, merged, clean)


def open_proposal(inst: Instance, session: Session, user: User | None, fork_slug: str, *,
                  title: Any, message: Any = "") -> Proposal:
    """A fork's stewards propose its improvements upstream. Under the write lock, so two
    requests cannot open two proposals from the same fork."""
    user = accounts.require_signed_in(user)
    title = _text(title, "title", required=True, maximum=TITLE_MAX)
    message = _text(message, "message", required=False)
    with write_lock(inst, session):
        fork = catalog.get_record(session, fork_slug)
        if not accounts.is_steward(user, fork) and not user.is_admin:
            raise Forbidden("Only the stewards of %(slug)s can propose its changes upstream.",
                            slug=fork.slug)
        upstream = forks.upstream_of(session, fork)
        state = forks.standing(session, fork)
        if not state or state.ahead == 0:
            raise ValidationError("%(slug)s has no improvements to give back: it is not ahead "
                                  "of %(upstream)s.", slug=fork.slug, upstream=upstream.slug)
        existing = session.scalar(select(Proposal).where(Proposal.fork_slug == fork.slug,
                                                         Proposal.upstream_slug == upstream.slug,
                                                         Proposal.status == "open"))
        if existing is not None:
            raise Conflict("Proposal %(id)s from this fork is still open: it follows the fork's "
                           "new changes, so there is no need for another.", id=existing.id,
                           details={"proposal": existing.id})
        proposal = Proposal(fork_slug=fork.slug, upstream_slug=upstream.slug, proposer=user,
                            title=title, message=message, status="open",
                            fork_revision=fork.revision, upstream_revision=upstream.revision,
                            created_at=utcnow(), updated_at=utcnow())
        session.add(proposal)
        _event(session, proposal, "opened", user, revision=fork.revision)
        current = review(inst, session, proposal)
        if current is not None and current.clean and current.merged == current.upstream_body:
            session.rollback()
            raise ValidationError("The text of %(slug)s brings nothing new to %(upstream)s: "
                                  "its changes are already there.", slug=fork.slug,
                                  upstream=upstream.slug)
        session.commit()
    return proposal


def may_review(user: User | None, proposal: Proposal, upstream) -> bool:
    """Upstream's stewards review; admins too, but nobody accepts their own proposal to a
    practice they do not steward."""
    if user is None or upstream is None:
        return False
    if accounts.is_steward(user, upstream):
        return True
    return user.is_admin and user.id != proposal.proposer_id


def _require_reviewer(session: Session, user: User | None, proposal: Proposal):
    user = accounts.require_signed_in(user)
    upstream = upstream_record(session, proposal)
    if upstream is None:
        raise NotFound("The practice this proposal was made to is no longer in the commons.")
    if not may_review(user, proposal, upstream):
        if user.id == proposal.proposer_id:
            raise Forbidden("You cannot review your own proposal: the stewards of %(slug)s "
                            "decide.", slug=upstream.slug)
        raise Forbidden("Only the stewards of %(slug)s (or an administrator) can accept or "
                        "decline proposals to it.", slug=upstream.slug)
    return user, upstream


def _require_open(proposal: Proposal) -> None:
    if proposal.status != "open":
        raise Conflict("This proposal is %(status)s: it can no longer change.",
                       status=STATUS_NAMES[proposal.status])


def _co_authors(session: Session, fork, proposal: Proposal, proposer: User) -> list[str]:
    """``Name <email>`` of everyone else who wrote the proposed changes, in order."""
    seen, result = {proposer.username}, []
    for change in forks._own_changes(session, fork, until=proposal.fork_revision):
        username = change.author_username
        if not username or username in seen:
            continue
        seen.add(username)
        person = accounts.get_user(session, username)
        ident = accounts.identity(person) if person else Identity(change.author_name,
                                                                  accounts.noreply(username))
        result.append(f"{ident.name} <{ident.email}>")
    return result


def accept(inst: Instance, session: Session, user: User | None, proposal_id: Any, *,
           fork_revision: Any, upstream_revision: Any, agree_license: Any = False,
           resolved_body: Any = None) -> Proposal:
    """Commit the proposed text to the upstream (author: the proposer; committer: the steward),
    then advance the fork's fork point. Refused with 409 if either side moved since the
    reviewer looked, or if the merge conflicts and no resolution was sent."""
    proposal = get(session, proposal_id)
    user, upstream = _require_reviewer(session, user, proposal)
    fork_revision = _revision(fork_revision, "fork_revision")
    upstream_revision = _revision(upstream_revision, "upstream_revision")
    require_license(agree_license, inst.license)
    if resolved_body is not None:
        doc.validate_fields("x", None, "en", resolved_body)
    with write_lock(inst, session):
        proposal = get(session, proposal_id)
        user, upstream = _require_reviewer(session, user, proposal)
        _require_open(proposal)
        moved = follow_fork(session, proposal)
        fork = fork_record(session, proposal)
        if fork is None:
            raise NotFound("The fork this proposal comes from is no longer in the commons.")
        if moved or fork_revision != proposal.fork_revision:
            session.commit()  # the pin's move and its event stay, for the reviewers to see
            raise Conflict("The fork changed since you reviewed this proposal: review its new "
                           "changes, then accept again.",
                           details={"fork_revision": proposal.fork_revision,
                                    "upstream_revision": upstream.revision})
        if upstream_revision != upstream.revision:
            raise Conflict("%(slug)s changed since you reviewed this proposal: review the merge "
                           "again, then accept.", slug=upstream.slug,
                           details={"fork_revision": proposal.fork_revision,
                                    "upstream_revision": upstream.revision})
        current = review(inst, session, proposal)
        assert current is not None
        if resolved_body is not None:
            body = resolved_body.replace("\r\n", "\n")
        elif not current.clean:
            raise EditConflict(
                "%(slug)s changed the same lines as the proposal. Resolve the conflict, then "
                "accept the resolved text.", slug=upstream.slug,
                details=dict(current_revision=upstream.revision,
                             base_revision=fork.fork_point, yours=current.proposed_body,
                             theirs=current.upstream_body, merged_with_markers=current.merged))
        else:
            body = current.merged
        proposer = proposal.proposer
        target = read_current(inst, upstream)
        target.body = body
        trailers = [("Co-authored-by", who) for who in _co_authors(session, fork, proposal,
                                                                   proposer)]
        trailers += [("Proposal", str(proposal.id)),
                     ("Forked-from", f"{fork.slug}@{proposal.fork_revision}")]
        accepted = commit_one(inst, session, {doc.path_for(upstream.slug): doc.serialize(target)},
                              None, f"{proposal.title} (proposal {proposal.id} from {fork.slug})",
                              trailers, author=accounts.identity(proposer),
                              committer=accounts.identity(user))
        if accepted is None:
            raise ValidationError("%(slug)s already has this text: decline the proposal or ask "
                                  "its author to withdraw it.", slug=upstream.slug)
        upstream = catalog.get_record(session, upstream.slug)
        proposal.status = "accepted"
        proposal.upstream_revision = upstream_revision  # what the accepted commit applied to
        proposal.accepted_revision = accepted
        proposal.closed_at = utcnow()
        proposal.closed_by = user
        _event(session, proposal, "accepted", user, revision=accepted)
        session.flush()
        # The fork takes the accepted text in, and its fork point moves past its given changes.
        # Where the reviewer's resolution rewrote lines the fork changed, the fork takes the
        # accepted wording: keeping its own would hide the upstream's side of the conflict
        # once the fork point has moved. The proposed wording stays in the fork's history.
        fork_doc = read_current(inst, fork)
        base = forks.body_at(inst, session, upstream.slug, fork.fork_point)
        synced, clean = inst.store.merge_texts(base, fork_doc.body, body)
        commit_one(inst, session,
                   {doc.path_for(fork.slug): forks._synced_text(
                       fork_doc, upstream, synced if clean else body)},
                   user, f"Sync {fork.slug} with {upstream.slug} after proposal {proposal.id}",
                   [("Synced-from", f"{upstream.slug}@{upstream.revision}"),
                    ("Proposal", str(proposal.id)),
                    ("Given-back", proposal.fork_revision)])
        session.commit()
    return proposal


def _freeze(session: Session, proposal: Proposal) -> None:
    """Pin the upstream revision a proposal is closed against, so it reads the same forever."""
    upstream = upstream_record(session, proposal)
    if upstream is not None:
        proposal.upstream_revision = upstream.revision


def decline(session: Session, user: User | None, proposal_id: Any, *, reason: Any) -> Proposal:
    proposal = get(session, proposal_id)
    user, _upstream = _require_reviewer(session, user, proposal)
    _require_open(proposal)
    reason = _text(reason, "reason", required=True)
    _freeze(session, proposal)
    proposal.status = "declined"
    proposal.decline_reason = reason
    proposal.closed_at = utcnow()
    proposal.closed_by = user
    _event(session, proposal, "declined", user, body=reason)
    session.commit()
    return proposal


def withdraw(session: Session, user: User | None, proposal_id: Any) -> Proposal:
    proposal = get(session, proposal_id)
    user = accounts.require_signed_in(user)
    if user.id != proposal.proposer_id:
        raise Forbidden("Only the person who made this proposal can withdraw it.")
    _require_open(proposal)
    _freeze(session, proposal)
    proposal.status = "withdrawn"
    proposal.closed_at = utcnow()
    proposal.closed_by = user
    _event(session, proposal, "withdrawn", user)
    session.commit()
    return proposal


def comment(session: Session, user: User | None, proposal_id: Any, *, body: Any
            ) -> ProposalEvent:
    """Anyone signed in joins the discussion, while the proposal is open or after."""
    proposal = get(session, proposal_id)
    user = accounts.require_signed_in(user)
    event = _event(session, proposal, "comment", user, body=_text(body, "body", required=True))
    session.commit()
    return event


def listing(session: Session, *, status: str | None = None, practice: str | None = None,
            user: str | None = None, page: int = 1, per_page: int = 50
            ) -> tuple[int, list[Proposal]]:
    """Proposals, newest first; ``practice`` matches either end (fork or upstream)."""
    query = select(Proposal)
    if status:
        if status not in STATUSES:
            raise ValidationError("status is one of %(choices)s.", field="status",
                                  choices=", ".join(STATUSES))
        query = query.where(Proposal.status == status)
    if practice:
        slug = forks.resolve_slug(session, practice) or practice
        query = query.where((Proposal.upstream_slug == slug) | (Proposal.fork_slug == slug))
    if user:
        person = accounts.get_user(session, user)
        query = query.where(Proposal.proposer_id == (person.id if person else -1))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Proposal.id.desc())
                           .offset((page - 1) * per_page).limit(per_page))
    return total, list(rows)


def _stewarded(user: User):
    return select(PracticeSteward.slug).where(PracticeSteward.username == user.username)


def waiting_for(session: Session, user: User) -> list[Proposal]:
    """Open proposals to practices this person stewards (what the home page and their feed
    show them)."""
    return list(session.scalars(select(Proposal).where(Proposal.upstream_slug.in_(
        _stewarded(user)), Proposal.status == "open").order_by(Proposal.updated_at.desc())))


def events_for(session: Session, user: User, limit: int = 50) -> list[ProposalEvent]:
    """What happened to proposals to practices this person stewards, newest first (their feed)."""
    return list(session.scalars(select(ProposalEvent).join(Proposal)
                                .where(Proposal.upstream_slug.in_(_stewarded(user)))
                                .order_by(ProposalEvent.id.desc()).limit(limit)))
