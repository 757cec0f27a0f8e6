"""Taking the whole commons away: the zip download and a read-only ``git clone``.

Both need no account: the commons is public and everything in it is under an open licence.
The clone is git's smart HTTP protocol served by ``git http-backend`` (upload-pack only);
pushing is refused, since every change must go through Commons, which checks who may make it
and records the licence.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from flask_babel import lazy_gettext as _l

from .base import instance

bp = Blueprint("export", __name__)
REPO = "/commons.git"
READ_ONLY = _l("This commons is read-only over git: clone it, and make changes on the site "
               "(fork a practice and propose your improvement back).")


@bp.get("/commons.zip")
def zip_download():
    store = instance().store
    head = store.head()
    if head is None:
        abort(404)
    name = f"commons-{head[:12]}"
    data = store.archive_zip(head, prefix=name + "/")
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}.zip"',
        "ETag": f'"{head}"', "Cache-Control": "no-cache"})


def _refused() -> Response:
    return Response(f"{READ_ONLY}\n", 403, mimetype="text/plain")


def _backend(action: str, body: bytes = b"") -> Response:
    reply = instance().store.http_upload_pack(
        action, body, content_type=request.headers.get("Content-Type", ""),
        content_encoding=request.headers.get("Content-Encoding", ""),
        git_protocol=request.headers.get("Git-Protocol", ""),
        timeout=float(current_app.config.get("GIT_HTTP_TIMEOUT", 60)))
    response = Response(reply.body, reply.status)
    for name, value in reply.headers:
        response.headers[name] = value
    return response


@bp.get(f"{REPO}/info/refs")
def info_refs():
    service = request.args.get("service")
    if service == "git-receive-pack":
        return _refused()
    if service != "git-upload-pack":
        abort(404)  # the "dumb" protocol is not served: every git since 1.6.6 speaks smart HTTP
    return _backend("info/refs")


@bp.post(f"{REPO}/git-upload-pack")
def upload_pack():
    if request.headers.get("Content-Type") != "application/x-git-upload-pack-request":
        abort(415)
    return _backend("git-upload-pack", request.get_data())


@bp.post(f"{REPO}/git-receive-pack")
def receive_pack():
    return _refused()
