"""To-do providers of the supervision features (see home/todo.py): complaints to answer (the respondent),
complaints to handle (supervisors, inside their area), credit appeals and repairs to decide (operators)."""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, or_, select

from marketplace.agencies.models import Agency
from marketplace.auth.models import Role, User
from marketplace.auth.policy import scope_condition
from marketplace.complaints.access import awaiting_answer_condition
from marketplace.complaints.models import CATEGORY_LABELS, Complaint, ComplaintCategory, ComplaintStatus
from marketplace.credit.models import CreditAppeal, CreditRepair, Decision
from marketplace.home.todo import Todo, count_of, counted, entry, provider, todo

OPEN = (ComplaintStatus.RECEIVED, ComplaintStatus.INVESTIGATING)


def _label(r) -> str:
    return f"{r.number} · {CATEGORY_LABELS.get(ComplaintCategory(r.category), r.category)}"


@provider("complaints_to_answer", Role.ENTERPRISE, Role.AGENCY)
def _complaints_to_answer(actor: User, at: datetime) -> Todo | None:
    """Accepted complaints against the viewer's organisation still waiting for its one answer (due before the
    supervisor must close them)."""
    waiting = awaiting_answer_condition(actor)
    if waiting is None:
        return None
    stmt = select(Complaint.number, Complaint.category, Complaint.close_due_at).where(waiting)
    count, rows = counted(stmt, Complaint.close_due_at, Complaint.number)
    entries = [
        entry(_label(r), url_for("complaints.detail", number=r.number), r.close_due_at, at) for r in rows
    ]
    overdue = count_of(stmt.where(Complaint.close_due_at < at))
    return todo(
        "complaints_to_answer",
        _l("Complaints to answer"),
        count,
        url_for("complaints.index"),
        entries,
        overdue,
    )


@provider("complaints_to_handle", Role.SUPERVISOR)
def _complaints_to_handle(actor: User, at: datetime) -> Todo | None:
    """Complaints and reports to accept or refuse, and accepted ones to decide, inside the supervisor's area."""
    due = case(
        (Complaint.status == ComplaintStatus.RECEIVED, Complaint.accept_due_at), else_=Complaint.close_due_at
    )
    stmt = select(Complaint.number, Complaint.category, due.label("due")).where(
        Complaint.status.in_(OPEN), scope_condition(actor, Role.SUPERVISOR, Complaint.region_code)
    )
    count, rows = counted(stmt, due, Complaint.number)
    entries = [entry(_label(r), url_for("complaints.detail", number=r.number), r.due, at) for r in rows]
    overdue = count_of(
        stmt.where(
            or_(
                and_(Complaint.status == ComplaintStatus.RECEIVED, Complaint.accept_due_at < at),
                and_(Complaint.status == ComplaintStatus.INVESTIGATING, Complaint.close_due_at < at),
            )
        )
    )
    url = url_for("complaint_admin.desk", status="open")
    return todo("complaints_to_handle", _l("Complaints and reports to handle"), count, url, entries, overdue)


@provider("credit_appeals", Role.OPERATOR)
def _credit_appeals(actor: User, at: datetime) -> Todo | None:
    stmt = (
        select(CreditAppeal.id, Agency.name, CreditAppeal.due_at)
        .join(Agency, Agency.id == CreditAppeal.agency_id)
        .where(
            CreditAppeal.status == Decision.PENDING, scope_condition(actor, Role.OPERATOR, Agency.region_code)
        )
    )
    count, rows = counted(stmt, CreditAppeal.due_at, CreditAppeal.id)
    url = url_for("credit_admin.desk")
    entries = [entry(r.name, url, r.due_at, at) for r in rows]
    overdue = count_of(stmt.where(CreditAppeal.due_at < at))
    return todo("credit_appeals", _l("Credit appeals to decide"), count, url, entries, overdue)


@provider("credit_repairs", Role.OPERATOR)
def _credit_repairs(actor: User, at: datetime) -> Todo | None:
    stmt = (
        select(CreditRepair.id, Agency.name)
        .join(Agency, Agency.id == CreditRepair.agency_id)
        .where(
            CreditRepair.status == Decision.PENDING, scope_condition(actor, Role.OPERATOR, Agency.region_code)
        )
    )
    count, rows = counted(stmt, CreditRepair.id)
    url = url_for("credit_admin.desk")
    return todo(
        "credit_repairs", _l("Credit repairs to decide"), count, url, [entry(r.name, url) for r in rows]
    )
