"""The web face: blueprints of thin views over the services, and the extensions they share."""
from __future__ import annotations

from flask import Flask, g, request, session
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from ..models import User

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()


def select_locale() -> str:
    """An explicit choice (remembered in the session or the account) wins over Accept-Language."""
    from flask import current_app
    from flask_login import current_user

    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(languages) or current_app.config[
        "BABEL_DEFAULT_LOCALE"]


def atom_date(value) -> str:
    from datetime import datetime, timezone
    value = value or datetime.now(timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


AUTOESCAPED = (".html", ".htm", ".xml", ".xhtml", ".svg", ".atom")


def autoescape(template_name: str | None) -> bool:
    """Flask escapes only HTML-like templates; the Atom feeds are XML and carry titles and
    comments people typed, so they are escaped too."""
    return template_name is None or template_name.endswith(AUTOESCAPED)


def register(app: Flask) -> None:
    from . import (accounts, api, errors, export, giveback, history, imports, practices,
                   ratelimits, search)
    from .base import close_db, db, template_globals

    app.jinja_env.autoescape = autoescape

    csrf.init_app(app)
    ratelimits.init_app(app)  # before the blueprints' own hooks: a refused write does nothing
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        if not user_id.isdigit():
            return None
        user = db().get(User, int(user_id))
        return user if user is not None and user.is_active else None

    app.teardown_appcontext(close_db)
    app.add_template_filter(atom_date, "atom_date")
    app.context_processor(template_globals)
    for module in (practices, history, giveback, accounts, imports, search):
        app.register_blueprint(module.bp)
    from . import moderation
    app.register_blueprint(moderation.bp)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)  # the API authenticates by bearer token only, never by cookie
    app.register_blueprint(export.bp)
    for view in (export.upload_pack, export.receive_pack):
        csrf.exempt(view)  # git's own POSTs: no cookie, no form, nothing to forge
    errors.register(app)
    from . import httpcache, pagecache, viewerpages
    httpcache.init_app(app)  # before the kept pages: a 304 needs no page at all
    viewerpages.init_app(app)

    csp_on = str(app.config.get("CSP", True)).strip().lower() not in ("off", "false", "0", "no")

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if csp_on:  # COMMONS_CSP=off only for the XSS tests: escaping must hold on its own
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' https: data:; style-src 'self'; "
                "script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
        if "lang" in g:
            response.headers.setdefault("Content-Language", g.lang)
        return response

    # A process that starts may run new code or templates: no page cached before it is valid.
    app.extensions["commons"].generation.bump()
    pagecache.install(app)  # last: in front of everything else, so a hit costs nothing more
