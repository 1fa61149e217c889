"""The operator's announcement review desk (/admin/announcements) and the approval document's download."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required

from marketplace.auth.current import web_actor
from marketplace.common import uploads
from marketplace.common.clock import now
from marketplace.common.errors import DomainError
from marketplace.common.forms import page_number
from marketplace.common.money import format_fen
from marketplace.common.web import ask_confirmation, confirmed, form_errors_from
from marketplace.extensions import db
from marketplace.requests import review
from marketplace.requests.forms import ActionForm, OpinionForm
from marketplace.requests.labels import METHOD_LABELS
from marketplace.requests.models import RequestStatus, ServiceRequest
from marketplace.requests.pages import public

desk = Blueprint("announcement_admin", __name__, url_prefix="/admin/announcements")


def blueprints():
    return [desk]


@desk.before_request
@login_required
def _logged_in():
    pass


@desk.route("/")
def queue():
    page = db.paginate(
        review.review_queue_query(web_actor()),
        page=page_number(request.args.get("page")),
        per_page=30,
        error_out=False,
    )
    return render_template(
        "requests/admin/announcements.html",
        page=page,
        waited={r.id: now() - (r.submitted_at or r.created_at) for r in page.items},
        too_close={r.id: review.deadline_too_close(r) for r in page.items},
    )


def render_review(request_id: int, form: OpinionForm | None = None, status: int = 200):
    req = review.for_review(web_actor(), request_id)
    return render_template(
        "requests/admin/announcement.html",
        req=req,
        form=form or OpinionForm(formdata=None),
        action=ActionForm(formdata=None),
        too_close=review.deadline_too_close(req),
        waited=now() - req.submitted_at if req.status == RequestStatus.REVIEW and req.submitted_at else None,
    ), status


@desk.route("/<int:request_id>")
def detail(request_id: int):
    return render_review(request_id)


@desk.route("/<int:request_id>/approve", methods=["POST"])
def approve(request_id: int):
    if ActionForm().validate_on_submit():
        req = review.for_review(web_actor(), request_id)
        if not confirmed() and req.status == RequestStatus.REVIEW and not review.deadline_too_close(req):
            return _confirm_decision(req, approve=True)
        try:
            req = review.approve(web_actor(), request_id)
        except DomainError as exc:
            flash(str(exc.message), "danger")
            return render_review(request_id, status=exc.status)
        flash(_("Approved: “%(title)s” is public and open for bids.", title=req.title), "success")
    return redirect(url_for(".queue"))


@desk.route("/<int:request_id>/return", methods=["POST"])
def return_request(request_id: int):
    form = OpinionForm()
    if form.validate_on_submit():
        req = review.for_review(web_actor(), request_id)
        opinion = (form.opinion.data or "").strip()
        if (
            not confirmed()
            and req.status == RequestStatus.REVIEW
            and review.OPINION_MIN <= len(opinion) <= review.OPINION_MAX
        ):
            return _confirm_decision(req, approve=False, opinion=opinion)
        try:
            req = review.return_request(web_actor(), request_id, form.opinion.data)
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
            return render_review(request_id, form, exc.status)
        flash(_("Returned to %(org)s with your opinion.", org=req.enterprise.name), "success")
    return redirect(url_for(".queue"))


def _confirm_decision(req: ServiceRequest, approve: bool, opinion: str = ""):
    """审核通过 / 驳回 ask first: the announcement, its method and ceiling, and what the decision sets going."""
    facts = [
        (_("Request"), req.title),
        (_("Enterprise"), req.enterprise.name),
        (_("Selection method"), str(METHOD_LABELS[req.selection_method])),
        (_("Ceiling"), format_fen(req.ceiling_fen)),
    ]
    if approve:
        consequences = [
            _("The announcement is published at once and agencies can bid until its deadline."),
            _(
                "An approval cannot be withdrawn: after publication only the enterprise can cancel, with a reason."
            ),
        ]
    else:
        facts.append((_("Review opinion"), opinion))
        consequences = [
            _("The request goes back to the enterprise with your opinion, which it sees as written."),
            _("It is not published; it comes back to this desk only when the enterprise submits it again."),
        ]
    return ask_confirmation(
        title=_("Approve this announcement?") if approve else _("Return this announcement?"),
        facts=facts,
        consequences=consequences,
        back_url=url_for(".detail", request_id=req.id),
        button=_("Confirm approval") if approve else _("Confirm return"),
        danger=not approve,
    )


@public.route("/<int:request_id>/approval-document")
@login_required
def approval_document(request_id: int):
    """The project's approval document: the enterprise, administrators, the region's operators and supervisors."""
    _req, meta = review.approval_document(web_actor(), request_id)
    try:
        path = uploads.upload_path(review.UPLOAD_KIND, meta["key"])
    except ValueError:
        abort(404)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=meta["mime"], download_name=meta["name"], as_attachment=True)
