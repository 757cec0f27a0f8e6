"""Take and improve: forks, their lineage, how a fork stands against its upstream, and sync.

Everything that defines a fork is in git, so a clone carries the whole lineage: the fork's
front matter says ``forked_from: {slug, revision}`` (the upstream revision it last started from
or synced with: its *fork point*), its first commit carries ``Forked-from: <slug>@<revision>``,
each sync ``Synced-from: <slug>@<revision>``, and the fork commit that follows an accepted
proposal ``Given-back: <fork revision>``. The derived tables only index those facts.

What travels between a fork and its upstream is the Markdown text (the body). Each keeps its own
front matter: title, summary, tags, stewards and translations are the practice's own, so a
proposal never renames the upstream or hands its stewardship to the forker.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import Conflict, EditConflict, NotFound, SlugTaken, ValidationError
from ..models import ChangeRecord, PracticeRecord, Redirect, Removal, User
from . import accounts, catalog, diffs
from . import practice as doc
from .editing import (SaveResult, change_message, commit_one, read_current, require_license,
                      unique_slug, write_lock)
from .instance import Instance
from .store import is_full_revision

# Commits on a fork that are not improvements of its own: the fork itself, syncs, renames, and
# changes of who stewards it or who is named in its attribution.
NOT_OWN = ("fork", "sync", "rename", "metadata")
# Upstream commits that bring no text to pull in.
NO_TEXT = ("rename", "metadata")
MAX_DEPTH = 100


@dataclass
class Standing:
    """How a fork stands against its upstream, like a branch against its base."""

    upstream: str
    fork_point: str | None
    ahead: int
    behind: int
    since: datetime | None = None  # when the first improvement not yet given back was made


@dataclass
class Branch:
    record: PracticeRecord
    standing: Standing | None
    forks: list["Branch"] = field(default_factory=list)


# ---- reading ------------------------------------------------------------------------------------

def resolve_slug(session: Session, slug: str) -> str | None:
    """The current slug of a practice, following renames; None if it is gone."""
    if not doc.is_valid_slug(slug):
        return None
    if session.get(PracticeRecord, slug) is not None:
        return slug
    redirect = session.get(Redirect, slug)
    if redirect is not None and session.get(PracticeRecord, redirect.new_slug) is not None:
        return redirect.new_slug
    return None


def _position(session: Session, revision: str | None) -> int:
    """Where a commit stands in the (linear) history of ``main``: the derived change rows are
    numbered in commit order. 0 when unknown, so everything counts as after it."""
    if not revision:
        return 0
    found = session.scalar(select(func.min(ChangeRecord.id))
                           .where(ChangeRecord.revision == revision))
    return found or 0


def _own_changes(session: Session, record: PracticeRecord, until: str | None = None):
    """The fork's own improvements not yet given back (optionally only up to ``until``)."""
    query = (select(ChangeRecord).where(ChangeRecord.slug == record.slug,
                                        ChangeRecord.kind.not_in(NOT_OWN),
                                        ChangeRecord.id > _position(session, record.given_back))
             .order_by(ChangeRecord.id))
    if until is not None:
        query = query.where(ChangeRecord.id <= _position(session, until))
    return list(session.scalars(query))


def standing(session: Session, record: PracticeRecord) -> Standing | None:
    """Ahead = the fork's commits since it was taken, other than the fork, syncs and renames,
    and not yet given back; behind = the upstream's commits since the fork point (but renames
    and steward or attribution changes: they bring no text to pull in)."""
    if not record.upstream_slug:
        return None
    own = _own_changes(session, record)
    behind = session.scalar(select(func.count()).select_from(ChangeRecord).where(
        ChangeRecord.slug == record.upstream_slug, ChangeRecord.kind.not_in(NO_TEXT),
        ChangeRecord.id > _position(session, record.fork_point))) or 0
    return Standing(upstream=record.upstream_slug, fork_point=record.fork_point,
                    ahead=len(own), behind=behind, since=own[0].timestamp if own else None)


def ancestors(session: Session, record: PracticeRecord) -> list[dict[str, Any]]:
    """The chain of upstreams, nearest first, each with the revision its child was taken at."""
    chain: list[dict[str, Any]] = []
    seen = {record.slug}
    current = record
    while current.forked_from and len(chain) < MAX_DEPTH:
        revision = current.fork_point
        slug = current.upstream_slug
        parent = session.get(PracticeRecord, slug) if slug else None
        if parent is None:
            gone = current.forked_from.get("slug")
            # removed with a reason: its page (410) says why, and keeps history and attribution
            removed = doc.is_valid_slug(gone) and session.get(Removal, gone) is not None
            chain.append({"slug": gone, "title": None, "revision": revision, "missing": True,
                          "removed": removed})
            break
        if parent.slug in seen:
            break
        seen.add(parent.slug)
        chain.append({"slug": parent.slug, "title": parent.title, "revision": revision})
        current = parent
    return chain


