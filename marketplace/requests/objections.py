"""异议 during publicity: who may object, what an objection must say, the administrators' decision and its time
limit, and who sees what.

Only interested parties (利害关系人) may object: the agencies that bid in this round of the request (a bid not
withdrawn before the deadline, whether it stayed valid or was invalidated). Each may object once per round (a
republished request is a new round and a new row). An objection names a ground and states the facts, with up to
three evidence files kept privately. Administrators decide it by `decide_by`; an undecided one past that time is
overdue, which is computed from the clock and never stored. The public sees that objections exist, their status
and outcome; the objector and administrators see everything.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace import events
from marketplace.agencies.models import Agency
from marketplace.audit.services import record
from marketplace.auth.models import Role, User
from marketplace.auth.policy import located, reads_in, scope_condition
from marketplace.auth.services import require_acting, require_reading, require_staff, require_user
from marketplace.common import uploads
from marketplace.common.clock import now
from marketplace.common.errors import Invalid, NotAllowed, NotFound, WrongState, invalid_fields
from marketplace.common.messages import N_, message
from marketplace.extensions import db
from marketplace.requests.bids import Bid, BidStatus
from marketplace.requests.models import (
    Objection,
    ObjectionGround,
    ObjectionStatus,
    RequestStatus,
    ServiceRequest,
)
from marketplace.requests.services import end_publicity, fall_back, get_request, locked_request

UPLOAD_KIND = "objections"
MAX_EVIDENCE = 3
FACTS_MIN, FACTS_MAX = 20, 2000

WHO_MAY_OBJECT = _l(
    "Only the agencies that bid in this round of the request (interested parties) may lodge an objection."
)
ONCE_PER_ROUND = _l("Your agency has already lodged its objection in this round; each party may object once.")
UPHELD = N_("Objection upheld: %(outcome)s")  # recorded as the reason the next bid takes the place


# --- who may object, and who sees what -----------------------------------------------------------------------


def _logged_in(actor: User | None) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def interested_agency(actor: User | None, req: ServiceRequest) -> Agency | None:
    """The caller's agency when it bid in this round (a bid not withdrawn before the deadline), else None."""
    if not _logged_in(actor) or actor.role != Role.AGENCY or actor.agency is None:
        return None
    status = db.session.scalar(
        select(Bid.status).where(Bid.request_id == req.id, Bid.agency_id == actor.agency.id)
    )
    return actor.agency if status is not None and status != BidStatus.WITHDRAWN else None


def sees_details(actor: User | None, objection: Objection) -> bool:
    """The operators of the request's area (and its supervisor), and the objector see the party, the ground, the
    statement and the evidence."""
    if not _logged_in(actor):
        return False
    if actor.id == objection.user_id or reads_in(
        actor, Role.OPERATOR, located(objection.request.region_code)
    ):
        return True
    return actor.role == Role.AGENCY and actor.agency is not None and actor.agency.id == objection.agency_id


def _party_objection(req_id: int, agency_id: int) -> Objection | None:
    return db.session.scalar(
        select(Objection).where(Objection.request_id == req_id, Objection.agency_id == agency_id)
    )


def publicity_open(req: ServiceRequest) -> bool:
    return (
        req.status == RequestStatus.PUBLICITY
        and req.publicity_ends_at is not None
        and now() < req.publicity_ends_at
    )


def standing(actor: User | None, req: ServiceRequest) -> dict[str, Any]:
    """For the announcement page: is the caller a party, its objection if any, and whether it may lodge now."""
    agency = interested_agency(actor, req)
    mine = _party_objection(req.id, agency.id) if agency is not None else None
    return {
        "party": agency is not None,
        "mine": mine,
        "may_lodge": agency is not None and mine is None and publicity_open(req),
    }


def listing(actor: User | None, req: ServiceRequest) -> list[tuple[Objection, bool]]:
    """A request's objections, each with whether the caller may see its details."""
    return [(o, sees_details(actor, o)) for o in req.objections]


def objections_for(actor: User | None, request_id: int) -> list[tuple[Objection, bool]]:
    return listing(actor, get_request(actor, request_id))


def objection_file(actor: User | None, request_id: int, objection_id: int, key: str) -> dict:
    """An evidence file's metadata, for the objector and administrators only (404 for anyone else)."""
    objection = db.session.get(Objection, objection_id)
    if objection is not None and objection.request_id == request_id and sees_details(actor, objection):
        for meta in objection.evidence or []:
            if meta["key"] == key:
                return meta
    raise NotFound(_l("No such file."))


# --- lodging -----------------------------------------------------------------------------------------------------


def _check_publicity(req: ServiceRequest) -> None:
    if not publicity_open(req):
        raise WrongState(_l("Objections can be lodged only while the result is under publicity."))


def _clean(ground: Any, facts: Any, files: list) -> tuple[ObjectionGround, str]:
    errors: dict[str, list] = {}
    if not isinstance(ground, str) or ground not in {g.value for g in ObjectionGround}:
        errors["ground"] = [_l("Choose the ground of your objection.")]
    facts = facts.strip() if isinstance(facts, str) else ""
    if not FACTS_MIN <= len(facts) <= FACTS_MAX:
        errors["facts"] = [
            _l("State the facts in %(low)d to %(high)d characters.", low=FACTS_MIN, high=FACTS_MAX)
        ]
    if len(files) > MAX_EVIDENCE:
        errors["evidence"] = [_l("At most %(n)d evidence files.", n=MAX_EVIDENCE)]
    if errors:
        raise invalid_fields(errors)
    return ObjectionGround(ground), facts


