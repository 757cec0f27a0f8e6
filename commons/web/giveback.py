"""Take, improve, give back: fork a practice, compare and sync a fork, propose its improvements
upstream, review proposals, the family tree, the give-back ledger and the stewards' feed."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import (CommonsError, Conflict, EditConflict, Forbidden, LicenseRequired, NotFound,
                      ValidationError)
from ..services import accounts, diffs, family, forks, ledger, proposals
from ..services.proposals import STATUSES
from .base import db, form_status, instance, paging, require_valid
from .forms import AcceptForm, CommentForm, DeclineForm, EmptyForm, ForkForm, ProposeForm, SyncForm
from .practices import load, markdown_html, user_or_none

bp = Blueprint("giveback", __name__)
VARIANTS_SHOWN = 50  # on a practice's page; the family page shows every one


def open_proposal_from(record) -> proposals.Proposal | None:
    """The open proposal from this fork, if any (there is at most one)."""
    _total, rows = proposals.listing(db(), status="open", practice=record.slug, per_page=100)
    return next((p for p in rows if p.fork_slug == record.slug), None)


def practice_context(record) -> dict:
    """What the practice page shows of the family: where it comes from, its variants, and how
    it stands against its upstream."""
    session = db()
    standing = forks.standing(session, record)
    return {"ancestors": forks.ancestors(session, record),
            "variants": forks.pruned(forks.tree(session, record), VARIANTS_SHOWN),
            "standing": standing,
            "open_proposal": open_proposal_from(record) if standing else None}


# ---- take ---------------------------------------------------------------------------------------

@bp.route("/p/<slug>/fork", methods=["GET", "POST"])
@login_required
def fork(slug: str):
    record, moved = load(slug)
    if moved:
        return moved
    form = ForkForm()
    error = None
    if form.validate_on_submit():
        try:
            result = forks.fork_practice(
                instance(), db(), current_user, record.slug,
                new_slug=(form.slug.data or "").strip() or None,
                title=(form.title.data or "").strip() or None,
                agree_license=bool(form.agree_license.data))
        except CommonsError as exc:
            db().rollback()
            error = exc
        else:
            flash(_("Your fork is ready. Improve it, then propose your improvements back to "
                    "the stewards of %(title)s.", title=record.title), "success")
            return redirect(url_for("practices.show", slug=result.record.slug))
    status, message = form_status(error, form)
    return render_template("fork.html", form=form, record=record, error=message), status


# ---- improve and stay in sync -------------------------------------------------------------------

@bp.get("/p/<slug>/compare")
def compare(slug: str):
    record, moved = load(slug)
    if moved:
        return moved
    comparison = forks.compare(instance(), db(), record)
    propose_form = ProposeForm(formdata=None)
    return render_template(
        "compare.html", record=record, c=comparison,
        hunks=diffs.diff_rows(comparison.base_body, comparison.fork_body),
        can_edit=accounts.can_edit(user_or_none(), record),
        open_proposal=open_proposal_from(record),
        sync_form=SyncForm(formdata=None), propose_form=propose_form)


@bp.post("/p/<slug>/sync")
@login_required
def sync(slug: str):
    record, moved = load(slug)
    if moved:
        return moved
    form = SyncForm()
    require_valid(form)
    resolving = "resolved_body" in request.form
    try:
        result = forks.sync_fork(
            instance(), db(), current_user, record.slug,
            agree_license=bool(form.agree_license.data),
            resolved_body=(form.resolved_body.data or "") if resolving else None,
            upstream_revision=form.upstream_revision.data or None)
    except EditConflict as exc:
        db().rollback()
        form.resolved_body.data = exc.details["merged_with_markers"]
        form.upstream_revision.data = exc.details["current_revision"]
        return _sync_conflict(record, form, exc, exc.details)
    except Conflict as exc:
        if not resolving or "current_revision" not in exc.details:
            raise
        # The upstream moved while the stewards resolved: keep their text, show the upstream's
        # new one, and let them resolve against it.
        db().rollback()
        comparison = forks.compare(instance(), db(), record)
        form.upstream_revision.data = exc.details["current_revision"]
        return _sync_conflict(record, form, exc, {"yours": form.resolved_body.data,
                                                  "theirs": comparison.upstream_body,
                                                  "merged_with_markers": None})
    except (LicenseRequired, ValidationError) as exc:
        if not resolving:
            raise
        db().rollback()  # a refused resolution (say, the licence box) keeps the resolved text
        return _sync_conflict(record, form, exc, {"yours": None, "theirs": None,
                                                  "merged_with_markers": None})
    if not result.changed:
        flash(_("Nothing new upstream: the fork is up to date."), "info")
    else:
        flash(_("Synced: the fork has the new changes of %(slug)s.",
                slug=record.upstream_slug), "success")
    return redirect(url_for("practices.show", slug=result.record.slug))


def _sync_conflict(record, form: SyncForm, error: CommonsError, conflict: dict):
    return render_template("sync_conflict.html", record=record, form=form, conflict=conflict,
                           error=error.message), error.status


# ---- give back ----------------------------------------------------------------------------------

@bp.route("/p/<slug>/propose", methods=["GET", "POST"])
@login_required
def propose(slug: str):
    record, moved = load(slug)
    if moved:
        return moved
    if not accounts.can_edit(current_user, record):
        raise Forbidden("Only the stewards of %(slug)s can propose its changes upstream.",
                        slug=record.slug)
    comparison = forks.compare(instance(), db(), record)
    form = ProposeForm()
    error = None
    if form.validate_on_submit():
        try:
            proposal = proposals.open_proposal(instance(), db(), current_user, record.slug,
                                               title=form.title.data,
                                               message=form.message.data or "")
        except CommonsError as exc:
            db().rollback()
            error = exc
        else:
            flash(_("Your proposal is open. The stewards of %(title)s are told.",
                    title=comparison.upstream.title), "success")
            return redirect(url_for("giveback.proposal", proposal_id=proposal.id))
    status, message = form_status(error, form)
    return render_template("propose.html", form=form, record=record, c=comparison,
                           hunks=diffs.diff_rows(comparison.base_body, comparison.fork_body),
                           open_proposal=open_proposal_from(record), error=message), status


@bp.get("/proposals")
def proposal_list():
    status = request.args.get("status") or None
    person = request.args.get("user") or None
    page, per_page = paging()
    total, rows = proposals.listing(db(), status=status, user=person, page=page,
                                    per_page=per_page)
    return render_template("proposals.html", proposals=rows, total=total, page=page,
                           per_page=per_page, status=status, statuses=STATUSES, person=person)


@bp.get("/proposals/<int:proposal_id>")
def proposal(proposal_id: int):
    return _proposal_page(proposals.get(db(), proposal_id))


def _proposal_page(proposal, *, error: CommonsError | None = None, status: int = 200,
                   accept_form: AcceptForm | None = None,
                   decline_form: DeclineForm | None = None):
    """The proposal, its review (the proposed text merged into the upstream's current text), its
    thread and the forms the visitor may use. Re-shown after a refused action with what the
    person typed kept."""
    session = db()
    current = proposals.review(instance(), session, proposal)
    upstream = current.upstream if current else proposals.upstream_record(session, proposal)
    fork = current.fork if current else proposals.fork_record(session, proposal)
    user = user_or_none()
    accept_form = accept_form or AcceptForm(formdata=None)
    if current is not None:
        # What the reviewer sees now is what they accept.
        accept_form.fork_revision.data = proposal.fork_revision
        accept_form.upstream_revision.data = current.upstream.revision
        if not current.clean and not accept_form.resolved_body.data:
            accept_form.resolved_body.data = current.merged
    thread = [(event, markdown_html(event.body) if event.body else "")
              for event in proposal.events]
    return render_template(
        "proposal.html", proposal=proposal, review=current, fork=fork, upstream=upstream,
        hunks=current.rows if current else [], thread=thread,
        message_html=markdown_html(proposal.message) if proposal.message else "",
        may_review=proposal.status == "open" and proposals.may_review(user, proposal, upstream),
        may_withdraw=proposal.status == "open" and user is not None
        and user.id == proposal.proposer_id,
        accept_form=accept_form, decline_form=decline_form or DeclineForm(formdata=None),
        comment_form=CommentForm(formdata=None), withdraw_form=EmptyForm(formdata=None),
        error=error.message if error else None), status


@bp.post("/proposals/<int:proposal_id>/comment")
@login_required
def comment(proposal_id: int):
    form = CommentForm()
    require_valid(form)
    event = proposals.comment(db(), current_user, proposal_id, body=form.body.data)
    return redirect(url_for("giveback.proposal", proposal_id=proposal_id,
                            _anchor=f"event-{event.id}"))


@bp.post("/proposals/<int:proposal_id>/accept")
@login_required
def accept(proposal_id: int):
    form = AcceptForm()
    require_valid(form)
    resolved = form.resolved_body.data if "resolved_body" in request.form else None
    try:
        proposals.accept(instance(), db(), current_user, proposal_id,
                         fork_revision=form.fork_revision.data,
                         upstream_revision=form.upstream_revision.data,
                         agree_license=bool(form.agree_license.data), resolved_body=resolved)
    except (Forbidden, NotFound):
        raise
    except CommonsError as exc:
        # Moved meanwhile, a conflict to resolve, the licence box: the page again, up to date,
        # with the reviewer's resolved text kept.
        db().rollback()
        return _proposal_page(proposals.get(db(), proposal_id), error=exc, status=exc.status,
                              accept_form=form)
    flash(_("Accepted: the change is now part of the practice, credited to its authors."),
          "success")
    return redirect(url_for("giveback.proposal", proposal_id=proposal_id))


@bp.post("/proposals/<int:proposal_id>/decline")
@login_required
def decline(proposal_id: int):
    form = DeclineForm()
    if not form.validate_on_submit():
        proposal = proposals.get(db(), proposal_id)
        return _proposal_page(proposal, status=422, decline_form=form,
                              error=ValidationError(
                                  "Say why you decline this proposal: its author deserves a "
                                  "reason."))
    proposals.decline(db(), current_user, proposal_id, reason=form.reason.data)
    flash(_("Declined. The reason is in the thread for everyone to read."), "info")
    return redirect(url_for("giveback.proposal", proposal_id=proposal_id))


@bp.post("/proposals/<int:proposal_id>/withdraw")
@login_required
def withdraw(proposal_id: int):
    require_valid(EmptyForm())
    proposals.withdraw(db(), current_user, proposal_id)
    flash(_("Your proposal is withdrawn."), "info")
    return redirect(url_for("giveback.proposal", proposal_id=proposal_id))


# ---- the family and the ledger ------------------------------------------------------------------

def _family_svg(record, standalone: bool = True) -> tuple[object, str]:
    session = db()
    root = forks.root_of(session, record)

    def node(branch: forks.Branch) -> family.FamilyNode:
        s = branch.standing
        note = _("%(ahead)s ahead · %(behind)s behind", ahead=s.ahead, behind=s.behind) \
            if s else _("the original")
        return family.FamilyNode(
            slug=branch.record.slug, title=branch.record.title,
            url=url_for("practices.show", slug=branch.record.slug), note=note,
            current=branch.record.slug == record.slug,
            children=[node(child) for child in branch.forks])

    top = forks.tree(session, root)
    svg = family.family_svg(node(top), title=_("The family of %(title)s", title=root.title),
                            standalone=standalone)
    return top, svg


@bp.get("/p/<slug>/family")
def family_page(slug: str):
    record, moved = load(slug)
    if moved:
        return moved
    top, svg = _family_svg(record, standalone=False)
    return render_template("family.html", record=record, top=top, svg=svg)


@bp.get("/p/<slug>/family.svg")
def family_image(slug: str):
    record, moved = load(slug)
    if moved:
        return moved
    _top, svg = _family_svg(record)
    response = Response(svg, mimetype="image/svg+xml")
    # The drawing carries its own <style> and nothing else: no script, no outside resources.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    return response


@bp.get("/ledger")
def ledger_page():
    return render_template("ledger.html", ledger=ledger.build(db()), age_days=ledger.age_days)


@bp.get("/u/<username>/proposals.atom")
def proposals_feed(username: str):
    user = accounts.require_user(db(), username)
    events = proposals.events_for(db(), user)
    xml = render_template("proposals.atom", user=user, events=events)
    return Response(xml, mimetype="application/atom+xml; charset=utf-8")
