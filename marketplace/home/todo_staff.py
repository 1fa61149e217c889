"""Staff to-do providers, each role inside its area (a department inside its trade too; see home/todo.py)."""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, not_, or_, select

from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.agencies.roster import ChangeStatus, MembershipChange
from marketplace.auth.models import Role, User
from marketplace.auth.policy import scope_condition
from marketplace.catalogue.models import ServiceItem
from marketplace.fees.models import FeeFlag, FlagStatus
from marketplace.fees.services import in_scope as fee_scope
from marketplace.home.todo import Todo, count_of, counted, entry, order_rows, order_url, provider, todo
from marketplace.orders.models import Order, OrderStatus
from marketplace.ratings.models import DepartmentRating
from marketplace.requests.models import Objection, ObjectionStatus, RequestStatus, ServiceRequest

# --- staff, each inside its area (and a department inside its trade) -----------------------------------------


@provider("memberships_to_review", Role.OPERATOR)
def _memberships_to_review(actor: User, at: datetime) -> Todo | None:
    stmt = select(Agency.id, Agency.name, Agency.review_due_at).where(
        Agency.status == AgencyStatus.PENDING, scope_condition(actor, Role.OPERATOR, Agency.region_code)
    )
    count, rows = counted(stmt, Agency.review_due_at, Agency.id)
    entries = [
        entry(r.name, url_for("agency_admin.review", agency_id=r.id), r.review_due_at, at) for r in rows
    ]
    overdue = count_of(stmt.where(Agency.review_due_at < at))
    url = url_for("agency_admin.applications")
    return todo(
        "memberships_to_review", _l("Membership applications to review"), count, url, entries, overdue
    )


@provider("changes_to_review", Role.OPERATOR)
def _changes_to_review(actor: User, at: datetime) -> Todo | None:
    stmt = (
        select(MembershipChange.id, Agency.name, MembershipChange.review_due_at)
        .join(Agency, Agency.id == MembershipChange.agency_id)
        .where(
            MembershipChange.status == ChangeStatus.PENDING,
            scope_condition(actor, Role.OPERATOR, Agency.region_code),
        )
    )
    count, rows = counted(stmt, MembershipChange.review_due_at, MembershipChange.id)
    entries = [
        entry(r.name, url_for("change_admin.change_detail", change_id=r.id), r.review_due_at, at)
        for r in rows
    ]
    overdue = count_of(stmt.where(MembershipChange.review_due_at < at))
    url = url_for("change_admin.change_list")
    return todo("changes_to_review", _l("Membership changes to review"), count, url, entries, overdue)


@provider("announcements_to_review", Role.OPERATOR)
def _announcements_to_review(actor: User, at: datetime) -> Todo | None:
    stmt = select(ServiceRequest.id, ServiceRequest.title, ServiceRequest.submitted_at).where(
        ServiceRequest.status == RequestStatus.REVIEW,
        scope_condition(actor, Role.OPERATOR, ServiceRequest.region_code),
    )
    count, rows = counted(stmt, ServiceRequest.submitted_at, ServiceRequest.id)
    entries = [entry(r.title, url_for("announcement_admin.detail", request_id=r.id)) for r in rows]
    url = url_for("announcement_admin.queue")
    return todo("announcements_to_review", _l("Announcements to review"), count, url, entries)


@provider("objections_to_decide", Role.OPERATOR)
def _objections_to_decide(actor: User, at: datetime) -> Todo | None:
    stmt = (
        select(ServiceRequest.id, ServiceRequest.title, Objection.decide_by)
        .join(Objection, Objection.request_id == ServiceRequest.id)
        .where(
            Objection.status == ObjectionStatus.OPEN,
            scope_condition(actor, Role.OPERATOR, ServiceRequest.region_code),
        )
    )
    count, rows = counted(stmt, Objection.decide_by, Objection.id)
    entries = [entry(r.title, url_for("request_admin.objections"), r.decide_by, at) for r in rows]
    overdue = count_of(stmt.where(Objection.decide_by < at))
    url = url_for("request_admin.objections")
    return todo("objections_to_decide", _l("Objections to decide"), count, url, entries, overdue)


@provider("department_ratings", Role.DEPARTMENT)
def _department_ratings(actor: User, at: datetime) -> Todo | None:
    """双评价: accepted orders of the department's trade in its area without its rating yet."""
    rated = select(DepartmentRating.id).where(DepartmentRating.order_id == Order.id).exists()
    stmt = (
        order_rows(
            and_(
                Order.status == OrderStatus.ACCEPTED,
                not_(rated),
                scope_condition(actor, Role.DEPARTMENT, ServiceRequest.region_code, ServiceItem.department),
            ),
            Order.accepted_at,
        )
    ).join(ServiceItem, ServiceItem.id == ServiceRequest.service_item_id)
    count, rows = counted(stmt, Order.accepted_at, Order.id)
    entries = [entry(r.title, order_url(r.id)) for r in rows]
    url = url_for("orders.index", status=OrderStatus.ACCEPTED.value)
    return todo("department_ratings", _l("Department ratings to give"), count, url, entries)


@provider("catalogue_gaps", Role.DEPARTMENT)
def _catalogue_gaps(actor: User, at: datetime) -> Todo | None:
    """The trade's service items without their legal basis (设立依据): the catalogue must name it."""
    stmt = select(ServiceItem.id, ServiceItem.name).where(
        or_(ServiceItem.legal_basis.is_(None), ServiceItem.legal_basis == "")
    )
    if actor.role != Role.ADMIN:
        stmt = stmt.where(ServiceItem.department == actor.department)
    count, rows = counted(stmt, ServiceItem.sort_order, ServiceItem.id)
    entries = [entry(r.name, url_for("catalogue_admin.edit", item_id=r.id)) for r in rows]
    url = url_for("catalogue_admin.items")
    return todo("catalogue_gaps", _l("Service items missing their legal basis"), count, url, entries)


@provider("fee_flags", Role.SUPERVISOR)
def _fee_flags(actor: User, at: datetime) -> Todo | None:
    stmt = (
        select(FeeFlag.id, ServiceItem.name, Agency.name.label("agency"), FeeFlag.occurred_at)
        .join(ServiceItem, ServiceItem.id == FeeFlag.service_item_id)
        .join(Agency, Agency.id == FeeFlag.agency_id)
        .where(FeeFlag.status == FlagStatus.OPEN, fee_scope(actor))
    )
    count, rows = counted(stmt, FeeFlag.occurred_at.desc(), FeeFlag.id.desc())
    entries = [entry(r.agency, url_for("fee_admin.flag", flag_id=r.id), note=r.name) for r in rows]
    url = url_for("fee_admin.audit", status=FlagStatus.OPEN.value)
    return todo("fee_flags", _l("Fee flags to review"), count, url, entries)


@provider("overdue_orders", Role.SUPERVISOR)
def _overdue_orders(actor: User, at: datetime) -> Todo | None:
    """Red lights on the deadline board: work under way past its due date, inside the area."""
    stmt = order_rows(
        and_(
            Order.status.in_([OrderStatus.IN_PROGRESS, OrderStatus.DISPUTED]),
            Order.delivered_at.is_(None),
            Order.due_at < at,
            scope_condition(actor, Role.SUPERVISOR, ServiceRequest.region_code),
        ),
        Order.due_at,
    )
    count, rows = counted(stmt, Order.due_at, Order.id)
    entries = [entry(r.title, order_url(r.id), r.due_at, at) for r in rows]
    url = url_for("order_admin.deadlines", state="red")
    return todo(
        "overdue_orders", _l("Overdue orders on the deadline board"), count, url, entries, overdue=count
    )
