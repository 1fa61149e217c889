"""Fee-audit cases in the demo. The year of history already raises flags the way the market would (bids
checked when bidding closes: abnormally low, identical, above the agency's own price, outside the guide
range, rising after a win); here a few enterprises record supplementary agreements that change contract
amounts (the contract rules), and the administrator reviews some flags — every step through the services.
The checks ran at loading time, so afterwards each flag's dates are moved to when its priced thing happened."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select, update

from marketplace.auth.models import User
from marketplace.catalogue.models import ServiceItem
from marketplace.common.clock import now
from marketplace.demo import dataset as data
from marketplace.extensions import db
from marketplace.fees import services as fees
from marketplace.fees.models import FeeFlag, FlagRule, FlagStatus, Severity
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderEvent, OrderStatus
from marketplace.payments.models import Payment
from marketplace.payments.services import ledger
from marketplace.requests.models import ServiceRequest


def _user(user_id: int) -> User:
    return db.session.get(User, user_id)


def load_fee_cases(rng: random.Random, admin_email: str) -> dict[str, int]:
    """Contract amendments, reviews of some flags, and every flag dated; returns the counts."""
    admin = db.session.scalar(select(User).where(User.email == admin_email))
    amended = _amendments(rng)
    reviewed = _reviews(rng, admin)
    _restamp(rng)
    return {"contract_amendments": amended, "fee_flags_reviewed": reviewed}


def _amendments(rng: random.Random) -> int:
    """Raise contracts (one above its ceiling, one above its guide range) and cut one that was paid in full."""
    candidates = list(
        db.session.scalars(
            select(Order)
            .join(ServiceRequest, Order.request_id == ServiceRequest.id)
            .where(Order.status.in_([OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS]))
            .order_by(Order.id)
        )
    )
    rng.shuffle(candidates)
    guided = [
        o
        for o in candidates
        if db.session.get(ServiceItem, o.request.service_item_id).guide_max_fen is not None
    ]
    plans = []
    if guided:
        order = guided[0]
        item = order.request.service_item
        plans.append((order, round(item.guide_max_fen * 1.15 / 100) * 100, data.FEES["raises"]["review"]))
    others = [o for o in candidates if not plans or o is not plans[0][0]]
    # a cut after the work was paid for in full: the agency now holds more than the contract
    paid_up = [o for o in others if o.status == OrderStatus.ACCEPTED and ledger(o).paid_fen == o.amount_fen]
    if paid_up:
        plans.append((paid_up[0], round(paid_up[0].amount_fen * 0.9 / 100) * 100, data.FEES["cut"]))
    others = [o for o in others if o not in {p[0] for p in plans}]
    if len(others) >= 2:
        raises = data.FEES["raises"]
        plans.append((others[0], round(others[0].request.ceiling_fen * 1.12 / 100) * 100, raises["scope"]))
        plans.append((others[1], round(others[1].amount_fen * 1.08 / 100) * 100, raises["review"]))
    for order, amount, reason in plans:
        owner = _user(order.enterprise.user_id)
        orders.amend_contract(owner, order.id, amount, reason)
    return len(plans)


def _reviews(rng: random.Random, admin: User) -> int:
    """Confirm the contract above its ceiling and one identical-price pair; dismiss a few others."""
    done = 0
    over = db.session.scalar(
        select(FeeFlag).where(FeeFlag.rule == FlagRule.OVER_CEILING).order_by(FeeFlag.id).limit(1)
    )
    if over is not None:
        fees.review(admin, over.id, "confirm", data.FEES["confirm"]["over_ceiling"])
        done += 1
    pair = db.session.scalars(
        select(FeeFlag).where(FeeFlag.rule == FlagRule.IDENTICAL_PRICES).order_by(FeeFlag.id).limit(2)
    ).all()
    for flag in pair:
        fees.review(admin, flag.id, "confirm", data.FEES["confirm"]["identical_prices"])
        done += 1
    for rule, note in (
        (FlagRule.ABNORMALLY_LOW, data.FEES["dismiss"]["abnormally_low"]),
        (FlagRule.OVER_OFFER, data.FEES["dismiss"]["over_offer"]),
    ):
        flags = db.session.scalars(
            select(FeeFlag)
            .where(FeeFlag.rule == rule, FeeFlag.severity != Severity.HIGH, FeeFlag.status == FlagStatus.OPEN)
            .order_by(FeeFlag.id)
            .limit(2)
        ).all()
        for flag in flags:
            fees.review(admin, flag.id, "dismiss", note)
            done += 1
    return done


def _restamp(rng: random.Random) -> None:
    """Flags and amendments were made at loading time; move them to when their priced thing happened."""
    for event in db.session.scalars(select(OrderEvent).where(OrderEvent.kind == "amend")):
        order = event.order
        start = order.started_at or order.created_at
        end = order.accepted_at or now()
        event.at = start + (end - start) * rng.uniform(0.3, 0.7)
    flags = db.session.scalars(select(FeeFlag)).all()
    for flag in flags:
        if flag.bid_id is not None:
            when = db.session.scalar(
                select(ServiceRequest.closed_at).where(ServiceRequest.id == flag.request_id)
            )
        elif flag.payment_id is not None:
            when = db.session.scalar(select(Payment.paid_at).where(Payment.id == flag.payment_id))
        else:
            when = db.session.scalar(
                select(OrderEvent.at)
                .where(OrderEvent.order_id == flag.order_id, OrderEvent.kind == "amend")
                .order_by(OrderEvent.at.desc())
                .limit(1)
            ) or db.session.scalar(select(Order.created_at).where(Order.id == flag.order_id))
        values = {"occurred_at": when, "detected_at": when}
        if flag.reviewed_at is not None:
            values["reviewed_at"] = min(
                now(), when + timedelta(days=rng.randint(2, 9), hours=rng.randint(0, 6))
            )
        db.session.execute(
            update(FeeFlag)
            .where(FeeFlag.id == flag.id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
