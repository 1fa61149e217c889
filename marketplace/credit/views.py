"""Credit pages: the rules (信用评价规则), the red and black lists and each agency's credit (public); the agency's
own events with appeals and repair requests (/agency/credit); the staff desk for appeals, repairs, listings and
conduct records (/admin/credit)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from marketplace.agencies.services import get_agency, my_agency
from marketplace.auth.current import web_actor
from marketplace.auth.models import Role
from marketplace.auth.policy import acts_in
from marketplace.common import uploads
from marketplace.common.clock import now
from marketplace.common.errors import DomainError, Invalid
from marketplace.common.forms import page_number
from marketplace.common.web import form_errors_from
from marketplace.credit import appeals, rules, scores, services
from marketplace.credit.forms import AppealForm, ConductForm, LiftForm, ListForm, OpinionForm, RepairForm
from marketplace.credit.models import (
    DECISION_LABELS,
    EVENT_STATUS_LABELS,
    LIST_LABELS,
    REPAIR_LABELS,
    CreditListEntry,
    Decision,
    ListKind,
)
from marketplace.extensions import db

public = Blueprint("credit", __name__, url_prefix="/credit")
pages = Blueprint("agency_credit", __name__)
admin = Blueprint("credit_admin", __name__, url_prefix="/admin/credit")


def blueprints():
    return [public, pages, admin]


@public.record_once
def _labels(state) -> None:
    """Jinja globals (not a context processor): the grade macro is imported by other features' templates."""
    state.app.jinja_env.globals.update(
        {
            "credit_grade_labels": rules.GRADE_LABELS,
            "credit_source_labels": {s.value: label for s, label in rules.SOURCE_LABELS.items()},
            "credit_rule_label": rules.rule_label,
            "credit_event_status_labels": EVENT_STATUS_LABELS,
            "credit_list_labels": LIST_LABELS,
            "credit_decision_labels": DECISION_LABELS,
            "credit_repair_labels": REPAIR_LABELS,
            "credit_veto_rules": rules.VETO_RULES,
        }
    )


# --- public -------------------------------------------------------------------------------------------------


@public.route("/rules")
def rules_page():
    return render_template(
        "credit/rules.html",
        rules=rules,
        window_from=rules.window_label_start(now().date()),
    )


def _list_page(kind: ListKind):
    page = db.paginate(
        services.list_query(kind), page=page_number(request.args.get("page")), per_page=30, error_out=False
    )
    return render_template("credit/list.html", kind=kind, page=page)


@public.route("/blacklist")
def blacklist():
    return _list_page(ListKind.BLACK)


@public.route("/redlist")
def redlist():
    return _list_page(ListKind.RED)


@public.route("/appeals/<int:appeal_id>/files/<key>")
@login_required
def appeal_file(appeal_id: int, key: str):
    """An appeal's evidence file: its agency and the staff of the desk."""
    meta = appeals.evidence_file(web_actor(), appeal_id, key)
    return _send(meta)


@public.route("/repairs/<int:repair_id>/letter")
@login_required
def repair_letter(repair_id: int):
    return _send(appeals.letter_file(web_actor(), repair_id))


def _send(meta: dict):
    try:
        path = uploads.upload_path(appeals.UPLOAD_KIND, meta["key"])
    except (ValueError, KeyError):
        abort(404)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=meta.get("mime"), download_name=meta.get("name"), as_attachment=True)


@pages.route("/agencies/<int:agency_id>/credit")
def agency_credit(agency_id: int):
    agency = get_agency(agency_id)
    return render_template(
        "credit/agency.html",
        agency=agency,
        credit=scores.explained(agency.id),
        lists=scores.entries_in_force(agency.id),
    )


# --- the agency's own -----------------------------------------------------------------------------------------


