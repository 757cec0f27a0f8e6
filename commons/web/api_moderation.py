"""Moderation in the JSON API (routes on the ``api`` blueprint): block and unblock accounts and
revert an account's changes since a date (administrators), remove a practice (its stewards,
administrators) and restore it (administrators)."""
from __future__ import annotations

from typing import Any

from flask import g, jsonify

from ..models import User
from ..services import moderation
from .api import body, bp, iso, record_or_404, saved
from .base import db, instance


def account_json(user: User) -> dict[str, Any]:
    """An account's moderation state, for administrators."""
    return {"username": user.username, "display_name": user.display_name,
            "blocked": user.is_blocked, "blocked_at": iso(user.blocked_at),
            "blocked_by": user.blocked_by, "blocked_reason": user.blocked_reason}


@bp.post("/users/<username>/block")
def block_user(username: str):
    data = body()
    return jsonify(account_json(moderation.block_account(
        instance(), db(), g.api_user, username, reason=data.get("reason"),
        include_admin=data.get("include_admin") is True)))


@bp.post("/users/<username>/unblock")
def unblock_user(username: str):
    body()
    return jsonify(account_json(moderation.unblock_account(instance(), db(), g.api_user,
                                                           username)))


@bp.post("/users/<username>/revert")
def revert_user(username: str):
    data = body()
    report = moderation.revert_since(instance(), db(), g.api_user, username,
                                     since=data.get("since"), reason=data.get("reason"),
                                     agree_license=data.get("agree_license"))
    return jsonify(report.as_json())


@bp.post("/practices/<slug>/remove")
def remove_practice(slug: str):
    data = body()
    record = record_or_404(slug)
    removal = moderation.remove_practice(instance(), db(), g.api_user, record.slug,
                                         reason=data.get("reason"))
    return jsonify(moderation.removal_json(removal))


@bp.post("/practices/<slug>/restore")
def restore_practice(slug: str):
    data = body()
    return saved(moderation.restore_practice(instance(), db(), g.api_user, slug,
                                             agree_license=data.get("agree_license")))
