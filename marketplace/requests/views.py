"""Request pages: public announcements, the enterprise's desk, sealed bidding, comparison, the draw, objections."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from marketplace.agencies import services as agencies
from marketplace.auth.models import Role
from marketplace.auth.services import require_role
from marketplace.bidding import services as bidding
from marketplace.bidding.models import Bid, BidStatus
from marketplace.catalogue import services as catalogue
from marketplace.common.clock import now
from marketplace.common.errors import DomainError, Invalid, NotFound
from marketplace.common.money import format_fen
from marketplace.common.regions import REGIONS
from marketplace.common.web import form_errors_from, web_actor
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import LIVE
from marketplace.requests import services
from marketplace.requests.forms import (
    BID_ALIASES,
    BID_LABELS,
    FUNDING_LABELS,
    METHOD_HELP,
    METHOD_LABELS,
    OBJECTION_LABELS,
    REQUEST_ALIASES,
    REVISION_LABELS,
    STATUS_LABELS,
    WEIGHT_LABELS,
    ActionForm,
    BidForm,
    ObjectionForm,
    ReasonForm,
    RepublishForm,
    RequestForm,
    ResolveForm,
    SelectForm,
    bid_data,
    bid_form_for,
    copy_errors,
    default_deadline,
    fill_request_choices,
    has_errors,
    int_or_none,
    page_number,
    request_data,
    request_form_for,
)
from marketplace.requests.models import (
    ObjectionStatus,
    RequestStatus,
    SelectionMethod,
    ServiceRequest,
)
from marketplace.requests.validation import clean_request

public = Blueprint("requests", __name__, url_prefix="/requests")
enterprise = Blueprint("enterprise", __name__, url_prefix="/enterprise")
agency_desk = Blueprint("agency_bidding", __name__, url_prefix="/agency")
admin = Blueprint("request_admin", __name__, url_prefix="/admin")


def blueprints():
    return [public, enterprise, agency_desk, admin]


PUBLIC_STATUSES = [s for s in RequestStatus if s != RequestStatus.DRAFT]


@public.app_context_processor
def _labels():
    return {
        "request_status_labels": STATUS_LABELS,
        "method_labels": METHOD_LABELS,
        "method_help": METHOD_HELP,
        "funding_labels": FUNDING_LABELS,
        "bid_status_labels": BID_LABELS,
        "objection_labels": OBJECTION_LABELS,
        "weight_labels": WEIGHT_LABELS,
        "revision_labels": REVISION_LABELS,
    }


@public.app_template_global()
def time_left(moment: datetime | None) -> str:
    """“3 days 4 hours left” until a deadline, or “closed”."""
    if moment is None:
        return "—"
    seconds = int((moment - now()).total_seconds())
    if seconds <= 0:
        return _("Closed")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return _("%(d)d days %(h)d hours left", d=days, h=hours)
    if hours:
        return _("%(h)d hours %(m)d minutes left", h=hours, m=rest // 60)
    return _("%(m)d minutes left", m=max(1, rest // 60))


@agency_desk.app_template_global()
def open_requests_for(user, limit: int = 5) -> list[ServiceRequest]:
    """A few open announcements the agency may bid on (for its dashboard)."""
    if user is None or getattr(user, "role", None) != Role.AGENCY or user.agency is None:
        return []
    return list(db.session.scalars(services.inbox_query(user).limit(limit)))


# --- shared helpers ----------------------------------------------------------------------------------


def _status_arg(raw: str | None, allowed) -> str | None:
    return raw if raw in {s.value for s in allowed} else None


def _actor_agency(actor):
    if actor is not None and actor.role == Role.AGENCY:
        return actor.agency
    return None


def _is_owner(actor, req: ServiceRequest) -> bool:
    return (
        actor is not None
        and actor.role == Role.ENTERPRISE
        and actor.enterprise is not None
        and actor.enterprise.id == req.enterprise_id
    )


# --- public announcements ----------------------------------------------------------------------------


@public.route("/")
def index():
    status = _status_arg(request.args.get("status"), PUBLIC_STATUSES)
    region = request.args.get("region") if request.args.get("region") in REGIONS else None
    item_id = int_or_none(request.args.get("service_item"))
    q = (request.args.get("q") or "").strip()[:50] or None
    page = db.paginate(
        services.public_requests_query(status, item_id, region, q),
        page=page_number(request.args.get("page")),
        per_page=20,
        error_out=False,
    )
    for req in page.items:
        services.advance(req)
    return render_template(
        "requests/index.html",
        page=page,
        counts={r.id: bidding.bid_count(r.id) for r in page.items},
        statuses=PUBLIC_STATUSES,
        status=status,
        region=region,
        regions=REGIONS,
        item_id=item_id,
        categories=catalogue.categories_with_items(),
        q=q,
    )


def render_detail(req: ServiceRequest, forms: dict | None = None):
    """The announcement page; failed POSTs re-render it with their form (and its errors)."""
    actor = web_actor()
    forms = forms or {}
    agency = _actor_agency(actor)
    mine = bidding.my_bid(actor, req.id) if agency else None
    problems = (
        bidding.eligibility_problems(agency, req)
        if agency and req.status == RequestStatus.BIDDING and not (mine and mine.status == BidStatus.ACTIVE)
        else []
    )
    selected = req.status in (RequestStatus.PUBLICITY, RequestStatus.AWARDED)
    winner = db.session.get(Bid, req.winner_bid_id) if selected and req.winner_bid_id else None
    order = orders.order_for_request(req.id) if actor is not None else None
    publicity_open = (
        req.status == RequestStatus.PUBLICITY
        and req.publicity_ends_at is not None
        and now() < req.publicity_ends_at
    )
    return render_template(
        "requests/detail.html",
        req=req,
        bid_count=bidding.bid_count(req.id),
        owner=_is_owner(actor, req),
        manage=services.can_manage(actor, req),
        agency=agency,
        mine=mine,
        problems=problems,
        winner=winner,
        order=order if order is not None and orders.is_party(actor, order) else None,
        publicity_open=publicity_open,
        bid_form=forms.get("bid") or BidForm(formdata=None),
        revise_form=forms.get("revise") or bid_form_for(mine),
        objection_form=forms.get("objection") or ObjectionForm(formdata=None),
        cancel_form=forms.get("cancel") or ReasonForm(formdata=None),
        republish_form=forms.get("republish")
        or RepublishForm(formdata=None, bid_deadline=default_deadline()),
        action=ActionForm(formdata=None),
        previous=db.session.get(ServiceRequest, req.previous_id) if req.previous_id else None,
        next_round=db.session.scalar(select(ServiceRequest).where(ServiceRequest.previous_id == req.id)),
    )


@public.route("/<int:request_id>")
def detail(request_id: int):
    return render_detail(services.get_request(web_actor(), request_id))


def _bid_action(request_id: int, name: str, call):
    """Submit or revise a bid: local checks, then the service; errors come back on the announcement page."""
    actor = web_actor()
    req = services.get_request(actor, request_id)
    form = BidForm()
    if form.validate_on_submit():
        data = bid_data(form)
        if not has_errors(form):
            try:
                call(actor, req, data)
            except DomainError as exc:
                leftover = copy_errors(exc.errors, form, BID_ALIASES)
                flash(str(exc.message), "danger")
                for message in leftover:
                    if message != str(exc.message):
                        flash(message, "warning")
            else:
                return None
        else:
            flash(_("Please correct the marked fields."), "danger")
    else:
        flash(_("Please correct the marked fields."), "danger")
    return render_detail(services.get_request(actor, request_id), {name: form})


@public.route("/<int:request_id>/bid", methods=["POST"])
@login_required
def submit_bid(request_id: int):
    def call(actor, req, data):
        bidding.submit_bid(actor, req.id, data)

    page = _bid_action(request_id, "bid", call)
    if page is not None:
        return page
    flash(_("Your sealed bid is in. Nobody can see its price before the deadline."), "success")
    return redirect(url_for(".detail", request_id=request_id))


@public.route("/<int:request_id>/bid/revise", methods=["POST"])
@login_required
def revise_bid(request_id: int):
    def call(actor, req, data):
        mine = bidding.my_bid(actor, req.id)
        if mine is None:
            raise Invalid(_l("You have no bid on this request."))
        bidding.revise_bid(actor, mine.id, data)

    page = _bid_action(request_id, "revise", call)
    if page is not None:
        return page
    flash(_("Your bid was revised; the new version replaces the old one."), "success")
    return redirect(url_for(".detail", request_id=request_id))


@public.route("/<int:request_id>/bid/withdraw", methods=["POST"])
@login_required
def withdraw_bid(request_id: int):
    actor = web_actor()
    if ActionForm().validate_on_submit():
        try:
            mine = bidding.my_bid(actor, request_id)
            if mine is None:
                raise Invalid(_l("You have no bid on this request."))
            bidding.withdraw_bid(actor, mine.id)
        except DomainError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(_("Your bid was withdrawn. You may bid again before the deadline."), "success")
    return redirect(url_for(".detail", request_id=request_id))


@public.route("/<int:request_id>/objections", methods=["POST"])
@login_required
def lodge_objection(request_id: int):
    actor = web_actor()
    form = ObjectionForm()
    if form.validate_on_submit():
        try:
            services.lodge_objection(actor, request_id, form.reason.data)
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
        else:
            flash(
                _("Your objection was recorded. The administrators will answer it before the award."),
                "success",
            )
            return redirect(url_for(".detail", request_id=request_id))
    return render_detail(services.get_request(actor, request_id), {"objection": form})


# --- comparison and selection ------------------------------------------------------------------------

SORTS = {
    "price": (_l("Price"), lambda r: r["bid"].price_fen, False),
    "days": (_l("Promised days"), lambda r: r["bid"].promised_days, False),
    "rating": (_l("Rating"), lambda r: r["stats"]["avg_rating"], True),
    "good_rate": (_l("Positive rate"), lambda r: r["stats"]["good_rate"], True),
    "orders": (_l("Completed orders"), lambda r: r["stats"]["completed_orders"], True),
    "on_time": (_l("On-time rate"), lambda r: r["stats"]["on_time_rate"], True),
    "credit": (_l("Credit score"), lambda r: r["stats"]["credit_score"], True),
}


def _sorted_rows(rows: list[dict], sort: str | None) -> list[dict]:
    """Valid bids first; within them the chosen column (missing figures last), else the ranking, else price."""

    def order(row):
        if sort not in SORTS:
            return (row["rank"] is None, row["rank"] or 0, row["bid"].price_fen)
        _label, key, descending = SORTS[sort]
        value = key(row)
        return (value is None, 0 if value is None else -value if descending else value)

    return sorted(rows, key=lambda r: (r["bid"].status != BidStatus.ACTIVE, *order(r), r["bid"].id))


def _best(rows: list[dict]) -> dict[str, object]:
    """The best figure in each column among valid bids (highlighted on the page)."""
    valid = [r for r in rows if r["bid"].status == BidStatus.ACTIVE]
    best = {}
    for name, (_label, key, descending) in SORTS.items():
        values = [key(r) for r in valid if key(r) is not None]
        if len(set(values)) > 1:  # highlight only where the bids differ
            best[name] = max(values) if descending else min(values)
    return best


def render_compare(request_id: int, form: SelectForm | None = None):
    actor = web_actor()
    req, rows = services.comparison(actor, request_id)
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else None
    valid = [r for r in rows if r["bid"].status == BidStatus.ACTIVE]
    form = form or SelectForm(formdata=None)
    form.bid_id.choices = [SelectChoice(str(r["bid"].id), r["agency"].name) for r in valid]
    return render_template(
        "requests/compare.html",
        req=req,
        rows=_sorted_rows(rows, sort),
        valid=valid,
        best=_best(rows),
        sort=sort,
        sorts=SORTS,
        owner=_is_owner(actor, req),
        form=form,
        min_bids=services.min_bids(req),
    )


@public.route("/<int:request_id>/compare")
@login_required
def compare(request_id: int):
    return render_compare(request_id)


@public.route("/<int:request_id>/select", methods=["POST"])
@login_required
def select_winner(request_id: int):
    actor = web_actor()
    form = SelectForm()
    if form.validate_on_submit():
        try:
            req = services.select_winner(actor, request_id, form.bid_id.data, form.reason.data)
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
        else:
            winner = db.session.get(Bid, req.winner_bid_id)
            flash(
                _(
                    "Selected: %(agency)s at %(price)s. The result is now under publicity.",
                    agency=winner.agency.name,
                    price=format_fen(winner.price_fen),
                ),
                "success",
            )
            return redirect(url_for(".detail", request_id=request_id))
    return render_compare(request_id, form)


# --- the draw proof ----------------------------------------------------------------------------------


@public.route("/<int:request_id>/draw")
def draw_proof(request_id: int):
    record = services.draw_record(request_id)
    req = db.session.get(ServiceRequest, request_id)
    rows = {c["bid_id"]: c for c in record["candidates"]}
    ranking = [rows[b] for b in (record["ranking"] or []) if b in rows]
    details = record["details"]
    return render_template(
        "requests/draw.html",
        req=req,
        record=record,
        rows=rows,
        ranking=ranking,
        details=details,
        winner=rows.get(record["winner_bid_id"]),
        scores={int(k): v for k, v in (details.get("scores") or {}).items()},
        shortlist=details.get("shortlist") or [],
        api_url=url_for("requests-api.draw", request_id=req.id, _external=True),
    )


# --- the enterprise's desk ---------------------------------------------------------------------------


@enterprise.before_request
@login_required
def _enterprise_logged_in():
    pass


def _enterprise_actor():
    return require_role(web_actor(), Role.ENTERPRISE)


@enterprise.route("/")
def dashboard():
    actor = _enterprise_actor()
    mine = list(db.session.scalars(services.my_requests_query(actor)))
    for req in mine:
        if req.status in (RequestStatus.BIDDING, RequestStatus.PUBLICITY):
            services.advance(req)
    counts = {s: sum(1 for r in mine if r.status == s) for s in RequestStatus}
    status = _status_arg(request.args.get("status"), RequestStatus)
    shown = [r for r in mine if status is None or r.status == status]
    live = list(db.session.scalars(orders.orders_query(actor, "live")))
    for order in live:
        orders.advance(order)
    live = [o for o in live if o.status in LIVE]
    return render_template(
        "enterprise/dashboard.html",
        requests=shown,
        counts=counts,
        total=len(mine),
        status=status,
        bid_counts={r.id: bidding.bid_count(r.id) for r in shown},
        live=live,
        flags={o.id: orders.deadline_status(o) for o in live},
        days={o.id: orders.days_left(o) for o in live},
        statuses=list(RequestStatus),
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
        for message in copy_errors(exc.errors, form, aliases):
            flash(message, "danger")
    if has_errors(form):
        flash(_("Please correct the marked fields."), "danger")
        return None
    return data


def _render_form(form: RequestForm, req: ServiceRequest | None):
    return render_template(
        "enterprise/request_form.html",
        form=form,
        req=req,
        methods=list(SelectionMethod),
        min_bids=current_app.config["MARKET_MIN_BIDS"],
    )


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
    else:
        publish = request.form.get("action") == "publish"
        data = _checked_request_data(form, publishing=publish)
        if data is not None:
            try:
                req = services.create_request(actor, data, publish=publish)
            except DomainError as exc:
                form_errors_from(exc, form)
                flash(str(exc.message), "danger")
            else:
                if publish:
                    flash(
                        _("Published. Agencies in this category can now bid until the deadline."), "success"
                    )
                else:
                    flash(_("Draft saved. It is visible only to you until you publish it."), "success")
                return redirect(url_for("requests.detail", request_id=req.id))
    return _render_form(form, None)


def _own_draft(actor, request_id: int) -> ServiceRequest:
    req = services.get_request(actor, request_id)
    if not _is_owner(actor, req):
        raise NotFound(_l("No such request."))
    return req


@enterprise.route("/requests/<int:request_id>/edit", methods=["GET", "POST"])
def edit_request(request_id: int):
    actor = _enterprise_actor()
    req = _own_draft(actor, request_id)
    if req.status != RequestStatus.DRAFT:
        flash(_("A published request cannot be edited; cancel it and post a new one."), "warning")
        return redirect(url_for("requests.detail", request_id=req.id))
    form = request_form_for(req) if request.method == "GET" else RequestForm()
    fill_request_choices(form)
    if request.method == "POST":
        publish = request.form.get("action") == "publish"
        data = _checked_request_data(form, publishing=publish)
        if data is not None:
            try:
                services.update_draft(actor, req.id, data)
                if publish:
                    services.publish_request(actor, req.id)
            except DomainError as exc:
                form_errors_from(exc, form)
                flash(str(exc.message), "danger")
            else:
                flash(
                    _("Published. Agencies in this category can now bid until the deadline.")
                    if publish
                    else _("Draft saved."),
                    "success",
                )
                return redirect(url_for("requests.detail", request_id=req.id))
    return _render_form(form, req)


@enterprise.route("/requests/<int:request_id>/publish", methods=["POST"])
def publish(request_id: int):
    actor = _enterprise_actor()
    if ActionForm().validate_on_submit():
        try:
            services.publish_request(actor, request_id)
        except DomainError as exc:
            flash(str(exc.message), "danger")
            for messages in exc.errors.values():
                for message in messages:
                    if str(message) != str(exc.message):
                        flash(str(message), "warning")
            return redirect(url_for(".edit_request", request_id=request_id))
        flash(_("Published. Agencies in this category can now bid until the deadline."), "success")
    return redirect(url_for("requests.detail", request_id=request_id))


@enterprise.route("/requests/<int:request_id>/cancel", methods=["POST"])
def cancel(request_id: int):
    actor = _enterprise_actor()
    form = ReasonForm()
    if form.validate_on_submit():
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
                _("Published again as round %(n)d with a new deadline and a new draw seed.", n=new.round),
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
        services.inbox_query(actor), page=page_number(request.args.get("page")), per_page=20, error_out=False
    )
    mine = {r.id: bidding.my_bid(actor, r.id) for r in page.items}
    return render_template(
        "requests/agency/inbox.html",
        agency=agency,
        page=page,
        mine=mine,
        problems={r.id: bidding.eligibility_problems(agency, r) for r in page.items},
        counts={r.id: bidding.bid_count(r.id) for r in page.items},
    )


@agency_desk.route("/bids")
def my_bids():
    actor = web_actor()
    agency = agencies.my_agency(actor)
    bids = bidding.my_bids(actor)
    reqs = {}
    for bid in bids:
        req = db.session.get(ServiceRequest, bid.request_id)
        services.advance(req)
        reqs[bid.id] = req
    won = {b.id: orders.order_for_request(reqs[b.id].id) for b in bids if reqs[b.id].winner_bid_id == b.id}
    return render_template(
        "requests/agency/bids.html",
        agency=agency,
        bids=bids,
        reqs=reqs,
        won_orders={bid_id: o for bid_id, o in won.items() if o is not None and o.bid_id == bid_id},
    )


# --- administrators: objections ----------------------------------------------------------------------


@admin.before_request
@login_required
def _admin_logged_in():
    pass


def render_objections(forms: dict | None = None):
    actor = web_actor()
    page = db.paginate(
        services.open_objections_query(actor),
        page=page_number(request.args.get("page")),
        per_page=30,
        error_out=False,
    )
    forms = forms or {}
    return render_template(
        "requests/admin/objections.html",
        page=page,
        forms={o.id: forms.get(o.id) or ResolveForm(formdata=None) for o in page.items},
    )


@admin.route("/objections")
def objections():
    return render_objections()


@admin.route("/objections/<int:objection_id>/resolve", methods=["POST"])
def resolve(objection_id: int):
    actor = web_actor()
    form = ResolveForm()
    if form.validate_on_submit():
        decision = request.form.get("decision")
        try:
            if decision not in ("uphold", "dismiss"):
                raise Invalid(_l("Choose to uphold or to dismiss the objection."))
            objection = services.resolve_objection(
                actor, objection_id, decision == "uphold", form.outcome.data
            )
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
            return render_objections({objection_id: form})
        flash(
            _("Objection upheld: the selection moves to the next bid or the request fails.")
            if objection.status == ObjectionStatus.UPHELD
            else _("Objection dismissed; the result stands."),
            "success",
        )
    return redirect(url_for(".objections"))
