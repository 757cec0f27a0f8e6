"""The give-back ledger: for the whole commons, what was taken, improved, and given back.

Fork figures (which forks carry improvements not yet proposed, and since when) come from the
derived tables, so from git alone; proposal figures come from the proposals' review records.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import PracticeRecord, Proposal, utcnow
from . import forks


@dataclass
class Tally:
    forks: int = 0
    unreturned: int = 0
    open: int = 0
    accepted: int = 0
    declined: int = 0
    withdrawn: int = 0


@dataclass
class Ledger:
    unreturned: list[dict[str, Any]] = field(default_factory=list)
    open: list[Proposal] = field(default_factory=list)
    accepted: list[Proposal] = field(default_factory=list)
    declined: list[Proposal] = field(default_factory=list)
    withdrawn: list[Proposal] = field(default_factory=list)
    by_practice: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_contributor: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    totals: Tally = field(default_factory=Tally)
    titles: dict[str, str] = field(default_factory=dict)


def age_days(since: datetime, now: datetime | None = None) -> int:
    return max(0, ((now or utcnow()) - since).days)


def build(session: Session, *, username: str | None = None) -> Ledger:
    """The ledger, for everyone or for one person (the forks they steward, the proposals they
    made). Per contributor, a fork counts for each of its stewards, a proposal for its
    proposer."""
    ledger = Ledger()
    ledger.titles = dict(session.execute(select(PracticeRecord.slug, PracticeRecord.title)).all())
    proposals = list(session.scalars(select(Proposal).order_by(Proposal.id.desc())))
    open_from = {p.fork_slug for p in proposals if p.status == "open"}
    fork_rows = session.scalars(select(PracticeRecord)
                                .where(PracticeRecord.upstream_slug.is_not(None))
                                .order_by(PracticeRecord.slug))
    for record in fork_rows:
        # A fork counts for each of its stewards: they are the ones who can give it back.
        stewards = list(record.stewards or [])
        people = [username] if username is not None else stewards
        if username is not None and username not in stewards:
            continue
        state = forks.standing(session, record)
        if state is None:
            continue
        unreturned = bool(state.ahead) and record.slug not in open_from
        ledger.totals.forks += 1
        ledger.by_practice[record.upstream_slug].forks += 1
        for person in people:
            ledger.by_contributor[person].forks += 1
            ledger.by_contributor[person].unreturned += unreturned
        if unreturned:
            ledger.totals.unreturned += 1
            ledger.by_practice[record.upstream_slug].unreturned += 1
            ledger.unreturned.append({"fork": record.slug, "title": record.title,
                                      "upstream": record.upstream_slug, "ahead": state.ahead,
                                      "behind": state.behind, "since": state.since,
                                      "stewards": stewards})
    ledger.unreturned.sort(key=lambda row: row["since"] or utcnow())
    for proposal in proposals:
        who = proposal.proposer.username
        if username is not None and who != username:
            continue
        getattr(ledger, proposal.status).append(proposal)
        for tally in (ledger.totals, ledger.by_practice[proposal.upstream_slug],
                      ledger.by_contributor[who]):
            setattr(tally, proposal.status, getattr(tally, proposal.status) + 1)
    return ledger


@dataclass(frozen=True)
class Headline:
    """The ledger in one sentence, for the home page."""

    given_back: int
    open: int
    unreturned: int


def headline(session: Session) -> Headline:
    """Counts only: accepted and open proposals by one grouped query, and the forks ahead of
    their upstream with no open proposal (a few indexed counts per fork, no git)."""
    by_status = dict(session.execute(select(Proposal.status, func.count())
                                     .group_by(Proposal.status)).all())
    open_from = set(session.scalars(select(Proposal.fork_slug)
                                    .where(Proposal.status == "open")))
    unreturned = 0
    for record in session.scalars(select(PracticeRecord)
                                  .where(PracticeRecord.upstream_slug.is_not(None))):
        if record.slug in open_from:
            continue
        state = forks.standing(session, record)
        unreturned += bool(state and state.ahead)
    return Headline(given_back=by_status.get("accepted", 0), open=by_status.get("open", 0),
                    unreturned=unreturned)


def _proposal(p: Proposal, now: datetime) -> dict[str, Any]:
    row = {"id": p.id, "title": p.title, "fork": p.fork_slug, "upstream": p.upstream_slug,
           "proposer": {"username": p.proposer.username, "display_name": p.proposer.display_name},
           "status": p.status, "opened": p.created_at.isoformat(),
           "age_days": age_days(p.created_at, now)}
    if p.closed_at:
        row["closed"] = p.closed_at.isoformat()
    if p.accepted_revision:
        row["revision"] = p.accepted_revision
    return row


def as_json(ledger: Ledger) -> dict[str, Any]:
    now = utcnow()
    tally = lambda t: {k: getattr(t, k) for k in Tally.__dataclass_fields__}  # noqa: E731
    return {
        "totals": tally(ledger.totals),
        "unreturned": [{**row, "since": row["since"].isoformat() if row["since"] else None,
                        "age_days": age_days(row["since"], now) if row["since"] else 0}
                       for row in ledger.unreturned],
        "open": [_proposal(p, now) for p in ledger.open],
        "accepted": [_proposal(p, now) for p in ledger.accepted],
        "declined": [{**_proposal(p, now), "reason": p.decline_reason} for p in ledger.declined],
        "withdrawn": [_proposal(p, now) for p in ledger.withdrawn],
        "by_practice": [{"slug": slug, "title": ledger.titles.get(slug), **tally(t)}
                        for slug, t in sorted(ledger.by_practice.items())],
        "by_contributor": [{"username": name, **tally(t)}
                           for name, t in sorted(ledger.by_contributor.items())],
    }
