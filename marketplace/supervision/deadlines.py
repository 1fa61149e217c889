"""The administrators' deadline board: every order under way with its light, the objections undecided past
their decide-by time and the complaints past their time limits. It reads orders and requests together, so it sits above both."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.agencies import changes as membership_changes
from marketplace.auth.models import Role, User
from marketplace.auth.policy import scope_condition
from marketplace.auth.services import require_acting
from marketplace.complaints import services as complaints
from marketplace.extensions import db
from marketplace.orders.models import STARTED_LIVE, Order
from marketplace.orders.services import days_left, deadline_status
from marketplace.requests import objections
from marketplace.requests.models import ServiceRequest


def deadline_board(actor: User | None, state: str | None = None, service_item_id: int | None = None) -> dict:
    """Every started live order with its light and days left or overdue, most urgent first. Lights are computed from the time; the clock records them (and the statistics). Beside
    them, the objections undecided past their decide-by time (逾期未处理的异议), the longest overdue first."""
    require_acting(actor, Role.SUPERVISOR)  # the supervisor's desk, inside its area
    stmt = (
        select(Order)
        .join(ServiceRequest, Order.request_id == ServiceRequest.id)
        .where(
            Order.status.in_(list(STARTED_LIVE)),
            scope_condition(actor, Role.SUPERVISOR, ServiceRequest.region_code),
        )
        .order_by(Order.due_at, Order.id)
    )
    if service_item_id is not None:
        stmt = stmt.where(ServiceRequest.service_item_id == service_item_id)
    rows = []
    counts = {"red": 0, "yellow": 0, "ok": 0}
    for order in db.session.scalars(stmt):
        flag = deadline_status(order)
        counts[flag] += 1
        if state in (None, flag):
            rows.append({"order": order, "deadline_status": flag, "days_left": days_left(order)})
    rank = {"red": 0, "yellow": 1, "ok": 2}
    rows.sort(key=lambda r: (rank[r["deadline_status"]], r["order"].due_at))
    return {
        "rows": rows,
        "counts": counts,
        "objections": objections.overdue_objections(actor, service_item_id),
        # membership applications and changes undecided past their review deadline (审核超时)
        "memberships": membership_changes.overdue_reviews(actor),
        # complaints and reports not accepted or not closed in time (投诉举报逾期)
        "complaints": complaints.overdue_complaints(actor),
    }
