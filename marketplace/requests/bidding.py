"""Sealed bidding: who may bid, submitting, revising and withdrawing, and what anyone may see of bids."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from marketplace.agencies.models import Agency, AgencyStatus, QualificationLevel
from marketplace.agencies.practitioners import approved_practitioners
from marketplace.agencies.qualifications import Eligibility, Need, eligible_for
from marketplace.agencies.roster import Practitioner, PractitionerStatus
from marketplace.agencies.services import my_agency
from marketplace.audit.services import record, snapshot
from marketplace.auth.models import Role, User
from marketplace.common.clock import arrival, now
from marketplace.common.errors import Invalid, NotFound, WrongState, invalid_fields
from marketplace.common.messages import N_, Message, message
from marketplace.credit.scores import barred
from marketplace.extensions import db
from marketplace.requests.bids import Bid, BidRevision, BidStatus
from marketplace.requests.models import RequestStatus, ServiceRequest

BID_FIELDS = ("price_fen", "promised_days", "plan", "status", "version")


ALREADY_BID = _l("You already have a bid on this request; revise it instead.")
_UNREAD = message("")  # eligibility_problems: the credit bar not read yet


def eligibility_problems(
    agency: Agency, req: ServiceRequest, bid: Bid | None = None, credit_bar: Message | None = _UNREAD
) -> list[Message]:
    """Why this agency may not bid on this request (empty when it may); messages, because closing the bidding
    records the first one as the reason a bid was invalidated. With `bid`, also whether the practitioners it
    names are still approved (one may have left the agency since). `credit_bar`: `barred(agency.id)` when the
    caller read it already (a page of requests for one agency)."""
    problems = []
    if agency.status != AgencyStatus.ACTIVE:
        problems.append(message(N_("Only active members may bid.")))
    if credit_bar is _UNREAD:
        credit_bar = barred(agency.id)  # the black list (失信) or the bottom grade
    if credit_bar is not None:
        problems.append(credit_bar)
    if any(x.agency_id == agency.id for x in req.exclusions):
        problems.append(message(N_("The enterprise excluded your agency from this request (回避).")))
    if not agency.serves(req.region_code):
        problems.append(
            message(N_("This project lies outside your service areas; add its region to them first."))
        )
    category_id = req.service_item.category_id
    if category_id not in {c.id for c in agency.categories}:
        problems.append(message(N_("This service is outside your approved categories.")))
    problems.extend(qualification_problems(agency, req, now().date()))
    problems.extend(practitioner_problems(agency, req, bid))
    return problems


def practitioner_problems(agency: Agency, req: ServiceRequest, bid: Bid | None = None) -> list[Message]:
    """Items that require named practitioners: enough approved ones of the registration, and (with `bid`) the
    ones the bid names still approved."""
    need = req.service_item.required_practitioners or 0
    if not need:
        return []
    if len(qualified_practitioners(agency, req)) < need:
        return [
            message(
                N_("This service needs %(n)d approved practitioners (%(registration)s) named in the bid."),
                n=need,
                registration=req.service_item.practitioner_registration or "—",
            )
        ]
    if bid is not None:
        named = [
            p
            for p in bid.practitioners
            if p.status == PractitionerStatus.APPROVED and p.agency_id == agency.id
        ]
        if len(named) < need:
            return [message(N_("A practitioner named in the bid is no longer an approved practitioner."))]
    return []


def qualification_day(req: ServiceRequest) -> date:
    """The day a request's bids are judged on after the deadline: the day the bidding closed."""
    return (req.closed_at or min(req.bid_deadline, now())).date()


def qualification_check(agency: Agency, req: ServiceRequest, day: date) -> Eligibility:
    """The one qualification rule (agencies/qualifications.py) for this request's item and grade."""
    return eligible_for(agency, req.service_item, day, req.required_level)


def qualification_problems(agency: Agency, req: ServiceRequest, day: date) -> list[Message]:
    check = qualification_check(agency, req, day)
    if check.ok:
        return []
    if check.legacy:
        if req.required_level is not None:
            return [
                message(
                    N_("A valid qualification of level %(level)s or higher in this category is required."),
                    level=req.required_level.value,
                )
            ]
        return [message(N_("You have no valid (unexpired) qualification covering this category."))]
    return [_missing(need) for need in check.missing]


