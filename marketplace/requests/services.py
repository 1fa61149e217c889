"""The life of a service request: post, publish, close the bidding, select, publicity, award — or fail.

The rest of its story is beside this module: bidding.py (sealed bids, on bids.py's models), objections.py (异议
during publicity), queries.py (the lists, the comparison and the draw record the pages read), draw.py (the
verifiable arithmetic of the selection). Orders sit below requests: the order desk learns of an award through
`publicity_ended`, and a request learns of a declined or withdrawn winner through events (subscribers.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from marketplace import events
from marketplace.agencies.models import AgencyStatus
from marketplace.audit.services import record, snapshot
from marketplace.audit.transitions import move
from marketplace.auth.models import Role, User
from marketplace.auth.policy import IsOperator, ManagesRequest, OwnsRequest
from marketplace.auth.services import require_role
from marketplace.catalogue import services as catalogue
from marketplace.common.clock import now
from marketplace.common.errors import Invalid, NotFound, WrongState
from marketplace.common.messages import N_, Message, message
from marketplace.credit import scores as credit_scores
from marketplace.extensions import db
from marketplace.requests import bidding, counts, draw
from marketplace.requests.bids import Bid, BidStatus
from marketplace.requests.models import (
    EDITABLE_STATUSES,
    TRANSITIONS,
    Funding,
    ObjectionStatus,
    RequestExclusion,
    RequestReview,
    RequestStatus,
    ReviewAction,
    SelectionMethod,
    ServiceRequest,
)
from marketplace.requests.validation import clean_request
from marketplace.stats.figures import stats_for

EDITABLE = (
    "title", "project_code", "service_item_id", "scope", "ceiling_fen", "floor_fen", "required_level", "region_code",
    "required_days", "funding", "selection_method", "weights", "shortlist_size", "bid_deadline",
)  # fmt: skip
OPEN_STATUSES = (RequestStatus.BIDDING,)
INVALID_REASON_LENGTH = Bid.invalid_reason.type.length

# What the request records for people (stored as message keys, shown in the viewer's language).
TOO_FEW_BIDS = N_("Valid bids: %(valid)d, fewer than the required minimum of %(min)d; the request failed.")
WINNER_BLACKLISTED = N_(
    "The selected agency is barred by its credit (black list or grade E); the next in the ranking takes its place."
)
WINNER_INELIGIBLE = N_(
    "The selected agency is no longer eligible (its status changed); the next in the ranking takes its place."
)
NOBODY_LEFT = N_("%(why)s No valid bid is left to take its place; the request failed.")


def move_request(req: ServiceRequest, action: str, actor, **values) -> None:
    """The one way a request's status changes (checked against TRANSITIONS, audited, counted)."""
    before, published = req.status, req.published_at
    if action in ("fail", "cancel"):  # the end is dated once (the open data's tenderCancellation)
        values.setdefault("ended_at", now())
    move(req, TRANSITIONS, action, actor, audit_prefix="request", **values)
    counts.moved(req, before, published)


# --- posting -------------------------------------------------------------------------------------------


def own_request(actor: User | None, request_id: int, lock: bool = False) -> ServiceRequest:
    """The caller enterprise's own request (404 for anyone else's)."""
    actor = require_role(actor, Role.ENTERPRISE)
    stmt = select(ServiceRequest).where(ServiceRequest.id == request_id)
    req = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if req is None or not OwnsRequest(actor, req):
        raise NotFound(_l("No such request."))
    return req


def _apply(req: ServiceRequest, clean: dict[str, Any]) -> None:
    for field in EDITABLE:
        setattr(req, field, clean[field])
    req.exclusions = [
        RequestExclusion(agency_id=agency.id, reason=reason) for agency, reason in clean["exclusions"]
    ]


def create_request(actor: User | None, data: dict[str, Any], publish: bool = True) -> ServiceRequest:
    """Post a request as a draft, or publish it at once as an open announcement."""
    actor = require_role(actor, Role.ENTERPRISE)
    clean = clean_request(data, publishing=publish)
    req = ServiceRequest(
        enterprise_id=actor.enterprise.id, created_by_id=actor.id, status=RequestStatus.DRAFT
    )
    _apply(req, clean)
    _keep_item_version(req)
    db.session.add(req)
    db.session.flush()
    record(actor, "request.create", req, after=snapshot(req, EDITABLE))
    if publish:
        _publish(req, actor)
    return req


