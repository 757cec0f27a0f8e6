"""Rate limits on sign-in, registration and writes, per account and per address.

One setting, ``COMMONS_RATE_LIMITS``, names a rate for each bucket::

    signin=10/minute;signin_username=20/hour;register=5/hour;write=60/minute;write_address=120/minute

A bucket left out keeps its default, ``name=off`` drops that bucket, and the whole setting
``off`` (or ``false``, ``0``, ``no``) drops them all, for an operator's bulk import or load test.
A rate is any string of the ``limits`` library (``10/minute``, ``100 per day``); several rates
for one bucket are joined by commas (``60/minute,1000/day``). An unknown bucket or a rate that
does not parse stops the app at start-up (``SettingError``): a typo must not silently leave a
public wiki unprotected.

Writes are recognised by method, not by a list of decorated views, so a new write route is
limited the day it is added: every POST, PUT, PATCH and DELETE except the few in ``NOT_WRITES``.
The counts live in ``COMMONS_RATE_LIMIT_STORAGE`` (``memory://`` by default: per process, so
each gunicorn worker counts on its own; ``redis://host:port/db`` shares one budget between all
workers and machines). Every app gets its own ``Limiter`` (and so its own memory storage): a
module-level extension object would let one app's counts leak into another's.
"""
from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from flask import Flask, current_app, g, request
from flask_babel import gettext, ngettext
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded
from flask_login import current_user
from limits import parse_many
from limits.errors import ConfigurationError

from ..config import SettingError
from ..services import accounts
from .base import db

OFF = {"off", "false", "0", "no"}
DEFAULTS_WORDS = {"", "on", "true", "1", "yes", "default", "defaults"}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
SIGNIN_ENDPOINTS = {"accounts.login"}
REGISTER_ENDPOINTS = {"accounts.register"}
# POSTs that change nothing, or have a bucket of their own: signing in and out, registering,
# the Markdown preview, and git's smart-HTTP fetches (receive-pack only ever refuses).
NOT_WRITES = SIGNIN_ENDPOINTS | REGISTER_ENDPOINTS | {
    "accounts.logout", "practices.preview", "export.upload_pack", "export.receive_pack"}
EXTENSION = "commons_rate_limits"


@dataclass(frozen=True)
class Bucket:
    name: str
    default: str
    counts: str  # what it counts, for the error message and the docs


BUCKETS: dict[str, Bucket] = {b.name: b for b in (
    Bucket("signin", "10/minute", "sign-in attempts per address"),
    Bucket("signin_username", "20/hour", "sign-in attempts per username, from any address"),
    Bucket("register", "5/hour", "registrations per address"),
    Bucket("write", "60/minute", "writes per account (web session or API token)"),
    Bucket("write_address", "120/minute", "writes per address"),
)}


def parse_setting(value: object) -> dict[str, str] | None:
    """``COMMONS_RATE_LIMITS`` → {bucket: rate string} (``""`` for a bucket turned off), or
    None when the limits are off. Raises ``SettingError`` with the reason otherwise."""
    if value is None or value is True:
        value = ""
    if value is False:
        value = "off"
    text = str(value).strip()
    if text.lower() in OFF:
        return None
    rates = {name: bucket.default for name, bucket in BUCKETS.items()}
    if text.lower() in DEFAULTS_WORDS:
        return rates
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, rate = (s.strip() for s in part.partition("="))
        name = name.lower()
        if not sep:
            raise SettingError(f"COMMONS_RATE_LIMITS: {part!r} is not 'bucket=rate' "
                               f"(for example 'signin=10/minute'), or 'off'")
        if name not in BUCKETS:
            raise SettingError(f"COMMONS_RATE_LIMITS: unknown bucket {name!r}; the buckets are "
                               + ", ".join(BUCKETS))
        if rate.lower() in OFF:
            rates[name] = ""
            continue
        try:
            parse_many(rate)
        except ValueError:
            raise SettingError(f"COMMONS_RATE_LIMITS: the rate {rate!r} of {name!r} does not "
                               "parse; write it like '10/minute', '5 per hour' or "
                               "'60/minute,1000/day'") from None
        rates[name] = rate
    return rates


# ---- what a request is, and whose it is ----------------------------------------------------------

def is_signin() -> bool:
    return request.method == "POST" and request.endpoint in SIGNIN_ENDPOINTS


