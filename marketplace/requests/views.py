"""Request pages: public announcements, the enterprise's desk, sealed bidding, comparison, the draw, objections."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from marketplace.agencies import services as agencies
from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.auth.models import Role
from marketplace.auth.services import require_role
from marketplace.bidding import services as bidding
from marketplace.bidding.models import Bid, BidStatus
from marketplace.catalogue import services as catalogue
from marketplace.common.clock import now
from marketplace.common.errors import DomainError, Invalid, NotFound
from marketplace.common.money import fen_to_yuan, format_fen, yuan_to_fen
from marketplace.common.regions import REGIONS
from marketplace.common.web import form_errors_from, web_actor
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import LIVE
from marketplace.requests import services
from marketplace.requests.draw import COEFFICIENTS, DEFAULT_SHORTLIST, DEFAULT_WEIGHTS
from marketplace.requests.forms import (
    SHANGHAI,
    ActionForm,
    BidForm,
    ObjectionForm,
    ReasonForm,
    RepublishForm,
    RequestForm,
    ResolveForm,
    SelectForm,
)
from marketplace.requests.models import (
    Funding,
    ObjectionStatus,
    RequestStatus,
    SelectionMethod,
    ServiceRequest,
)
from marketplace.requests.validation import MAX_FEN, clean_request

public = Blueprint("requests", __name__, url_prefix="/requests")
enterprise = Blueprint("enterprise", __name__, url_prefix="/enterprise")
agency_desk = Blueprint("agency_bidding", __name__, url_prefix="/agency")
admin = Blueprint("request_admin", __name__, url_prefix="/admin")


def blueprints():
    return [public, enterprise, agency_desk, admin]


STATUS_LABELS = {
    RequestStatus.DRAFT: _l("Draft"),
    RequestStatus.BIDDING: _l("Taking bids"),
    RequestStatus.EVALUATING: _l("Bids opened"),
    RequestStatus.PUBLICITY: _l("Result under publicity"),
    RequestStatus.AWARDED: _l("Awarded"),
    RequestStatus.FAILED: _l("Failed (no award)"),
    RequestStatus.CANCELLED: _l("Cancelled"),
}
METHOD_LABELS = {
    SelectionMethod.DIRECT: _l("Direct selection"),
    SelectionMethod.LOWEST_PRICE: _l("Lowest-price bidding"),
    SelectionMethod.RANDOM: _l("Random draw"),
    SelectionMethod.COMPOSITE: _l("Composite evaluation"),
    SelectionMethod.AVERAGE_PRICE: _l("Average-price method"),
    SelectionMethod.CREDIT_SHORTLIST: _l("Credit-first shortlist"),
}
METHOD_HELP = {
    SelectionMethod.DIRECT: _l(
        "After the deadline the enterprise picks one of the valid bids itself and records why; "
        "the reason is published with the result."
    ),
    SelectionMethod.LOWEST_PRICE: _l(
        "The lowest valid price wins. Equal prices are separated by the verifiable draw."
    ),
    SelectionMethod.RANDOM: _l(
        "The winner is drawn at random among the valid bids. The draw is verifiable: the SHA-256 of a secret "
        "seed is published with the announcement and the seed is revealed at the draw."
    ),
    SelectionMethod.COMPOSITE: _l(
        "Every bid is scored on price, rating, on-time rate and credit with weights published in advance; "
        "the highest score wins."
    ),
    SelectionMethod.AVERAGE_PRICE: _l(
        "The highest and the lowest bid are dropped and the rest averaged; the average times a coefficient "
        "drawn verifiably from %(low)d%% to %(high)d%% is the reference price, and the bid closest to it wins.",
        low=COEFFICIENTS[0],
        high=COEFFICIENTS[-1],
    ),
    SelectionMethod.CREDIT_SHORTLIST: _l(
        "The bidders with the best credit scores form a shortlist; a verifiable draw picks the winner from it."
    ),
}
FUNDING_LABELS = {Funding.FISCAL: _l("Fiscal funds"), Funding.SOCIAL: _l("Social (private) funds")}
BID_LABELS = {
    BidStatus.ACTIVE: _l("Valid"),
    BidStatus.WITHDRAWN: _l("Withdrawn"),
    BidStatus.INVALID: _l("Invalid"),
}
OBJECTION_LABELS = {
    ObjectionStatus.OPEN: _l("Being handled"),
    ObjectionStatus.UPHELD: _l("Upheld"),
    ObjectionStatus.DISMISSED: _l("Dismissed"),
}
REVISION_LABELS = {
    "submit": _l("Submitted"),
    "revise": _l("Revised"),
    "withdraw": _l("Withdrawn"),
    "resubmit": _l("Submitted again"),
}
WEIGHT_LABELS = {
    "price": _l("Price"),
    "rating": _l("Rating"),
    "on_time": _l("On-time rate"),
    "credit": _l("Credit score"),
}
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


def _money(field, required: bool = True) -> int | None:
    """Yuan typed by a person → fen; a clear error on the field when it is not an amount."""
    raw = (field.data or "").strip()
    if not raw:
        if required:
            field.errors = [*field.errors, _("Enter an amount in yuan.")]
        return None
    try:
        fen = yuan_to_fen(raw)
    except ValueError:
        field.errors = [*field.errors, _("Enter an amount in yuan, e.g. 12000 or 12000.50.")]
        return None
    if not 1 <= fen <= MAX_FEN:
        field.errors = [*field.errors, _("Enter an amount from ¥0.01 to ¥100,000,000.00.")]
        return None
    return fen


def _whole(field) -> int | str | None:
    raw = (field.data or "").strip()
    return int(raw) if raw.isdigit() else (raw or None)


def _has_errors(field_or_form) -> bool:
    errors = field_or_form.errors
    if isinstance(errors, dict):
        return any(_nonempty(v) for v in errors.values())
    return _nonempty(errors)


def _nonempty(value) -> bool:
    if isinstance(value, dict):
        return any(_nonempty(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_nonempty(v) for v in value)
    return bool(value)


def _target(form, key: str, aliases: dict[str, str]):
    """The form field a service error key (“ceiling_fen”, “exclusions.0.reason”) belongs to."""
    parts = aliases.get(key, key).split(".")
    target = form
    try:
        for part in parts:
            target = target[int(part)] if part.isdigit() else getattr(target, part)
    except (AttributeError, IndexError, KeyError, TypeError):
        return None
    return target if hasattr(target, "errors") else None


def _copy_errors(errors: dict, form, aliases: dict[str, str]) -> list[str]:
    """Put service errors beside their fields (unless the field already says what is wrong); return the rest."""
    unplaced = []
    for key, messages in (errors or {}).items():
        messages = [str(m) for m in (messages if isinstance(messages, list) else [messages])]
        target = _target(form, key, aliases)
        if target is None:
            unplaced.extend(messages)
        elif not target.errors:
            target.errors = list(messages)
    return unplaced


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
    item_id = request.args.get("service_item", type=int)
    q = (request.args.get("q") or "").strip()[:50] or None
    page = db.paginate(
        services.public_requests_query(status, item_id, region, q), per_page=20, error_out=False
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


def _bid_prefill(bid: Bid | None) -> BidForm:
    form = BidForm(formdata=None)
    if bid is not None:
        form.price.data = str(fen_to_yuan(bid.price_fen))
        form.promised_days.data = str(bid.promised_days)
        form.plan.data = bid.plan
    return form


def render_detail(req: ServiceRequest, forms: dict | None = None, status: int = 200):
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
        is_admin=actor is not None and actor.is_admin,
        agency=agency,
        mine=mine,
        problems=problems,
        winner=winner,
        order=order if order is not None and orders.is_party(actor, order) else None,
        publicity_open=publicity_open,
        bid_form=forms.get("bid") or BidForm(formdata=None),
        revise_form=forms.get("revise") or _bid_prefill(mine),
        objection_form=forms.get("objection") or ObjectionForm(formdata=None),
        cancel_form=forms.get("cancel") or ReasonForm(formdata=None),
        republish_form=forms.get("republish")
        or RepublishForm(formdata=None, bid_deadline=_default_deadline()),
        action=ActionForm(formdata=None),
        previous=db.session.get(ServiceRequest, req.previous_id) if req.previous_id else None,
        next_round=db.session.scalar(select(ServiceRequest).where(ServiceRequest.previous_id == req.id)),
    ), status


@public.route("/<int:request_id>")
def detail(request_id: int):
    return render_detail(services.get_request(web_actor(), request_id))


def _bid_data(form: BidForm) -> dict:
    price = _money(form.price)
    return {"price_fen": price, "promised_days": _whole(form.promised_days), "plan": form.plan.data}


BID_ALIASES = {"price_fen": "price"}


def _bid_action(request_id: int, name: str, call):
    """Submit or revise a bid: local checks, then the service; errors come back on the announcement page."""
    actor = web_actor()
    req = services.get_request(actor, request_id)
    form = BidForm()
    if form.validate_on_submit():
        data = _bid_data(form)
        if not _has_errors(form):
            try:
                call(actor, req, data)
            except DomainError as exc:
                leftover = _copy_errors(exc.errors, form, BID_ALIASES)
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
    return redirect(url_for(".detail", request_id=request_id) + "#my-bid")


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
    return redirect(url_for(".detail", request_id=request_id) + "#my-bid")


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
            return redirect(url_for(".detail", request_id=request_id) + "#objections")
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
    if sort not in SORTS:
        return sorted(
            rows, key=lambda r: (r["rank"] is None, r["rank"] or 0, r["bid"].price_fen, r["bid"].id)
        )
    _label, key, descending = SORTS[sort]
    present = [r for r in rows if key(r) is not None]
    missing = [r for r in rows if key(r) is None]
    present.sort(key=lambda r: (-key(r) if descending else key(r), r["bid"].id))
    valid_first = sorted(present + missing, key=lambda r: r["bid"].status != BidStatus.ACTIVE)
    return valid_first


def _best(rows: list[dict]) -> dict[str, object]:
    """The best figure in each column among valid bids (highlighted on the page)."""
    valid = [r for r in rows if r["bid"].status == BidStatus.ACTIVE]
    best = {}
    for name, (_label, key, descending) in SORTS.items():
        values = [key(r) for r in valid if key(r) is not None]
        if len(values) > 1:
            best[name] = max(values) if descending else min(values)
    return best


def render_compare(request_id: int, form: SelectForm | None = None, status: int = 200):
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
    ), status


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
            return redirect(url_for(".detail", request_id=request_id) + "#result")
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
        api_url=url_for("home.index", _external=True) + f"api/v1/requests/{req.id}/draw",
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


def _default_deadline() -> datetime:
    """Seven days from now at 17:00 Beijing time: a sensible first value for the form."""
    local = (now() + timedelta(days=7)).astimezone(SHANGHAI)
    return local.replace(hour=17, minute=0, second=0, microsecond=0)


def _fill_choices(form: RequestForm) -> None:
    items = []
    for category in catalogue.categories_with_items():
        for item in category.items:
            if item.is_guided:
                label = _(
                    "%(name)s · guide %(low)s–%(high)s · %(days)d days",
                    name=item.name,
                    low=format_fen(item.guide_min_fen),
                    high=format_fen(item.guide_max_fen),
                    days=item.standard_days,
                )
            else:
                label = _("%(name)s · market price · %(days)d days", name=item.name, days=item.standard_days)
            items.append(SelectChoice(str(item.id), label, optgroup=f"{category.code} {category.name}"))
    form.service_item_id.choices = [SelectChoice("", _("— choose a service item —"))] + items
    form.selection_method.choices = [SelectChoice(m.value, str(METHOD_LABELS[m])) for m in SelectionMethod]
    active = db.session.scalars(
        select(Agency).where(Agency.status == AgencyStatus.ACTIVE).order_by(Agency.region, Agency.name)
    )
    agency_choices = [SelectChoice("", _("— none —"))] + [
        SelectChoice(str(a.id), f"{a.name}（{a.region or '—'}）") for a in active
    ]
    for entry in form.exclusions:
        entry.agency_id.choices = agency_choices


REQUEST_ALIASES = {"ceiling_fen": "ceiling", "floor_fen": "floor", "weights": "w_price"}


def _request_data(form: RequestForm) -> dict:
    method = form.selection_method.data
    data = {
        "title": form.title.data,
        "project_code": form.project_code.data,
        "service_item_id": form.service_item_id.data,
        "scope": form.scope.data,
        "ceiling_fen": _money(form.ceiling),
        "floor_fen": _money(form.floor, required=False),
        "required_level": form.required_level.data or None,
        "region": form.region.data,
        "required_days": _whole(form.required_days),
        "funding": form.funding.data,
        "selection_method": method,
        "bid_deadline": form.bid_deadline.data,
        "exclusions": [],
    }
    if method == SelectionMethod.COMPOSITE:
        data["weights"] = {k: _whole(getattr(form, f"w_{k}")) for k in DEFAULT_WEIGHTS}
    if method == SelectionMethod.CREDIT_SHORTLIST:
        data["shortlist_size"] = _whole(form.shortlist_size)
    for entry in form.exclusions:
        agency_id, reason = entry.agency_id.data, (entry.reason.data or "").strip()
        if agency_id is not None:
            data["exclusions"].append({"agency_id": agency_id, "reason": reason})
        elif reason:
            entry.agency_id.errors = [*entry.agency_id.errors, _("Choose the agency to exclude.")]
    # the service numbers exclusion rows by position among the filled ones; keep their form rows
    form._exclusion_rows = [i for i, e in enumerate(form.exclusions) if e.agency_id.data is not None]
    return data


def _checked_request_data(form: RequestForm, publishing: bool) -> dict | None:
    """All checks at once — the form's, the yuan amounts, the service's rules — without changing anything."""
    form.validate()
    data = _request_data(form)
    try:
        clean_request(data, publishing=publishing)
    except Invalid as exc:
        aliases = dict(REQUEST_ALIASES)
        for n, row in enumerate(form._exclusion_rows):
            aliases[f"exclusions.{n}.agency_id"] = f"exclusions.{row}.agency_id"
            aliases[f"exclusions.{n}.reason"] = f"exclusions.{row}.reason"
        for message in _copy_errors(exc.errors, form, aliases):
            flash(message, "danger")
    if _has_errors(form):
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
    _fill_choices(form)
    if request.method == "GET":
        form.bid_deadline.data = _default_deadline()
        item_id = request.args.get("item", type=int)
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


def _form_from_request(req: ServiceRequest) -> RequestForm:
    weights = req.weights or DEFAULT_WEIGHTS
    exclusions = [{"agency_id": x.agency_id, "reason": x.reason} for x in req.exclusions][:3]
    return RequestForm(
        formdata=None,
        data={
            "title": req.title,
            "project_code": req.project_code,
            "service_item_id": req.service_item_id,
            "scope": req.scope,
            "ceiling": str(fen_to_yuan(req.ceiling_fen)),
            "floor": str(fen_to_yuan(req.floor_fen)) if req.floor_fen else "",
            "required_level": req.required_level.value if req.required_level else "",
            "region": req.region,
            "required_days": str(req.required_days),
            "funding": req.funding.value,
            "selection_method": req.selection_method.value,
            "w_price": str(weights.get("price", 0)),
            "w_rating": str(weights.get("rating", 0)),
            "w_on_time": str(weights.get("on_time", 0)),
            "w_credit": str(weights.get("credit", 0)),
            "shortlist_size": str(req.shortlist_size or DEFAULT_SHORTLIST),
            "bid_deadline": req.bid_deadline,
            "exclusions": exclusions,
        },
    )


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
    form = _form_from_request(req) if request.method == "GET" else RequestForm()
    _fill_choices(form)
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
    page = db.paginate(services.inbox_query(actor), per_page=20, error_out=False)
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
    return render_template("requests/agency/bids.html", agency=agency, bids=bids, reqs=reqs)


# --- administrators: objections ----------------------------------------------------------------------


@admin.before_request
@login_required
def _admin_logged_in():
    pass


def render_objections(forms: dict | None = None):
    actor = web_actor()
    page = db.paginate(services.open_objections_query(actor), per_page=30, error_out=False)
    return render_template(
        "requests/admin/objections.html",
        page=page,
        forms=forms or {},
        blank=ResolveForm(formdata=None),
    )


@admin.route("/objections")
def objections():
    return render_objections()


@admin.route("/objections/<int:objection_id>/resolve", methods=["POST"])
def resolve(objection_id: int):
    actor = web_actor()
    form = ResolveForm()
    if form.validate_on_submit():
        decision = form.decision.data
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