def _render_mine(appeal_forms: dict | None = None, repair_form: RepairForm | None = None, status: int = 200):
    agency = my_agency(web_actor())
    credit = scores.explained(agency.id)
    by_event = appeals.appeals_of_agency(agency.id)
    entries = list(
        db.session.scalars(
            db.select(CreditListEntry)
            .where(CreditListEntry.agency_id == agency.id)
            .order_by(CreditListEntry.starts_at.desc())
        )
    )
    appeal_forms = appeal_forms or {}
    page = render_template(
        "credit/mine.html",
        agency=agency,
        credit=credit,
        appeals=by_event,
        may_appeal=appeals.may_appeal,
        appeal_ends=appeals.appeal_window_ends,
        may_repair=appeals.may_repair,
        repair_opens=appeals.repair_opens,
        appeal_forms={
            i["event"].id: appeal_forms.get(i["event"].id) or AppealForm(formdata=None)
            for i in credit["items"]
        },
        repair_form=repair_form or RepairForm(formdata=None),
        repairs=appeals.repairs_of_agency(agency.id),
        entries=entries,
        lists=scores.entries_in_force(agency.id),
        appeal_days=current_app.config["CREDIT_APPEAL_DAYS"],
    )
    return page, status


@pages.route("/agency/credit")
@login_required
def mine():
    return _render_mine()


@pages.route("/agency/credit/events/<int:event_id>/appeal", methods=["POST"])
@login_required
def appeal(event_id: int):
    form = AppealForm()
    if form.validate_on_submit():
        files = [(f.stream, f.filename) for f in (form.evidence.data or []) if getattr(f, "filename", "")]
        try:
            appeals.file_appeal(web_actor(), event_id, form.reason.data, files)
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
            return _render_mine({event_id: form}, status=exc.status if exc.status in (404, 409) else 422)
        flash(
            _("Your appeal is filed; the operator decides within the working days the rules set."), "success"
        )
        return redirect(url_for(".mine", _anchor=f"event-{event_id}"))
    return _render_mine({event_id: form}, status=400)


@pages.route("/agency/credit/repairs", methods=["POST"])
@login_required
def repair():
    form = RepairForm()
    if form.validate_on_submit():
        kind, _sep, raw = (form.target.data or "").partition(":")
        target_id = int(raw) if raw.isdigit() else -1
        data = {
            "event_id": target_id if kind == "event" else None,
            "entry_id": target_id if kind == "entry" else None,
            "statement": form.statement.data,
        }
        letter = form.letter.data if getattr(form.letter.data, "filename", "") else None
        try:
            appeals.apply_repair(web_actor(), data, (letter.stream, letter.filename) if letter else None)
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
            return _render_mine(repair_form=form, status=exc.status if exc.status in (404, 409) else 422)
        flash(_("Your credit repair request is filed; the operator decides."), "success")
        return redirect(url_for(".mine", _anchor="repairs"))
    return _render_mine(repair_form=form, status=400)


# --- the staff desk -------------------------------------------------------------------------------------------


@admin.before_request
@login_required
def _admin_logged_in():
    pass


def _render_desk(forms: dict | None = None, status: int = 200):
    actor = web_actor()
    show = request.args.get("status", "pending")
    wanted = None if show == "all" else Decision.PENDING
    page = db.paginate(
        appeals.appeals_query(actor, wanted),
        page=page_number(request.args.get("page")),
        per_page=30,
        error_out=False,
    )
    repairs = list(db.session.scalars(appeals.repairs_query(actor, wanted).limit(100)))
    forms = forms or {}
    return render_template(
        "credit/admin/desk.html",
        page=page,
        repairs=repairs,
        show=show,
        now=now(),
        acts=acts_in(actor, Role.OPERATOR),
        forms={k: forms.get(k) or OpinionForm(formdata=None) for k in [f"a{a.id}" for a in page.items]}
        | {k: forms.get(k) or OpinionForm(formdata=None) for k in [f"r{r.id}" for r in repairs]},
    ), status


@admin.route("/", endpoint="desk")
def desk():
    return _render_desk()


