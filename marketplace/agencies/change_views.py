"""Pages for entry evidence and change review: the agency's people and evidence (/agency/people), its changes
(/agency/changes), and the operators' change desk (/admin/changes)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from marketplace.agencies import changes, practitioners, services
from marketplace.agencies.forms import (
    ActionForm,
    AuthorisedForm,
    FileForm,
    LegalRepForm,
    PractitionerForm,
    ReasonForm,
)
from marketplace.agencies.roster import (
    CHANGE_KIND_LABELS,
    CHANGE_STATUS_LABELS,
    PRACTITIONER_STATUS_LABELS,
    ChangeStatus,
    Practitioner,
)
from marketplace.audit.services import entries_for
from marketplace.auth.current import web_actor
from marketplace.common import uploads
from marketplace.common.errors import DomainError
from marketplace.common.web import form_errors_from, framed_by_own_pages, send_upload, store_posted_file
from marketplace.extensions import db

people = Blueprint("agency_people", __name__, url_prefix="/agency")
desk = Blueprint("change_admin", __name__, url_prefix="/admin")


def blueprints():
    return [people, desk]


@people.before_request
@login_required
def _logged_in():
    pass


@desk.before_request
@login_required
def _staff_logged_in():
    pass


AUTHORISED = "authorised"  # the form's prefix: its fields share names with the practitioner form on one page
LABELS = {
    "kind_labels": CHANGE_KIND_LABELS,
    "change_status_labels": CHANGE_STATUS_LABELS,
    "practitioner_status_labels": PRACTITIONER_STATUS_LABELS,
    "documents": practitioners.DOCUMENTS,
}


# --- the agency: evidence and practitioners ------------------------------------------------------------------


def _render_people(forms: dict | None = None, status: int = 200):
    actor = web_actor()
    agency = services.my_agency(actor)
    forms = forms or {}
    authorised = forms.get("authorised") or AuthorisedForm(
        formdata=None, prefix=AUTHORISED, name=agency.authorised_name, phone=agency.authorised_phone
    )
    return (
        render_template(
            "agencies/workspace/people.html",
            agency=agency,
            people=practitioners.practitioners_of(agency),
            member=changes.is_member(agency),
            form=forms.get("practitioner") or PractitionerForm(formdata=None),
            authorised=authorised,
            file_form=FileForm(formdata=None),
            action=ActionForm(formdata=None),
            **LABELS,
        ),
        status,
    )


@people.route("/people")
def people_page():
    return _render_people()


PRACTITIONER_ALIASES = {
    f"practitioner.{f}": f
    for f in ("name", "id_number", "registration", "certificate_no", "years", "is_lead")
}


@people.route("/people", methods=["POST"])
def add_practitioner():
    form = PractitionerForm()
    if form.validate_on_submit():
        data = {
            f: getattr(form, f).data
            for f in ("name", "id_number", "registration", "certificate_no", "years", "is_lead")
        }
        data["years"] = data["years"] or 0
        try:
            _person, change = practitioners.add_practitioner(
                web_actor(), data, form.file.data.stream, form.file.data.filename
            )
        except DomainError as exc:
            leftover = form_errors_from(exc, form, PRACTITIONER_ALIASES)
            flash(str(exc.message), "danger")
            for message in leftover:
                if message != str(exc.message):
                    flash(message, "warning")
            return _render_people({"practitioner": form}, exc.status)
        if change is not None:
            flash(
                _("Practitioner submitted for change review; it counts once an operator approves it."),
                "success",
            )
        else:
            flash(_("Practitioner added."), "success")
        return redirect(url_for(".people_page"))
    flash(_("Please correct the marked fields."), "danger")
    return _render_people({"practitioner": form}, 422)


@people.route("/people/<int:practitioner_id>/file", methods=["POST"])
def practitioner_file(practitioner_id: int):
    actor = web_actor()
    store_posted_file(
        FileForm(),
        lambda stream, name: practitioners.attach_practitioner_file(actor, practitioner_id, stream, name),
        _("File replaced."),
    )
    return redirect(url_for(".people_page"))


@people.route("/people/<int:practitioner_id>/remove", methods=["POST"])
def remove_practitioner(practitioner_id: int):
    if ActionForm().validate_on_submit():
        try:
            change = practitioners.remove_practitioner(web_actor(), practitioner_id)
        except DomainError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(
                _("Removal submitted for change review.") if change else _("Practitioner removed."), "success"
            )
    return redirect(url_for(".people_page"))


@people.route("/evidence/authorised", methods=["POST"])
def authorised_person():
    form = AuthorisedForm(prefix=AUTHORISED)
    if form.validate_on_submit():
        try:
            practitioners.save_authorised_person(
                web_actor(),
                {"name": form.name.data, "id_number": form.id_number.data, "phone": form.phone.data},
            )
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
            return _render_people({"authorised": form}, exc.status)
        flash(_("Authorised person saved."), "success")
        return redirect(url_for(".people_page"))
    flash(_("Please correct the marked fields."), "danger")
    return _render_people({"authorised": form}, 422)


@people.route("/evidence/<any(pledge, authorisation):kind>", methods=["POST"])
def upload_document(kind: str):
    actor = web_actor()
    store_posted_file(
        FileForm(),
        lambda stream, name: practitioners.save_document(actor, kind, stream, name),
        _("File uploaded."),
    )
    return redirect(url_for(".people_page"))


# --- the agency: its changes -------------------------------------------------------------------------------------


@people.route("/changes", methods=["GET", "POST"])
def my_changes():
    actor = web_actor()
    agency = services.my_agency(actor)
    form = LegalRepForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                changes.propose_legal_rep(actor, form.legal_rep.data)
            except DomainError as exc:
                form_errors_from(exc, form)
                flash(str(exc.message), "danger")
                status = exc.status
            else:
                flash(
                    _("Change submitted for review. The old value stays in force until it is approved."),
                    "success",
                )
                return redirect(url_for(".my_changes"))
        else:
            flash(_("Please correct the marked fields."), "danger")
            status = 422
    return (
        render_template(
            "agencies/workspace/changes.html",
            agency=agency,
            rows=changes.my_changes(actor),
            member=changes.is_member(agency),
            form=form,
            **LABELS,
        ),
        status,
    )


# --- operators: the change desk ------------------------------------------------------------------------------------


@desk.route("/changes")
def change_list():
    actor = web_actor()
    raw = request.args.get("status", "pending")
    status = None if raw == "all" else ChangeStatus(raw) if raw in set(ChangeStatus) else ChangeStatus.PENDING
    page = db.paginate(changes.changes_query(actor, status), per_page=30, error_out=False)
    return render_template(
        "agencies/admin/changes.html",
        page=page,
        status=raw if status is not None or raw == "all" else "pending",
        is_overdue=changes.is_overdue,
        **LABELS,
    )


def _render_change(change_id: int, refused: dict | None = None, status: int = 200):
    actor = web_actor()
    change = changes.change_for_review(actor, change_id)
    subject = None
    if change.kind.value == "practitioner":
        subject = db.session.get(Practitioner, change.payload.get("practitioner_id"))
    return (
        render_template(
            "agencies/admin/change.html",
            change=change,
            agency=change.agency,
            subject=subject,
            form=ReasonForm(formdata=None),
            history=entries_for("membership_change", change.id),
            is_overdue=changes.is_overdue,
            refused=refused or {},
            **LABELS,
        ),
        status,
    )


@desk.route("/changes/<int:change_id>")
def change_detail(change_id: int):
    return _render_change(change_id)


@desk.route("/changes/<int:change_id>/file")
@framed_by_own_pages
def change_file(change_id: int):
    """The scan a proposed qualification carries, for the staff who review the change."""
    file = (changes.change_for_review(web_actor(), change_id).payload or {}).get("file")
    if not file or not file.get("key"):
        abort(404)
    return send_upload(
        uploads.upload_path(services.UPLOAD_KIND, file["key"]), file.get("mime"), file.get("name")
    )


@desk.route("/changes/<int:change_id>/<any(approve, reject):action>", methods=["POST"])
def decide_change(change_id: int, action: str):
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            if action == "approve":
                changes.approve(web_actor(), change_id)
            else:
                changes.reject(web_actor(), change_id, form.reason.data)
        except DomainError as exc:
            flash(str(exc.message), "danger")
            if exc.errors.get("reason"):
                refused = {"errors": [str(m) for m in exc.errors["reason"]], "typed": form.reason.data or ""}
                return _render_change(change_id, refused, exc.status)
        else:
            flash(
                _("Change approved and applied.") if action == "approve" else _("Change rejected."), "success"
            )
            return redirect(url_for(".change_list"))
    return redirect(url_for(".change_detail", change_id=change_id))