def update_draft(actor: User | None, request_id: int, data: dict[str, Any]) -> ServiceRequest:
    """Edit a draft, or a request the operator returned (the enterprise fixes it and submits it again)."""
    req = own_request(actor, request_id, lock=True)
    if req.status == RequestStatus.REVIEW:
        raise WrongState(
            _l("The request is being reviewed; it can be edited only if the operator returns it.")
        )
    if req.status not in EDITABLE_STATUSES:
        raise WrongState(_l("A published request cannot be edited; cancel it and post a new one."))
    merged = {**_as_input(req), **data}
    if data.get("region") and not data.get("region_code"):  # an old client renames the place by name
        merged.pop("region_code")
    clean = clean_request(merged, publishing=False)
    before = snapshot(req, EDITABLE)
    _apply(req, clean)
    record(actor, "request.edit", req, before=before, after=snapshot(req, EDITABLE))
    return req


def _as_input(req: ServiceRequest) -> dict[str, Any]:
    data = {f: getattr(req, f) for f in EDITABLE}
    for f in ("required_level", "funding", "selection_method"):
        data[f] = data[f].value if data[f] is not None else None
    data["exclusions"] = [{"agency_id": x.agency_id, "reason": x.reason} for x in req.exclusions]
    return data


def _keep_item_version(req: ServiceRequest) -> None:
    """The request keeps the item's rules in force now (guide range, standard days, legal basis), whatever
    the department changes later."""
    version = catalogue.current_version(req.service_item_id)
    req.service_item_version_id = version.id if version is not None else None


def review_on() -> bool:
    """Announcements wait for the operator's review before they go public (MARKET_REVIEW_ANNOUNCEMENTS)."""
    return bool(current_app.config["MARKET_REVIEW_ANNOUNCEMENTS"])


def approval_document_missing(req: ServiceRequest) -> bool:
    """The operator reviews the project's approval document: with review on, an item that serves a project
    approval may not be submitted without it (without review nobody would read it, so it stays optional)."""
    return review_on() and req.service_item.needs_project_approval and not req.approval_document


APPROVAL_DOCUMENT_NEEDED = _l(
    "This service item serves a project approval: upload the project's approval or filing document "
    "(立项批复、核准或备案文件, PDF or JPG) before submitting."
)


def _publish(req: ServiceRequest, actor) -> None:
    """Publish: straight to bidding, or — with announcement review on — to the operator first."""
    clean_request(_as_input(req), publishing=True)  # the deadline rule is checked at publishing time
    _keep_item_version(req)
    if not review_on():
        open_bidding(req, actor, "publish")
        return
    if approval_document_missing(req):
        raise Invalid(APPROVAL_DOCUMENT_NEEDED, {"approval_document": [APPROVAL_DOCUMENT_NEEDED]})
    move_request(req, "submit", actor, submitted_at=now())
    db.session.add(
        RequestReview(request_id=req.id, action=ReviewAction.SUBMIT, actor_id=_id(actor), at=now())
    )
    events.request_submitted_for_review.send(req, actor=actor)


def _id(actor) -> int | None:
    return actor.id if actor is not None else None


def open_bidding(req: ServiceRequest, actor, action: str) -> None:
    """The announcement goes public: the draw seed is fixed and the bidding period starts now."""
    _keep_item_version(req)
    seed = draw.new_seed()
    move_request(
        req, action, actor, published_at=now(), draw_seed=seed, draw_commitment=draw.commitment(seed)
    )
    events.request_published.send(req, actor=actor)


def publish_request(actor: User | None, request_id: int) -> ServiceRequest:
    req = own_request(actor, request_id, lock=True)
    _publish(req, actor)
    return req


def cancel_request(actor: User | None, request_id: int, reason: str | None) -> ServiceRequest:
    req = own_request(actor, request_id, lock=True)
    reason = (reason or "").strip()
    if req.status == RequestStatus.BIDDING and not reason:  # unpublished ones were never public: no reason
        raise Invalid(_l("A reason is required."), {"reason": [_l("A reason is required.")]})
    move_request(req, "cancel", actor, failure_reason=reason or None)
    return req