@admin.route("/appeals/<int:appeal_id>/decide", methods=["POST"])
def decide_appeal(appeal_id: int):
    form = OpinionForm()
    if form.validate_on_submit():
        decision = request.form.get("decision")
        try:
            if decision not in ("uphold", "reject"):
                raise Invalid(_l("Choose to uphold or to reject."))
            appeals.decide_appeal(web_actor(), appeal_id, decision == "uphold", form.opinion.data)
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
            return _render_desk({f"a{appeal_id}": form}, status=exc.status)
        flash(
            _("Appeal upheld: the event is reversed and the score recomputed.")
            if decision == "uphold"
            else _("Appeal rejected; the event stands."),
            "success",
        )
        return redirect(url_for(".desk"))
    return _render_desk({f"a{appeal_id}": form}, status=400)


@admin.route("/repairs/<int:repair_id>/decide", methods=["POST"])
def decide_repair(repair_id: int):
    form = OpinionForm()
    if form.validate_on_submit():
        decision = request.form.get("decision")
        try:
            if decision not in ("approve", "reject"):
                raise Invalid(_l("Choose to approve or to reject."))
            appeals.decide_repair(web_actor(), repair_id, decision == "approve", form.opinion.data)
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
            return _render_desk({f"r{repair_id}": form}, status=exc.status)
        flash(
            _("Credit repair approved.") if decision == "approve" else _("Credit repair rejected."), "success"
        )
        return redirect(url_for(".desk"))
    return _render_desk({f"r{repair_id}": form}, status=400)


def _render_lists(
    list_form: ListForm | None = None,
    conduct_form: ConductForm | None = None,
    lift_forms: dict | None = None,
    status: int = 200,
):
    actor = web_actor()
    page = db.paginate(
        services.entries_query(actor),
        page=page_number(request.args.get("page")),
        per_page=30,
        error_out=False,
    )
    lift_forms = lift_forms or {}
    return render_template(
        "credit/admin/lists.html",
        page=page,
        acts=acts_in(actor, Role.SUPERVISOR),
        list_form=list_form or ListForm(formdata=None),
        conduct_form=conduct_form or ConductForm(formdata=None),
        lift_forms={e.id: lift_forms.get(e.id) or LiftForm(formdata=None) for e in page.items},
    ), status


@admin.route("/lists", endpoint="lists")
def lists():
    return _render_lists()


def _agency_no(value) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


@admin.route("/lists", methods=["POST"])
def list_agency():
    form = ListForm()
    if form.validate_on_submit():
        data = {
            "agency_id": _agency_no(form.agency_id.data),
            "list": form.list.data,
            "reason": form.reason.data,
            "basis": form.basis.data,
            "until": form.until.data,
        }
        try:
            entry = services.list_agency(web_actor(), data)
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
            return _render_lists(list_form=form, status=exc.status)
        flash(
            _("%(agency)s is on the %(list)s.", agency=entry.agency.name, list=LIST_LABELS[entry.kind]),
            "success",
        )
        return redirect(url_for(".lists"))
    return _render_lists(list_form=form, status=400)


@admin.route("/lists/<int:entry_id>/lift", methods=["POST"])
def lift(entry_id: int):
    form = LiftForm()
    if form.validate_on_submit():
        try:
            services.lift_entry(web_actor(), entry_id, form.why.data)
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
            return _render_lists(lift_forms={entry_id: form}, status=exc.status)
        flash(_("The entry is lifted."), "success")
        return redirect(url_for(".lists"))
    return _render_lists(lift_forms={entry_id: form}, status=400)


@admin.route("/conduct", methods=["POST"])
def conduct():
    form = ConductForm()
    if form.validate_on_submit():
        data = {
            "agency_id": _agency_no(form.agency_id.data),
            "rule": form.rule.data,
            "evidence": form.evidence.data,
            "note": form.note.data,
        }
        try:
            event = services.record_conduct(web_actor(), data)
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
            return _render_lists(conduct_form=form, status=exc.status)
        flash(_("Recorded: %(points)+d points.", points=event.points), "success")
        return redirect(url_for(".lists"))
    return _render_lists(conduct_form=form, status=400)
