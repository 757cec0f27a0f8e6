"""Accounts, API tokens and who may do what.

Passwords are hashed with Argon2 (argon2-cffi); API tokens are random and stored only as SHA-256
digests. The commons rule lives here: a practice's stewards and admins edit it directly; anyone
else signed in forks and proposes back.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import AccountBlocked, Conflict, Forbidden, NotFound, Unauthorized, ValidationError
from ..models import ApiToken, PracticeRecord, User
from .store import Identity

USERNAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?$")
NOREPLY_DOMAIN = "users.noreply.commons"
NOREPLY_RE = re.compile(r"^([a-z0-9_-]{1,40})@users\.noreply\.commons$")
ROLES = ("contributor", "admin")
PASSWORD_MIN = 8
TOKEN_PREFIX = "cmn_"

_hasher = PasswordHasher()


def use_cheap_hashing() -> None:
    """Argon2's cheapest parameters, for test suites only (``PASSWORD_HASH_PROFILE=cheapest``):
    a real hash takes ~0.2 s by design, which would dominate hundreds of tests."""
    global _hasher
    from argon2 import profiles
    _hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _validate_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < PASSWORD_MIN:
        raise ValidationError("A password has at least %(n)s characters.",
                              field="password", n=PASSWORD_MIN)
    if len(password) > 1024:
        raise ValidationError("That password is too long.", field="password")
    return password


def _validate_display_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 100 or "\n" in name:
        raise ValidationError("A display name is one line of 1 to 100 characters.",
                              field="display_name")
    if "<" in name or ">" in name or "\x00" in name:
        raise ValidationError("A display name cannot contain < or >.", field="display_name")
    return name.strip()


def validate_username(username: object) -> str:
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        raise ValidationError(
            "A username is 1 to 40 lowercase letters, digits, hyphens or underscores, "
            "starting and ending with a letter or digit.", field="username")
    return username


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def require_user(session: Session, username: str) -> User:
    user = get_user(session, username) if isinstance(username, str) else None
    if user is None or user.deleted_at is not None:
        raise NotFound("No contributor named %(name)s.", name=username)
    return user


def create_user(session: Session, username: str, password: str, *, display_name: str | None = None,
                email: str | None = None, role: str = "contributor") -> User:
    validate_username(username)
    _validate_password(password)
    if role not in ROLES:
        raise ValidationError("The role is contributor or admin.", field="role")
    if email is not None and email != "" and (len(email) > 254 or
                                              not re.match(r"^[^@\s<>]+@[^@\s<>]+$", email)):
        raise ValidationError("That email address does not look right.", field="email")
    if get_user(session, username) is not None:
        raise Conflict("The username %(name)s is taken.", field="username", name=username)
    user = User(username=username, display_name=_validate_display_name(display_name or username),
                email=email or None, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = get_user(session, (username or "").strip().lower())
    if user is None or user.password_hash is None or user.deleted_at is not None:
        _hasher.hash("timing-equaliser")  # do comparable work whether or not the user exists
        return None
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(_validate_password(password))


def set_display_name(user: User, name: str) -> None:
    user.display_name = _validate_display_name(name)


def identity(user: User) -> Identity:
    """The git identity of a person: display name and a no-reply address unless they chose to
    publish their email."""
    email = user.email if (user.email_public and user.email) else noreply(user.username)
    return Identity(user.display_name, email)


def noreply(username: str) -> str:
    return f"{username}@{NOREPLY_DOMAIN}"


def username_from_email(email: str) -> str | None:
    match = NOREPLY_RE.match(email or "")
    return match.group(1) if match else None


# ---- tokens ------------------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, user: User, name: str = "") -> str:
    """A new API token; only its digest is stored, so the plain token is shown once."""
    refuse_blocked(user)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user=user, name=name[:100], token_hash=_digest(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    if not token or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or not row.user.is_active:
        return None
    refuse_blocked(row.user)  # a blocked account's tokens stop working, with the reason
    row.last_used_at = datetime.now(timezone.utc)
    return row.user


# ---- permissions ---------------------------------------------------------------------------------

def is_steward(user: User | None, record: PracticeRecord) -> bool:
    return bool(user and user.is_active and user.username in (record.stewards or []))


def can_edit(user: User | None, record: PracticeRecord) -> bool:
    return bool(user and user.is_active and (user.is_admin or is_steward(user, record)))


ACTOR_KEY = "commons.actor"


def refuse_blocked(user: User) -> None:
    """A blocked account writes nothing; the refusal says why, so the person can learn it."""
    if user.is_blocked:
        raise AccountBlocked("Your account is blocked by the administrators, so you cannot "
                             "change anything. Reason given: %(reason)s",
                             reason=user.blocked_reason or "-")


def require_signed_in(user: User | None) -> User:
    """Every write's first check (the others build on it): signed in, not deleted, not blocked.

    The person is remembered on their database session, so :func:`recheck_actor` (called by
    ``editing.write_lock``) refuses them again if they were blocked while they waited."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise Unauthorized("Please sign in to do this.")
    refuse_blocked(user)
    from sqlalchemy.orm import object_session
    session = object_session(user)
    if session is not None:
        session.info[ACTOR_KEY] = user.id
    return user


def recheck_actor(session: Session) -> None:
    """Under the write lock, with the session expired: the person who passed
    :func:`require_signed_in` on this session, as the database says now."""
    actor_id = session.info.get(ACTOR_KEY)
    if actor_id is None:
        return
    user = session.get(User, actor_id)
    if user is None or not user.is_active:
        raise Unauthorized("Please sign in to do this.")
    refuse_blocked(user)


def require_editor(user: User | None, record: PracticeRecord) -> User:
    """Stewards and admins edit directly; others are told how the commons rule works."""
    user = require_signed_in(user)
    if not can_edit(user, record):
        raise Forbidden(
            "Only this practice's stewards can edit it directly. Fork it, improve your fork, "
            "and propose your improvement back to its stewards.")
    return user


def require_admin(user: User | None) -> User:
    user = require_signed_in(user)
    if not user.is_admin:
        raise Forbidden("Only an administrator can do this.")
    return user
