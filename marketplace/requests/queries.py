"""Reading requests for the pages and the API: the public announcements, an enterprise's requests, an agency's
inbox, the opened bids side by side and the draw record. Reading never moves a request on (the clock does)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, case, cast, false, func, or_, select
from sqlalchemy.orm import selectinload

from marketplace.auth.models import Role, User
from marketplace.auth.services import require_role, require_user
from marketplace.catalogue.models import ServiceItem
from marketplace.common.clock import now
from marketplace.common.errors import NotAllowed, NotFound, WrongState
from marketplace.common.sql import contains
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.regions import services as regions
from marketplace.requests import bidding, counts, draw
from marketplace.requests.bids import Bid, BidStatus
from marketplace.requests.invitations import RequestInvitation
from marketplace.requests.models import UNPUBLISHED, RequestExclusion, RequestStatus, ServiceRequest
from marketplace.requests.services import can_manage, get_request
from marketplace.stats.figures import stats_for


def phase_is(phase: RequestStatus):
    """SQL for `ServiceRequest.phase == phase`: bidding ends at the deadline, whether or not the clock ran."""
    t = now()
    if phase == RequestStatus.BIDDING:
        return (ServiceRequest.status == RequestStatus.BIDDING) & (ServiceRequest.bid_deadline > t)
    if phase == RequestStatus.EVALUATING:
        return (ServiceRequest.status == RequestStatus.EVALUATING) | (
            (ServiceRequest.status == RequestStatus.BIDDING) & (ServiceRequest.bid_deadline <= t)
        )
    return ServiceRequest.status == phase


def public_requests_query(
    status: str | None = None,
    service_item_id: int | None = None,
    region: str | None = None,
    q: str | None = None,
    related: bool = True,
):
    """Published requests, newest first; `related`: with each one's service item and enterprise loaded."""
    stmt = select(ServiceRequest).where(
        ServiceRequest.status.not_in(UNPUBLISHED), ServiceRequest.published_at.is_not(None)
    )
    if related:
        stmt = stmt.options(
            selectinload(ServiceRequest.service_item), selectinload(ServiceRequest.enterprise)
        )
    if status in set(RequestStatus) and status not in UNPUBLISHED:
        stmt = stmt.where(phase_is(RequestStatus(status)))
    if service_item_id:
        stmt = stmt.where(ServiceRequest.service_item_id == service_item_id)
    code = regions.resolve(region, regions.market_area()) if region else None
    if code:  # any level of the tree: a province, a city or a county
        stmt = stmt.where(regions.inside(ServiceRequest.region_code, code))
    if q:
        stmt = stmt.where(or_(contains(ServiceRequest.title, q), contains(ServiceRequest.project_code, q)))
    return stmt.order_by(ServiceRequest.published_at.desc(), ServiceRequest.id.desc())


def kept_total(
    status: str | None = None,
    service_item_id: int | None = None,
    region: str | None = None,
    q: str | None = None,
) -> int | None:
    """The number of announcements `public_requests_query` finds, from the kept counts (requests/counts.py);
    None when the filters need a count (a region or a keyword). The phases time alone moves (bidding ends at the
    deadline whether or not the clock ran) are the kept status counts corrected by the few announcements still
    bidding past their deadline."""
    if region or q:
        return None
    if status in (RequestStatus.BIDDING, RequestStatus.EVALUATING):
        kept, overdue = (
            counts.total({RequestStatus(status)}, service_item_id),
            counts.overdue_bidding(service_item_id),
        )
        return kept - overdue if status == RequestStatus.BIDDING else kept + overdue
    if status in set(RequestStatus) and status not in UNPUBLISHED:
        return counts.total({RequestStatus(status)}, service_item_id)
    return counts.total(None, service_item_id)


def my_requests_query(actor: User | None, phase: RequestStatus | None = None):
    """The enterprise's own requests, newest first; `phase`: only those in it (as time has made it)."""
    actor = require_role(actor, Role.ENTERPRISE)
    stmt = (
        select(ServiceRequest)
        .where(ServiceRequest.enterprise_id == actor.enterprise.id)
        .options(selectinload(ServiceRequest.service_item))
        .order_by(ServiceRequest.id.desc())
    )
    return stmt if phase is None else stmt.where(phase_is(phase))


def my_request_counts(actor: User | None) -> dict[RequestStatus, int]:
    """{phase: how many of the enterprise's requests are in it}, every phase present, in one statement (a
    desk's tabs: an enterprise of a national market has posted thousands)."""
    actor = require_role(actor, Role.ENTERPRISE)
    t = now()
    phase = case(
        (
            (ServiceRequest.status == RequestStatus.BIDDING) & (ServiceRequest.bid_deadline <= t),
            RequestStatus.EVALUATING.value,
        ),
        else_=cast(ServiceRequest.status, String),
    )
    rows = db.session.execute(
        select(phase, func.count()).where(ServiceRequest.enterprise_id == actor.enterprise.id).group_by(phase)
    ).all()
    found = {RequestStatus(value): n for value, n in rows}
    return {s: found.get(s, 0) for s in RequestStatus}


