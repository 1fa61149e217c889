"""Agency pages: the agency's workspace and the administrators' review desk (the public list and stores are
composed in home/agencies.py)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from wtforms.fields.choices import SelectChoice

from marketplace.agencies import change_views, changes, membership, services
from marketplace.agencies import offers as offer_services
from marketplace.agencies.forms import (
    ActionForm,
    BankForm,
    FileForm,
    OfferForm,
    ProfileForm,
    QualificationForm,
    ReasonForm,
    kind_choices,
)
from marketplace.agencies.models import STATUS_LABELS, TRANSITIONS, AgencyStatus, PriceMode
from marketplace.agencies.validation import BANK_FIELDS, PROFILE_FIELDS
from marketplace.audit.services import entries_for
from marketplace.auth.current import web_actor
from marketplace.auth.models import Role
from marketplace.auth.policy import acts_in, located
from marketplace.catalogue import services as catalogue
from marketplace.common.errors import DomainError
from marketplace.common.l10n import named
from marketplace.common.money import fen_to_yuan, yuan_to_fen
from marketplace.common.web import ask_confirmation, confirmed, form_errors_from, store_posted_file
from marketplace.extensions import db
from marketplace.regions import services as regions

workspace = Blueprint("agency_workspace", __name__, url_prefix="/agency")
admin = Blueprint("agency_admin", __name__, url_prefix="/admin")


def blueprints():
    return [workspace, admin, *change_views.blueprints()]


# --- the agency's workspace ------------------------------------------------------------------------


@workspace.before_request
@login_required
def _logged_in():
    pass


@workspace.route("/")
def dashboard():
    agency = services.my_agency(web_actor())
    return render_template(
        "agencies/workspace/dashboard.html",
        agency=agency,
        problems=membership.application_problems(agency),
        form=ActionForm(),
        status_labels=STATUS_LABELS,
    )


@workspace.route("/profile", methods=["GET", "POST"])
def profile():
    actor = web_actor()
    agency = services.my_agency(actor)
    form = ProfileForm(obj=agency if request.method == "GET" else None)
    form.category_ids.choices = [(c.id, named(c)) for c in catalogue.categories()]
    locked = agency.status in (AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED)
    if request.method == "GET":
        form.category_ids.data = [c.id for c in agency.categories]
    if form.validate_on_submit():
        data = {field: getattr(form, field).data for field in PROFILE_FIELDS}
        data["category_ids"] = [c.id for c in agency.categories] if locked else form.category_ids.data
        try:
            membership.update_profile(actor, data)
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
        else:
            flash(_("Profile saved."), "success")
            if locked and data["legal_rep"] and data["legal_rep"].strip() != agency.legal_rep:
                flash(
                    _(
                        "The new legal representative was submitted for change review; the old one stays in force until it is approved."
                    ),
                    "info",
                )
            return redirect(url_for(".dashboard"))
    codes = regions.parse_codes(form.service_area_codes.data) or []
    return render_template(
        "agencies/workspace/profile.html", form=form, agency=agency, locked=locked, service_area_codes=codes
    )


@workspace.route("/bank", methods=["GET", "POST"])
def bank():
    """收款账户: the account owners pay into, shown to an order's enterprise on the transfer form only."""
    actor = web_actor()
    agency = services.my_agency(actor)
    form = BankForm(obj=agency if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            membership.update_bank_details(actor, {f: getattr(form, f).data for f in BANK_FIELDS})
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
        else:
            flash(_("Bank details saved."), "success")
            return redirect(url_for(".bank"))
    return render_template("agencies/workspace/bank.html", form=form, agency=agency)


@workspace.route("/qualifications", methods=["GET", "POST"])
def qualifications():
    actor = web_actor()
    agency = services.my_agency(actor)
    form = QualificationForm()
    form.category_id.choices = [(0, _("General (all categories)"))] + [
        (c.id, named(c)) for c in catalogue.categories()
    ]
    form.kind_id.choices = kind_choices(
        catalogue.kinds_by_trade(), _("Other (not in the register, e.g. a business licence)")
    )
    if request.method == "GET":
        form.kind_id.data = 0  # never a kind the agency did not choose
    if form.validate_on_submit():
        data = {
            f: getattr(form, f).data
            for f in ("kind_id", "name", "level", "number", "issuer", "valid_until", "category_id")
        }
        upload = form.file.data
        member = changes.is_member(agency)
        try:
            if member:  # a member's new qualification counts only once approved
                changes.propose_qualification(actor, data, upload.stream, upload.filename)
            else:
                membership.add_qualification(actor, data, upload.stream, upload.filename)
        except DomainError as exc:
            form_errors_from(exc, form, {f"qualification.{f}": f for f in data})
            flash(str(exc.message), "danger")
        else:
            if member:
                flash(
                    _("Qualification submitted for change review; it counts once an operator approves it."),
                    "success",
                )
            else:
                flash(_("Qualification added."), "success")
            return redirect(url_for(".qualifications"))
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "danger")
    return render_template(
        "agencies/workspace/qualifications.html",
        agency=agency,
        form=form,
        file_form=FileForm(),
        action=ActionForm(),
    )


