"""Accounts: register, sign in and out, profile, password, deletion, contributor pages, and
the language switch."""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import CommonsError
from ..services import accounts, editing, forks, proposals, reading
from .base import db, instance, paging, safe_next
from .forms import (DeleteAccountForm, EmptyForm, LoginForm, PasswordForm, ProfileForm,
                    RegisterForm)

bp = Blueprint("accounts", __name__)


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    error = None
    if form.validate_on_submit():
        try:
            user = accounts.create_user(db(), form.username.data.strip().lower(),
                                        form.password.data,
                                        display_name=form.display_name.data or None,
                                        email=(form.email.data or "").strip() or None)
            db().commit()
        except CommonsError as exc:
            db().rollback()
            error = exc.message
        else:
            login_user(user)
            flash(_("Welcome to the commons, %(name)s!", name=user.display_name), "success")
            return redirect(url_for("practices.home"))
    status = 422 if error or (request.method == "POST" and form.errors) else 200
    return render_template("register.html", form=form, error=error), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = accounts.authenticate(db(), form.username.data, form.password.data)
        if user is None:
            error = _("Wrong username or password.")
        else:
            db().commit()  # a rehashed password, if any
            login_user(user, remember=bool(form.remember.data))
            if user.is_blocked:  # they may read; they learn why they cannot write
                flash(_("Your account is blocked by the administrators: you can read, but not "
                        "change anything. Reason given: %(reason)s",
                        reason=user.blocked_reason), "error")
            return redirect(safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("login.html", form=form, error=error), status


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        logout_user()
        flash(_("You are signed out."), "info")
        return redirect(url_for("practices.home"))
    return render_template("logout.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    profile = ProfileForm(prefix="profile", obj=current_user if request.method == "GET" else None)
    password = PasswordForm(prefix="password")
    delete = DeleteAccountForm(prefix="delete")
    error, refused = None, None
    action = request.form.get("action")
    try:
        if action == "profile" and profile.validate_on_submit():
            accounts.require_signed_in(current_user)  # a blocked account's name stays
            accounts.set_display_name(current_user, profile.display_name.data)
            current_user.email_public = bool(profile.email_public.data)
            db().commit()
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("accounts.account"))
        if action == "password" and password.validate_on_submit():
            if accounts.authenticate(db(), current_user.username,
                                     password.current_password.data) is None:
                error = _("Your current password is not right.")
            else:
                accounts.set_password(current_user, password.new_password.data)
                db().commit()
                flash(_("Your password is changed."), "success")
                return redirect(url_for("accounts.account"))
        if action == "delete" and delete.validate_on_submit():
            if accounts.authenticate(db(), current_user.username, delete.password.data) is None:
                error = _("Your password is not right.")
            else:
                user = current_user._get_current_object()
                logout_user()
                editing.delete_account(instance(), db(), user)
                flash(_("Your account is deleted. Thank you for what you gave the commons."),
                      "info")
                return redirect(url_for("practices.home"))
    except CommonsError as exc:
        db().rollback()
        error, refused = exc.message, exc.status  # e.g. 403 for a blocked account
    status = refused or (422 if error else 200)
    return render_template("account.html", profile=profile, password=password, delete=delete,
                           error=error), status


@bp.get("/u/<username>")
def user_page(username: str):
    try:
        user = accounts.require_user(db(), username)
    except CommonsError:
        abort(404)
    page, per_page = paging()
    total, changes = reading.recent_changes(db(), page, per_page, username=user.username)
    practices = reading.practices_of(db(), user.username)
    user_forks = [(r, forks.standing(db(), r)) for r in practices
                  if r.upstream_slug and user.username in (r.stewards or [])]
    proposal_total, user_proposals = proposals.listing(db(), user=user.username, per_page=100)
    return render_template("user.html", user=user, practices=practices,
                           changes=changes, total=total, page=page, per_page=per_page,
                           titles=reading.titles(db(), {c.slug for c in changes}),
                           forks=user_forks, proposals=user_proposals,
                           proposal_total=proposal_total,
                           given_back=[p for p in user_proposals if p.status == "accepted"])


@bp.get("/lang/<code>")
def switch_language(code: str):
    """Remembered in the session, and in the account of a signed-in person."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    if current_user.is_authenticated:
        current_user.locale = code
        db().commit()
    return redirect(safe_next(request.args.get("next")))
