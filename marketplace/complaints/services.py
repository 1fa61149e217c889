"""The life of a complaint (投诉) or report (举报): filed → received → accepted (investigating) or refused →
upheld or dismissed, within working-day time limits; the respondent answers once.

Who sees what: the complainant sees its own; the respondent sees what is filed against it once it is accepted
(a refused complaint never reaches it), never the complainant's contact details, and never who filed a report;
supervisors act on those in their area (the administrator everywhere), operators there read them. Past its
deadline an open complaint is overdue — computed from the clock, never stored. An upheld complaint records its
consequences and announces them (`events.complaint_decided`): credit, agencies and requests apply them.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace import events
from marketplace.agencies.models import AgencyStatus
from marketplace.audit.services import record
from marketplace.audit.transitions import move
from marketplace.auth.models import Role, User
from marketplace.auth.policy import located
from marketplace.auth.services import require_acting, require_user
from marketplace.common import uploads
from marketplace.common.clock import LOCAL_TZ, now
from marketplace.common.errors import NotAllowed, NotFound, WrongState, invalid_fields
from marketplace.common.workdays import due_after
from marketplace.complaints import targets
from marketplace.complaints.access import (  # noqa: F401 - the pages and the API read them from here too
    SEEN_BY_RESPONDENT,
    _logged_in,
    by_number,
    desk_query,
    evidence_file,
    get_complaint,
    is_respondent,
    is_staff_reader,
    mine_query,
    overdue_complaints,
    to_answer,
    viewer_role,
)
from marketplace.complaints.models import (
    TRANSITIONS,
    Complaint,
    ComplaintCategory,
    ComplaintFile,
    ComplaintKind,
    ComplaintStatus,
    TargetType,
)
from marketplace.extensions import db
from marketplace.requests.models import RequestStatus, ServiceRequest

UPLOAD_KIND = "complaints"
MAX_FILES = 5
TEXT_MIN, TEXT_MAX = 20, 3000
ANSWER_MIN, ANSWER_MAX = 10, 3000
DECISION_MIN, DECISION_MAX = 4, 2000
POINTS = (5, 10, 20)  # the credit points an upheld complaint may deduct
PREFIX = {ComplaintKind.COMPLAINT: "TS", ComplaintKind.REPORT: "JB"}
PHONE = re.compile(r"^[0-9+\-() ]{5,30}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FileIn = tuple[Any, str | None]  # (stream, filename)


# --- filing --------------------------------------------------------------------------------------------------


def _next_number(kind: ComplaintKind) -> str:
    year = now().astimezone(LOCAL_TZ).year
    prefix = f"{PREFIX[kind]}{year}-"
    last = db.session.scalar(
        select(Complaint.number).where(Complaint.number.like(prefix + "%")).order_by(Complaint.number.desc())
    )
    seq = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{seq:06d}"


def _clean_text(value: Any, field: str, low: int, high: int, errors: dict) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not low <= len(text) <= high:
        errors[field] = [_l("Write %(low)d to %(high)d characters.", low=low, high=high)]
    return text


def _clean_contact(data: dict, errors: dict) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for field, limit in (("contact_name", 50), ("contact_phone", 30), ("contact_email", 254)):
        value = data.get(field)
        if value is None or value == "":
            out[field] = None
            continue
        value = value.strip() if isinstance(value, str) else None
        if not value or len(value) > limit:
            errors[field] = [_l("At most %(n)d characters.", n=limit)]
        out[field] = value or None
    if out["contact_phone"] and "contact_phone" not in errors and not PHONE.match(out["contact_phone"]):
        errors["contact_phone"] = [_l("Enter a telephone number (digits, +, - and spaces).")]
    if out["contact_email"] and "contact_email" not in errors and not EMAIL.match(out["contact_email"]):
        errors["contact_email"] = [_l("Enter a valid e-mail address.")]
    return out


def _as_int(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 11:
        return int(value.strip())
    return value


def _clean(kind: ComplaintKind, data: dict, files: list) -> dict[str, Any]:
    errors: dict[str, list] = {}
    target_type = data.get("target_type")
    if target_type not in {t.value for t in TargetType}:
        errors["target_type"] = [_l("Choose what the complaint is about.")]
    target_id = _as_int(data.get("target_id"))
    if not isinstance(target_id, int) or isinstance(target_id, bool) or not 0 < target_id < 2**31:
        errors["target_id"] = [_l("No such target.")]
    category = data.get("category") or (
        ComplaintCategory.OTHER.value if kind == ComplaintKind.REPORT else None
    )
    if category not in {c.value for c in ComplaintCategory}:
        errors["category"] = [_l("Choose a category.")]
    elif (
        target_type in {t.value for t in TargetType}
        and ComplaintCategory(category) not in targets.CATEGORIES[TargetType(target_type)]
    ) or (kind == ComplaintKind.REPORT and category == ComplaintCategory.ENTRY_DECISION):
        errors["category"] = [_l("This category does not fit the target.")]
    text = _clean_text(data.get("text"), "text", TEXT_MIN, TEXT_MAX, errors)
    contact = _clean_contact(data, errors)
    if len(files) > MAX_FILES:
        errors["evidence"] = [_l("At most %(n)d evidence files.", n=MAX_FILES)]
    if errors:
        raise invalid_fields(errors)
    return {
        "target_type": target_type,
        "target_id": target_id,
        "category": ComplaintCategory(category),
        "text": text,
        **contact,
    }


def _check_files(files: list[FileIn]) -> list[tuple[bytes, str, str | None]]:
    """Every file is read and checked by its content before anything changes."""
    return [(*uploads.read_upload(stream, "evidence"), name) for stream, name in files]


def _store_files(c: Complaint, role: str, checked: list[tuple[bytes, str, str | None]]) -> list[str]:
    for data, mime, name in checked:
        s = uploads.store(data, mime, name, UPLOAD_KIND)
        c.files.append(ComplaintFile(role=role, key=s.key, name=s.name, mime=s.mime, size=s.size, at=now()))
    return [name or "" for _, _, name in checked]


def _file(kind: ComplaintKind, actor: User | None, data: dict, files: list[FileIn]) -> Complaint:
    data = data if isinstance(data, dict) else {}
    files = list(files or [])
    clean = _clean(kind, data, files)
    target = targets.resolve(clean["target_type"], clean["target_id"])
    if kind == ComplaintKind.COMPLAINT:
        targets.check_complainant(actor, target, clean["category"])
    checked = _check_files(files)
    respondent_agency_id, respondent_enterprise_id = targets.respondent_for(
        kind, actor, target, clean["category"]
    )
    org = None
    if kind == ComplaintKind.COMPLAINT:
        org = actor.agency if actor.role == Role.AGENCY else actor.enterprise
    filed = now()
    c = Complaint(
        kind=kind,
        complainant_id=actor.id if _logged_in(actor) else None,
        complainant_name=org.name if org is not None else None,
        contact_name=clean["contact_name"],
        contact_phone=clean["contact_phone"],
        contact_email=clean["contact_email"],
        target_type=target.type,
        target_id=target.id,
        target_label=target.label[:200],
        category=clean["category"],
        text=clean["text"],
        region_code=target.region_code,
        respondent_agency_id=respondent_agency_id,
        respondent_enterprise_id=respondent_enterprise_id,
        agency_id=target.agency.id if target.agency is not None else None,
        request_id=target.request.id if target.request is not None else None,
        status=ComplaintStatus.RECEIVED,
        filed_at=filed,
        accept_due_at=due_after(filed, current_app.config["COMPLAINT_ACCEPT_WORKING_DAYS"]),
    )
    # Two filings at the same moment may draw the same number: the unique constraint decides, and the loser
    # draws the next one (inside a savepoint, so nothing else is lost).
    for attempt in range(5):
        c.number = _next_number(kind)
        try:
            with db.session.begin_nested():
                db.session.add(c)
        except IntegrityError:
            db.session.expunge(c) if c in db.session else None
            if attempt == 4:
                raise
            continue
        break
    names = _store_files(c, "complaint", checked)
    db.session.flush()
    record(
        actor if _logged_in(actor) else None,
        f"{kind.value}.file",
        c,
        after={
            "number": c.number,
            "target_type": c.target_type.value,
            "target_id": c.target_id,
            "category": c.category.value,
            "text": c.text,
            "contact_given": any(clean[k] for k in ("contact_name", "contact_phone", "contact_email")),
            "evidence": names,
            "accept_due_at": c.accept_due_at.isoformat(),
        },
    )
    events.complaint_filed.send(c, actor=actor if _logged_in(actor) else None)
    return c


def file_complaint(actor: User | None, data: dict, files: list[FileIn] | None = None) -> Complaint:
    """A party complains (投诉) about an agency, a request, a selection or an order."""
    actor = require_user(actor)
    return _file(ComplaintKind.COMPLAINT, actor, data, files or [])


def file_report(actor: User | None, data: dict, files: list[FileIn] | None = None) -> Complaint:
    """Anyone reports (举报), logged in or not; the contact details are for staff only."""
    return _file(ComplaintKind.REPORT, actor, data, files or [])


# --- the supervisor's decisions ------------------------------------------------------------------------------


def _for_decision(actor: User | None, complaint_id: int) -> Complaint:
    """The complaint under its row lock, for the supervisor of its area (404 to those who may not see it)."""
    actor = require_user(actor)
    c = db.session.scalar(
        select(Complaint)
        .where(Complaint.id == complaint_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if c is None or viewer_role(actor, c) is None:
        raise NotFound(_l("No such complaint."))
    require_acting(actor, Role.SUPERVISOR, located(c.region_code))
    return c


def _move(c: Complaint, action: str, actor: User, **values) -> None:
    before = c.status.value
    move(
        c,
        TRANSITIONS,
        action,
        actor,
        audit_prefix="complaint",
        message=_l("This complaint is no longer waiting for that decision."),
        **values,
    )
    events.complaint_status_changed.send(c, before=before, after=c.status.value, actor=actor)


def _decision_text(value: Any, field: str) -> str:
    errors: dict[str, list] = {}
    text = _clean_text(value, field, DECISION_MIN, DECISION_MAX, errors)
    if errors:
        raise invalid_fields(errors)
    return text


def accept(actor: User | None, complaint_id: int) -> Complaint:
    """受理: the investigation starts; the close-by time runs from today; the respondent now sees it."""
    c = _for_decision(actor, complaint_id)
    t = now()
    close_due = due_after(t, current_app.config["COMPLAINT_CLOSE_WORKING_DAYS"])
    _move(c, "accept", actor, accepted_at=t, close_due_at=close_due)
    return c


def refuse(actor: User | None, complaint_id: int, reason: Any) -> Complaint:
    """不予受理, with the reason the complainant reads."""
    c = _for_decision(actor, complaint_id)
    reason = _decision_text(reason, "reason")
    if c.status != ComplaintStatus.RECEIVED:
        raise WrongState(_l("This complaint is no longer waiting for that decision."))
    _move(c, "refuse", actor, refusal_reason=reason, decided_at=now(), decided_by_id=actor.id)
    return c


def valid_consequences(c: Complaint) -> list[str]:
    """The consequences that fit the target as it stands now."""
    out: list[str] = []
    if c.category == ComplaintCategory.ENTRY_DECISION:
        return out
    agency = c.agency
    if agency is not None:
        out.append("credit")
        if agency.status == AgencyStatus.ACTIVE:
            out.append("suspend")
    req = db.session.get(ServiceRequest, c.request_id) if c.request_id else None
    if req is not None and c.target_type == TargetType.SELECTION and req.status == RequestStatus.PUBLICITY:
        out.append("reselect")
    if (
        req is not None
        and c.target_type in (TargetType.REQUEST, TargetType.SELECTION)
        and req.status in (RequestStatus.BIDDING, RequestStatus.EVALUATING, RequestStatus.PUBLICITY)
    ):
        out.append("reannounce")
    return out


def _clean_consequences(c: Complaint, consequences: Any, points: Any) -> tuple[list[str], int | None]:
    errors: dict[str, list] = {}
    if consequences is None:
        consequences = []
    if isinstance(consequences, str):
        consequences = [consequences]
    valid = valid_consequences(c)
    if not isinstance(consequences, list) or any(x not in valid for x in consequences):
        errors["consequences"] = [_l("Choose among the consequences that fit this complaint.")]
        consequences = []
    consequences = [x for x in valid if x in consequences]  # one each, in a fixed order
    if "reselect" in consequences and "reannounce" in consequences:
        errors["consequences"] = [_l("A selection is either passed on or announced again, not both.")]
    value = None
    if "credit" in consequences:
        points = _as_int(points.lstrip("-") if isinstance(points, str) else points)
        if isinstance(points, int) and not isinstance(points, bool):
            points = abs(points)
        if points not in POINTS:
            errors["points"] = [_l("Choose the points to deduct: 5, 10 or 20.")]
        else:
            value = -points
    if errors:
        raise invalid_fields(errors)
    return consequences, value


def uphold(
    actor: User | None, complaint_id: int, outcome: Any, consequences: Any = None, points: Any = None
) -> Complaint:
    """投诉成立: the outcome is recorded with its consequences, which their owners apply (events)."""
    c = _for_decision(actor, complaint_id)
    if c.status != ComplaintStatus.INVESTIGATING:
        raise WrongState(_l("Only an accepted complaint can be upheld or dismissed."))
    outcome = _decision_text(outcome, "outcome")
    chosen, value = _clean_consequences(c, consequences, points)
    _move(
        c,
        "uphold",
        actor,
        outcome=outcome,
        consequences=chosen,
        points=value,
        decided_at=now(),
        decided_by_id=actor.id,
    )
    _decided(c, True, actor)
    return c


def dismiss(actor: User | None, complaint_id: int, outcome: Any) -> Complaint:
    """投诉不成立, with the outcome both sides read."""
    c = _for_decision(actor, complaint_id)
    if c.status != ComplaintStatus.INVESTIGATING:
        raise WrongState(_l("Only an accepted complaint can be upheld or dismissed."))
    outcome = _decision_text(outcome, "outcome")
    _move(c, "dismiss", actor, outcome=outcome, consequences=[], decided_at=now(), decided_by_id=actor.id)
    _decided(c, False, actor)
    return c


def _decided(c: Complaint, upheld: bool, actor: User) -> None:
    events.complaint_decided.send(
        c,
        upheld=upheld,
        consequences=list(c.consequences or []),
        agency_id=c.agency_id,
        request_id=c.request_id,
        points=c.points,
        actor=actor,
    )


# --- the respondent's answer ---------------------------------------------------------------------------------


def answer(actor: User | None, complaint_id: int, text: Any, files: list[FileIn] | None = None) -> Complaint:
    """The respondent answers once, with evidence, while the complaint is investigated."""
    actor = require_user(actor)
    c = db.session.scalar(
        select(Complaint)
        .where(Complaint.id == complaint_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if c is None or viewer_role(actor, c) is None:
        raise NotFound(_l("No such complaint."))
    if not is_respondent(actor, c) or c.complainant_id == actor.id:
        raise NotAllowed(_l("Only the party the complaint is about may answer it."))
    if c.answered_at is not None:
        raise WrongState(_l("You have already answered; the answer can be given once."))
    if c.status != ComplaintStatus.INVESTIGATING:
        raise WrongState(_l("A complaint can be answered while it is being investigated."))
    files = list(files or [])
    errors: dict[str, list] = {}
    text = _clean_text(text, "answer", ANSWER_MIN, ANSWER_MAX, errors)
    if len(files) > MAX_FILES:
        errors["evidence"] = [_l("At most %(n)d evidence files.", n=MAX_FILES)]
    if errors:
        raise invalid_fields(errors)
    checked = _check_files(files)
    c.answer, c.answered_at, c.answered_by_id = text, now(), actor.id
    names = _store_files(c, "answer", checked)
    db.session.flush()
    record(actor, "complaint.answer", c, after={"answer": text, "evidence": names})
    events.complaint_answered.send(c, actor=actor)
    return c