@workspace.route("/qualifications/<int:qualification_id>/file", methods=["POST"])
def replace_file(qualification_id: int):
    actor = web_actor()
    store_posted_file(
        FileForm(),
        lambda stream, name: membership.attach_qualification_file(actor, qualification_id, stream, name),
        _("File replaced."),
    )
    return redirect(url_for(".qualifications"))


@workspace.route("/qualifications/<int:qualification_id>/delete", methods=["POST"])
def delete_qualification(qualification_id: int):
    if ActionForm().validate_on_submit():
        actor = web_actor()
        try:
            if changes.is_member(services.my_agency(actor)):
                changes.propose_qualification_removal(actor, qualification_id)
                flash(_("Removal submitted for change review."), "success")
            else:
                membership.remove_qualification(actor, qualification_id)
                flash(_("Qualification removed."), "success")
        except DomainError as exc:
            flash(str(exc.message), "danger")
    return redirect(url_for(".qualifications"))


@workspace.route("/apply", methods=["POST"])
def apply():
    if ActionForm().validate_on_submit():
        try:
            membership.submit_application(web_actor())
            flash(_("Application submitted. The administrators will review it."), "success")
        except DomainError as exc:
            flash(str(exc.message), "danger")
            for problem in exc.errors.get("application", []):
                flash(str(problem), "warning")
    return redirect(url_for(".dashboard"))


def _offer_data(form: OfferForm) -> dict:
    def fen(field):
        raw = (field.data or "").strip()
        if not raw:
            return None
        try:
            return yuan_to_fen(raw)
        except ValueError:
            field.errors = list(field.errors) + [_("Enter an amount in yuan, e.g. 12000 or 12000.50.")]
            return None

    def whole(field):
        raw = (field.data or "").strip()
        if not raw:
            return None
        if not raw.isdigit():
            field.errors = list(field.errors) + [_("Must be a whole number.")]
            return None
        return int(raw)

    return {
        "service_item_id": form.service_item_id.data,
        "price_mode": form.price_mode.data,
        "price_fen": fen(form.price) if form.price_mode.data == "fixed" else None,
        "price_min_fen": fen(form.price_min) if form.price_mode.data == "range" else None,
        "price_max_fen": fen(form.price_max) if form.price_mode.data == "range" else None,
        "discount_pct": whole(form.discount_pct) if form.price_mode.data == "discount" else None,
        "promised_days": whole(form.promised_days),
        "description": form.description.data,
    }


@workspace.route("/offers", methods=["GET", "POST"])
def offers():
    actor = web_actor()
    agency = services.my_agency(actor)
    form = OfferForm()
    category_ids = {c.id for c in agency.categories}
    items = [i for i in catalogue.service_items() if i.category_id in category_ids]
    # data-guided: the discount on the guide price is offered only for guided items (static/js/form-fit.js)
    form.service_item_id.choices = [
        SelectChoice(
            i.id, f"{i.category.name} · {i.name}", render_kw={"data-guided": "1" if i.is_guided else "0"}
        )
        for i in items
    ]
    editing = None
    if request.method == "GET" and request.args.get("item", type=int):
        item_id = request.args.get("item", type=int)
        editing = next((o for o in agency.offers if o.service_item_id == item_id), None)
        form.service_item_id.data = item_id
        if editing:
            form.price_mode.data = editing.price_mode.value
            form.price.data = fen_to_yuan(editing.price_fen)
            form.price_min.data = fen_to_yuan(editing.price_min_fen)
            form.price_max.data = fen_to_yuan(editing.price_max_fen)
            form.discount_pct.data = editing.discount_pct
            form.promised_days.data = editing.promised_days
            form.description.data = editing.description
    if form.validate_on_submit():
        data = _offer_data(form)
        if not any(f.errors for f in form):
            try:
                offer_services.save_offer(actor, data)
            except DomainError as exc:
                form_errors_from(exc, form, OFFER_ALIASES)
                flash(str(exc.message), "danger")
            else:
                flash(_("Offer saved; it is now in your store."), "success")
                return redirect(url_for(".offers"))
        else:
            flash(_("Please correct the marked fields."), "danger")
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "danger")
    return render_template(
        "agencies/workspace/offers.html",
        agency=agency,
        form=form,
        items=items,
        editing=editing,
        action=ActionForm(),
        PriceMode=PriceMode,
    )


# The service speaks fen, the form yuan.
OFFER_ALIASES = {"price_fen": "price", "price_min_fen": "price_min", "price_max_fen": "price_max"}