def _missing(need: Need) -> Message:
    if need.found is not None:
        return message(
            N_("This service requires %(kind)s of grade %(level)s or higher; yours is %(held)s."),
            kind=need.kind.name,
            level=need.min_level.value,
            held=need.found.level.value,
        )
    if need.min_level == QualificationLevel.NONE:
        return message(
            N_("This service requires a valid %(kind)s; you have none in force with its scan on file."),
            kind=need.kind.name,
        )
    return message(
        N_(
            "This service requires a valid %(kind)s of grade %(level)s or higher; "
            "you have none in force with its scan on file."
        ),
        kind=need.kind.name,
        level=need.min_level.value,
    )


def qualified_practitioners(agency: Agency, req: ServiceRequest) -> list[Practitioner]:
    """The agency's approved practitioners holding the registration the request's item requires."""
    registration = req.service_item.practitioner_registration
    return [p for p in approved_practitioners(agency) if not registration or p.registration == registration]


def _named(agency: Agency, req: ServiceRequest, ids: Any) -> list[Practitioner]:
    """The practitioners a bid names: as many as the item requires, each approved, of this agency and holding
    the registration the item asks for."""
    need = req.service_item.required_practitioners or 0
    if ids in (None, []) and not need:
        return []
    if not isinstance(ids, list | tuple) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        raise invalid_fields({"practitioner_ids": [_l("A list of practitioner ids is expected.")]})
    ids = list(dict.fromkeys(ids))
    people = [db.session.get(Practitioner, i) for i in ids]
    registration = req.service_item.practitioner_registration
    for person in people:
        if person is None or person.agency_id != agency.id:
            raise invalid_fields({"practitioner_ids": [_l("Name only your own practitioners.")]})
        if person.status != PractitionerStatus.APPROVED:
            raise invalid_fields(
                {"practitioner_ids": [_l("%(name)s is not an approved practitioner yet.", name=person.name)]}
            )
        if registration and person.registration != registration:
            raise invalid_fields(
                {
                    "practitioner_ids": [
                        _l("%(name)s is not a %(registration)s.", name=person.name, registration=registration)
                    ]
                }
            )
    if len(people) < need:
        raise invalid_fields(
            {
                "practitioner_ids": [
                    _l(
                        "Name at least %(n)d practitioners (%(registration)s) for this service.",
                        n=need,
                        registration=registration or "—",
                    )
                ]
            }
        )
    return people


def _clean(data: dict[str, Any], req: ServiceRequest) -> dict[str, Any]:
    errors: dict[str, list] = {}
    price, days = data.get("price_fen"), data.get("promised_days")
    if not isinstance(price, int) or isinstance(price, bool) or price <= 0:
        errors["price_fen"] = [_l("Enter a price above zero.")]
    elif price > req.ceiling_fen:
        errors["price_fen"] = [_l("The price is above the ceiling of this request.")]
    elif req.floor_fen is not None and price < req.floor_fen:
        errors["price_fen"] = [_l("The price is below the floor of this request.")]
    if not isinstance(days, int) or isinstance(days, bool) or days <= 0:
        errors["promised_days"] = [_l("Promised days must be a whole number above zero.")]
    elif days > req.required_days:
        errors["promised_days"] = [
            _l("You must promise no more than the required %(d)d days.", d=req.required_days)
        ]
    plan = data.get("plan")
    plan = plan.strip() if isinstance(plan, str) else ""
    if not 10 <= len(plan) <= 5000:
        errors["plan"] = [_l("Describe your plan in 10 to 5000 characters.")]
    if errors:
        raise invalid_fields(errors)
    return {"price_fen": price, "promised_days": days, "plan": plan}


def _open_request_shared(request_id: int) -> ServiceRequest:
    """The request under a shared row lock (PostgreSQL FOR SHARE): closing the bidding, cancelling and the
    selection (FOR UPDATE) wait for this transaction, while the other agencies' bids on it go on at the same
    time — an exclusive lock queued every bidder of an announcement behind the one before, ~12 ms each under
    the load test, at the moment many bid: just before its deadline. A bid's own row is locked by its agency's
    transaction (`_own_bid_locked`, and the unique (request, agency) for a first bid).

    The deadline is judged by when the bid *arrived* (clock.arrival), not by when the lock was obtained: a bid
    that came in time but queued for a connection or for the lock still counts, and the bidding is closed
    only MARKET_CLOSE_GRACE_SECONDS after the deadline (requests.services.advance), so it finds it open."""
    arrived = arrival()
    req = db.session.scalar(
        select(ServiceRequest)
        .where(ServiceRequest.id == request_id)
        .options(joinedload(ServiceRequest.service_item, innerjoin=True))  # the eligibility rules read it
        .with_for_update(read=True, of=ServiceRequest)
        .execution_options(populate_existing=True)
    )
    if req is None or not req.is_public:
        raise NotFound(_l("No such request."))
    if req.status != RequestStatus.BIDDING or arrived >= req.bid_deadline:
        raise WrongState(_l("Bidding on this request is closed."))
    return req