def is_register() -> bool:
    return request.method == "POST" and request.endpoint in REGISTER_ENDPOINTS


def is_write() -> bool:
    return (request.method in WRITE_METHODS and request.endpoint is not None
            and request.endpoint not in NOT_WRITES)


def address_key() -> str:
    """The client's address (behind a proxy, only right with ``COMMONS_PROXY_HOPS`` set)."""
    return request.remote_addr or "unknown"


def account_key() -> str | None:
    """The signed-in account: the bearer token's owner on the API, the session's elsewhere.
    The limiter runs before the API authenticates, so the token is looked up here too."""
    if "rate_limit_account" not in g:
        user = None
        if request.blueprint == "api":
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                user = accounts.user_for_token(db(), token.strip())
        elif current_user.is_authenticated:
            user = current_user
        g.rate_limit_account = f"user:{user.id}" if user is not None else None
    return g.rate_limit_account


def username_key() -> str | None:
    """The username a sign-in attempt names (hashed: it is attacker-chosen text), normalised
    as ``accounts.authenticate`` does so 'Alice' and 'alice ' share one budget."""
    name = (request.form.get("username") or "").strip().lower()
    if not name:
        return None
    return "name:" + hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()[:32]


def _limits(rates: dict[str, str]) -> list[ApplicationLimit]:
    specs = {
        "signin": (address_key, lambda: not is_signin()),
        "signin_username": (lambda: username_key() or "",
                            lambda: not is_signin() or username_key() is None),
        "register": (address_key, lambda: not is_register()),
        "write": (lambda: account_key() or "", lambda: not is_write() or account_key() is None),
        "write_address": (address_key, lambda: not is_write()),
    }
    return [ApplicationLimit(limit_provider=rates[name], key_function=key, exempt_when=exempt, scope=name)
            for name, (key, exempt) in specs.items() if rates[name]]


def init_app(app: Flask) -> Limiter | None:
    """A limiter of this app's own, or None when ``COMMONS_RATE_LIMITS`` is off."""
    rates = parse_setting(app.config.get("RATE_LIMITS"))
    if rates is None:
        return None
    storage = str(app.config.get("RATE_LIMIT_STORAGE") or "memory://").strip()
    options: dict = {}
    if storage.startswith(("redis://", "rediss://", "redis+unix://")):
        # a Redis that hangs must not hang every write with it
        options = {"socket_connect_timeout": 2, "socket_timeout": 2}
    try:
        limiter = Limiter(
            address_key, application_limits=_limits(rates), storage_uri=storage,
            storage_options=options, strategy="moving-window", headers_enabled=False,
            # an unreachable store is logged and the request goes on: the wiki stays up
            swallow_errors=True)
        limiter.init_app(app)
    except ConfigurationError as exc:
        raise SettingError(f"COMMONS_RATE_LIMIT_STORAGE: {storage!r} cannot be used: {exc}"
                           ) from None
    app.extensions[EXTENSION] = limiter
    return limiter


# ---- the refusal -----------------------------------------------------------------------------------

def retry_after(exc: RateLimitExceeded) -> int:
    """Whole seconds until the refused request would be accepted again (at least 1)."""
    limiter = current_app.extensions.get(EXTENSION)
    try:
        current = limiter.current_limit if limiter is not None else None
        if current is not None and current.breached:
            return max(1, math.ceil(current.window[0] - time.time()))
    except Exception:  # the store went away between the refusal and now
        current_app.logger.exception("could not read the rate limit's reset time")
    return max(1, int(exc.limit.limit.get_expiry()))


def wait_phrase(seconds: int) -> str:
    """'42 seconds' or, past two minutes, 'about 5 minutes': a person can act on either."""
    if seconds < 120:
        return ngettext("%(num)s second", "%(num)s seconds", seconds)
    return ngettext("about %(num)s minute", "about %(num)s minutes", math.ceil(seconds / 60))


def message(exc: RateLimitExceeded, seconds: int) -> str:
    scope = str(exc.limit.scope or "")
    wait = wait_phrase(seconds)
    if scope.startswith("signin"):
        return gettext("Too many sign-in attempts. Please try again in %(wait)s.", wait=wait)
    if scope == "register":
        return gettext("Too many accounts were created from your address. Please try again in "
                       "%(wait)s.", wait=wait)
    return gettext("Too many changes in a short time. Please try again in %(wait)s.", wait=wait)