def republish(actor: User | None, request_id: int, bid_deadline: datetime | str) -> ServiceRequest:
    """A failed request (流标) comes back as a new round with a new deadline and a new seed."""
    old = own_request(actor, request_id)
    if old.status != RequestStatus.FAILED:
        raise WrongState(_l("Only a failed request can be published again."))
    data = _as_input(old) | {"bid_deadline": bid_deadline}
    new = create_request(actor, data, publish=False)
    new.approval_document = old.approval_document  # the same project: the same approval document
    _publish(new, actor)
    new.round, new.previous_id = old.round + 1, old.id
    record(actor, "request.republish", new, after={"previous_id": old.id, "round": new.round})
    return new


# --- reading ---------------------------------------------------------------------------------------------


def can_manage(actor: User | None, req: ServiceRequest) -> bool:
    """Its owner or an administrator (see auth/policy.py)."""
    return ManagesRequest(actor, req)


def get_request(actor: User | None, request_id: int) -> ServiceRequest:
    """A request as the caller may see it (reading never moves it on: that is the clock's work)."""
    req = db.session.get(ServiceRequest, request_id)
    if req is None or not (req.is_public or can_manage(actor, req) or can_review(actor, req)):
        raise NotFound(_l("No such request."))
    return req


def can_review(actor: User | None, req: ServiceRequest) -> bool:
    """An operator whose area holds the request's region (administrators hold every role), once the enterprise
    has submitted it (a draft is the enterprise's own)."""
    return req.status != RequestStatus.DRAFT and IsOperator(actor, req.region_code)


# --- time-driven transitions -------------------------------------------------------------------------


def _publicity_end() -> datetime:
    return now() + timedelta(seconds=current_app.config["MARKET_PUBLICITY_SECONDS"])


def min_bids(req: ServiceRequest) -> int:
    if req.selection_method == SelectionMethod.DIRECT or req.funding == Funding.SOCIAL:
        return 1
    return current_app.config["MARKET_MIN_BIDS"]


def close_grace() -> timedelta:
    """How long after its deadline a request stays open for bids that arrived in time but are still queued
    (bidding judges them by their arrival time). The owner may look at the bids from the deadline on; the
    close — invalidations, the fee audit, 流标 — and the selection come after the grace."""
    return timedelta(seconds=current_app.config["MARKET_CLOSE_GRACE_SECONDS"])


