"""Demo payments for the history's accepted orders, made through the payment services: most paid by bank
transfer (with a voucher) and confirmed by the agency, some in two instalments, some partly paid, a few still
outstanding or awaiting confirmation, one transfer rejected and sent again, a few paid online (Stripe rows with
made-up session ids, marked paid by the same event handler the webhook uses) and one of them partly refunded.

As in the history, the services run at today's time; afterwards the payments' dates are moved to after each
order's acceptance with plain UPDATEs (the audit log keeps the real loading time).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select, update

from marketplace.auth.models import User
from marketplace.common.clock import now
from marketplace.demo import dataset as data
from marketplace.demo.common import step
from marketplace.demo.pdf import voucher_pdf
from marketplace.extensions import db
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments import services, webhooks
from marketplace.payments.models import Payment, PaymentMethod, PaymentStatus, StripeEvent


class _Payer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.counts = {"payments": 0, "payments_paid": 0, "stripe_payments": 0, "refunds": 0}
        self.refunded = False
        self.serial = 0
        self.latest = now() - timedelta(hours=1)

    def user(self, user_id: int) -> User:
        return db.session.get(User, user_id)

    def after(self, t: datetime, low: int, high: int) -> datetime:
        """A time in Beijing office hours `low`–`high` days after `t`, never later than an hour ago."""
        day = (t + timedelta(days=self.rng.randint(low, high))).replace(
            hour=1, minute=0, second=0, microsecond=0
        )
        moment = day + timedelta(hours=self.rng.randint(0, 8), minutes=self.rng.randint(0, 59))
        return max(min(moment, self.latest), t + timedelta(minutes=5))

    def reference(self, at: datetime) -> str:
        self.serial += 1
        bank = self.rng.choice(data.PAYMENTS["banks"])
        return f"{bank}{at:%Y%m%d}{self.rng.randint(10_000, 99_999)}{self.serial:03d}"

    def stamp(self, payment_id: int, created: datetime, paid: datetime | None) -> None:
        values = {"created_at": created, "updated_at": paid or created}
        if paid is not None:
            values["paid_at"] = paid
        db.session.execute(
            update(Payment)
            .where(Payment.id == payment_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    def transfer(
        self, order: Order, amount: int | None, at: datetime, confirm: bool = True
    ) -> tuple[int, datetime]:
        """A bank transfer recorded at `at`; returns its id and when it was confirmed (or `at`)."""
        reference = self.reference(at)
        amount_text = f"{(amount or services.ledger(order).payable_fen) / 100:,.2f}"
        lines = [line.format(reference=reference, amount=amount_text) for line in data.DOCUMENTS["voucher"]]
        name = data.DOCUMENTS["voucher_name"].format(reference=reference)
        payment = services.record_offline(
            self.user(order.enterprise.user_id),
            order.id,
            reference=reference,
            amount_fen=amount,
            voucher=(_Stream(voucher_pdf(lines)), name),
        )
        paid = None
        if confirm:
            services.confirm_offline(self.user(order.agency.user_id), payment.id)
            paid = self.after(at, 1, 3)
            self.counts["payments_paid"] += 1
        self.stamp(payment.id, at, paid)
        self.counts["payments"] += 1
        return payment.id, paid or at

    def online(self, order: Order, at: datetime) -> None:
        """A Stripe row as start_checkout leaves it, then Stripe's completion through the webhook handler."""
        amount = services.ledger(order).payable_fen
        payment = Payment(
            order_id=order.id,
            method=PaymentMethod.STRIPE,
            status=PaymentStatus.PENDING,
            amount_fen=amount,
            stripe_session_id=f"cs_test_demo{order.id:06d}",
            expires_at=now() + timedelta(minutes=31),
            created_by_id=order.enterprise.user_id,
        )
        db.session.add(payment)
        db.session.flush()  # its id; in the market start_checkout commits the row before Stripe's event comes
        session = {
            "id": payment.stripe_session_id,
            "object": "checkout.session",
            "payment_status": "paid",
            "amount_total": amount,
            "currency": "cny",
            "payment_intent": f"pi_demo{order.id:06d}",
            "client_reference_id": str(payment.id),
        }
        webhooks.apply_event(_event(f"evt_demo_paid{order.id:06d}", "checkout.session.completed", session))
        paid = at + timedelta(minutes=self.rng.randint(2, 20))
        self.stamp(payment.id, at, paid)
        db.session.execute(
            update(Payment).where(Payment.id == payment.id).values(expires_at=at + timedelta(minutes=31))
        )
        db.session.execute(
            update(StripeEvent).where(StripeEvent.payment_id == payment.id).values(received_at=paid)
        )
        self.counts["payments"] += 1
        self.counts["payments_paid"] += 1
        self.counts["stripe_payments"] += 1
        if not self.refunded:  # one partial refund: part of the service was dropped by agreement
            refund = amount // 5 // 10_000 * 10_000 or amount // 5
            charge = {"id": f"ch_demo{order.id:06d}", "payment_intent": session["payment_intent"]}
            charge |= {"amount": amount, "amount_refunded": refund, "currency": "cny"}
            webhooks.apply_event(_event(f"evt_demo_refund{order.id:06d}", "charge.refunded", charge))
            db.session.execute(
                update(StripeEvent)
                .where(StripeEvent.id == f"evt_demo_refund{order.id:06d}")
                .values(received_at=self.after(paid, 10, 20))
            )
            self.refunded = True
            self.counts["refunds"] += 1

    def pay(self, order: Order, plan: str) -> None:
        start = self.after(order.accepted_at, 1, 10)
        if plan == "full":
            self.transfer(order, None, start)
        elif plan == "instalments":
            _, paid = self.transfer(order, _share(order.amount_fen, self.rng.choice([0.3, 0.4, 0.5])), start)
            self.transfer(order, None, self.after(paid, 15, 40))
        elif plan == "partial":
            self.transfer(order, _share(order.amount_fen, self.rng.choice([0.3, 0.5, 0.6])), start)
        elif plan == "awaiting":
            self.transfer(order, None, start, confirm=False)
        elif plan == "stripe":
            self.online(order, start)
        elif plan == "rejected":
            wrong, _ = self.transfer(order, None, start, confirm=False)
            reason = self.rng.choice(data.PAYMENTS["reject_reasons"])
            services.reject_offline(self.user(order.agency.user_id), wrong, reason)
            self.transfer(order, None, self.after(start, 2, 5))