def inbox_query(actor: User | None):
    """Open announcements in the agency's categories and service areas, and those it was invited to quote on
    (邀请报价), that it has not been excluded from."""
    actor = require_role(actor, Role.AGENCY)
    agency = actor.agency
    category_ids = [c.id for c in agency.categories]
    invited = (
        select(RequestInvitation.id)
        .where(RequestInvitation.request_id == ServiceRequest.id, RequestInvitation.agency_id == agency.id)
        .exists()
    )
    return (
        select(ServiceRequest)
        .join(ServiceItem)
        .where(
            ServiceRequest.status == RequestStatus.BIDDING,
            ServiceRequest.bid_deadline > now(),
            ~ServiceRequest.exclusions.any(RequestExclusion.agency_id == agency.id),
            or_(
                invited,
                and_(
                    ServiceItem.category_id.in_(category_ids),
                    or_(
                        false(),
                        *(
                            regions.overlapping(ServiceRequest.region_code, c)
                            for c in agency.service_area_codes
                        ),
                    ),
                ),
            ),
        )
        .options(selectinload(ServiceRequest.service_item), selectinload(ServiceRequest.exclusions))
        .order_by(ServiceRequest.bid_deadline)
    )


def comparison(actor: User | None, request_id: int) -> tuple[ServiceRequest, list[dict]]:
    """The opened bids side by side, for the request's enterprise and administrators, after the deadline only."""
    actor = require_user(actor)
    req = get_request(actor, request_id)
    if not can_manage(actor, req):
        raise NotAllowed(_l("Only the request's enterprise and administrators can compare its bids."))
    if req.phase == RequestStatus.BIDDING:
        raise WrongState(_l("Bids are sealed until the deadline."))
    if req.status in UNPUBLISHED or req.status == RequestStatus.CANCELLED:
        raise WrongState(_l("This request has no bids to compare."))
    bids = bidding.opened_bids(req.id)
    stats = stats_for([b.agency_id for b in bids])
    day = bidding.qualification_day(req)
    rows = []
    for bid in bids:
        rows.append(
            {
                "bid": bid,
                "agency": bid.agency,
                "stats": stats[bid.agency_id],
                "price_ratio": round(bid.price_fen / req.ceiling_fen, 4),
                "qualifications": [
                    q
                    for q in bid.agency.qualifications
                    if q.category_id in (req.service_item.category_id, None)
                ],
                # the item's qualification rule as of the bidding's close (never "valid" for a wrong kind)
                "check": bidding.qualification_check(bid.agency, req, day),
                "rank": (req.ranking or []).index(bid.id) + 1
                if req.ranking and bid.id in req.ranking
                else None,
            }
        )
    return req, rows


def draw_record(request_id: int) -> dict:
    """Everything needed to recompute the selection; the seed only once it was revealed at the draw."""
    req = db.session.get(ServiceRequest, request_id)
    if req is None or not req.is_public:
        raise NotFound(_l("No such request."))
    details = req.draw_details or {}
    revealed = req.seed_revealed_at is not None
    return {
        "request_id": req.id,
        "method": req.selection_method.value,
        "commitment": req.draw_commitment,
        "seed": req.draw_seed if revealed else None,
        "seed_revealed_at": req.seed_revealed_at,
        "algorithm": details.get("algorithm", draw.ALGORITHM),
        "candidates": details.get("candidate_rows", []) if revealed else [],
        "ranking": req.ranking if revealed else None,
        "winner_bid_id": req.winner_bid_id if revealed else None,
        "details": {k: v for k, v in details.items() if k != "candidate_rows"} if revealed else {},
    }


@dataclass(frozen=True)
class Facts:
    """What an announcement shows beside its own columns: bids so far, the public winner, the current order."""

    bid_count: int = 0
    winner: dict | None = None
    order_id: int | None = None


def facts_for(reqs: list[ServiceRequest]) -> dict[int, Facts]:
    """The facts of many announcements in three queries, whatever their number (never a query per row)."""
    ids = [r.id for r in reqs]
    if not ids:
        return {}
    counts = dict(
        db.session.execute(
            select(Bid.request_id, func.count())
            .where(Bid.request_id.in_(ids), Bid.status == BidStatus.ACTIVE)
            .group_by(Bid.request_id)
        ).all()
    )
    # The winner is public once the selection revealed the seed (the result is under publicity).
    winner_ids = [
        r.winner_bid_id for r in reqs if r.winner_bid_id is not None and r.seed_revealed_at is not None
    ]
    winners = {
        b.request_id: {
            "bid_id": b.id,
            "agency_id": b.agency_id,
            "agency_name": b.agency.name,
            "price_fen": b.price_fen,
            "promised_days": b.promised_days,
        }
        for b in db.session.scalars(
            select(Bid).where(Bid.id.in_(winner_ids)).options(selectinload(Bid.agency))
        )
    }
    orders = dict(
        db.session.execute(
            select(Order.request_id, func.max(Order.id))
            .where(Order.request_id.in_(ids))
            .group_by(Order.request_id)
        ).all()
    )
    return {
        r.id: Facts(
            counts.get(r.id, 0),
            winners.get(r.id) if r.winner_bid_id in winner_ids else None,
            orders.get(r.id),
        )
        for r in reqs
    }
