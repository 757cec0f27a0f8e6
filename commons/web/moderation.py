"""Moderation pages: an account's moderation page (block, unblock, revert since a date) for
administrators; removing a practice (its stewards, administrators) and restoring it
(administrators). Thin views over ``services.moderation``; its functions check who may act."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import CommonsError
from ..services import accounts, attribution, catalog, moderation
from .base import db, instance, require_valid
from .forms import BlockForm, EmptyForm, RemoveForm, RestoreForm, RevertSinceForm

bp = Blueprint("moderation", __name__)


def _target(username: str):
    try:
        return accounts.require_user(db(), username)
    except CommonsError:
        abort(404)


def _account_page(user, *, block=None, revert=None, report=None, error=None, status=200):
    return render_template("moderation_account.html", user=user,
                           block_form=block or BlockForm(), unblock_form=EmptyForm(),
                           revert_form=revert or RevertSinceForm(), report=report,
                           error=error), status


@bp.get("/admin/accounts/<username>")
@login_required
def account(username: str):
    """Administrators only."""
    accounts.require_admin(current_user)
    return _account_page(_target(username))


@bp.post("/admin/accounts/<username>/block")
@login_required
def block(username: str):
    """Administrators only (an administrator's account only with include_admin)."""
    accounts.require_admin(current_user)
    form = BlockForm()
    require_valid(form)
    user = moderation.block_account(instance(), db(), current_user, username,
                                    reason=form.reason.data,
                                    include_admin=bool(form.include_admin.data))
    flash(_("The account %(name)s is blocked.", name=user.username), "success")
    return redirect(url_for("moderation.account", username=user.username))


@bp.post("/admin/accounts/<username>/unblock")
@login_required
def unblock(username: str):
    """Administrators only."""
    accounts.require_admin(current_user)
    require_valid(EmptyForm())
    user = moderation.unblock_account(instance(), db(), current_user, username)
    flash(_("The account %(name)s is no longer blocked.", name=user.username), "success")
    return redirect(url_for("moderation.account", username=user.username))


@bp.post("/admin/accounts/<username>/revert")
@login_required
def revert_since(username: str):
    """Administrators only: the report is shown on the account's moderation page."""
    accounts.require_admin(current_user)
    form = RevertSinceForm()
    require_valid(form)
    report = moderation.revert_since(instance(), db(), current_user, username,
                                     since=form.since.data, reason=form.reason.data,
                                     agree_license=bool(form.agree_license.data))
    flash(_("Done: %(reverted)s practices reverted, %(removed)s removed, %(manual)s left for "
            "you to look at.", reverted=len(report.reverted), removed=len(report.removed),
            manual=len(report.manual)), "success")
    return _account_page(_target(username), report=report)


@bp.post("/p/<slug>/remove")
@login_required
def remove(slug: str):
    """The practice's stewards and administrators."""
    moderation.require_remover(current_user, catalog.get_record(db(), slug))
    form = RemoveForm()
    require_valid(form)
    removal = moderation.remove_practice(instance(), db(), current_user, slug,
                                         reason=form.reason.data)
    flash(_("The practice is removed. Its history and attribution stay readable."), "success")
    return redirect(url_for("practices.show", slug=removal.slug))


@bp.post("/p/<slug>/restore")
@login_required
def restore(slug: str):
    """Administrators only."""
    accounts.require_admin(current_user)
    form = RestoreForm()
    require_valid(form)
    result = moderation.restore_practice(instance(), db(), current_user, slug,
                                         agree_license=bool(form.agree_license.data))
    flash(_("The practice is restored."), "success")
    return redirect(url_for("practices.show", slug=result.record.slug))


def removed_page(removal):
    """A removed practice's address: 410 Gone, saying when, by whom and why, with its history
    and its last version's attribution (CC BY-SA 4.0 §3(a) still holds for copies out there)."""
    record = moderation.removed_record(removal)
    attr = attribution.build(instance(), db(), record)
    can_restore = bool(current_user.is_authenticated and current_user.is_admin
                       and not current_user.is_blocked)
    return render_template("removed.html", removal=removal, record=record, attribution=attr,
                           restore_form=RestoreForm(), can_restore=can_restore), 410
