"""Domain errors raised by the services and mapped to HTTP in one place (``web.errors``).

Each carries a stable ``code`` from the API's fixed list, an HTTP status, and a message a person
can act on. The message is a msgid with ``%(name)s`` placeholders, translated when it is read, so
the same error reads well in French and English (Babel extracts the first argument of each
error class; see ``babel.cfg``).
"""
from __future__ import annotations

from typing import Any


class CommonsError(Exception):
    code = "error"
    status = 400

    def __init__(self, msgid: str = "", *, field: str | None = None,
                 details: dict[str, Any] | None = None, **params: Any) -> None:
        super().__init__(msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params
        self.field = field
        self.details = details or {}

    @property
    def message(self) -> str:
        """The message in the current request's language (English outside a request)."""
        from flask_babel import gettext
        return gettext(self.msgid, **self.params) if self.msgid else ""

    def __str__(self) -> str:
        return self.msgid % self.params if self.params else self.msgid


class Unauthorized(CommonsError):
    code, status = "unauthorized", 401


class Forbidden(CommonsError):
    code, status = "forbidden", 403


class AccountBlocked(Forbidden):
    """A blocked account: it may read, not write; its message says why."""
    code = "blocked"


class Gone(CommonsError):
    """A practice removed with a reason; ``details`` say when, by whom and why."""
    code, status = "gone", 410


class NotFound(CommonsError):
    code, status = "not_found", 404


class PracticeNotFound(NotFound):
    pass


class ValidationError(CommonsError):
    code, status = "validation", 422


class LicenseRequired(CommonsError):
    code, status = "license_required", 422


class Conflict(CommonsError):
    code, status = "conflict", 409


class SlugTaken(Conflict):
    pass


class EditConflict(Conflict):
    """A stale edit whose three-way merge left conflicts; ``details`` carries both versions and
    the marked merge so a person can resolve it."""


class LockTimeout(CommonsError):
    code, status = "busy", 503


class TooLarge(CommonsError):
    code, status = "too_large", 413