def forks_of(session: Session, slug: str) -> list[PracticeRecord]:
    return list(session.scalars(select(PracticeRecord)
                                .where(PracticeRecord.upstream_slug == slug)
                                .order_by(PracticeRecord.created_at, PracticeRecord.slug)))


def tree(session: Session, record: PracticeRecord, _seen: set[str] | None = None) -> Branch:
    """The practice and every fork below it, to any depth (each practice once)."""
    seen = _seen if _seen is not None else set()
    seen.add(record.slug)
    branch = Branch(record, standing(session, record))
    for child in forks_of(session, record.slug):
        if child.slug not in seen and len(seen) < 10_000:
            branch.forks.append(tree(session, child, seen))
    return branch


def pruned(branch: Branch, limit: int) -> tuple[Branch, int]:
    """The tree cut to its first ``limit`` descendants, nearest generations first, and how many
    were left out: a popular practice's page shows its variants without growing without
    bound (the family page draws them all)."""
    root = Branch(branch.record, branch.standing)
    queue = deque([(branch, root)])
    kept = total = 0
    while queue:
        original, copy = queue.popleft()
        for child in original.forks:
            total += 1
            if kept < limit:
                kept += 1
                kept_child = Branch(child.record, child.standing)
                copy.forks.append(kept_child)
                queue.append((child, kept_child))
            else:
                queue.append((child, Branch(child.record, child.standing)))
    return root, total - kept


def root_of(session: Session, record: PracticeRecord) -> PracticeRecord:
    """The oldest ancestor still in the commons: where the family tree starts."""
    chain = [a for a in ancestors(session, record) if not a.get("missing")]
    return session.get(PracticeRecord, chain[-1]["slug"]) if chain else record


def lineage(session: Session, record: PracticeRecord) -> dict[str, Any]:
    """``{ancestors: [nearest first], forks: [tree]}`` as the API gives it."""
    def as_dict(branch: Branch) -> dict[str, Any]:
        s = branch.standing
        return {"slug": branch.record.slug, "title": branch.record.title,
                "ahead": s.ahead if s else 0, "behind": s.behind if s else 0,
                "forks": [as_dict(child) for child in branch.forks]}

    return {"ancestors": ancestors(session, record),
            "forks": [as_dict(child) for child in tree(session, record).forks]}


def upstream_of(session: Session, record: PracticeRecord) -> PracticeRecord:
    if not record.upstream_slug:
        raise ValidationError("%(slug)s is not a fork: it has no upstream to compare with.",
                              slug=record.slug)
    upstream = session.get(PracticeRecord, record.upstream_slug)
    if upstream is None:
        raise NotFound("The practice %(slug)s was forked from is no longer in the commons.",
                       slug=record.slug)
    return upstream


def body_at(inst: Instance, session: Session, slug: str, revision: str | None) -> str:
    """The Markdown body of a practice at a revision ("" if it did not exist then)."""
    if not revision:
        return ""
    found = catalog.version_at(inst.store, session, slug, revision)
    return doc.parse(found[0]).body if found else ""


@dataclass
class Comparison:
    standing: Standing
    fork: PracticeRecord
    upstream: PracticeRecord
    base_body: str      # the upstream's text at the fork point
    fork_body: str
    upstream_body: str

    @property
    def diff(self) -> str:
        """What the fork changed since its fork point, as a unified diff."""
        return diffs.unified(self.base_body, self.fork_body,
                             f"{self.upstream.slug}@{(self.standing.fork_point or '')[:10]}",
                             f"{self.fork.slug}@{self.fork.revision[:10]}")


def compare(inst: Instance, session: Session, record: PracticeRecord) -> Comparison:
    upstream = upstream_of(session, record)
    state = standing(session, record)
    assert state is not None
    return Comparison(state, record, upstream, body_at(inst, session, upstream.slug, record.fork_point),
                      read_current(inst, record).body, read_current(inst, upstream).body)


# ---- writing ------------------------------------------------------------------------------------