def _revision_of(bid: Bid, action: str) -> BidRevision:
    return BidRevision(
        version=bid.version,
        action=action,
        price_fen=bid.price_fen,
        promised_days=bid.promised_days,
        plan=bid.plan,
    )


def _revision(bid: Bid, action: str) -> None:
    """A new version of a stored bid (its revisions are not read for it)."""
    revision = _revision_of(bid, action)
    revision.bid = bid
    db.session.add(revision)


def submit_bid(actor: User | None, request_id: int, data: dict[str, Any]) -> Bid:
    agency = my_agency(actor)
    req = _open_request_shared(request_id)
    problems = eligibility_problems(agency, req)
    if problems:
        raise Invalid(problems[0], {"agency": problems})
    clean = _clean(data, req)
    named = _named(agency, req, data.get("practitioner_ids"))
    bid = db.session.scalar(
        select(Bid)
        .where(Bid.request_id == req.id, Bid.agency_id == agency.id)
        .with_for_update()  # its agency's other tab waits here, then reads what that one committed
        .execution_options(populate_existing=True)
    )
    if bid is not None and bid.status == BidStatus.ACTIVE:
        raise WrongState(ALREADY_BID)
    if bid is None:
        # Made whole before it is added: its practitioners and first version are known, so neither collection is
        # read back from the database afterwards (two statements fewer on the market's commonest write).
        bid = Bid(request_id=req.id, agency_id=agency.id, version=1, practitioners=named, **clean)
        bid.revisions.append(_revision_of(bid, "submit"))
        try:
            with db.session.begin_nested():  # a first bid of the same agency committed at the same moment
                db.session.add(bid)
        except IntegrityError as exc:
            if not any(
                k in str(exc.orig) for k in ("uq_bid_request_agency", "bid.request_id, bid.agency_id")
            ):
                raise  # (PostgreSQL names the constraint, SQLite its columns)
            raise WrongState(ALREADY_BID) from None
        action = "submit"
    else:  # a withdrawn bid comes back as a new version
        for key, value in clean.items():
            setattr(bid, key, value)
        bid.status, bid.version, action = BidStatus.ACTIVE, bid.version + 1, "resubmit"
        bid.practitioners = named
        db.session.flush()
        _revision(bid, action)
    record(actor, f"bid.{action}", bid, after=_bid_facts(bid))
    return bid


def _bid_facts(bid: Bid) -> dict[str, Any]:
    return snapshot(bid, BID_FIELDS) | {"practitioner_ids": [p.id for p in bid.practitioners]}


def _own_bid(actor: User | None, bid_id: int) -> Bid:
    agency = my_agency(actor)
    bid = db.session.get(Bid, bid_id)
    if bid is None or bid.agency_id != agency.id:
        raise NotFound(_l("No such bid."))
    return bid


def _own_bid_locked(bid: Bid) -> Bid:
    """The bid read again under its row lock, after its request's (the order every writer of bids takes): a
    revision or withdrawal its agency made at the same moment has committed, or waits for this one."""
    db.session.refresh(bid, with_for_update=True)
    return bid


def revise_bid(actor: User | None, bid_id: int, data: dict[str, Any]) -> Bid:
    bid = _own_bid(actor, bid_id)
    req = _open_request_shared(bid.request_id)
    _own_bid_locked(bid)
    if bid.status != BidStatus.ACTIVE:
        raise WrongState(_l("This bid was withdrawn; submit a new one."))
    merged = {"price_fen": bid.price_fen, "promised_days": bid.promised_days, "plan": bid.plan}
    merged.update({k: v for k, v in data.items() if k in merged and v is not None})
    clean = _clean(merged, req)
    named_ids = data.get("practitioner_ids")
    if named_ids is None:
        named_ids = [p.id for p in bid.practitioners]
    named = _named(bid.agency, req, named_ids)
    before = _bid_facts(bid)
    for key, value in clean.items():
        setattr(bid, key, value)
    bid.practitioners = named
    bid.version += 1
    _revision(bid, "revise")
    record(actor, "bid.revise", bid, before=before, after=_bid_facts(bid))
    return bid