@workspace.route("/offers/<int:offer_id>/delete", methods=["POST"])
def delete_offer(offer_id: int):
    if ActionForm().validate_on_submit():
        try:
            offer_services.remove_offer(web_actor(), offer_id)
            flash(_("Offer removed from your store."), "success")
        except DomainError as exc:
            flash(str(exc.message), "danger")
    return redirect(url_for(".offers"))


# --- administrators --------------------------------------------------------------------------------


@admin.before_request
@login_required
def _admin_logged_in():
    pass


@admin.route("/applications")
def applications():
    actor = web_actor()
    raw = request.args.get("status", "pending")
    status = None if raw == "all" else AgencyStatus(raw) if raw in set(AgencyStatus) else AgencyStatus.PENDING
    page = db.paginate(services.applications_query(actor, status), per_page=30, error_out=False)
    return render_template(
        "agencies/admin/applications.html",
        page=page,
        status=raw if status is not None or raw == "all" else "pending",
        counts=services.count_by_status(actor),
        status_labels=STATUS_LABELS,
        is_overdue=changes.is_overdue,
    )


@admin.route("/agencies/<int:agency_id>")
def review(agency_id: int):
    return _render_review(agency_id)


def _render_review(agency_id: int, refused: dict | None = None):
    """The review page; `refused` = {action: {"errors": [...], "typed": reason}} for a decision turned down."""
    agency = services.agency_for_review(web_actor(), agency_id)
    return render_template(
        "agencies/admin/review.html",
        agency=agency,
        form=ReasonForm(),
        history=entries_for("agency", agency.id),
        status_labels=STATUS_LABELS,
        refused=refused or {},
        is_overdue=changes.is_overdue,
        documents=change_views.LABELS["documents"],
        practitioner_status_labels=change_views.LABELS["practitioner_status_labels"],
    )


@admin.route(
    "/agencies/<int:agency_id>/<any(approve, reject, suspend, reinstate, expel):action>", methods=["POST"]
)
def decide(agency_id: int, action: str):
    form = ReasonForm()
    if form.validate_on_submit():
        if not confirmed() and action in ASKS_FIRST:
            asked = _confirm_decision(agency_id, action, (form.reason.data or "").strip())
            if asked is not None:
                return asked
        try:
            agency = membership.decide(web_actor(), agency_id, action, form.reason.data)
        except DomainError as exc:
            flash(str(exc.message), "danger")
            if exc.errors:  # e.g. a reason is required: say so beside the reason, keep what was typed
                form_errors_from(exc, form)
                messages = form.reason.errors or [str(exc.message)]
                refused = {action: {"errors": messages, "typed": form.reason.data or ""}}
                return _render_review(agency_id, refused), exc.status
        else:
            flash(
                _(
                    "%(name)s is now: %(status)s.",
                    name=agency.name,
                    status=STATUS_LABELS[agency.status],
                ),
                "success",
            )
    return redirect(url_for(".review", agency_id=agency_id))


ASKS_FIRST = ("approve", "reject", "expel")  # 审核通过 / 驳回 / 清退 ask first (suspensions can be lifted)


def _confirm_decision(agency_id: int, action: str, reason: str):
    """The confirmation page of a membership decision, or None when the service would refuse it anyway (not
    the operator here, the wrong status, a missing reason or scan): it then says why."""
    actor = web_actor()
    agency = services.agency_for_review(actor, agency_id)
    if (
        not acts_in(actor, Role.OPERATOR, located(agency.region_code))
        or agency.status not in TRANSITIONS[action][0]
        or (action != "approve" and not reason)
        or len(reason) > 500
        or (action == "approve" and any(q.file_key is None for q in agency.qualifications))
    ):
        return None
    facts = [
        (_("Agency"), agency.name),
        (_("Unified social credit code"), agency.uscc),
        (_("Decision"), str(DECISION_LABELS[action])),
    ]
    if reason:
        facts.append((_("Reason"), reason))
    return ask_confirmation(
        title=_("%(decision)s: %(name)s?", decision=DECISION_LABELS[action], name=agency.name),
        facts=facts,
        consequences=[str(c) for c in DECISION_CONSEQUENCES[action]],
        back_url=url_for(".review", agency_id=agency.id),
        button=_("Confirm: %(decision)s", decision=DECISION_LABELS[action]),
        danger=action != "approve",
    )


DECISION_LABELS = {
    "approve": _l("Approve membership"),
    "reject": _l("Reject the application"),
    "expel": _l("Expel"),
}
DECISION_CONSEQUENCES = {
    "approve": [
        _l("The agency becomes an active member at once: its store is public and it can bid."),
        _l("Its categories and qualifications count from now; later changes go through review."),
    ],
    "reject": [
        _l("The application is refused and the agency sees your reason."),
        _l("It stays outside the market until it corrects the data and applies again."),
    ],
    "expel": [
        _l("The membership ends for good: the store closes and the agency can no longer bid."),
        _l("An expelled agency cannot be reinstated."),
    ],
}
