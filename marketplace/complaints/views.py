"""Pages: my complaints (/complaints/), filing one (/complaints/new), a complaint with its answer and decision
(/complaints/<number>), the public report form (/reports/new, no log-in needed) and the staff desk
(/admin/complaints)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_login import login_required

from marketplace.auth.current import web_actor
from marketplace.auth.models import Role
from marketplace.auth.policy import acts_in, located
from marketplace.common import uploads
from marketplace.common.errors import DomainError, NotFound
from marketplace.common.forms import int_or_none, page_number
from marketplace.common.web import form_errors_from
from marketplace.complaints import services, targets
from marketplace.complaints.forms import AnswerForm, ComplaintForm, DecisionForm, ReportForm
from marketplace.complaints.limits import report_per_ip
from marketplace.complaints.models import (
    CATEGORY_LABELS,
    CONSEQUENCE_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    TARGET_LABELS,
    ComplaintCategory,
    ComplaintKind,
    ComplaintStatus,
    TargetType,
)
from marketplace.extensions import db

public = Blueprint("complaints", __name__, url_prefix="/complaints")
reports = Blueprint("complaint_reports", __name__, url_prefix="/reports")
admin = Blueprint("complaint_admin", __name__, url_prefix="/admin")
FIELDS = ("target_type", "target_id", "category", "text", "contact_name", "contact_phone", "contact_email")
LABELS = {
    "kind_labels": KIND_LABELS,
    "status_labels": STATUS_LABELS,
    "category_labels": CATEGORY_LABELS,
    "target_labels": TARGET_LABELS,
    "consequence_labels": CONSEQUENCE_LABELS,
}


def blueprints():
    return [public, reports, admin]


def _files(form) -> list:
    return [(f.stream, f.filename) for f in (form.evidence.data or []) if f and f.filename]


def _target_from_args():
    """The target named by the query string (?target_type=agency&target_id=3), or None."""
    target_type, target_id = request.args.get("target_type"), int_or_none(request.args.get("target_id"))
    if target_type not in {t.value for t in TargetType} or target_id is None:
        return None
    try:
        return targets.resolve(target_type, target_id)
    except DomainError:
        return None


def target_url(c_or_target) -> str | None:
    """Where the target lives on the site (a store, an announcement, an order)."""
    kind = c_or_target.target_type if hasattr(c_or_target, "target_type") else c_or_target.type
    target_id = c_or_target.target_id if hasattr(c_or_target, "target_id") else c_or_target.id
    if kind == TargetType.AGENCY:
        return url_for("agencies.store", agency_id=target_id)
    if kind == TargetType.ORDER:
        return url_for("orders.detail", order_id=target_id)
    return url_for("requests.detail", request_id=target_id)


# --- the parties' pages ----------------------------------------------------------------------------------


@public.before_request
@login_required
def _logged_in():
    pass


@public.route("/")
def index():
    actor = web_actor()
    page = db.paginate(
        services.mine_query(actor), page=page_number(request.args.get("page")), per_page=20, error_out=False
    )
    return render_template("complaints/index.html", page=page, actor=actor, target_url=target_url, **LABELS)


def _render_new(form, target, status: int = 200):
    return (
        render_template("complaints/new.html", form=form, target=target, target_url=target_url, **LABELS),
        status,
    )


@public.route("/new", methods=["GET", "POST"])
def new():
    actor = web_actor()
    target = _target_from_args()
    if target is None:
        raise NotFound(_("Open the complaint form from the page of what you complain about."))
    form = ComplaintForm()
    own = actor.role == Role.AGENCY and target.type == TargetType.AGENCY and actor.agency is not None
    own = own and actor.agency.id == target.id
    form.for_target(target.type, own_agency=own)
    # Who may complain and the windows are told before the form is filled in (the service checks again).
    probe = ComplaintCategory.ENTRY_DECISION if own else ComplaintCategory.OTHER
    targets.check_complainant(actor, target, probe)
    if request.method == "GET":
        form.target_type.data, form.target_id.data = target.type.value, str(target.id)
        if actor.role == Role.AGENCY and actor.agency is not None:
            form.contact_name.data, form.contact_phone.data = (
                actor.agency.contact_name,
                actor.agency.contact_phone,
            )
        form.contact_email.data = actor.email
        return _render_new(form, target)
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return _render_new(form, target, 400)
    data = {k: getattr(form, k).data for k in FIELDS}
    data["target_type"], data["target_id"] = target.type.value, target.id
    try:
        c = services.file_complaint(actor, data, _files(form))
    except DomainError as exc:
        unplaced = form_errors_from(exc, form)
        flash(
            str(exc.message) if unplaced or not exc.errors else _("Please correct the marked fields."),
            "danger",
        )
        return _render_new(form, target, exc.status)
    flash(_("Your complaint %(number)s was received.", number=c.number), "success")
    return redirect(url_for(".detail", number=c.number))


def _render_detail(c, forms: dict | None = None, status: int = 200):
    actor = web_actor()
    role = services.viewer_role(actor, c)
    forms = forms or {}
    acts = role == "staff" and acts_in(actor, Role.SUPERVISOR, located(c.region_code))
    decision = forms.get("decision") or DecisionForm(formdata=None)
    return (
        render_template(
            "complaints/detail.html",
            c=c,
            role=role,
            acts=acts,
            may_answer=services.is_respondent(actor, c)
            and c.complainant_id != actor.id
            and c.status == ComplaintStatus.INVESTIGATING
            and c.answered_at is None,
            answer_form=forms.get("answer") or AnswerForm(formdata=None),
            decision_form=decision,
            valid_consequences=services.valid_consequences(c) if acts and c.is_open else [],
            chosen=request.form.getlist("consequences") if request.method == "POST" else [],
            shown_files=[
                f
                for f in c.files
                if not (role == "respondent" and f.role == "complaint" and c.kind == ComplaintKind.REPORT)
            ],
            target_url=target_url,
            **LABELS,
        ),
        status,
    )


@public.route("/<number>")
def detail(number: str):
    return _render_detail(services.by_number(web_actor(), number))


@public.route("/<number>/answer", methods=["POST"])
def answer(number: str):
    actor = web_actor()
    c = services.by_number(actor, number)
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return _render_detail(c, {"answer": form}, 400)
    try:
        services.answer(actor, c.id, form.answer.data, _files(form))
    except DomainError as exc:
        form_errors_from(exc, form)
        flash(str(exc.message), "danger")
        return _render_detail(services.by_number(actor, number), {"answer": form}, exc.status)
    flash(_("Your answer was recorded."), "success")
    return redirect(url_for(".detail", number=number, _anchor="answer"))


@public.route("/<number>/files/<int:file_id>")
def complaint_file(number: str, file_id: int):
    actor = web_actor()
    c = services.by_number(actor, number)
    meta = services.evidence_file(actor, c, file_id)
    try:
        path = uploads.upload_path(services.UPLOAD_KIND, meta.key)
    except ValueError:
        abort(404)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=meta.mime, download_name=meta.name, as_attachment=True)


# --- anyone's report ---------------------------------------------------------------------------------------


def _render_report(form, target, status: int = 200):
    return (
        render_template(
            "complaints/report_new.html", form=form, target=target, target_url=target_url, **LABELS
        ),
        status,
    )


@reports.route("/new", methods=["GET", "POST"])
@report_per_ip
def new_report():
    """举报: anyone, logged in or not. Without a target, the page says where to find the report links."""
    actor = web_actor()
    target = _target_from_args()
    form = ReportForm()
    if target is not None:
        form.for_target(target.type)
    if request.method == "GET" or target is None:
        if target is not None:
            form.target_type.data, form.target_id.data = target.type.value, str(target.id)
            form.category.data = ComplaintCategory.OTHER.value
        return _render_report(form, target, 200 if request.method == "GET" else 404)
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return _render_report(form, target, 400)
    data = {k: getattr(form, k).data for k in FIELDS}
    data["target_type"], data["target_id"] = target.type.value, target.id
    try:
        c = services.file_report(actor, data, _files(form))
    except DomainError as exc:
        unplaced = form_errors_from(exc, form)
        flash(
            str(exc.message) if unplaced or not exc.errors else _("Please correct the marked fields."),
            "danger",
        )
        return _render_report(form, target, exc.status)
    if actor is not None:
        flash(_("Your report %(number)s was received.", number=c.number), "success")
        return redirect(url_for("complaints.detail", number=c.number))
    session["report_filed"] = {
        "number": c.number,
        "accept_due_at": c.accept_due_at.isoformat(),
    }
    return redirect(url_for(".report_filed"))


@reports.route("/filed")
def report_filed():
    """The anonymous reporter's receipt: its number and when it will be accepted or refused."""
    from datetime import datetime

    filed = session.get("report_filed")
    if not isinstance(filed, dict):
        return redirect(url_for(".new_report"))
    return render_template(
        "complaints/report_filed.html",
        number=filed.get("number"),
        accept_due_at=datetime.fromisoformat(filed["accept_due_at"]) if filed.get("accept_due_at") else None,
    )


