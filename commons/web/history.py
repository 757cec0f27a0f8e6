"""History: a practice's revisions, a revision's text, diffs, revert; recent changes and the
Atom feed."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import NotFound, ValidationError
from ..services import accounts, catalog, diffs, editing, reading
from ..services import practice as doc
from ..services.store import validate_revision
from .base import db, instance, paging, require_valid
from .forms import RevertForm
from .practices import body_html, is_removed, load, user_or_none

bp = Blueprint("history", __name__)


def version(slug: str, revision: str) -> tuple[str, str, str]:
    """(full revision, text, blob id) of a practice at ``revision``, or 404."""
    validate_revision(revision)
    full = instance().store.resolve(revision)
    found = catalog.version_at(instance().store, db(), slug, full)
    if found is None:
        raise NotFound("This practice did not exist at revision %(rev)s.", rev=revision[:10])
    return full, found[0], found[1]


@bp.get("/p/<slug>/history")
def practice_history(slug: str):
    record, moved = load(slug, removed_ok=True)
    if moved:
        return moved
    page, per_page = paging()
    total, changes = reading.history(db(), record.slug, page, per_page)
    return render_template("history.html", record=record, changes=changes, total=total,
                           page=page, per_page=per_page,
                           can_edit=accounts.can_edit(user_or_none(), record)
                           and not is_removed(record))


@bp.get("/p/<slug>/at/<revision>")
def at(slug: str, revision: str):
    record, moved = load(slug, removed_ok=True)
    if moved:
        return moved
    full, text, blob = version(record.slug, revision)
    old = doc.parse(text)
    return render_template("at.html", record=record, revision=full, old=old,
                           html=body_html(blob), is_current=full == record.revision,
                           can_edit=accounts.can_edit(user_or_none(), record)
                           and not is_removed(record),
                           revert_form=RevertForm(revision=full))


@bp.get("/p/<slug>/diff")
def diff(slug: str):
    record, moved = load(slug, removed_ok=True)
    if moved:
        return moved
    old_rev = request.args.get("from", "")
    new_rev = request.args.get("to", "") or record.revision
    if not old_rev:
        raise ValidationError("Choose the revision to compare from: add ?from=<revision> to the "
                              "address, or pick two revisions in the history.", field="from")
    old_full, old_text, _b = version(record.slug, old_rev)
    new_full, new_text, _b = version(record.slug, new_rev)
    return render_template("diff.html", record=record, old=old_full, new=new_full,
                           hunks=diffs.diff_rows(old_text, new_text))


@bp.post("/p/<slug>/revert")
@login_required
def revert(slug: str):
    form = RevertForm()
    require_valid(form)
    result = editing.revert_practice(instance(), db(), current_user, slug,
                                     revision=form.revision.data,
                                     agree_license=bool(form.agree_license.data))
    flash(_("Reverted.") if result.changed else _("Nothing changed, so nothing was saved."),
          "success")
    return redirect(url_for("practices.show", slug=result.record.slug))


@bp.get("/changes")
def changes():
    page, per_page = paging()
    total, rows = reading.recent_changes(db(), page, per_page)
    return render_template("changes.html", changes=rows, total=total, page=page,
                           per_page=per_page, titles=reading.titles(db(), {c.slug for c in rows}))


@bp.get("/changes.atom")
def feed():
    _total, rows = reading.recent_changes(db(), 1, 50)
    xml = render_template("changes.atom", changes=rows,
                          titles=reading.titles(db(), {c.slug for c in rows}))
    return Response(xml, mimetype="application/atom+xml; charset=utf-8")
