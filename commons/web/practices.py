"""Practice pages: home, reading, the Markdown download, creating and editing, tags."""
from __future__ import annotations

from flask import (Blueprint, Response, abort, flash, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from ..errors import CommonsError, EditConflict, Gone
from ..services import (accounts, attribution, catalog, editing, ledger, licensing, moderation,
                        proposals, reading)
from ..services import practice as doc
from . import fragments
from .base import db, form_status, instance, paging, require_valid
from .forms import PRACTICE_LANGUAGES, PracticeForm, RemoveForm, RenameForm, StewardForm

bp = Blueprint("practices", __name__)


def user_or_none():
    return current_user if current_user.is_authenticated else None


def _link_targets() -> dict:
    return {"practice_url": lambda s: url_for("practices.show", slug=s),
            "new_url": lambda s: url_for("practices.new", slug=s),
            "missing_label": _("This practice does not exist yet: create it")}


def body_html(blob_id: str) -> str:
    return reading.body_html(instance(), db(), blob_id, **_link_targets())


def markdown_html(text: str) -> str:
    """Markdown written on a page (a proposal, a comment) as sanitised HTML, practice links
    resolved like a practice's own."""
    return reading.preview_html(db(), text, **_link_targets())


def load(slug: str, removed_ok: bool = False):
    """The record for ``slug``, or a redirect response for a renamed one, or 404. A removed
    practice is 410 Gone, except where ``removed_ok`` (its history, old versions and
    attribution stay readable): then its last version, as a detached row (see
    :func:`is_removed`)."""
    record, moved_to = catalog.find_record(db(), slug)
    if record is None and moved_to:
        return None, redirect(request.path.replace(f"/p/{slug}", f"/p/{moved_to}", 1), 301)
    if record is None:
        removal = moderation.removal_of(db(), slug)
        if removal is None:
            abort(404)
        if not removed_ok:
            raise Gone("This practice was removed from the commons: %(reason)s",
                       reason=removal.reason or "-",
                       details={"removal": moderation.removal_json(removal)})
        return moderation.removed_record(removal), None
    return record, None


def is_removed(record) -> bool:
    """A removed practice's last version is a row the database does not hold."""
    from sqlalchemy import inspect
    return inspect(record).transient


@bp.get("/")
def home():
    session = db()
    waiting = proposals.waiting_for(session, current_user) \
        if current_user.is_authenticated else []
    return render_template("home.html", recent=reading.recent_practices(session, 12),
                           tags=reading.popular_tags(session),
                           changes=reading.recent_changes(session, 1, 8)[1],
                           most_forked=reading.most_forked(session),
                           headline=ledger.headline(session), waiting=waiting)


@bp.get("/p/<slug>")
def show(slug: str):
    record, _moved_to = catalog.find_record(db(), slug)
    if record is None:  # a removed practice has no row: only then look for its removal
        removal = moderation.removal_of(db(), slug)
        if removal is not None:
            from .moderation import removed_page
            return removed_page(removal)
    record, moved = load(slug)
    if moved:
        return moved
    user = user_or_none()
    can_edit = accounts.can_edit(user, record)
    can_remove = moderation.may_remove(user, record)
    key = ("practice", record.slug, record.revision, str(_ui_lang()), can_edit, can_remove,
           user is not None, request.script_root)
    content = fragments.get(key, lambda: _practice_content(record, can_edit, can_remove))
    if can_edit:  # the forms' token is the viewer's own, put in last
        content = fragments.with_token(content)
    return render_template("practice.html", record=record, content=Markup(content))


def _practice_content(record, can_edit: bool, can_remove: bool) -> str:
    """The body of a practice page: its text, contents, family, attribution and, for its
    stewards, their tools (their form tokens are :func:`fragments.csrf_sentinel` here)."""
    from .giveback import practice_context
    session = db()
    forms = {}
    if can_edit:  # forms only for those who see them, without tokens of their own
        no_token = {"csrf": False}
        forms = {"rename_form": RenameForm(meta=no_token),
                 "steward_form": StewardForm(meta=no_token),
                 "remove_form": RemoveForm(meta=no_token), "csrf_input": _csrf_input()}
    return render_template(
        "_practice_content.html", record=record, html=body_html(record.blob_id),
        toc=reading.contents(instance(), record.blob_id),
        license=licensing.get(record.license or instance().license),
        license_label=license_label(record.license or instance().license),
        translation_titles=reading.titles(session, set(record.translations.values())),
        can_edit=can_edit, can_remove=can_remove,
        attribution=attribution.build(instance(), session, record),
        **forms, **practice_context(record))


def _csrf_input() -> Markup:
    """The hidden token field the steward forms share, with the sentinel for its value (what
    ``hidden_tag()`` writes, but without making a token of its own)."""
    from flask import current_app
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return Markup("")
    name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    return Markup('<input id="{0}" name="{0}" type="hidden" value="{1}">').format(
        name, fragments.csrf_sentinel())


def license_label(license_id: str) -> str:
    """The short name a licence badge shows: "CC BY-SA 4.0" for CC-BY-SA-4.0, as Creative
    Commons writes it; other ids as they are."""
    parts = license_id.split("-")
    if len(parts) >= 3 and parts[0] == "CC" and parts[-1][:1].isdigit():
        return f"CC {'-'.join(parts[1:-1])} {parts[-1]}"
    return license_id


def attribution_html(attr: attribution.Attribution, short: bool = False) -> str:
    """The attribution as an HTML fragment, escaped by the template (page and API alike)."""
    return render_template("_attribution.html", attribution=attr, attribution_short=short)


@bp.get("/p/<slug>/attribution")
def attribution_page(slug: str):
    record, moved = load(slug, removed_ok=True)
    if moved:
        return moved
    attr = attribution.build(instance(), db(), record)
    return render_template("attribution.html", record=record, attribution=attr,
                           attribution_text=attribution.as_text(attr))


@bp.get("/p/<slug>.md")
def download(slug: str):
    """The file as it is in git, with its attribution appended, so a downloaded copy carries
    what CC BY-SA 4.0 §3(a) asks of whoever shares it."""
    record, moved = load(slug)
    if moved:
        return moved
    text = instance().store.read_blob(record.blob_id)
    attr = attribution.build(instance(), db(), record)
    text = text.rstrip("\n") + "\n\n---\n\n## " + _("Attribution") + "\n\n" + \
        attribution.as_text(attr)
    return Response(text, mimetype="text/markdown; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{record.slug}.md"'})


@bp.get("/tags/<tag>")
def tag(tag: str):
    if not doc.TAG_RE.match(tag):
        abort(404)
    page, per_page = paging()
    total, rows = reading.list_practices(db(), page, per_page, tag=tag)
    return render_template("tag.html", tag=tag, practices=rows, total=total, page=page,
                           per_page=per_page)


@bp.get("/practices")
def index():
    page, per_page = paging()
    total, rows = reading.list_practices(db(), page, per_page)
    return render_template("tag.html", tag=None, practices=rows, total=total, page=page,
                           per_page=per_page)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = PracticeForm()
    if request.method == "GET":
        lang = request.args.get("language") or str(_ui_lang())
        form.language.data = lang if lang in PRACTICE_LANGUAGES else "en"
        form.body.data = doc.template_body(form.language.data)
        wanted = request.args.get("slug", "")
        if doc.is_valid_slug(wanted):
            form.slug.data = wanted
            form.title.data = wanted.replace("-", " ").capitalize()
    error = None
    if form.validate_on_submit():
        try:
            result = editing.create_practice(
                instance(), db(), current_user, title=form.title.data, body=form.body.data,
                summary=form.summary.data, language=form.language.data, tags=form.tags.data,
                slug=form.slug.data or None, message=form.message.data,
                agree_license=bool(form.agree_license.data))
        except CommonsError as exc:
            error = exc
        else:
            flash(_("Practice created."), "success")
            return redirect(url_for("practices.show", slug=result.record.slug))
    return _form_page(form, None, error)


def _ui_lang():
    from flask_babel import get_locale
    return get_locale() or "en"


def _form_page(form, record, error, conflict=None):
    status, message = form_status(error, form)
    return render_template("edit.html", form=form, record=record, error=message,
                           conflict=conflict), status


@bp.route("/p/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str):
    record, moved = load(slug)
    if moved:
        return moved
    accounts.require_editor(current_user, record)
    form = PracticeForm()
    if request.method == "GET":
        current = doc.parse(instance().store.read_blob(record.blob_id))
        form.title.data = current.title
        form.summary.data = current.summary
        form.language.data = current.language
        form.tags.data = ", ".join(current.tags)
        form.body.data = current.body
        form.base_revision.data = record.revision
        return _form_page(form, record, None)
    error = conflict = None
    if form.validate_on_submit():
        try:
            result = editing.update_practice(
                instance(), db(), current_user, slug, base_revision=form.base_revision.data,
                title=form.title.data, body=form.body.data, summary=form.summary.data,
                language=form.language.data, tags=form.tags.data, message=form.message.data,
                agree_license=bool(form.agree_license.data))
        except EditConflict as exc:
            error, conflict = exc, _conflict_view(exc, form)
        except CommonsError as exc:
            error = exc
        else:
            if not result.changed:
                flash(_("Nothing changed, so nothing was saved."), "info")
            elif result.merged:
                flash(_("Saved. Someone else had changed this practice meanwhile; both changes "
                        "were merged."), "success")
            else:
                flash(_("Saved."), "success")
            return redirect(url_for("practices.show", slug=result.record.slug))
    return _form_page(form, record, error, conflict)


def _conflict_view(exc: EditConflict, form: PracticeForm) -> dict:
    """Both versions and the marked merge; the editor gets the marked body and the new base, so
    resolving the markers and saving again goes through."""
    details = exc.details
    try:
        form.body.data = doc.parse(details["merged_with_markers"]).body
    except CommonsError:
        form.body.data = doc.parse(details["yours"]).body
    form.base_revision.data = details["current_revision"]
    return details


@bp.post("/p/<slug>/rename")
@login_required
def rename(slug: str):
    form = RenameForm()
    require_valid(form)
    result = editing.rename_practice(instance(), db(), current_user, slug,
                                     new_slug=form.new_slug.data.strip(),
                                     agree_license=bool(form.agree_license.data))
    flash(_("Practice renamed; the old address redirects here."), "success")
    return redirect(url_for("practices.show", slug=result.record.slug))


@bp.post("/p/<slug>/stewards")
@login_required
def add_steward(slug: str):
    form = StewardForm()
    require_valid(form)
    editing.add_steward(instance(), db(), current_user, slug, form.username.data.strip(),
                        agree_license=bool(form.agree_license.data))
    flash(_("Steward added."), "success")
    return redirect(url_for("practices.show", slug=slug))


@bp.post("/preview")
@login_required
def preview():
    """The server's own renderer, for the editor's live preview (session + CSRF); for people
    who may write (a blocked account may not)."""
    accounts.require_signed_in(current_user)
    text = request.form.get("body", "")
    if len(text) > doc.BODY_MAX:
        abort(413)
    return Response(reading.preview_html(db(), text, **_link_targets()), mimetype="text/html")
