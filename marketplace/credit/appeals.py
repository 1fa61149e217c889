"""异议申诉 and 信用修复: the agency disputes an event (within CREDIT_APPEAL_DAYS; the operator of its region
decides within CREDIT_APPEAL_WORKING_DAYS working days; upheld, the event is reversed) or, after
CREDIT_REPAIR_MIN_DAYS, asks with a commitment letter that a negative event stop counting or that a black-list
entry be lifted (the operator approves or rejects)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select

from marketplace import events
from marketplace.agencies.models import Agency
from marketplace.agencies.services import my_agency
from marketplace.audit.services import record
from marketplace.auth.models import Role, User
from marketplace.auth.policy import located, scope_condition
from marketplace.auth.services import require_acting, require_reading
from marketplace.common import uploads
from marketplace.common.clock import now
from marketplace.common.errors import Invalid, NotFound, WrongState
from marketplace.common.messages import N_, message
from marketplace.common.workdays import due_after
from marketplace.credit import scores
from marketplace.credit.models import (
    CreditAppeal,
    CreditEvent,
    CreditListEntry,
    CreditRepair,
    Decision,
    EventStatus,
    ListKind,
)
from marketplace.extensions import db

UPLOAD_KIND = "credit"
MAX_FILES = 5
REPAIRED = N_("Credit repair approved: %(opinion)s")


def _reason(value: Any, field: str, label, low: int = 4, high: int = 1000) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not low <= len(text) <= high:
        msg = _l("%(what)s: %(low)d to %(high)d characters.", what=label, low=low, high=high)
        raise Invalid(msg, {field: [msg]})
    return text


def _own_event(actor: User | None, event_id: int) -> CreditEvent:
    agency = my_agency(actor)
    event = db.session.get(CreditEvent, event_id)
    if event is None or event.agency_id != agency.id:
        raise NotFound(_l("No such credit event."))
    return event


def appeal_window_ends(event: CreditEvent):
    return event.at + timedelta(days=current_app.config["CREDIT_APPEAL_DAYS"])


def appeal_of(event_id: int) -> CreditAppeal | None:
    return db.session.scalar(
        select(CreditAppeal)
        .where(CreditAppeal.event_id == event_id)
        .order_by(CreditAppeal.id.desc())
        .limit(1)
    )


def may_appeal(event: CreditEvent) -> bool:
    return (
        event.status == EventStatus.COUNTED
        and event.points < 0
        and now() <= appeal_window_ends(event)
        and appeal_of(event.id) is None
    )


def file_appeal(
    actor: User | None, event_id: int, reason: Any, files: list[tuple[Any, str | None]] | None = None
) -> CreditAppeal:
    """The agency appeals one of its own negative events, once, within the appeal period."""
    event = _own_event(actor, event_id)
    if event.status != EventStatus.COUNTED or event.points >= 0:
        raise WrongState(_l("Only a counted negative event can be appealed."))
    if appeal_of(event.id) is not None:
        raise WrongState(_l("This event has already been appealed."))
    if now() > appeal_window_ends(event):
        raise WrongState(
            _l("The appeal period (%(n)d days) has ended.", n=current_app.config["CREDIT_APPEAL_DAYS"])
        )
    reason = _reason(reason, "reason", _l("Reason"))
    files = list(files or [])
    if len(files) > MAX_FILES:
        raise Invalid(
            _l("At most %(n)d files.", n=MAX_FILES), {"evidence": [_l("At most %(n)d files.", n=MAX_FILES)]}
        )
    checked = [(*uploads.read_upload(stream, "evidence"), name) for stream, name in files]
    stored = [uploads.store(data, mime, name, UPLOAD_KIND) for data, mime, name in checked]
    appeal = CreditAppeal(
        event_id=event.id,
        agency_id=event.agency_id,
        reason=reason,
        evidence=[s.__dict__ for s in stored],
        status=Decision.PENDING,
        filed_at=now(),
        due_at=due_after(now(), current_app.config["CREDIT_APPEAL_WORKING_DAYS"]),
    )
    db.session.add(appeal)
    db.session.flush()
    record(
        actor,
        "credit.appeal",
        appeal,
        after={"event_id": event.id, "reason": reason, "evidence": [s.name for s in stored]},
    )
    return appeal


def get_appeal(actor: User | None, appeal_id: int) -> CreditAppeal:
    appeal = db.session.get(CreditAppeal, appeal_id)
    if appeal is None:
        raise NotFound(_l("No such appeal."))
    require_reading(actor, Role.OPERATOR, located(appeal.agency.region_code))
    return appeal


def decide_appeal(actor: User | None, appeal_id: int, uphold: bool, opinion: Any) -> CreditAppeal:
    """The operator of the agency's region decides; upheld, the event's points no longer count."""
    appeal = db.session.get(CreditAppeal, appeal_id)
    if appeal is None:
        raise NotFound(_l("No such appeal."))
    actor = require_acting(actor, Role.OPERATOR, located(appeal.agency.region_code))
    if appeal.status != Decision.PENDING:
        raise WrongState(_l("This appeal has already been decided."))
    opinion = _reason(opinion, "opinion", _l("Opinion"))
    appeal.status = Decision.UPHELD if uphold else Decision.REJECTED
    appeal.decided_by_id, appeal.decided_at, appeal.opinion = actor.id, now(), opinion
    if uphold:
        scores.set_status(appeal.event, EventStatus.REVERSED, actor)
    db.session.flush()
    record(actor, "credit.appeal_decide", appeal, after={"status": appeal.status.value, "opinion": opinion})
    events.credit_appeal_decided.send(appeal, upheld=uphold, actor=actor)
    return appeal


def appeals_query(actor: User | None, status: Decision | None = Decision.PENDING):
    """Appeals for the operators' desk (the supervisor reads), pending first by their due date."""
    require_reading(actor, Role.OPERATOR)
    stmt = (
        select(CreditAppeal)
        .join(Agency, Agency.id == CreditAppeal.agency_id)
        .where(scope_condition(actor, Role.OPERATOR, Agency.region_code, read=True))
    )
    if status is not None:
        stmt = stmt.where(CreditAppeal.status == status)
    pending_first = case((CreditAppeal.status == Decision.PENDING, 0), else_=1)
    return stmt.order_by(pending_first, CreditAppeal.due_at, CreditAppeal.id)