class _Stream:
    """What an uploaded file offers the services: read(limit)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, limit: int = -1) -> bytes:
        return self.data if limit < 0 else self.data[:limit]


def _event(event_id: str, kind: str, obj: dict) -> dict:
    return {"id": event_id, "object": "event", "type": kind, "data": {"object": obj}}


def _share(amount_fen: int, share: float) -> int:
    """A round instalment: the share of the amount to ¥100, at least ¥100 and below the whole."""
    part = max(10_000, round(amount_fen * share / 10_000) * 10_000)
    return part if part < amount_fen else amount_fen // 2


def load_payments(rng: random.Random, enterprise_email: str, agency_email: str) -> dict[str, int]:
    """Pay the history's accepted orders (oldest first), one order per step; returns what was created."""
    payer = _Payer(rng)
    fixed_enterprise = db.session.scalar(select(User).where(User.email == enterprise_email))
    fixed_agency = db.session.scalar(select(User).where(User.email == agency_email))
    orders = list(
        db.session.scalars(
            select(Order).where(Order.status == OrderStatus.ACCEPTED).order_by(Order.accepted_at, Order.id)
        )
    )
    # The demo accounts' latest orders are left for visitors to try: one to pay, one to confirm.
    keep = {
        "unpaid": _latest(
            orders, lambda o: fixed_enterprise and o.enterprise_id == fixed_enterprise.enterprise.id
        ),
        "awaiting": _latest(orders, lambda o: fixed_agency and o.agency_id == fixed_agency.agency.id),
    }
    recent = now() - timedelta(days=7)
    for order in orders:
        plan = next((p for p, o in keep.items() if o is not None and o.id == order.id), None)
        if plan is None and order.accepted_at > recent:
            plan = rng.choice(["unpaid", "awaiting"])
        if plan is None:
            plans = data.PAYMENTS["plans"]
            plan = rng.choices(list(plans), weights=list(plans.values()))[0]
        with step():
            payer.pay(order, plan)
    return payer.counts


def _latest(orders: list[Order], wanted) -> Order | None:
    return next((o for o in reversed(orders) if wanted(o)), None)