# --- the staff desk ----------------------------------------------------------------------------------------


@admin.before_request
@login_required
def _admin_logged_in():
    pass


def _choice(name: str, allowed: set[str]) -> str | None:
    value = request.args.get(name) or None
    return value if value in allowed else None


@admin.route("/complaints", endpoint="desk")
def desk():
    actor = web_actor()
    status = _choice("status", {"open", "overdue"} | {s.value for s in ComplaintStatus})
    kind = _choice("kind", {k.value for k in ComplaintKind})
    category = _choice("category", {c.value for c in ComplaintCategory})
    page = db.paginate(
        services.desk_query(actor, status, kind, category),
        page=page_number(request.args.get("page")),
        per_page=30,
        error_out=False,
    )
    return render_template(
        "complaints/admin/desk.html",
        page=page,
        status=status,
        kind=kind,
        category=category,
        statuses=["open", "overdue"] + [s.value for s in ComplaintStatus],
        target_url=target_url,
        **LABELS,
    )


@admin.route("/complaints/<int:complaint_id>/decide", methods=["POST"])
def decide(complaint_id: int):
    actor = web_actor()
    c = services.get_complaint(actor, complaint_id)
    form = DecisionForm()
    action = request.form.get("action")
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return _render_detail(c, {"decision": form}, 400)
    try:
        if action == "accept":
            services.accept(actor, c.id)
        elif action == "refuse":
            services.refuse(actor, c.id, form.reason.data)
        elif action == "uphold":
            services.uphold(
                actor, c.id, form.outcome.data, request.form.getlist("consequences"), form.points.data
            )
        elif action == "dismiss":
            services.dismiss(actor, c.id, form.outcome.data)
        else:
            abort(400)
    except DomainError as exc:
        form_errors_from(exc, form)
        flash(str(exc.message), "danger")
        return _render_detail(services.get_complaint(actor, complaint_id), {"decision": form}, exc.status)
    done = {
        "accept": _("Accepted: the investigation starts and the respondent may answer."),
        "refuse": _("Not accepted; the complainant sees your reason."),
        "uphold": _("Upheld: the outcome and its consequences are recorded."),
        "dismiss": _("Dismissed; both sides see the outcome."),
    }
    flash(done[action], "success")
    return redirect(url_for("complaints.detail", number=c.number))
