"""What every view shares: the request's database session, the instance, paging, template
globals."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, request, url_for
from flask_babel import get_locale
from sqlalchemy.orm import Session

from ..services.instance import Instance


def instance() -> Instance:
    return current_app.extensions["commons"]


def db() -> Session:
    """One database session per request, closed at teardown."""
    if "db" not in g:
        g.db = instance().sessions()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.rollback()
        session.close()


PAGE_MAX = 1_000_000


def paging(default: int | None = None, maximum: int = 100) -> tuple[int, int]:
    """``?page=&per_page=``, clamped: page ≥ 1, 1 ≤ per_page ≤ 100."""
    from ..errors import ValidationError

    default = default or int(current_app.config.get("PER_PAGE", 50))
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", default))
    except ValueError:
        raise ValidationError("page and per_page must be whole numbers.") from None
    if page < 1 or per_page < 1:
        raise ValidationError("page and per_page start at 1.")
    if page > PAGE_MAX:  # a larger offset overflows the database's integers (a 500 before)
        raise ValidationError("page must be at most %(max)s.", field="page", max=PAGE_MAX)
    return page, min(per_page, maximum)


def require_valid(form: Any) -> None:
    """The small forms posted from a page (revert, rename, add a steward) have no page of their
    own to show errors on: one that does not validate is a 422 naming each problem, in the
    person's language, rather than a bare 400."""
    from ..errors import ValidationError

    if form.validate_on_submit():
        return
    problems = "; ".join(f"{form[name].label.text}: {message}" if name in form else message
                         for name, messages in form.errors.items() for message in messages)
    raise ValidationError("The form was not filled in as expected: %(problems)s",
                          problems=problems)


def form_status(error: Any, form: Any) -> tuple[int, str | None]:
    """The status and message of a page that shows a form again: the refusal of the service
    (its own status), else 422 if the posted form did not validate, else 200."""
    if error is not None:
        return error.status, error.message
    if request.method == "POST" and form.errors:
        from flask_babel import gettext
        return 422, gettext("Please correct the highlighted fields.")
    return 200, None


def safe_next(target: str | None, fallback: str = "practices.home") -> str:
    """Only same-site paths are followed after sign-in or a language switch."""
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for(fallback)


def template_globals() -> dict[str, Any]:
    lang = str(get_locale() or "en")
    g.lang = lang
    return {
        "ui_lang": lang,
        "languages": current_app.config["LANGUAGES"],
        "site_license": instance().license,
        "base_url": current_app.config["COMMONS_BASE_URL"].rstrip("/"),
        **_bound_gettext(),
    }


def _bound_gettext() -> dict[str, Any]:
    """``_()`` and friends bound to this request's catalogue once per page, instead of
    Flask-Babel looking the catalogue up again for each of a page's ~40 strings. Same
    functions (Jinja's own wrappers: escaping, ``%(name)s`` parameters), same results."""
    from flask_babel import get_translations
    from jinja2.ext import (_make_new_gettext, _make_new_ngettext, _make_new_npgettext,
                            _make_new_pgettext)
    catalogue = get_translations()
    return {"gettext": _make_new_gettext(catalogue.ugettext),
            "ngettext": _make_new_ngettext(catalogue.ungettext),
            "pgettext": _make_new_pgettext(catalogue.upgettext),
            "npgettext": _make_new_npgettext(catalogue.unpgettext)}
