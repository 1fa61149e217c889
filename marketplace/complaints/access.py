"""Who sees which complaint (services.py changes them): the complainant its own; the respondent what is filed
against it from its acceptance on (a refused complaint never reaches it); supervisors of the target's area, who act
on it, and its operators, who read it (the administrator everywhere). And the lists: the parties' own, the staff
desk (overdue first), the deadline board's overdue ones, a respondent's complaints still to answer."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from marketplace.auth.models import Role, User
from marketplace.auth.policy import acts_in, located, scope_condition
from marketplace.auth.services import require_acting, require_user
from marketplace.common.areas import prefix
from marketplace.common.clock import now
from marketplace.common.errors import NotAllowed, NotFound
from marketplace.complaints.models import (
    Complaint,
    ComplaintCategory,
    ComplaintFile,
    ComplaintKind,
    ComplaintStatus,
)
from marketplace.extensions import db

# The respondent sees a complaint from its acceptance on (a refused one never reaches it).
SEEN_BY_RESPONDENT = (ComplaintStatus.INVESTIGATING, ComplaintStatus.UPHELD, ComplaintStatus.DISMISSED)


def _logged_in(actor: User | None) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def is_staff_reader(actor: User | None, c: Complaint) -> bool:
    """Supervisors of the target's area act on it; its operators read it (the administrator everywhere)."""
    region = located(c.region_code)
    return acts_in(actor, Role.SUPERVISOR, region) or acts_in(actor, Role.OPERATOR, region)


def is_respondent(actor: User | None, c: Complaint) -> bool:
    if not _logged_in(actor):
        return False
    if actor.role == Role.AGENCY and actor.agency is not None:
        return c.respondent_agency_id == actor.agency.id
    if actor.role == Role.ENTERPRISE and actor.enterprise is not None:
        return c.respondent_enterprise_id == actor.enterprise.id
    return False


def viewer_role(actor: User | None, c: Complaint) -> str | None:
    """ "staff", "complainant", "respondent" (once accepted) or None (may not see it)."""
    if not _logged_in(actor):
        return None
    if is_staff_reader(actor, c):
        return "staff"
    if c.complainant_id == actor.id:
        return "complainant"
    if c.status in SEEN_BY_RESPONDENT and is_respondent(actor, c):
        return "respondent"
    return None


def get_complaint(actor: User | None, complaint_id: int) -> Complaint:
    c = db.session.get(Complaint, complaint_id) if 0 < complaint_id < 2**31 else None
    if c is None or viewer_role(actor, c) is None:
        raise NotFound(_l("No such complaint."))
    return c


def by_number(actor: User | None, number: str) -> Complaint:
    c = db.session.scalar(select(Complaint).where(Complaint.number == number[:20]))
    if c is None or viewer_role(actor, c) is None:
        raise NotFound(_l("No such complaint."))
    return c


def evidence_file(actor: User | None, c: Complaint, file_id: int) -> ComplaintFile:
    """A file of a complaint the caller may see (`c` comes from get_complaint/by_number): a report's evidence
    never goes to the respondent (it could tell who reported)."""
    role = viewer_role(actor, c)
    for f in c.files:
        if f.id == file_id and not (
            role == "respondent" and f.role == "complaint" and c.kind == ComplaintKind.REPORT
        ):
            return f
    raise NotFound(_l("No such file."))


def against_condition(actor: User):
    """The SQL condition for complaints whose respondent is the caller's organisation (None: it has none)."""
    if actor.role == Role.AGENCY and actor.agency is not None:
        return Complaint.respondent_agency_id == actor.agency.id
    if actor.role == Role.ENTERPRISE and actor.enterprise is not None:
        return Complaint.respondent_enterprise_id == actor.enterprise.id
    return None


def awaiting_answer_condition(actor: User):
    """Accepted complaints against the caller's organisation still waiting for its one answer (None: no
    organisation); the to-do lists count these."""
    against = against_condition(actor)
    if against is None:
        return None
    return (
        against
        & (Complaint.status == ComplaintStatus.INVESTIGATING)
        & Complaint.answered_at.is_(None)
        & Complaint.complainant_id.is_distinct_from(actor.id)
    )


