"""The database's change stamp: a small file every committed database write replaces.

Pages show what git holds (its head says when that changed) and what the database holds
(proposals, comments, display names, blocks…). The head is one file to read; this stamp is the
database's equivalent, so a cache shared by every worker can tell in microseconds, without a
query, whether anything a page shows may have changed since the page was made.

The stamp is a random token, never a counter: a deleted file (the cache folder is deletable)
can never bring back an old value, so an old cached page can never match again. It is replaced
*after* the database commit, so a page rendered from the old rows always carries the old stamp.
A token's own ``last_used_at`` (written on every API call) is the one write that changes nothing
a page shows and does not replace it.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

FILE_NAME = "generation"
_DIRTY = "commons_generation_dirty"
MISSING = "none"


class Generation:
    """The stamp file in the cache folder: read by caches, replaced after each write."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.path = Path(directory) / FILE_NAME

    def read(self) -> str:
        try:
            with open(self.path, "rb") as fh:
                return fh.read(64).decode("ascii", "replace").strip() or MISSING
        except FileNotFoundError:
            return MISSING

    def bump(self) -> str:
        """Replace the stamp with a new random token (atomically: tmp file + rename)."""
        token = secrets.token_hex(12)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".generation-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(token)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return token


def _only_token_use(session: Session) -> bool:
    """True when the flush changes nothing but API tokens' ``last_used_at``."""
    from sqlalchemy import inspect

    from ..models import ApiToken
    if session.new or session.deleted:
        return False
    for obj in session.dirty:
        if not isinstance(obj, ApiToken):
            return False
        state = inspect(obj)
        changed = {attr.key for attr in state.attrs if attr.history.has_changes()}
        if changed - {"last_used_at"}:
            return False
    return True


def watch(sessions: sessionmaker, generation: Generation) -> None:
    """Replace the stamp after every commit of a session from ``sessions`` that wrote
    anything (a flush of rows, or a bulk/text statement that is not a SELECT). A rolled-back
    write keeps its mark until the session's next commit: one needless replacement, never a
    missed one (a savepoint's rollback must not hide the writes around it)."""

    @event.listens_for(sessions, "before_flush")
    def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
        if not _only_token_use(session):
            session.info[_DIRTY] = True

    @event.listens_for(sessions, "do_orm_execute")
    def _execute(state: Any) -> None:
        if not state.is_select:
            state.session.info[_DIRTY] = True

    @event.listens_for(sessions, "after_commit")
    def _after_commit(session: Session) -> None:
        if session.info.pop(_DIRTY, False):
            generation.bump()