def appeals_of_agency(agency_id: int) -> dict[int, CreditAppeal]:
    rows = db.session.scalars(select(CreditAppeal).where(CreditAppeal.agency_id == agency_id))
    return {a.event_id: a for a in rows}


def evidence_file(actor: User | None, appeal_id: int, key: str) -> dict:
    """An evidence file of an appeal: its agency and the staff who read the desk."""
    appeal = db.session.get(CreditAppeal, appeal_id)
    if appeal is None:
        raise NotFound(_l("No such file."))
    agency = getattr(actor, "agency", None) if getattr(actor, "is_authenticated", False) else None
    if agency is None or agency.id != appeal.agency_id:
        require_reading(actor, Role.OPERATOR, located(appeal.agency.region_code))
    for f in appeal.evidence or []:
        if f.get("key") == key:
            return f
    raise NotFound(_l("No such file."))


# --- credit repair ---------------------------------------------------------------------------------------------


def _min_days() -> int:
    return current_app.config["CREDIT_REPAIR_MIN_DAYS"]


def repair_opens(target: CreditEvent | CreditListEntry):
    start = target.at if isinstance(target, CreditEvent) else target.starts_at
    return start + timedelta(days=_min_days())


def pending_repair(event_id: int | None = None, entry_id: int | None = None) -> CreditRepair | None:
    stmt = select(CreditRepair).where(CreditRepair.status == Decision.PENDING)
    stmt = (
        stmt.where(CreditRepair.event_id == event_id)
        if event_id
        else stmt.where(CreditRepair.entry_id == entry_id)
    )
    return db.session.scalar(stmt.limit(1))


def may_repair(target: CreditEvent | CreditListEntry) -> bool:
    if isinstance(target, CreditEvent):
        ok = target.status == EventStatus.COUNTED and target.points < 0
        return ok and now() >= repair_opens(target) and pending_repair(event_id=target.id) is None
    return (
        target.kind == ListKind.BLACK
        and not target.automatic
        and target.in_force()
        and now() >= repair_opens(target)
        and pending_repair(entry_id=target.id) is None
    )