def mine_query(actor: User | None):
    """What the caller filed and what is filed against it (accepted ones), the newest first."""
    actor = require_user(actor)
    against = against_condition(actor)
    condition = Complaint.complainant_id == actor.id
    if against is not None:
        condition = condition | (against & Complaint.status.in_(SEEN_BY_RESPONDENT))
    return select(Complaint).where(condition).order_by(Complaint.filed_at.desc(), Complaint.id.desc())


def staff_scope(actor: User | None):
    """The SQL condition for the complaints a staff account reads."""
    return scope_condition(actor, Role.SUPERVISOR, Complaint.region_code) | scope_condition(
        actor, Role.OPERATOR, Complaint.region_code
    )


def overdue_condition(t=None):
    t = t or now()
    return ((Complaint.status == ComplaintStatus.RECEIVED) & (Complaint.accept_due_at < t)) | (
        (Complaint.status == ComplaintStatus.INVESTIGATING) & (Complaint.close_due_at < t)
    )


def desk_query(
    actor: User | None, status: str | None = None, kind: str | None = None, category: str | None = None
):
    """The staff desk: complaints in the account's area, overdue first, then by the deadline that runs."""
    actor = require_user(actor)
    if not (actor.holds(Role.SUPERVISOR) or actor.holds(Role.OPERATOR)):
        raise NotAllowed(_l("Your account is not allowed to do this."))
    t = now()
    stmt = select(Complaint).where(staff_scope(actor))
    if status == "open":
        stmt = stmt.where(Complaint.status.in_([ComplaintStatus.RECEIVED, ComplaintStatus.INVESTIGATING]))
    elif status == "overdue":
        stmt = stmt.where(overdue_condition(t))
    elif status:
        stmt = stmt.where(Complaint.status == ComplaintStatus(status))
    if kind:
        stmt = stmt.where(Complaint.kind == ComplaintKind(kind))
    if category:
        stmt = stmt.where(Complaint.category == ComplaintCategory(category))
    due = case(
        (Complaint.status == ComplaintStatus.RECEIVED, Complaint.accept_due_at),
        (Complaint.status == ComplaintStatus.INVESTIGATING, Complaint.close_due_at),
        else_=None,
    )
    return stmt.order_by(
        case((overdue_condition(t), 0), else_=1),
        case((Complaint.status.in_([ComplaintStatus.RECEIVED, ComplaintStatus.INVESTIGATING]), 0), else_=1),
        due,
        Complaint.filed_at.desc(),
        Complaint.id.desc(),
    )


def overdue_complaints(actor: User | None) -> list[dict[str, Any]]:
    """逾期未办结的投诉举报 for the supervisor's board: open past their deadline, the longest overdue first."""
    require_acting(actor, Role.SUPERVISOR)
    t = now()
    rows = db.session.scalars(
        select(Complaint).where(
            scope_condition(actor, Role.SUPERVISOR, Complaint.region_code), overdue_condition(t)
        )
    ).all()
    out = [
        {
            "complaint": c,
            "deadline_status": "red",
            "days_left": round((c.due_at - t).total_seconds() / 86400, 1),
        }
        for c in rows
    ]
    return sorted(out, key=lambda r: r["days_left"])


def to_answer(actor: User | None) -> list[Complaint]:
    """Accepted complaints against the caller's organisation still waiting for its answer (a to-do list)."""
    if not _logged_in(actor):
        return []
    waiting = awaiting_answer_condition(actor)
    if waiting is None:
        return []
    stmt = select(Complaint).where(waiting).order_by(Complaint.filed_at.desc(), Complaint.id.desc())
    return list(db.session.scalars(stmt))


def outcome_figures(region_code: str | None = None) -> dict[str, dict[str, int]]:
    """Complaints and reports by status, for public statistics: {"complaint": {status: n}, "report": {...}} —
    counts only, nothing about who filed what (`region_code`: the targets inside that area)."""
    stmt = select(Complaint.kind, Complaint.status, func.count()).group_by(Complaint.kind, Complaint.status)
    if region_code:
        stmt = stmt.where(Complaint.region_code.like(prefix(region_code) + "%"))
    out: dict[str, dict[str, int]] = {k.value: {s.value: 0 for s in ComplaintStatus} for k in ComplaintKind}
    for kind, status, n in db.session.execute(stmt):
        out[ComplaintKind(kind).value][ComplaintStatus(status).value] = n
    return out
