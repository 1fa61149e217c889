"""Desks behind a login: the enterprise's requests, the agency's inbox and bids."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from marketplace.agencies import favourites
from marketplace.agencies import services as agencies
from marketplace.agencies.models import STATUS_LABELS as AGENCY_STATUS_LABELS
from marketplace.auth.current import web_actor
from marketplace.auth.models import Role
from marketplace.auth.services import require_role
from marketplace.common.errors import DomainError, Invalid, NotFound
from marketplace.common.forms import has_errors, int_or_none, page_number
from marketplace.common.money import format_fen
from marketplace.common.web import ask_confirmation, confirmed, form_errors_from
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.requests import bidding, invitations, item_facts, queries, review, services
from marketplace.requests.forms import (
    REQUEST_ALIASES,
    ActionForm,
    ReasonForm,
    RepublishForm,
    RequestForm,
    default_deadline,
    fill_request_choices,
    request_data,
    request_form_for,
)
from marketplace.requests.labels import METHOD_LABELS
from marketplace.requests.models import (
    EDITABLE_STATUSES,
    UNPUBLISHED,
    RequestStatus,
    SelectionMethod,
    ServiceRequest,
)
from marketplace.requests.pages import is_owner, render_detail, status_arg
from marketplace.requests.validation import clean_request
from marketplace.stats.figures import stats_for

enterprise = Blueprint("enterprise", __name__, url_prefix="/enterprise")
agency_desk = Blueprint("agency_bidding", __name__, url_prefix="/agency")


def blueprints():
    return [enterprise, agency_desk]


# --- the enterprise's desk ---------------------------------------------------------------------------


@enterprise.before_request
@login_required
def _enterprise_logged_in():
    pass


def _enterprise_actor():
    return require_role(web_actor(), Role.ENTERPRISE)


DESK_LIVE_ORDERS = 10  # the desk shows the live orders due soonest; "All orders" pages the rest


@enterprise.route("/")
def dashboard():
    actor = _enterprise_actor()
    counts = queries.my_request_counts(actor)
    status = status_arg(request.args.get("status"), RequestStatus)
    page = db.paginate(
        queries.my_requests_query(actor, status),
        page=page_number(request.args.get("page")),
        per_page=20,
        error_out=False,
    )
    live, live_total = orders.live_due_soonest(actor, DESK_LIVE_ORDERS)
    kept = favourites.list_for(actor)
    return render_template(
        "enterprise/dashboard.html",
        requests=page.items,
        page=page,
        counts=counts,
        total=sum(counts.values()),
        status=status,
        bid_counts=bidding.bid_counts([r.id for r in page.items]),
        live=live,
        live_total=live_total,
        flags={o.id: orders.deadline_status(o) for o in live},
        days={o.id: orders.days_left(o) for o in live},
        statuses=list(RequestStatus),
        favourites=kept,
        favourite_stats=stats_for([f.agency_id for f in kept]),
        agency_status_labels=AGENCY_STATUS_LABELS,
    )


def _checked_request_data(form: RequestForm, publishing: bool) -> dict | None:
    """All checks at once — the form's, the yuan amounts, the service's rules — without changing anything."""
    form.validate()
    data = request_data(form)
    try:
        clean_request(data, publishing=publishing)
    except Invalid as exc:
        aliases = dict(REQUEST_ALIASES)
        for n, row in enumerate(form.exclusion_rows):
            aliases[f"exclusions.{n}.agency_id"] = f"exclusions.{row}.agency_id"
            aliases[f"exclusions.{n}.reason"] = f"exclusions.{row}.reason"
        for message in form_errors_from(exc, form, aliases):
            flash(message, "danger")
    if has_errors(form):
        flash(_("Please correct the marked fields."), "danger")
        return None
    return data


def _published_message(req: ServiceRequest) -> str:
    if req.status == RequestStatus.REVIEW:
        return _(
            "Submitted for review. The market's operator checks the announcement; it becomes public and the "
            "bidding starts once approved."
        )
    return _("Published. Agencies in this category can now bid until the deadline.")


def _save(actor, req: ServiceRequest | None, data: dict, form: RequestForm, publish: bool) -> ServiceRequest:
    """Create or update the request, attach an uploaded approval document, then publish (or submit)."""
    if req is None:
        req = services.create_request(actor, data, publish=False)
    else:
        services.update_draft(actor, req.id, data)
    upload = form.approval_document.data
    if upload and getattr(upload, "filename", None):
        review.attach_approval_document(actor, req.id, upload.stream, upload.filename)
    invitations.set_invitation(actor, req, int_or_none(form.invite_agency_id.data))
    if publish:
        services.publish_request(actor, req.id)
    return req


def _render_form(form: RequestForm, req: ServiceRequest | None):
    item_id = form.service_item_id.data
    return render_template(
        "enterprise/request_form.html",
        form=form,
        req=req,
        returned=req is not None and req.status == RequestStatus.RETURNED,
        methods=list(SelectionMethod),
        min_bids=current_app.config["MARKET_MIN_BIDS"],
        facts=_facts_or_none(item_id),
        invited_agency=invitations.invitable_agency(int_or_none(form.invite_agency_id.data)),
    )


def _facts_or_none(item_id) -> dict | None:
    if not isinstance(item_id, int):
        return None
    try:
        return item_facts.item_facts(item_id)
    except NotFound:
        return None


@enterprise.route("/requests/new", methods=["GET", "POST"])
def new_request():
    actor = _enterprise_actor()
    form = RequestForm()
    fill_request_choices(form)
    if request.method == "GET":
        form.bid_deadline.data = default_deadline()
        item_id = int_or_none(request.args.get("item"))
        if item_id:
            form.service_item_id.data = item_id
        invited = invitations.invitable_agency(int_or_none(request.args.get("agency")))
        if invited is not None:
            form.invite_agency_id.data = str(invited.id)
    else:
        publish = request.form.get("action") == "publish"
        data = _checked_request_data(form, publishing=publish)
        if data is not None:
            try:
                req = _save(actor, None, data, form, publish)
            except DomainError as exc:
                form_errors_from(exc, form)
                flash(str(exc.message), "danger")
            else:
                if publish:
                    flash(_published_message(req), "success")
                else:
                    flash(_("Draft saved. It is visible only to you until you publish it."), "success")
                return redirect(url_for("requests.detail", request_id=req.id))
    return _render_form(form, None)


def _own_draft(actor, request_id: int) -> ServiceRequest:
    req = services.get_request(actor, request_id)
    if not is_owner(actor, req):
        raise NotFound(_l("No such request."))
    return req


@enterprise.route("/requests/<int:request_id>/edit", methods=["GET", "POST"])
def edit_request(request_id: int):
    actor = _enterprise_actor()
    req = _own_draft(actor, request_id)
    if req.status not in EDITABLE_STATUSES:
        flash(
            _("The request is being reviewed; it can be edited only if the operator returns it.")
            if req.status == RequestStatus.REVIEW
            else _("A published request cannot be edited; cancel it and post a new one."),
            "warning",
        )
        return redirect(url_for("requests.detail", request_id=req.id))
    form = request_form_for(req) if request.method == "GET" else RequestForm()
    if request.method == "GET":
        current = invitations.invited(req.id)
        form.invite_agency_id.data = str(current[0].agency_id) if current else ""
    fill_request_choices(form)
    if request.method == "POST":
        publish = request.form.get("action") == "publish"
        data = _checked_request_data(form, publishing=publish)
        if data is not None:
            try:
                _save(actor, req, data, form, publish)
            except DomainError as exc:
                form_errors_from(exc, form)
                flash(str(exc.message), "danger")
            else:
                flash(_published_message(req) if publish else _("Draft saved."), "success")
                return redirect(url_for("requests.detail", request_id=req.id))
    return _render_form(form, req)


@enterprise.route("/requests/<int:request_id>/publish", methods=["POST"])
def publish(request_id: int):
    actor = _enterprise_actor()
    if ActionForm().validate_on_submit():
        try:
            req = services.publish_request(actor, request_id)
        except DomainError as exc:
            flash(str(exc.message), "danger")
            for messages in exc.errors.values():
                for message in messages:
                    if str(message) != str(exc.message):
                        flash(str(message), "warning")
            return redirect(url_for(".edit_request", request_id=request_id))
        flash(_published_message(req), "success")
    return redirect(url_for("requests.detail", request_id=request_id))


@enterprise.route("/requests/<int:request_id>/cancel", methods=["POST"])
def cancel(request_id: int):
    actor = _enterprise_actor()
    form = ReasonForm()
    if form.validate_on_submit():
        if not confirmed():
            req = services.own_request(actor, request_id)
            if req.status in UNPUBLISHED | {RequestStatus.BIDDING} and (
                (form.reason.data or "").strip() or req.status != RequestStatus.BIDDING
            ):
                return _confirm_cancel(req, form.reason.data)
        try:
            req = services.cancel_request(actor, request_id, form.reason.data)
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
            return render_detail(services.get_request(actor, request_id), {"cancel": form})
        flash(
            _("The request was cancelled.") if req.published_at else _("The draft was discarded."), "success"
        )
    return redirect(url_for("requests.detail", request_id=request_id))


def _confirm_cancel(req: ServiceRequest, reason: str | None):
    """撤销公告 asks first: the announcement, its method and ceiling, the reason, and what ends with it."""
    public = req.status == RequestStatus.BIDDING
    facts = [
        (_("Request"), req.title),
        (_("Selection method"), str(METHOD_LABELS[req.selection_method])),
        (_("Ceiling"), format_fen(req.ceiling_fen)),
    ]
    if (reason or "").strip():
        facts.append((_("Reason"), reason.strip()))
    consequences = (
        [
            _("The announcement is withdrawn at once and every bid on it becomes void."),
            _("A cancelled announcement cannot be reopened: to buy the service, post a new request."),
        ]
        if public
        else [_("The draft and what was typed in it are discarded.")]
    )
    return ask_confirmation(
        title=_("Cancel this announcement?") if public else _("Discard this draft?"),
        facts=facts,
        consequences=consequences,
        back_url=url_for("requests.detail", request_id=req.id),
        button=_("Confirm cancellation") if public else _("Discard the draft"),
        danger=True,
    )


@enterprise.route("/requests/<int:request_id>/republish", methods=["POST"])
def republish(request_id: int):
    actor = _enterprise_actor()
    form = RepublishForm()
    if form.validate_on_submit():
        try:
            new = services.republish(actor, request_id, form.bid_deadline.data)
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
        else:
            flash(
                _published_message(new)
                if new.status == RequestStatus.REVIEW
                else _(
                    "Published again as round %(n)d with a new deadline and a new draw seed.", n=new.round
                ),
                "success",
            )
            return redirect(url_for("requests.detail", request_id=new.id))
    else:
        flash(_("Please correct the marked fields."), "danger")
    return render_detail(services.get_request(actor, request_id), {"republish": form})


# --- the agency's bidding desk -----------------------------------------------------------------------


@agency_desk.before_request
@login_required
def _agency_logged_in():
    pass


@agency_desk.route("/inbox")
def inbox():
    actor = web_actor()
    agency = agencies.my_agency(actor)
    page = db.paginate(
        queries.inbox_query(actor), page=page_number(request.args.get("page")), per_page=20, error_out=False
    )
    return render_template(
        "requests/agency/inbox.html",
        agency=agency,
        page=page,
        **bidding.page_for_agency(agency, page.items),
        invited=invitations.invited_request_ids(agency.id, [r.id for r in page.items]),
    )


@agency_desk.route("/bids")
def my_bids():
    actor = web_actor()
    agency = agencies.my_agency(actor)
    page = db.paginate(
        bidding.my_bids_query(actor), page=page_number(request.args.get("page")), per_page=20, error_out=False
    )
    bids = page.items
    reqs = bidding.requests_of(bids)
    won = {b.id: orders.order_for_request(reqs[b.id].id) for b in bids if reqs[b.id].winner_bid_id == b.id}
    return render_template(
        "requests/agency/bids.html",
        agency=agency,
        bids=bids,
        page=page,
        reqs=reqs,
        won_orders={bid_id: o for bid_id, o in won.items() if o is not None and o.bid_id == bid_id},
    )
