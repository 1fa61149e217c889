"""Paying an accepted order: the enterprise records a bank transfer (the agency confirms or rejects it) or pays
online through Stripe Checkout (only the signed webhook makes it paid, see webhooks.py).

A payment never exceeds what is outstanding: contract amount − Σ committed payments, where committed means
open Stripe sessions not yet expired, offline transfers awaiting confirmation, and money received net of refunds.
The order row is locked while this is checked, so two payments at once cannot both pass. Money that Stripe
reports taken is always recorded, even if it overpays the contract (the fee audit flags that).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace import events
from marketplace.audit.services import record, snapshot
from marketplace.audit.transitions import move
from marketplace.auth.models import Role, User
from marketplace.auth.policy import IsOrderEnterprise
from marketplace.auth.services import require_role, require_user
from marketplace.common import uploads
from marketplace.common.clock import now
from marketplace.common.errors import Invalid, NotFound, UpstreamFailed, WrongState
from marketplace.common.messages import Message, encode
from marketplace.common.money import format_fen
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments import stripe_gateway
from marketplace.payments.models import TRANSITIONS, Payment, PaymentMethod, PaymentStatus

UPLOAD_KIND = "vouchers"
REFERENCE_LENGTH = (4, 64)
AUDITED = ("method", "status", "amount_fen", "reference", "stripe_session_id", "expires_at")


def _move(payment: Payment, action: str, actor, message=None, **values) -> None:
    move(payment, TRANSITIONS, action, actor, audit_prefix="payment", message=message, **values)


def on_money(payment: Payment, delta_fen: int) -> None:
    """Every receipt (+) and refund (−) of money passes here, inside the caller's transaction: the agency's
    totals follow and money received is checked against the contract (statistics and the fee audit listen)."""
    events.money_received.send(payment, delta_fen=delta_fen)


# --- reading ---------------------------------------------------------------------------------------------


def committed_fen(payment: Payment, at: datetime | None = None) -> int:
    """How much of the contract this payment takes up (see the module docstring)."""
    at = at or now()
    if payment.status == PaymentStatus.PAID:
        return payment.amount_fen - payment.refunded_fen
    if payment.status == PaymentStatus.SUBMITTED:
        return payment.amount_fen
    if payment.status == PaymentStatus.PENDING and payment.expires_at is not None and payment.expires_at > at:
        return payment.amount_fen
    return 0


def received_fen(payment: Payment) -> int:
    if payment.status in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
        return payment.amount_fen - payment.refunded_fen
    return 0


@dataclass(frozen=True)
class Ledger:
    """An order's money: the contract, what was received, what is on its way, what may still be paid."""

    contract_fen: int
    paid_fen: int
    committed_fen: int

    @property
    def outstanding_fen(self) -> int:
        return max(0, self.contract_fen - self.paid_fen)

    @property
    def awaiting_fen(self) -> int:
        """Recorded or opened but not received yet (offline awaiting confirmation, open Stripe sessions)."""
        return max(0, self.committed_fen - self.paid_fen)

    @property
    def payable_fen(self) -> int:
        return max(0, self.contract_fen - self.committed_fen)

    @property
    def status(self) -> str:
        if self.paid_fen >= self.contract_fen:
            return "paid"
        return "partial" if self.paid_fen > 0 else "unpaid"

    @property
    def percent(self) -> int:
        return min(100, self.paid_fen * 100 // self.contract_fen) if self.contract_fen else 100


LEDGER_LABELS = {
    "unpaid": _l("Unpaid"),
    "partial": _l("Partly paid"),
    "paid": _l("Paid in full"),
    # the panel's badge while money is on its way (Ledger.status itself stays unpaid/partial/paid)
    "transfer": _l("Transfer awaiting confirmation"),
    "online": _l("Online payment in progress"),
}


def panel_status(book: Ledger, payments: list[Payment]) -> str:
    """The badge of the order's payment panel: money on its way says so, instead of a bare 'unpaid' beside it."""
    if book.status == "paid" or not book.awaiting_fen:
        return book.status
    submitted = any(p.status == PaymentStatus.SUBMITTED for p in payments)
    return "transfer" if submitted else "online"


def payments_of(order_id: int, fresh: bool = False) -> list[Payment]:
    stmt = select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
    if fresh:
        stmt = stmt.execution_options(populate_existing=True)
    return list(db.session.scalars(stmt))


def ledger(order: Order, payments: list[Payment] | None = None) -> Ledger:
    payments = payments_of(order.id) if payments is None else payments
    at = now()
    return Ledger(
        contract_fen=order.amount_fen,
        paid_fen=sum(received_fen(p) for p in payments),
        committed_fen=sum(committed_fen(p, at) for p in payments),
    )


def order_payments(actor: User | None, order_id: int) -> tuple[Order, list[Payment]]:
    """An order's payments, for its two parties and administrators."""
    order = orders.get_order(actor, order_id)
    return order, payments_of(order.id)


def get_payment(actor: User | None, payment_id: int) -> Payment:
    actor = require_user(actor)
    payment = db.session.get(Payment, payment_id)
    if payment is None or not orders.is_party(actor, payment.order):
        raise NotFound(_l("No such payment."))
    return payment


def voucher_file(actor: User | None, payment_id: int) -> dict:
    """The transfer voucher's metadata, for the two parties and administrators only."""
    payment = get_payment(actor, payment_id)
    if not payment.voucher:
        raise NotFound(_l("No such file."))
    return payment.voucher


def payee(actor: User | None, order_id: int) -> dict[str, str | None]:
    """Where the order's enterprise transfers the money: the agency's 开户行 / 户名 / 账号. Only that enterprise
    sees them (the agency keeps them in its workspace; they are on no public page)."""
    order = orders.get_order(actor, order_id)
    if not IsOrderEnterprise(actor, order):
        raise NotFound(_l("No such order."))
    return payee_of(order)


def payee_of(order: Order) -> dict[str, str | None]:
    agency = order.agency
    return {
        "agency_name": agency.name,
        "bank_name": agency.bank_name,
        "account_name": agency.account_name,
        "account_no": agency.account_no,
    }


def stripe_enabled() -> bool:
    return stripe_gateway.enabled()


# --- the enterprise pays --------------------------------------------------------------------------------------


def _payable_order(actor: User, order_id: int) -> tuple[Order, Ledger]:
    """The enterprise's accepted order, locked until the transaction ends, and its ledger read under the lock."""
    order = orders.get_order(actor, order_id)  # the party check; also applies a due auto-acceptance
    order = db.session.scalar(
        select(Order).where(Order.id == order.id).with_for_update().execution_options(populate_existing=True)
    )
    if order.status != OrderStatus.ACCEPTED:
        raise WrongState(_l("An order can be paid once its work has been accepted."))
    return order, ledger(order, payments_of(order.id, fresh=True))


def _amount(amount_fen: Any, book: Ledger) -> int:
    if book.payable_fen <= 0:
        raise WrongState(_l("Nothing is left to pay on this order."))
    if amount_fen is None:
        return book.payable_fen
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        message = _l("The amount must be a positive number of fen.")
        raise Invalid(message, {"amount_fen": [message]})
    if amount_fen > book.payable_fen:
        message = _l(
            "At most %(max)s can be paid now: the contract amount less what is paid or on its way.",
            max=format_fen(book.payable_fen),
        )
        raise Invalid(message, {"amount_fen": [message]})
    return amount_fen


def _reference(text: Any) -> str:
    text = " ".join(text.split()) if isinstance(text, str) else ""
    low, high = REFERENCE_LENGTH
    if not (low <= len(text) <= high and text.isprintable()):
        message = _l(
            "Enter the bank transfer reference (%(low)d to %(high)d characters, as on the bank slip).",
            low=low,
            high=high,
        )
        raise Invalid(message, {"reference": [message]})
    return text


def record_offline(
    actor: User | None,
    order_id: int,
    *,
    reference: Any,
    amount_fen: Any = None,
    voucher: tuple[Any, str | None] | None = None,
) -> Payment:
    """The enterprise records a bank transfer (default: the whole payable amount) with its voucher file."""
    actor = require_role(actor, Role.ENTERPRISE)
    reference = _reference(reference)
    checked = uploads.read_upload(voucher[0], "voucher") if voucher else None  # refused before any change
    order, book = _payable_order(actor, order_id)
    amount = _amount(amount_fen, book)
    repeated = db.session.scalar(
        select(Payment.id).where(
            Payment.order_id == order.id,
            Payment.reference == reference,
            Payment.status.in_([PaymentStatus.SUBMITTED, PaymentStatus.PAID]),
        )
    )
    if repeated is not None:
        message = _l("This transfer reference is already recorded on this order.")
        raise Invalid(message, {"reference": [message]})
    payment = Payment(
        order_id=order.id,
        method=PaymentMethod.OFFLINE,
        status=PaymentStatus.SUBMITTED,
        amount_fen=amount,
        reference=reference,
        created_by_id=actor.id,
    )
    if checked is not None:
        data, mime = checked
        payment.voucher = uploads.store(data, mime, voucher[1], UPLOAD_KIND).__dict__
    db.session.add(payment)
    db.session.flush()
    record(actor, "payment.create", payment, after=snapshot(payment, AUDITED) | {"order_id": order.id})
    events.payment_registered.send(payment, actor=actor)
    return payment


def start_checkout(actor: User | None, order_id: int, amount_fen: Any = None) -> Payment:
    """Open a Stripe Checkout Session for the payable amount; the caller sends the payer to its URL."""
    actor = require_role(actor, Role.ENTERPRISE)
    if not stripe_gateway.enabled():
        raise WrongState(
            _l("Online payment (Stripe) is not enabled on this platform; please pay by bank transfer.")
        )
    order, book = _payable_order(actor, order_id)
    amount = _amount(amount_fen, book)
    payment = Payment(
        order_id=order.id,
        method=PaymentMethod.STRIPE,
        status=PaymentStatus.PENDING,
        amount_fen=amount,
        expires_at=now() + stripe_gateway.CHECKOUT_TTL,
        created_by_id=actor.id,
    )
    db.session.add(payment)
    db.session.flush()  # the id names the session and its idempotency key
    try:
        session = stripe_gateway.create_checkout_session(
            payment_id=payment.id,
            order_id=order.id,
            amount_fen=amount,
            product_name=f"{order.request.title}（订单 #{order.id}）",
            success_url=url_for("orders.detail", order_id=order.id, stripe="success", _external=True),
            cancel_url=url_for("orders.detail", order_id=order.id, stripe="cancelled", _external=True),
            expires_at=payment.expires_at,
            idempotency_key=idempotency_key(payment),
        )
    except UpstreamFailed:
        raise  # the boundary rolls back: the row above disappears and the order lock is released
    payment.stripe_session_id = session.id
    payment.checkout_url = session.url
    payment.expires_at = session.expires_at
    record(actor, "payment.create", payment, after=snapshot(payment, AUDITED) | {"order_id": order.id})
    return payment


def idempotency_key(payment: Payment) -> str:
    """Derived from the payment; the creation time keeps it unique where a database reuses ids (SQLite)."""
    return f"checkout-payment-{payment.id}-{int(payment.created_at.timestamp() * 1_000_000)}"


# --- the agency confirms or rejects a bank transfer ------------------------------------------------------


def _agency_payment(actor: User | None, payment_id: int) -> tuple[User, Payment]:
    actor = require_role(actor, Role.AGENCY)
    payment = db.session.get(Payment, payment_id)
    if payment is None or actor.agency is None or payment.order.agency_id != actor.agency.id:
        raise NotFound(_l("No such payment."))
    if payment.method != PaymentMethod.OFFLINE:
        raise WrongState(_l("Online payments are confirmed by Stripe, not by hand."))
    return actor, payment


def confirm_offline(actor: User | None, payment_id: int) -> Payment:
    """The agency confirms the money arrived: the payment counts as received."""
    actor, payment = _agency_payment(actor, payment_id)
    _move(
        payment,
        "confirm",
        actor,
        message=_l("Only a transfer awaiting confirmation can be confirmed."),
        paid_at=now(),
        confirmed_by_id=actor.id,
    )
    on_money(payment, payment.amount_fen)
    events.payment_confirmed.send(payment, actor=actor)
    return payment


def reject_offline(actor: User | None, payment_id: int, reason: Any) -> Payment:
    """The agency reports that the transfer did not arrive; the amount becomes payable again."""
    actor, payment = _agency_payment(actor, payment_id)
    reason = " ".join(reason.split()) if isinstance(reason, str) else ""
    if not 4 <= len(reason) <= 500:
        message = _l("%(low)d to %(high)d characters.", low=4, high=500)
        raise Invalid(message, {"reason": [message]})
    _move(
        payment,
        "reject",
        actor,
        message=_l("Only a transfer awaiting confirmation can be rejected."),
        status_reason=reason,
        confirmed_by_id=actor.id,
    )
    events.payment_rejected.send(payment, reason=reason, actor=actor)
    return payment


# --- what Stripe reports (called by webhooks.py inside its transaction; no commit here) -----------------------


def mark_paid_by_stripe(payment: Payment, payment_intent: str | None) -> None:
    """Stripe took the money: recorded even after the session was marked expired (money is never lost)."""
    _move(payment, "complete", None, paid_at=now(), stripe_payment_intent=payment_intent)
    on_money(payment, payment.amount_fen)


def expire_checkout(payment: Payment, reason: Message | None = None) -> None:
    _move(payment, "expire", None, status_reason=encode(reason))


def record_refund(payment: Payment, refunded_total_fen: int) -> int:
    """Stripe's cumulative refunded amount for this payment; returns how much more was refunded now."""
    total = min(refunded_total_fen, payment.amount_fen)
    delta = total - payment.refunded_fen
    if delta <= 0:
        return 0
    if total == payment.amount_fen and payment.status == PaymentStatus.PAID:
        _move(payment, "refund", None, refunded_fen=total)
    else:
        before = payment.refunded_fen
        payment.refunded_fen = total
        db.session.flush()
        record(
            None,
            "payment.refund_partial",
            payment,
            before={"refunded_fen": before},
            after={"refunded_fen": total},
        )
    on_money(payment, -delta)
    return delta