def withdraw_bid(actor: User | None, bid_id: int) -> Bid:
    bid = _own_bid(actor, bid_id)
    _open_request_shared(bid.request_id)
    _own_bid_locked(bid)
    if bid.status != BidStatus.ACTIVE:
        raise WrongState(_l("This bid is already withdrawn."))
    bid.status, bid.version = BidStatus.WITHDRAWN, bid.version + 1
    _revision(bid, "withdraw")
    record(actor, "bid.withdraw", bid, after=snapshot(bid, BID_FIELDS))
    return bid


# --- reading bids: sealed until the deadline --------------------------------------------------------


def bid_count(request_id: int) -> int:
    """The only figure about bids anyone may see before the deadline."""
    stmt = (
        select(func.count())
        .select_from(Bid)
        .where(Bid.request_id == request_id, Bid.status == BidStatus.ACTIVE)
    )
    return db.session.scalar(stmt) or 0


def bid_counts(request_ids: list[int]) -> dict[int, int]:
    """`bid_count` of many requests in one query (a list page's rows): {request id: active bids}."""
    if not request_ids:
        return {}
    rows = db.session.execute(
        select(Bid.request_id, func.count())
        .where(Bid.request_id.in_(request_ids), Bid.status == BidStatus.ACTIVE)
        .group_by(Bid.request_id)
    ).all()
    found = dict(rows)
    return {i: found.get(i, 0) for i in request_ids}


def my_bid(actor: User | None, request_id: int) -> Bid | None:
    if actor is None or getattr(actor, "role", None) != Role.AGENCY or actor.agency is None:
        return None
    return db.session.scalar(
        select(Bid).where(Bid.request_id == request_id, Bid.agency_id == actor.agency.id)
    )


def page_for_agency(agency: Agency, reqs: list[ServiceRequest]) -> dict:
    """What an agency's list of announcements shows beside each: its own bid, the bid count and why it may not
    bid — a few queries for the whole page, not a few per row."""
    ids = [r.id for r in reqs]
    mine = {
        b.request_id: b
        for b in db.session.scalars(select(Bid).where(Bid.request_id.in_(ids), Bid.agency_id == agency.id))
    }
    bar = barred(agency.id)
    return {
        "mine": {i: mine.get(i) for i in ids},
        "counts": bid_counts(ids),
        "problems": {r.id: eligibility_problems(agency, r, credit_bar=bar) for r in reqs},
    }


def my_bids_query(actor: User | None) -> Select:
    """The caller agency's own bids, newest first (to be paged: an agency of a national market bids thousands of
    times), each with its revisions and named practitioners loaded alongside."""
    agency = my_agency(actor)
    return (
        select(Bid)
        .where(Bid.agency_id == agency.id)
        .options(selectinload(Bid.revisions), selectinload(Bid.practitioners))
        .order_by(Bid.id.desc())
    )


def requests_of(bids: list[Bid]) -> dict[int, ServiceRequest]:
    """{bid id: its announcement} in one statement (with the announcements' items), for a page of bids."""
    ids = {b.request_id for b in bids}
    found = {
        r.id: r
        for r in db.session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.id.in_(ids))
            .options(selectinload(ServiceRequest.service_item))
        )
    }
    return {b.id: found[b.request_id] for b in bids}


def opened_bids(request_id: int, checks: bool = False) -> list[Bid]:
    """All bids of a request in canonical order (ascending id). Callers must have checked the seal. `checks`:
    with what the eligibility checks read of each bidder (`eligibility_problems`) loaded in a statement per
    relation, not lazily per bid (a request closing with dozens of bids)."""
    stmt = select(Bid).where(Bid.request_id == request_id).order_by(Bid.id)
    if checks:
        agency = selectinload(Bid.agency)
        stmt = stmt.options(
            agency.selectinload(Agency.qualifications),
            agency.selectinload(Agency.categories),
            agency.selectinload(Agency.service_areas),
        )
    return list(db.session.scalars(stmt))


def valid_bids(request_id: int, checks: bool = False) -> list[Bid]:
    return [b for b in opened_bids(request_id, checks) if b.status == BidStatus.ACTIVE]