def locked_request(request_id: int) -> ServiceRequest | None:
    """The request re-read under its row lock (PostgreSQL; SQLite serialises writers anyway)."""
    return db.session.scalar(
        select(ServiceRequest)
        .where(ServiceRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _bids_and_credit_bars(request_id: int) -> tuple[list, dict]:
    """A request's valid bids with what their checks read, and each bidder's credit bar now (None: none), for the
    checks at the close and at the selection: a statement per relation, not per bid."""
    bids = bidding.valid_bids(request_id, checks=True)
    return bids, credit_scores.barred_all([b.agency_id for b in bids])


def close_bidding(req: ServiceRequest, actor=None) -> bool:
    """The bid deadline passed: invalidate bids whose agency is no longer eligible, open the rest (the fee
    audit listens), and fail the request (流标) when too few valid bids are left."""
    req = locked_request(req.id)
    if req.status != RequestStatus.BIDDING or now() < req.bid_deadline + close_grace():
        return False
    bids, bars = _bids_and_credit_bars(req.id)
    for bid in bids:
        problems = bidding.eligibility_problems(bid.agency, req, bid, credit_bar=bars[bid.agency_id])
        if problems:
            bid.status, bid.invalid_reason = BidStatus.INVALID, problems[0].encode(INVALID_REASON_LENGTH)
            record(actor, "bid.invalidate", bid, after={"reason": bid.invalid_reason})
    valid = len(bidding.valid_bids(req.id))
    move_request(req, "close", actor, closed_at=now())
    events.bidding_closed.send(req, actor=actor)
    if valid < min_bids(req):
        reason = message(TOO_FEW_BIDS, valid=valid, min=min_bids(req))
        move_request(req, "fail", actor, failure_reason=reason.encode())
        events.request_failed.send(req, actor=actor)
    return True


def end_publicity(req: ServiceRequest, actor=None) -> bool:
    """Publicity is over and no objection is open: award (the order desk creates the order), or pass the
    award on when the winner is no longer an active member."""
    req = locked_request(req.id)
    if (
        req.status != RequestStatus.PUBLICITY
        or req.publicity_ends_at is None
        or now() < req.publicity_ends_at
    ):
        return False
    if any(o.status == ObjectionStatus.OPEN for o in req.objections):
        return False
    winner = db.session.get(Bid, req.winner_bid_id)
    if winner.agency.status != AgencyStatus.ACTIVE:
        fall_back(req, actor, message(WINNER_INELIGIBLE))
        return True
    if credit_scores.barred(winner.agency_id) is not None:
        fall_back(req, actor, message(WINNER_BLACKLISTED))
        return True
    move_request(req, "award", actor)
    events.publicity_ended.send(req, winner=winner, actor=actor)
    return True


def advance(req: ServiceRequest, actor=None) -> bool:
    """Apply every transition time has made due for this request. Returns True if any. The caller commits."""
    closed = close_bidding(req, actor)
    awarded = end_publicity(req, actor)
    return closed or awarded


def due_request_ids() -> list[int]:
    """Requests with a transition due now (for the clock)."""
    t = now()
    stmt = select(ServiceRequest.id).where(
        or_(
            (ServiceRequest.status == RequestStatus.BIDDING)
            & (ServiceRequest.bid_deadline <= t - close_grace()),
            (ServiceRequest.status == RequestStatus.PUBLICITY) & (ServiceRequest.publicity_ends_at <= t),
        )
    )
    return list(db.session.scalars(stmt.order_by(ServiceRequest.id)))


def apply_due(request_id: int) -> bool:
    """The clock's step for one request."""
    req = db.session.get(ServiceRequest, request_id)
    return req is not None and advance(req)


# --- selection ---------------------------------------------------------------------------------------------


def _candidate_rows(bids: list[Bid]) -> list[dict]:
    """What the draw ranks, recorded with the selection (verify_draw.py recomputes from these rows): the credit
    score and grade are those of the credit module at the moment of the selection."""
    ids = [b.agency_id for b in bids]
    stats = credit = stats_for(ids)  # the statistics carry the credit figures (read beside them)
    return [
        {
            "bid_id": b.id,
            "agency_id": b.agency_id,
            "agency_name": b.agency.name,
            "price_fen": b.price_fen,
            "promised_days": b.promised_days,
            "credit_score": credit[b.agency_id]["credit_score"],
            "credit_grade": credit[b.agency_id]["credit_grade"],
            "avg_rating": stats[b.agency_id]["avg_rating"],
            "on_time_rate": stats[b.agency_id]["on_time_rate"],
        }
        for b in bids
    ]


def _recheck_qualifications(req: ServiceRequest, actor) -> None:
    """Only bids whose agency meets the item's qualification rule on the closing day take part in the selection
    (bids opened before the rule was in force, or under data corrected since, are invalidated here)."""
    day = bidding.qualification_day(req)
    bids, bars = _bids_and_credit_bars(req.id)
    for bid in bids:
        problems = bidding.qualification_problems(bid.agency, req, day)
        credit_bar = bars[bid.agency_id]  # blacklisted or grade E since it bid
        if credit_bar is not None:
            problems.insert(0, credit_bar)
        if problems:
            bid.status, bid.invalid_reason = BidStatus.INVALID, problems[0].encode(INVALID_REASON_LENGTH)
            record(actor, "bid.invalidate", bid, after={"reason": bid.invalid_reason})


def select_winner(
    actor: User | None, request_id: int, bid_id: int | None = None, reason: str | None = None
) -> ServiceRequest:
    """Run the request's published method. Direct pick needs a bid and a recorded reason."""
    req = own_request(actor, request_id)
    close_bidding(req, actor)  # the deadline passed and the clock has not run yet: open the bids now
    req = locked_request(req.id)
    if req.status != RequestStatus.EVALUATING:
        if req.phase == RequestStatus.EVALUATING:  # past the deadline, within the grace for queued bids
            raise WrongState(
                _l("The bids are being opened (a few seconds after the deadline); please try again shortly.")
            )
        if req.status == RequestStatus.BIDDING:
            raise WrongState(_l("Bids are sealed until the deadline; select after it."))
        raise WrongState(_l("A selection has already been made for this request."))
    _recheck_qualifications(req, actor)
    bids = bidding.valid_bids(req.id)
    rows = _candidate_rows(bids)
    if req.selection_method == SelectionMethod.DIRECT:
        reason = (reason or "").strip()
        errors = {}
        if bid_id not in {b.id for b in bids}:
            errors["bid_id"] = [_l("Choose one of the valid bids.")]
        if not 4 <= len(reason) <= 500:
            errors["reason"] = [_l("Record the reason for a direct pick (4 to 500 characters).")]
        if errors:
            raise Invalid(next(iter(errors.values()))[0], errors)
        ranking = [bid_id] + [b.id for b in bids if b.id != bid_id]
        details = {"algorithm": "direct", "candidates": [b.id for b in bids], "ranking": ranking}
    else:
        ranking, details = draw.rank(
            req.selection_method.value, req.draw_seed, rows, req.weights, req.shortlist_size
        )
    details["candidate_rows"] = rows
    move_request(
        req,
        "select",
        actor,
        winner_bid_id=ranking[0],
        ranking=ranking,
        draw_details=details,
        seed_revealed_at=now(),
        selected_at=now(),
        selection_reason=reason or None,
        publicity_ends_at=_publicity_end(),
    )
    events.winner_selected.send(req, actor=actor, reselected=False)
    return req


def publicity_won_by(agency_id: int) -> list[ServiceRequest]:
    """Requests under publicity whose winning bid is this agency's, locked for the change."""
    stmt = (
        select(ServiceRequest.id)
        .join(Bid, Bid.id == ServiceRequest.winner_bid_id)
        .where(ServiceRequest.status == RequestStatus.PUBLICITY, Bid.agency_id == agency_id)
        .order_by(ServiceRequest.id)
    )
    return [locked_request(i) for i in db.session.scalars(stmt).all()]


def fall_back(req: ServiceRequest, actor, why: Message) -> None:
    """The winner is out (declined, disqualified, objection upheld): the next valid bid in the ranking takes
    its place with a new publicity period; with none left the request fails."""
    out = db.session.get(Bid, req.winner_bid_id)
    if out.status == BidStatus.ACTIVE:
        out.status, out.invalid_reason = BidStatus.INVALID, why.encode(INVALID_REASON_LENGTH)
    ranking = list(req.ranking or [])
    remaining = [
        b
        for b in (db.session.get(Bid, i) for i in ranking[ranking.index(out.id) + 1 :])
        if b.status == BidStatus.ACTIVE
        and b.agency.status == AgencyStatus.ACTIVE
        and credit_scores.barred(b.agency_id) is None
    ]
    if req.selection_method == SelectionMethod.DIRECT and remaining:
        move_request(
            req,
            "reopen_selection",
            actor,
            winner_bid_id=None,
            selection_reason=why.encode(),
            publicity_ends_at=None,
        )
        return
    if not remaining:
        move_request(req, "fail", actor, failure_reason=message(NOBODY_LEFT, why=why).encode())
        events.request_failed.send(req, actor=actor)
        return
    move_request(
        req,
        "reselect",
        actor,
        winner_bid_id=remaining[0].id,
        selection_reason=why.encode(),
        publicity_ends_at=_publicity_end(),
    )
    events.winner_selected.send(req, actor=actor, reselected=True)


def fail_by_decision(req: ServiceRequest, actor, why: Message) -> bool:
    """A supervisor's decision (an upheld complaint about the request or its selection) ends this round: the
    request fails (流标) and the enterprise announces it again (`republish`). An awarded one is left as it is."""
    req = locked_request(req.id)
    if req.status not in (RequestStatus.BIDDING, RequestStatus.EVALUATING, RequestStatus.PUBLICITY):
        return False
    move_request(req, "fail", actor, failure_reason=why.encode())
    events.request_failed.send(req, actor=actor)
    return True