def apply_repair(
    actor: User | None, data: dict[str, Any], letter: tuple[Any, str | None] | None
) -> CreditRepair:
    """The agency asks for repair of one negative event (`event_id`) or one black-list entry (`entry_id`) of its
    own, with what it corrected (`statement`) and a signed commitment letter (承诺书, PDF)."""
    agency = my_agency(actor)
    event_id, entry_id = data.get("event_id"), data.get("entry_id")
    target: CreditEvent | CreditListEntry | None = None
    if isinstance(event_id, int) and not entry_id:
        target = db.session.get(CreditEvent, event_id)
    elif isinstance(entry_id, int) and not event_id:
        target = db.session.get(CreditListEntry, entry_id)
    if target is None or target.agency_id != agency.id:
        raise NotFound(_l("No such credit event or list entry."))
    if isinstance(target, CreditListEntry) and target.automatic:
        raise WrongState(
            _l(
                "An automatic listing ends by itself once the score recovers: apply to repair its events instead."
            )
        )
    if now() < repair_opens(target):
        raise WrongState(
            _l("Credit repair may be asked %(n)d days after the event or the listing.", n=_min_days())
        )
    if not may_repair(target):
        raise WrongState(
            _l("This cannot be repaired (already repaired, not negative, or a request is pending).")
        )
    statement = _reason(data.get("statement"), "statement", _l("What you have corrected"), 10, 2000)
    if letter is None:
        msg = _l("Attach the signed commitment letter (承诺书) as a PDF.")
        raise Invalid(msg, {"letter": [msg]})
    content, mime = uploads.read_upload(letter[0], "letter")
    if mime != "application/pdf":
        msg = _l("The commitment letter must be a PDF.")
        raise Invalid(msg, {"letter": [msg]})
    stored = uploads.store(content, mime, letter[1], UPLOAD_KIND)
    repair = CreditRepair(
        agency_id=agency.id,
        event_id=target.id if isinstance(target, CreditEvent) else None,
        entry_id=target.id if isinstance(target, CreditListEntry) else None,
        statement=statement,
        letter=stored.__dict__,
        status=Decision.PENDING,
        filed_at=now(),
    )
    db.session.add(repair)
    db.session.flush()
    record(actor, "credit.repair", repair, after={"event_id": repair.event_id, "entry_id": repair.entry_id})
    return repair


def decide_repair(actor: User | None, repair_id: int, approve: bool, opinion: Any) -> CreditRepair:
    repair = db.session.get(CreditRepair, repair_id)
    if repair is None:
        raise NotFound(_l("No such repair request."))
    actor = require_acting(actor, Role.OPERATOR, located(repair.agency.region_code))
    if repair.status != Decision.PENDING:
        raise WrongState(_l("This repair request has already been decided."))
    opinion = _reason(opinion, "opinion", _l("Opinion"))
    repair.status = Decision.UPHELD if approve else Decision.REJECTED
    repair.decided_by_id, repair.decided_at, repair.opinion = actor.id, now(), opinion
    if approve and repair.event is not None:
        scores.set_status(repair.event, EventStatus.REPAIRED, actor)
    if approve and repair.entry is not None and repair.entry.in_force():
        scores.lift(repair.entry, message(REPAIRED, opinion=opinion).encode(), actor)
    db.session.flush()
    record(actor, "credit.repair_decide", repair, after={"status": repair.status.value, "opinion": opinion})
    events.credit_repair_decided.send(repair, approved=approve, actor=actor)
    return repair


def repairs_query(actor: User | None, status: Decision | None = Decision.PENDING):
    require_reading(actor, Role.OPERATOR)
    stmt = (
        select(CreditRepair)
        .join(Agency, Agency.id == CreditRepair.agency_id)
        .where(scope_condition(actor, Role.OPERATOR, Agency.region_code, read=True))
    )
    if status is not None:
        stmt = stmt.where(CreditRepair.status == status)
    return stmt.order_by(CreditRepair.filed_at, CreditRepair.id)


def repairs_of_agency(agency_id: int) -> list[CreditRepair]:
    return list(
        db.session.scalars(
            select(CreditRepair).where(CreditRepair.agency_id == agency_id).order_by(CreditRepair.id.desc())
        )
    )


def letter_file(actor: User | None, repair_id: int) -> dict:
    repair = db.session.get(CreditRepair, repair_id)
    if repair is None:
        raise NotFound(_l("No such file."))
    agency = getattr(actor, "agency", None) if getattr(actor, "is_authenticated", False) else None
    if agency is None or agency.id != repair.agency_id:
        require_reading(actor, Role.OPERATOR, located(repair.agency.region_code))
    return repair.letter