def fork_practice(inst: Instance, session: Session, user: User | None, slug: str, *,
                  new_slug: Any = None, title: Any = None, agree_license: Any = False,
                  message: Any = None) -> SaveResult:
    """Take a practice: a new practice with the same text, the forker as its first steward,
    ``forked_from`` pointing at the upstream revision it was taken from."""
    user = accounts.require_signed_in(user)
    require_license(agree_license, inst.license)
    if new_slug not in (None, ""):
        doc.validate_slug(new_slug)
    if title not in (None, ""):
        doc.validate_fields(title, None, "en", "")
    with write_lock(inst, session):
        upstream = catalog.get_record(session, slug)
        source = read_current(inst, upstream)
        meta = {k: v for k, v in source.meta.items()
                if k not in ("stewards", "translations", "forked_from")}
        meta["title"] = title.strip() if isinstance(title, str) and title.strip() else \
            source.title
        meta["license"] = source.license or inst.license
        meta["stewards"] = [user.username]
        meta["forked_from"] = {"slug": upstream.slug, "revision": upstream.revision}
        if new_slug not in (None, ""):
            if catalog.slug_taken(session, inst.store, new_slug):
                raise SlugTaken("The address %(slug)s is already used by another practice.",
                                field="slug", slug=new_slug)
            fork_slug = new_slug
        else:
            fork_slug = unique_slug(session, inst, f"{upstream.slug} {user.username}")
        text = doc.serialize(doc.Practice(meta, source.body))
        msg = change_message(message, f"Fork {upstream.slug} as {fork_slug}")
        revision = commit_one(inst, session, {doc.path_for(fork_slug): text}, user, msg,
                              [("Forked-from", f"{upstream.slug}@{upstream.revision}")])
        session.commit()
    return SaveResult(catalog.get_record(session, fork_slug), revision)


def _synced_text(fork: doc.Practice, upstream: PracticeRecord, body: str) -> str:
    synced = fork.copy()
    synced.body = body
    synced.meta["forked_from"] = {**(fork.meta.get("forked_from") or {}),
                                  "slug": upstream.slug, "revision": upstream.revision}
    return doc.serialize(synced)


def sync_fork(inst: Instance, session: Session, user: User | None, slug: str, *,
              agree_license: Any = False, resolved_body: Any = None,
              upstream_revision: Any = None) -> SaveResult:
    """Pull the upstream's new changes into a fork: a three-way merge of the text from the fork
    point, committed with ``Synced-from`` and the fork point moved. A conflict raises
    :class:`EditConflict` (nothing committed); the stewards send ``resolved_body`` with the
    upstream revision they resolved against."""
    record = catalog.get_record(session, slug)
    user = accounts.require_editor(user, record)
    require_license(agree_license, inst.license)
    if resolved_body is not None:
        doc.validate_fields("x", None, "en", resolved_body)
        if not is_full_revision(upstream_revision):
            raise ValidationError("A resolved text comes with upstream_revision: the revision "
                                  "of the upstream you resolved the conflict against.",
                                  field="upstream_revision")
    with write_lock(inst, session):
        record = catalog.get_record(session, slug)
        user = accounts.require_editor(user, record)
        upstream = upstream_of(session, record)
        fork = read_current(inst, record)
        theirs = read_current(inst, upstream).body
        if resolved_body is not None:
            if upstream.revision == record.fork_point:
                raise ValidationError("%(slug)s has nothing new since the fork point: there is "
                                      "no conflict to resolve. Edit the fork instead.",
                                      field="resolved_body", slug=upstream.slug)
            if upstream_revision != upstream.revision:
                raise Conflict("%(slug)s changed again while you resolved the conflict: "
                               "review its new changes and sync again.", slug=upstream.slug,
                               details={"current_revision": upstream.revision})
            body = resolved_body.replace("\r\n", "\n")
        elif upstream.revision == record.fork_point:
            return SaveResult(record, record.revision, changed=False)
        else:
            base = body_at(inst, session, upstream.slug, record.fork_point)
            body, clean = inst.store.merge_texts(base, fork.body, theirs,
                                                 labels=("this fork", "fork point", upstream.slug))
            if not clean:
                raise EditConflict(
                    "The fork and %(slug)s changed the same lines since the fork point. Resolve "
                    "the conflict below and sync again.", slug=upstream.slug,
                    details=dict(current_revision=upstream.revision,
                                 base_revision=record.fork_point, yours=fork.body, theirs=theirs,
                                 merged_with_markers=body))
        revision = commit_one(inst, session,
                              {doc.path_for(record.slug): _synced_text(fork, upstream, body)},
                              user, f"Sync {record.slug} with {upstream.slug}",
                              [("Synced-from", f"{upstream.slug}@{upstream.revision}")])
        session.commit()
    return SaveResult(catalog.get_record(session, slug), revision or record.revision,
                      changed=revision is not None, merged=resolved_body is None)