def lodge_objection(
    actor: User | None,
    request_id: int,
    ground: Any,
    facts: Any,
    files: list[tuple[Any, str | None]] | None = None,
) -> Objection:
    """An interested party objects to the result, once per round, while it is under publicity."""
    actor = require_user(actor)
    req = get_request(actor, request_id)
    agency = interested_agency(actor, req)
    if agency is None:
        raise NotAllowed(WHO_MAY_OBJECT)
    _check_publicity(req)
    if _party_objection(req.id, agency.id) is not None:
        raise WrongState(ONCE_PER_ROUND)
    files = list(files or [])
    ground, facts = _clean(ground, facts, files)
    # Every file is checked before anything changes, and stored only once the objection is certain.
    checked = [(*uploads.read_upload(stream, "evidence"), name) for stream, name in files]
    # One party lodging twice at once: the request's row lock makes the second wait and then see the first; the
    # unique constraint (request, agency) is the last word where the database does not lock rows.
    req = locked_request(req.id)
    _check_publicity(req)
    if _party_objection(req.id, agency.id) is not None:
        raise WrongState(ONCE_PER_ROUND)
    seconds = current_app.config["MARKET_OBJECTION_DECISION_SECONDS"]
    objection = Objection(
        request_id=req.id,
        user_id=actor.id,
        agency_id=agency.id,
        ground=ground,
        facts=facts,
        decide_by=now() + timedelta(seconds=seconds),
    )
    try:
        with db.session.begin_nested():
            db.session.add(objection)
    except IntegrityError:
        raise WrongState(ONCE_PER_ROUND) from None
    stored = [uploads.store(data, mime, name, UPLOAD_KIND) for data, mime, name in checked]
    objection.evidence = [s.__dict__ for s in stored] or None
    record(
        actor,
        "objection.lodge",
        objection,
        after={
            "request_id": req.id,
            "agency_id": agency.id,
            "ground": ground.value,
            "facts": facts,
            "evidence": [s.name for s in stored],
            "decide_by": objection.decide_by.isoformat(),
        },
    )
    events.objection_lodged.send(objection, actor=actor)
    return objection


# --- the administrators' decision ------------------------------------------------------------------------------


def resolve_objection(actor: User | None, objection_id: int, uphold: bool, outcome: str) -> Objection:
    """The operator of the request's area decides (the administrator anywhere)."""
    require_staff(actor)
    objection = db.session.scalar(select(Objection).where(Objection.id == objection_id).with_for_update())
    if objection is None:
        raise NotFound(_l("No such objection."))
    require_acting(actor, Role.OPERATOR, located(objection.request.region_code))
    if objection.status != ObjectionStatus.OPEN:
        raise WrongState(_l("This objection has already been resolved."))
    outcome = (outcome or "").strip()
    if not 4 <= len(outcome) <= 2000:
        raise Invalid(
            _l("Record the outcome (4 to 2000 characters)."), {"outcome": [_l("4 to 2000 characters.")]}
        )
    objection.status = ObjectionStatus.UPHELD if uphold else ObjectionStatus.DISMISSED
    objection.outcome, objection.resolved_by_id, objection.resolved_at = outcome, actor.id, now()
    record(actor, f"objection.{objection.status.value}", objection, after={"outcome": outcome})
    events.objection_decided.send(objection, upheld=uphold, actor=actor)
    req = objection.request
    if uphold and req.status == RequestStatus.PUBLICITY:
        fall_back(req, actor, message(UPHELD, outcome=outcome))  # the administrators' own words
    db.session.flush()
    end_publicity(req, actor)  # the last open objection decided after publicity ended: award now
    return objection


def open_objections_query(actor: User | None):
    """Undecided objections inside the account's area, the longest overdue first (the earliest decide-by time)."""
    require_reading(actor, Role.OPERATOR)
    in_scope = select(ServiceRequest.id).where(
        scope_condition(actor, Role.OPERATOR, ServiceRequest.region_code, read=True)
    )
    return (
        select(Objection)
        .where(Objection.status == ObjectionStatus.OPEN, Objection.request_id.in_(in_scope))
        .order_by(Objection.decide_by, Objection.id)
    )


def overdue_objections(actor: User | None, service_item_id: int | None = None) -> list[dict[str, Any]]:
    """逾期未处理的异议 for the deadline board: undecided past their decide-by time, the longest overdue first."""
    t = now()
    stmt = open_objections_query(actor).where(Objection.decide_by <= t)
    if service_item_id is not None:
        stmt = stmt.join(ServiceRequest, Objection.request_id == ServiceRequest.id).where(
            ServiceRequest.service_item_id == service_item_id
        )
    return [
        {
            "objection": o,
            "deadline_status": "red",
            "days_left": round((o.decide_by - t).total_seconds() / 86400, 1),
        }
        for o in db.session.scalars(stmt)
    ]
