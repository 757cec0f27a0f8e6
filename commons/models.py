"""SQLAlchemy models.

Two kinds of table: what git cannot hold (accounts, API tokens) and derived tables rebuilt from git
by ``commons reindex`` (practice metadata, tags, changes, redirects). Derived rows are a cache of
the repository, never the other way round.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy import DateTime as _DateTime
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class DateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite forgets the zone otherwise)."""

    impl = _DateTime(timezone=True)
    cache_ok = True

    def __init__(self, timezone: bool = True) -> None:  # signature kept for the column calls
        super().__init__()

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    email_public: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    role: Mapped[str] = mapped_column(String(20), default="contributor")
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Moderation (accounts are database state, not git): a blocked account may sign in and
    # read, but writes nothing and its API tokens are refused.
    blocked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    blocked_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    blocked_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user",
                                                    cascade="all, delete-orphan")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_blocked(self) -> bool:
        return self.blocked_at is not None


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    user: Mapped[User] = relationship(back_populates="tokens")


# ---- derived from git -------------------------------------------------------------------------

class PracticeRecord(Base):
    """One row per practice file at the head of ``main``."""

    __tablename__ = "practices"

    slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    license: Mapped[str] = mapped_column(String(64), default="")
    tags: Mapped[list] = mapped_column(JSON, default=list)
    stewards: Mapped[list] = mapped_column(JSON, default=list)
    translations: Mapped[dict] = mapped_column(JSON, default=dict)
    forked_from: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    source: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    credits: Mapped[list] = mapped_column(JSON, default=list)
    authors: Mapped[list] = mapped_column(JSON, default=list)
    revision: Mapped[str] = mapped_column(String(40))
    blob_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Lineage, from the front matter's forked_from and the Given-back trailer: the upstream's
    # current slug (renames followed), the upstream revision the fork last started from or
    # synced with, and the last fork revision whose changes went back upstream.
    upstream_slug: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    fork_point: Mapped[str | None] = mapped_column(String(40), nullable=True)
    given_back: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # Imported material: the digest of its source's identity (provenance.key), so a re-import
    # finds the practice it feeds. Forks carry their upstream's source but never its key.
    source_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


class PracticeTag(Base):
    __tablename__ = "practice_tags"

    slug: Mapped[str] = mapped_column(ForeignKey("practices.slug", ondelete="CASCADE"),
                                      primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class PracticeSteward(Base):
    """Who stewards what, from the front matter: finds "practices I steward" without scanning."""

    __tablename__ = "practice_stewards"

    slug: Mapped[str] = mapped_column(ForeignKey("practices.slug", ondelete="CASCADE"),
                                      primary_key=True)
    username: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class ChangeRecord(Base):
    """One row per (commit, practice) pair: history and recent changes without running git."""

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_slug_time", "slug", "timestamp"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[str] = mapped_column(String(40), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    # create, edit, delete, rename, revert, fork, sync, give-back
    kind: Mapped[str] = mapped_column(String(16))
    author_name: Mapped[str] = mapped_column(String(200))
    author_username: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    previous_slug: Mapped[str | None] = mapped_column(String(80), nullable=True)
    proposal_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)


class Redirect(Base):
    """Old slug → current slug, from ``Renamed-from`` trailers."""

    __tablename__ = "redirects"

    old_slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    new_slug: Mapped[str] = mapped_column(String(80))


class Removal(Base):
    """A practice removed with a reason (a commit deleting its file, ``Removed-Because``
    trailer): who, when, why, and the practice as it last was (``record``: the derived row's
    fields), so its page answers 410 with its history and attribution. Derived from git; a
    restore (the file added again) deletes the row."""

    __tablename__ = "removals"

    slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    revision: Mapped[str] = mapped_column(String(40))
    removed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed_by_name: Mapped[str] = mapped_column(String(200))
    removed_by_username: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    record: Mapped[dict] = mapped_column(JSON, default=dict)


class State(Base):
    """Small key/value facts about the derived data, e.g. the head they were built from."""

    __tablename__ = "state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# ---- give-back: what git cannot hold ------------------------------------------------------------

class Proposal(Base):
    """A fork's improvement proposed upstream. Its review (status, thread, reviewers) lives here;
    an accepted change lives in git, with a ``Proposal: <id>`` trailer pointing back."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fork_slug: Mapped[str] = mapped_column(String(80), index=True)
    upstream_slug: Mapped[str] = mapped_column(String(80), index=True)
    proposer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    fork_revision: Mapped[str] = mapped_column(String(40))
    upstream_revision: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decline_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    accepted_revision: Mapped[str | None] = mapped_column(String(40), nullable=True)

    proposer: Mapped[User] = relationship(foreign_keys=[proposer_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    events: Mapped[list["ProposalEvent"]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan",
        order_by="ProposalEvent.id")


class ProposalEvent(Base):
    """The thread of a proposal: comments, and what happened to it (opened, updated to a new
    fork revision, accepted, declined, withdrawn)."""

    __tablename__ = "proposal_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"),
                                             index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="events")
    author: Mapped[User | None] = relationship()
