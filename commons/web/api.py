"""JSON API under /api/v1: the same services as the web pages, bearer tokens only."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, g, jsonify, request, url_for

from ..errors import Gone, NotFound, Unauthorized, ValidationError
from ..models import ChangeRecord, PracticeRecord, Proposal, ProposalEvent, User
from ..services import (accounts, attribution, catalog, diffs, editing, forks, ledger,
                        licensing, moderation, proposals, reading)
from ..services import practice as doc
from ..services.render import render_markdown
from ..services.store import validate_revision
from .base import db, instance, paging
from .openapi import spec
from .pagecache import etag_matches
from .search import read_search, run_search

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def authenticate() -> None:
    """``Authorization: Bearer <token>``; cookies are ignored, so no CSRF can ride on them."""
    g.api_user = None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send your API token as 'Authorization: Bearer <token>'.")
        g.api_user = accounts.user_for_token(db(), token.strip())
        if g.api_user is None:
            raise Unauthorized("This API token is not valid.")
        db().commit()  # last_used_at


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError("Send a JSON object with Content-Type: application/json.")
    return data


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def summary_of(r: PracticeRecord) -> dict[str, Any]:
    return {"slug": r.slug, "title": r.title, "summary": r.summary, "language": r.language,
            "tags": r.tags, "license": r.license, "revision": r.revision,
            "updated": iso(r.updated_at)}


def practice_json(record: PracticeRecord, text: str | None = None, revision: str | None = None
                  ) -> dict[str, Any]:
    """A practice as the API shows it; ``text`` and ``revision`` for an older version."""
    inst = instance()
    if text is None:
        text = inst.store.read_blob(record.blob_id)
        parsed = doc.parse(text)
        html = inst.cache.get(record.blob_id, lambda: parsed.body)
    else:
        parsed = doc.parse(text)
        html = render_markdown(parsed.body)
    meta = parsed.meta
    data = summary_of(record)
    data.update({
        "title": parsed.title, "summary": parsed.summary, "language": parsed.language,
        "tags": parsed.tags, "license": parsed.license, "stewards": parsed.stewards,
        "body": parsed.body, "html": html, "revision": revision or record.revision,
        "authors": [{"username": a.get("username"), "name": a.get("name")}
                    for a in attribution.visible_authors(
                        record.authors or [],
                        meta if revision is None else read_meta(record.blob_id))],
        "translations": parsed.translations,
        "forked_from": meta.get("forked_from"), "credits": meta.get("credits") or [],
        "source": meta.get("source"),
    })
    return data


def read_meta(blob_id: str) -> dict[str, Any]:
    """The current front matter: removal requests (§3(a)(3)) hold for older revisions too."""
    try:
        return doc.parse(instance().store.read_blob(blob_id)).meta
    except ValidationError:
        return {}


def change_json(c: ChangeRecord) -> dict[str, Any]:
    return {"revision": c.revision, "slug": c.slug, "kind": c.kind, "message": c.message,
            "date": iso(c.timestamp),
            "author": {"username": c.author_username, "name": c.author_name}}


def page_of(key: str, total: int, page: int, per_page: int, items: list) -> dict[str, Any]:
    return {"total": total, "page": page, "per_page": per_page, key: items}


def person_json(user: User | None) -> dict[str, Any] | None:
    """Someone as the API names them: username and display name, never their email."""
    return {"username": user.username, "display_name": user.display_name} if user else None


def event_json(e: ProposalEvent) -> dict[str, Any]:
    return {"id": e.id, "kind": e.kind, "author": person_json(e.author), "body": e.body,
            "revision": e.revision, "created": iso(e.created_at)}


def proposal_json(session, proposal: Proposal, current: proposals.Review | None = None, *,
                  full: bool = True) -> dict[str, Any]:
    """A proposal as the API (and the feeds) show it. ``full`` adds the review — ``current``,
    from :func:`proposals.review`, or None when a practice is gone: then ``clean``, ``merged``
    and ``diff`` are null — and the thread."""
    fork = proposals.fork_record(session, proposal)
    upstream = proposals.upstream_record(session, proposal)
    data = {
        "id": proposal.id, "title": proposal.title, "message": proposal.message,
        "status": proposal.status,
        "fork": {"slug": fork.slug if fork else proposal.fork_slug,
                 "title": fork.title if fork else None},
        "upstream": {"slug": upstream.slug if upstream else proposal.upstream_slug,
                     "title": upstream.title if upstream else None},
        "proposer": person_json(proposal.proposer),
        "fork_revision": proposal.fork_revision,
        # open: what an accept must send, the upstream as it is now; closed: the upstream
        # revision it was closed against
        "upstream_revision": upstream.revision if upstream and proposal.status == "open"
        else proposal.upstream_revision,
        "opened": iso(proposal.created_at), "updated": iso(proposal.updated_at),
        "closed": iso(proposal.closed_at), "closed_by": person_json(proposal.closed_by),
        "decline_reason": proposal.decline_reason,
        "accepted_revision": proposal.accepted_revision,
    }
    if full:
        data.update({
            "clean": current.clean if current else None,
            "merged": current.merged if current else None,
            "diff": current.diff if current else None,
            "events": [event_json(e) for e in proposal.events],
        })
    return data


def proposal_response(proposal: Proposal, status: int = 200):
    session = db()
    response = jsonify(proposal_json(session, proposal,
                                     proposals.review(instance(), session, proposal)))
    response.status_code = status
    if status == 201:
        response.headers["Location"] = url_for("api.get_proposal", proposal_id=proposal.id)
    return response


def record_or_404(slug: str, removed_ok: bool = False) -> PracticeRecord:
    """The practice (following renames); a removed one is 410 Gone with the removal in the
    body, except where ``removed_ok`` (history, diffs, attribution stay readable)."""
    record, moved = catalog.find_record(db(), slug)
    if record is None and moved:
        record = catalog.get_record(db(), moved)
    if record is None:
        removal = moderation.removal_of(db(), slug)
        if removal is not None and removed_ok:
            return moderation.removed_record(removal)
        if removal is not None:
            raise Gone("This practice was removed from the commons: %(reason)s",
                       reason=removal.reason or "-",
                       details={"removal": moderation.removal_json(removal)})
        raise NotFound("There is no practice called %(slug)s.", slug=slug)
    return record


def saved(result: editing.SaveResult, status: int = 200):
    data = practice_json(result.record)
    data["merged"] = result.merged
    data["changed"] = result.changed
    response = jsonify(data)
    response.status_code = status
    response.headers["ETag"] = f'"{result.record.revision}"'
    if status == 201:
        response.headers["Location"] = url_for("api.get_practice", slug=result.record.slug)
    return response


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec())


@bp.get("/practices")
def list_practices():
    page, per_page = paging()
    tag = request.args.get("tag")
    total, rows = reading.list_practices(db(), page, per_page, tag=tag)
    return jsonify(page_of("practices", total, page, per_page, [summary_of(r) for r in rows]))


@bp.get("/search")
def search_practices():
    """Full-text search, grouped by family as on the search page; ``tag`` repeats (AND)."""
    results = run_search(read_search())
    return jsonify({
        "total": results.total, "page": results.page, "per_page": results.per_page,
        "results": [{"slug": h.slug, "title": h.title, "summary": h.summary,
                     "snippet": str(h.snippet), "score": h.score, "language": h.language,
                     "tags": h.tags, "forked_from": h.forked_from, "variants": h.variants}
                    for h in results.hits],
        "facets": results.facets, "suggestion": results.suggestion})


@bp.post("/practices")
def create_practice():
    data = body()
    result = editing.create_practice(
        instance(), db(), g.api_user, title=data.get("title"), body=data.get("body"),
        summary=data.get("summary"), language=data.get("language") or "en",
        tags=data.get("tags"), slug=data.get("slug"), message=data.get("message"),
        agree_license=data.get("agree_license"))
    return saved(result, 201)


@bp.get("/practices/<slug>")
def get_practice(slug: str):
    record = record_or_404(slug)
    revision = request.args.get("revision")
    if revision:
        validate_revision(revision)
        full = instance().store.resolve(revision)
        found = catalog.version_at(instance().store, db(), record.slug, full)
        if found is None:
            raise NotFound("This practice did not exist at revision %(rev)s.", rev=revision)
        response = jsonify(practice_json(record, found[0], full))
        response.headers["ETag"] = f'"{full}"'
        return response
    etag = f'"{record.revision}"'
    if etag_matches(request.headers.get("If-None-Match"), etag):
        return Response(status=304, headers={"ETag": etag})  # no blob read, no JSON
    response = jsonify(practice_json(record))
    response.headers["ETag"] = etag
    return response


@bp.put("/practices/<slug>")
def update_practice(slug: str):
    data = body()
    record = record_or_404(slug)
    result = editing.update_practice(
        instance(), db(), g.api_user, record.slug, base_revision=data.get("base_revision"),
        title=data.get("title"), body=data.get("body"), summary=data.get("summary"),
        language=data.get("language"), tags=data.get("tags"), message=data.get("message"),
        agree_license=data.get("agree_license"), license=data.get("license"))
    return saved(result)


@bp.get("/practices/<slug>/history")
def practice_history(slug: str):
    record = record_or_404(slug, removed_ok=True)
    page, per_page = paging()
    total, rows = reading.history(db(), record.slug, page, per_page)
    return jsonify(page_of("history", total, page, per_page, [change_json(c) for c in rows]))


@bp.get("/practices/<slug>/diff")
def practice_diff(slug: str):
    record = record_or_404(slug, removed_ok=True)
    old, new = request.args.get("from"), request.args.get("to") or record.revision
    if not old:
        raise ValidationError("Give the revisions to compare: ?from=<revision>&to=<revision>.")
    texts = []
    for rev in (old, new):
        validate_revision(rev)
        found = catalog.version_at(instance().store, db(), record.slug,
                                   instance().store.resolve(rev))
        if found is None:
            raise NotFound("This practice did not exist at revision %(rev)s.", rev=rev)
        texts.append(found[0])
    text = diffs.unified(texts[0], texts[1], f"a/{record.slug}.md@{old}",
                         f"b/{record.slug}.md@{new}")
    return text, 200, {"Content-Type": "text/x-diff; charset=utf-8"}


@bp.post("/practices/<slug>/revert")
def revert_practice(slug: str):
    data = body()
    record = record_or_404(slug)
    return saved(editing.revert_practice(instance(), db(), g.api_user, record.slug,
                                         revision=data.get("revision"),
                                         message=data.get("message"),
                                         agree_license=data.get("agree_license")))


@bp.post("/practices/<slug>/rename")
def rename_practice(slug: str):
    data = body()
    record = record_or_404(slug)
    return saved(editing.rename_practice(instance(), db(), g.api_user, record.slug,
                                         new_slug=data.get("slug"), message=data.get("message"),
                                         agree_license=data.get("agree_license")))


@bp.post("/practices/<slug>/stewards")
def add_steward(slug: str):
    data = body()
    record = record_or_404(slug)
    return saved(editing.add_steward(instance(), db(), g.api_user, record.slug,
                                     data.get("username"),
                                     agree_license=data.get("agree_license")))


@bp.get("/practices/<slug>/attribution")
def practice_attribution(slug: str):
    """What CC BY-SA 4.0 §3(a) asks to keep with a copy: JSON, ?format=text or ?format=html."""
    record = record_or_404(slug, removed_ok=True)
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "text", "html"):
        raise ValidationError("format is json, text or html.", field="format")
    attr = attribution.build(instance(), db(), record)
    if fmt == "text":
        return attribution.as_text(attr), 200, {"Content-Type": "text/plain; charset=utf-8"}
    if fmt == "html":
        from .practices import attribution_html
        return attribution_html(attr), 200, {"Content-Type": "text/html; charset=utf-8"}
    return jsonify(attribution.as_json(attr))


@bp.post("/practices/<slug>/attribution/removals")
def remove_from_attribution(slug: str):
    data = body()
    record = record_or_404(slug)
    result = attribution.remove_from_attribution(instance(), db(), g.api_user, record.slug,
                                                 data.get("name"),
                                                 agree_license=data.get("agree_license"))
    answer = attribution.as_json(attribution.build(instance(), db(), result.record))
    answer["changed"] = result.changed
    return jsonify(answer)


@bp.post("/import")
def import_practices():
    """Multipart: ``file`` (one or more .md files or .zip archives) and ``agree_license=true``.
    200 with one result per file, even when some were refused (``refused`` counts them)."""
    from ..services import importer
    from .imports import uploaded_files
    agreed = request.form.get("agree_license", "").strip().lower() in ("true", "1", "yes", "on")
    results = importer.import_uploads(instance(), db(), g.api_user, uploaded_files(),
                                      agree_license=agreed)
    counts = {status: sum(r.status == status for r in results)
              for status in importer.STATUSES}
    return jsonify({"results": [r.as_json() for r in results], **counts})


@bp.get("/licenses")
def licenses():
    """The licence registry: what may be adapted into the commons, and why."""
    return jsonify({"commons": list(instance().licenses),
                    "licenses": [entry.as_json() for entry in licensing.all_licenses()]})


@bp.get("/changes")
def changes():
    page, per_page = paging()
    total, rows = reading.recent_changes(db(), page, per_page)
    return jsonify(page_of("changes", total, page, per_page, [change_json(c) for c in rows]))


# ---- take, improve, give back -------------------------------------------------------------------

@bp.post("/practices/<slug>/forks")
def fork_practice(slug: str):
    data = body()
    record = record_or_404(slug)
    return saved(forks.fork_practice(instance(), db(), g.api_user, record.slug,
                                     new_slug=data.get("slug"), title=data.get("title"),
                                     agree_license=data.get("agree_license"),
                                     message=data.get("message")), 201)


@bp.get("/practices/<slug>/lineage")
def practice_lineage(slug: str):
    return jsonify(forks.lineage(db(), record_or_404(slug)))


@bp.get("/practices/<slug>/compare")
def compare_fork(slug: str):
    c = forks.compare(instance(), db(), record_or_404(slug))
    return jsonify({"ahead": c.standing.ahead, "behind": c.standing.behind,
                    "since": iso(c.standing.since), "fork_point": c.standing.fork_point,
                    "upstream": {"slug": c.upstream.slug, "title": c.upstream.title,
                                 "revision": c.upstream.revision},
                    "diff": c.diff})


@bp.post("/practices/<slug>/sync")
def sync_fork(slug: str):
    data = body()
    record = record_or_404(slug)
    return saved(forks.sync_fork(instance(), db(), g.api_user, record.slug,
                                 agree_license=data.get("agree_license"),
                                 resolved_body=data.get("resolved_body"),
                                 upstream_revision=data.get("upstream_revision")))


@bp.post("/practices/<slug>/proposals")
def open_proposal(slug: str):
    data = body()
    record = record_or_404(slug)
    return proposal_response(proposals.open_proposal(
        instance(), db(), g.api_user, record.slug, title=data.get("title"),
        message=data.get("message")), 201)


@bp.get("/proposals")
def list_proposals():
    page, per_page = paging()
    total, rows = proposals.listing(db(), status=request.args.get("status"),
                                    practice=request.args.get("practice"), page=page,
                                    per_page=per_page)
    return jsonify(page_of("proposals", total, page, per_page,
                           [proposal_json(db(), p, full=False) for p in rows]))


@bp.get("/proposals/<int:proposal_id>")
def get_proposal(proposal_id: int):
    proposal = proposals.get(db(), proposal_id)
    if proposals.follow_fork(db(), proposal):
        db().commit()
    return proposal_response(proposal)


@bp.post("/proposals/<int:proposal_id>/comments")
def comment_proposal(proposal_id: int):
    data = body()
    event = proposals.comment(db(), g.api_user, proposal_id, body=data.get("body"))
    response = jsonify(event_json(event))
    response.status_code = 201
    return response


@bp.post("/proposals/<int:proposal_id>/accept")
def accept_proposal(proposal_id: int):
    data = body()
    return proposal_response(proposals.accept(
        instance(), db(), g.api_user, proposal_id, fork_revision=data.get("fork_revision"),
        upstream_revision=data.get("upstream_revision"),
        agree_license=data.get("agree_license"), resolved_body=data.get("resolved_body")))


@bp.post("/proposals/<int:proposal_id>/decline")
def decline_proposal(proposal_id: int):
    data = body()
    return proposal_response(proposals.decline(db(), g.api_user, proposal_id,
                                               reason=data.get("reason")))


@bp.post("/proposals/<int:proposal_id>/withdraw")
def withdraw_proposal(proposal_id: int):
    return proposal_response(proposals.withdraw(db(), g.api_user, proposal_id))


@bp.get("/ledger")
def give_back_ledger():
    username = request.args.get("user")
    if username:
        username = accounts.require_user(db(), username).username
    return jsonify(ledger.as_json(ledger.build(db(), username=username)))


from . import api_moderation  # noqa: E402,F401  (moderation routes on this blueprint)
