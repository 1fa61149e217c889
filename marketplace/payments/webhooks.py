"""Stripe's webhook events, each applied exactly once.

The event's id is inserted (primary key) in the same transaction as its effect: a replay finds it and changes
nothing; a concurrent duplicate waits on the key, fails with IntegrityError, and is acknowledged. Payments are
locked while an event changes them, so events about one payment apply one after the other, in any order:
an expiry after the payment never undoes it, and a completion after an expiry still records the money.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.common.messages import N_, message
from marketplace.extensions import db
from marketplace.payments import services, stripe_gateway
from marketplace.payments.models import Payment, PaymentMethod, PaymentStatus, StripeEvent

DUPLICATE = "duplicate"
DELAYED_PAYMENT_FAILED = N_("Stripe reported that the delayed payment failed.")


def receive(payload: bytes, signature: str | None) -> str:
    """Verify a delivery's signature (400 when bad, nothing changes) and apply it; returns the outcome."""
    return apply_event(stripe_gateway.verify_event(payload, signature))


def apply_event(event: dict) -> str:
    """Apply one verified event once (the boundary commits); also the demo's way of marking its Stripe rows paid."""
    if db.session.get(StripeEvent, event["id"]) is not None:
        return DUPLICATE
    row = StripeEvent(id=event["id"], type=event["type"], outcome="processing")
    db.session.add(row)
    try:
        db.session.flush()  # a concurrent delivery of the same event waits here until the first one commits
    except IntegrityError:
        db.session.rollback()
        return DUPLICATE
    handler = HANDLERS.get(event["type"])
    payment, outcome = handler(event["data"]["object"]) if handler else (None, "ignored")
    row.payment_id = payment.id if payment is not None else None
    row.outcome = outcome
    db.session.flush()
    return outcome


def _locked(stmt) -> Payment | None:
    return db.session.scalar(stmt.with_for_update().execution_options(populate_existing=True))


def _session_payment(session: dict) -> Payment | None:
    session_id = session.get("id")
    if not isinstance(session_id, str):
        return None
    return _locked(select(Payment).where(Payment.stripe_session_id == session_id))


def _intent(obj: dict) -> str | None:
    intent = obj.get("payment_intent")
    return intent if isinstance(intent, str) and len(intent) <= 255 else None


def _session_paid(session: dict) -> tuple[Payment | None, str]:
    """checkout.session.completed / async_payment_succeeded: paid only when Stripe says the money is there."""
    payment = _session_payment(session)
    if payment is None:
        return None, "unknown_session"
    intent = _intent(session)
    if session.get("payment_status") != "paid":
        payment.stripe_payment_intent = intent or payment.stripe_payment_intent
        return payment, "awaiting_payment"  # e.g. a bank debit: async_payment_succeeded will follow
    amount, currency = session.get("amount_total"), session.get("currency")
    if amount != payment.amount_fen or not isinstance(currency, str) or currency.lower() != "cny":
        current_app.logger.warning(
            "stripe: session %s reports %r %r for payment %s of %s fen",
            session.get("id"), amount, currency, payment.id, payment.amount_fen,
        )  # fmt: skip
        return payment, "amount_mismatch"
    if payment.status not in (PaymentStatus.PENDING, PaymentStatus.EXPIRED):
        return payment, "already_" + payment.status.value
    services.mark_paid_by_stripe(payment, intent)
    return payment, "paid"


def _session_expired(session: dict) -> tuple[Payment | None, str]:
    payment = _session_payment(session)
    if payment is None:
        return None, "unknown_session"
    if payment.status != PaymentStatus.PENDING:
        return payment, "no_change"  # already paid (the completion came first) or already expired
    services.expire_checkout(payment)
    return payment, "expired"


def _session_failed(session: dict) -> tuple[Payment | None, str]:
    payment = _session_payment(session)
    if payment is None:
        return None, "unknown_session"
    if payment.status != PaymentStatus.PENDING:
        return payment, "no_change"
    services.expire_checkout(payment, message(DELAYED_PAYMENT_FAILED))
    return payment, "failed"


def _charge_refunded(charge: dict) -> tuple[Payment | None, str]:
    intent = _intent(charge)
    payment = (
        _locked(
            select(Payment).where(
                Payment.stripe_payment_intent == intent, Payment.method == PaymentMethod.STRIPE
            )
        )
        if intent
        else None
    )
    if payment is None:
        return None, "unknown_payment"
    refunded = charge.get("amount_refunded")
    if not isinstance(refunded, int) or isinstance(refunded, bool) or refunded < 0:
        return payment, "invalid"
    if payment.status not in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
        return payment, "not_paid"
    if services.record_refund(payment, refunded) == 0:
        return payment, "no_change"
    return payment, "refunded" if payment.status == PaymentStatus.REFUNDED else "partially_refunded"


HANDLERS = {
    "checkout.session.completed": _session_paid,
    "checkout.session.async_payment_succeeded": _session_paid,
    "checkout.session.async_payment_failed": _session_failed,
    "checkout.session.expired": _session_expired,
    "charge.refunded": _charge_refunded,
}
