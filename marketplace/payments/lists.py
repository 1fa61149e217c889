"""An order's payment status as SQL, for the order lists' column and filter (待付款 / 在途 / 已付清) and the to-do
lists: the same sums as `services.ledger`, computed by the database for many orders at once.

- due (待付款): the work was accepted and part of the contract is neither received nor on its way;
- pending (在途): money recorded or opened but not received yet (a transfer awaiting the agency's confirmation,
  an open Stripe session);
- paid (已付清): received, net of refunds, covers the contract.

Orders sit below payments: the order pages reach these through the hooks in orders/services.py, registered
here (`register()`, called when the payments feature's schemas are imported, as the app does)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select
from sqlalchemy.sql import ColumnElement

from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments.models import Payment, PaymentStatus

LABELS = {"due": _l("Payment due"), "pending": _l("Payment on its way"), "paid": _l("Paid in full")}


def _sum(amount) -> ColumnElement[int]:
    """Σ amount over the order's payments, 0 when it has none (correlated to Order)."""
    return (
        select(func.coalesce(func.sum(amount), 0))
        .where(Payment.order_id == Order.id)
        .correlate(Order)
        .scalar_subquery()
    )


def paid_fen() -> ColumnElement[int]:
    """Received, net of refunds (services.received_fen)."""
    received = (PaymentStatus.PAID, PaymentStatus.REFUNDED)
    return _sum(case((Payment.status.in_(received), Payment.amount_fen - Payment.refunded_fen), else_=0))


def _open(at: datetime):
    """Recorded or opened, not received yet: on its way (services.committed_fen less what is received)."""
    return (Payment.status == PaymentStatus.SUBMITTED) | (
        (Payment.status == PaymentStatus.PENDING) & (Payment.expires_at > at)
    )


def committed_fen(at: datetime) -> ColumnElement[int]:
    return _sum(
        case(
            (Payment.status == PaymentStatus.PAID, Payment.amount_fen - Payment.refunded_fen),
            (_open(at), Payment.amount_fen),
            else_=0,
        )
    )


def condition(kind: str, at: datetime | None = None) -> ColumnElement[bool]:
    """Orders whose payment status is `kind` (due / pending / paid)."""
    at = at or now()
    if kind == "paid":
        return and_(Order.status == OrderStatus.ACCEPTED, paid_fen() >= Order.amount_fen)
    if kind == "pending":
        on_way = select(Payment.id).where(Payment.order_id == Order.id, _open(at)).correlate(Order).exists()
        return and_(Order.status == OrderStatus.ACCEPTED, on_way)
    if kind == "due":
        return and_(Order.status == OrderStatus.ACCEPTED, committed_fen(at) < Order.amount_fen)
    raise ValueError(kind)


def statuses(order_ids: list[int], at: datetime | None = None) -> dict[int, dict]:
    """`{order_id: {"paid_fen", "awaiting_fen", "status"}}` for the accepted orders among `order_ids`, in one
    query (the list's column): status is paid, pending (something on its way) or due."""
    if not order_ids:
        return {}
    at = at or now()
    rows = db.session.execute(
        select(Order.id, Order.amount_fen, paid_fen(), committed_fen(at)).where(
            Order.id.in_(order_ids), Order.status == OrderStatus.ACCEPTED
        )
    )
    out = {}
    for order_id, amount, paid, committed in rows:
        awaiting = max(0, committed - paid)
        if paid >= amount:
            status = "paid"
        elif awaiting > 0:
            status = "pending"
        else:
            status = "due"
        out[order_id] = {
            "paid_fen": paid,
            "awaiting_fen": awaiting,
            "due_fen": max(0, amount - committed),
            "status": status,
        }
    return out


def register() -> None:
    orders.PAYMENT_HOOKS.update(condition=condition, statuses=statuses, labels=LABELS)
