"""The import page: signed-in contributors upload Markdown files or zips; each file is checked
against the licence registry and imported, or refused with the reason."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from ..errors import CommonsError
from ..services import importer, licensing
from .base import db, form_status, instance
from .forms import ImportForm

bp = Blueprint("imports", __name__)


@bp.app_template_filter("license_name")
def license_name(license_id: str) -> str:
    """A licence as people know it (its SPDX id when the registry does not know it)."""
    entry = licensing.get(license_id)
    return entry.name if entry else str(license_id or "")


def uploaded_files() -> list[tuple[str, bytes]]:
    """Every uploaded file of the request (``file`` fields), name and content."""
    return [(f.filename or "", f.read()) for key in ("file", "files")
            for f in request.files.getlist(key) if f and (f.filename or "")]


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_page():
    form = ImportForm()
    error = results = None
    if form.validate_on_submit():
        try:
            results = importer.import_uploads(
                instance(), db(), current_user, uploaded_files(),
                agree_license=bool(form.agree_license.data))
        except CommonsError as exc:
            error = exc
    status, message = form_status(error, form)
    return render_template("import.html", form=form, error=message, results=results,
                           refused=sum(r.status == "refused" for r in results or [])), status
