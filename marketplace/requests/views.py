"""Public request pages: announcements, sealed bidding, comparison and selection, the draw proof.

The blueprint, the announcement page and what the pages share are in pages.py; `blueprints()` here gathers
the feature's pages (these, objection_views.py, desk_views.py) for the app."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from marketplace.auth.current import web_actor
from marketplace.catalogue.outline import outline
from marketplace.common.errors import DomainError, Invalid
from marketplace.common.forms import has_errors, int_or_none, page_number
from marketplace.common.money import format_fen
from marketplace.common.web import ask_confirmation, confirmed, form_errors_from
from marketplace.extensions import db
from marketplace.requests import bidding, desk_views, objection_views, queries, review_views, services
from marketplace.requests.bids import Bid, BidStatus
from marketplace.requests.forms import BID_ALIASES, ActionForm, BidForm, SelectForm, bid_data
from marketplace.requests.labels import METHOD_LABELS
from marketplace.requests.models import UNPUBLISHED, RequestStatus, SelectionMethod, ServiceRequest
from marketplace.requests.pages import is_owner, preload, public, render_detail, status_arg


def blueprints():
    return [public, *desk_views.blueprints(), *objection_views.blueprints(), *review_views.blueprints()]


PUBLIC_STATUSES = [s for s in RequestStatus if s not in UNPUBLISHED]


# --- public announcements ----------------------------------------------------------------------------


@public.route("/")
def index():
    status = status_arg(request.args.get("status"), PUBLIC_STATUSES)
    region = (request.args.get("region") or "").strip()[:20] or None
    item_id = int_or_none(request.args.get("service_item"))
    q = (request.args.get("q") or "").strip()[:50] or None
    total = queries.kept_total(status, item_id, region, q)
    categories = outline()  # a per-process copy (catalogue/outline.py): the rows' items are named from it
    page = db.paginate(
        queries.public_requests_query(status, item_id, region, q, related=False).options(
            selectinload(ServiceRequest.enterprise)
        ),
        page=page_number(request.args.get("page")),
        per_page=20,
        error_out=False,
        count=total is None,
    )
    if total is not None:
        page.total = total
    return render_template(
        "requests/index.html",
        page=page,
        counts=bidding.bid_counts([r.id for r in page.items]),
        statuses=PUBLIC_STATUSES,
        status=status,
        region=region,
        item_id=item_id,
        categories=categories,
        outline_items={i.id: i for c in categories for i in c.items},
        q=q,
    )


@public.route("/<int:request_id>")
def detail(request_id: int):
    loaded = preload(request_id)  # noqa: F841  # held: the session keeps a loaded object while it is referenced
    return render_detail(services.get_request(web_actor(), request_id))  # who may see it: as before


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
                leftover = form_errors_from(exc, form, BID_ALIASES)
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
    valid = [r for r in rows if r["bid"].status == BidStatus.ACTIVE and r["check"].ok]
    best = {}
    for name, (_label, key, descending) in SORTS.items():
        values = [key(r) for r in valid if key(r) is not None]
        if len(set(values)) > 1:  # highlight only where the bids differ
            best[name] = max(values) if descending else min(values)
    return best


def render_compare(request_id: int, form: SelectForm | None = None):
    actor = web_actor()
    req, rows = queries.comparison(actor, request_id)
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else None
    valid = [r for r in rows if r["bid"].status == BidStatus.ACTIVE and r["check"].ok]
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
        owner=is_owner(actor, req),
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
        if not confirmed():
            asked = _confirm_selection(actor, request_id, form)
            if asked is not None:
                return asked
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


def _confirm_selection(actor, request_id: int, form: SelectForm):
    """The confirmation page of 执行比选: the method, (for a direct pick) the bid and reason, and what follows.
    None when there is nothing to confirm (too early, already selected, a direct pick without its bid or
    reason): the service then refuses, with the field errors."""
    req = services.own_request(actor, request_id)
    if req.phase != RequestStatus.EVALUATING:
        return None  # sealed or already selected: the service says why
    method = req.selection_method
    facts = [(_("Request"), req.title), (_("Selection method"), str(METHOD_LABELS[method]))]
    if method == SelectionMethod.DIRECT:
        bid = db.session.get(Bid, form.bid_id.data) if form.bid_id.data else None
        reason = (form.reason.data or "").strip()
        if bid is None or bid.request_id != req.id or not 4 <= len(reason) <= 500:
            return None
        facts += [
            (_("Selected bid"), f"{bid.agency.name} · {format_fen(bid.price_fen)}"),
            (_("Reason for the direct pick"), reason),
        ]
    elif req.status == RequestStatus.EVALUATING:  # bids opened (else they open when the selection runs)
        facts.append((_("Number of valid bids"), str(len(bidding.valid_bids(req.id)))))
    days = current_app.config["MARKET_PUBLICITY_SECONDS"] / 86400
    return ask_confirmation(
        title=_("Run the selection now?"),
        facts=facts,
        consequences=[
            _("The method is run once; its result cannot be changed or run again."),
            _(
                "The result is published at once and stays under publicity for %(days)s days.",
                days=f"{days:g}",
            ),
            _("Only an upheld objection can reverse it."),
        ],
        back_url=url_for(".compare", request_id=request_id),
        button=_("Confirm and run the selection"),
    )


# --- the draw proof ----------------------------------------------------------------------------------


@public.route("/<int:request_id>/draw")
def draw_proof(request_id: int):
    record = queries.draw_record(request_id)
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
