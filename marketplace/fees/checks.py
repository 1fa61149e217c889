"""Where the fee audit looks: the bids of a request when bidding closes, a contract when it is made or
amended, the money received on an order. Each check raises flags inside the caller's transaction (so a flag
exists exactly when the priced thing does); `audit_all` re-runs every check over history and finds nothing
twice, because a flag's `subject_key` is unique."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.fees import rules
from marketplace.fees.models import FeeFlag, FlagStatus
from marketplace.fees.rules import Finding
from marketplace.orders.models import VOID, Order
from marketplace.requests.bids import Bid, BidStatus
from marketplace.stats.fees import MARKET, FeeItemSummary

YEAR = timedelta(days=365)
LIVE = timedelta(minutes=10)  # a check this recent reads the item's kept median (`item_median`)


def _raise(
    finding: Finding, key: str, *, agency_id: int, item_id: int, occurred_at: datetime, **refs
) -> None:
    """Record a finding once. An open flag found again gets the latest figures; a reviewed one is left alone."""
    subject_key = f"{finding.rule.value}:{key}"
    existing = db.session.scalar(select(FeeFlag).where(FeeFlag.subject_key == subject_key))
    if existing is not None:
        if existing.status == FlagStatus.OPEN and existing.figures != finding.figures:
            existing.figures, existing.severity = finding.figures, finding.severity
        return
    flag = FeeFlag(
        subject_key=subject_key,
        rule=finding.rule,
        severity=finding.severity,
        status=FlagStatus.OPEN,
        agency_id=agency_id,
        service_item_id=item_id,
        figures=finding.figures,
        occurred_at=occurred_at,
        detected_at=now(),
        **refs,
    )
    try:
        with db.session.begin_nested():
            db.session.add(flag)
    except IntegrityError:  # the same finding raised by a concurrent transaction: one flag is enough
        pass


def _raise_all(findings: list[Finding | None], key: str, ceiling_fen: int, **where) -> None:
    """Record each finding of one priced thing, with the request's ceiling beside its own figures."""
    for finding in findings:
        if finding is not None:
            finding.figures.setdefault("ceiling_fen", ceiling_fen)
            _raise(finding, key, **where)


def winning_prices(item_id: int, before: datetime, since: datetime | None = None) -> list[int]:
    """Contract amounts of the item's orders in the year before `before`."""
    from marketplace.requests.models import ServiceRequest

    since = since or before - YEAR
    return list(
        db.session.scalars(
            select(Order.amount_fen)
            .join(ServiceRequest, Order.request_id == ServiceRequest.id)
            .where(
                ServiceRequest.service_item_id == item_id,
                Order.created_at >= since,
                Order.created_at < before,
                Order.status.not_in(list(VOID)),
            )
        )
    )


def item_median(item_id: int, at: datetime) -> int | None:
    """The median of the item's winning prices in the year before `at` (None below the rule's sample size).

    Bids opened now read the kept market row (fees/summary.py recomputes it with every change of the item's
    deals, and the clock when its oldest deal leaves the window): computing the median here read all of the
    item's deals of a year, thousands at a national market's size, a third of a second inside the closing's
    transaction while it held the request's lock and the item's request count. History (`audit_all`), an item
    with no kept row yet and a row past its `valid_until` are computed from the orders as of `at`."""
    if at >= now() - LIVE:
        kept = db.session.get(FeeItemSummary, (item_id, MARKET))
        if kept is not None and kept.valid_until is not None and kept.valid_until > at:
            return kept.median_fen if kept.count >= rules.MEDIAN_MIN_SAMPLES else None
    return rules.median_or_none(winning_prices(item_id, at))


def _last_win_shares(agency_ids: list[int], item_id: int, before: datetime) -> dict[int, float]:
    """Each agency's price share (contract / ceiling) at its latest win of the item in the past year."""
    from marketplace.requests.models import ServiceRequest

    rows = db.session.execute(
        select(Order.agency_id, Order.amount_fen, ServiceRequest.ceiling_fen)
        .join(ServiceRequest, Order.request_id == ServiceRequest.id)
        .where(
            Order.agency_id.in_(agency_ids),
            ServiceRequest.service_item_id == item_id,
            Order.created_at >= before - YEAR,
            Order.created_at < before,
            Order.status.not_in(list(VOID)),
        )
        .order_by(Order.created_at)
    )
    return {agency_id: amount / ceiling for agency_id, amount, ceiling in rows}  # the latest wins


def audit_bids(req) -> None:
    """When bidding closes, the opened bids are checked against the ceiling, the guide range, each agency's
    own published price and each other (abnormally low, identical), and against the agency's past wins."""
    from marketplace.agencies.models import Offer

    bids = list(
        db.session.scalars(select(Bid).where(Bid.request_id == req.id, Bid.status == BidStatus.ACTIVE))
    )
    if not bids:
        return
    item = req.service_item
    at = req.closed_at or now()
    offers = {
        o.agency_id: o
        for o in db.session.scalars(
            select(Offer).where(
                Offer.service_item_id == item.id,
                Offer.agency_id.in_([b.agency_id for b in bids]),
                Offer.active.is_(True),
            )
        )
    }
    median_fen = item_median(item.id, at)
    won = _last_win_shares([b.agency_id for b in bids], item.id, at)
    same = rules.identical_prices(
        [(b.id, b.agency_id, b.price_fen) for b in bids], (req.floor_fen, req.ceiling_fen)
    )
    for bid in bids:
        others = [b.price_fen for b in bids if b.id != bid.id]
        offer = offers.get(bid.agency_id)
        share_won = won.get(bid.agency_id)
        findings = [
            rules.over_ceiling(bid.price_fen, req.ceiling_fen),
            rules.outside_guide(bid.price_fen, req.rules.guide_min_fen, req.rules.guide_max_fen),
            rules.over_offer(bid.price_fen, offer.high_fen if offer is not None else None),
            rules.abnormally_low(bid.price_fen, others, median_fen),
            same.get(bid.id),
            rules.price_rise(bid.price_fen / req.ceiling_fen, share_won) if share_won else None,
        ]
        _raise_all(
            findings,
            f"bid:{bid.id}",
            req.ceiling_fen,
            agency_id=bid.agency_id,
            item_id=item.id,
            occurred_at=at,
            request_id=req.id,
            bid_id=bid.id,
        )


def audit_offer_change(offer, old_high_fen: int | None) -> None:
    """A store price raised sharply within a year of winning the item (the same thresholds as for bids)."""
    new_high = offer.high_fen
    if not old_high_fen or not new_high or new_high <= old_high_fen:
        return
    at = now()
    if offer.agency_id not in _last_win_shares([offer.agency_id], offer.service_item_id, at):
        return
    finding = rules.price_rise(new_high / old_high_fen, 1.0)
    if finding is None:
        return
    finding.figures = {
        "old_high_fen": old_high_fen,
        "new_high_fen": new_high,
        "rise": finding.figures["rise"],
    }
    _raise(
        finding,
        f"offer:{offer.id}:{new_high}",
        agency_id=offer.agency_id,
        item_id=offer.service_item_id,
        occurred_at=at,
    )


def audit_contract(order) -> None:
    """A contract (or an amendment of it) against the winning bid, the ceiling and the guide range."""
    req = order.request
    item = req.service_item
    bid = db.session.get(Bid, order.bid_id)
    findings = [
        rules.contract_mismatch(order.amount_fen, bid.price_fen),
        rules.over_ceiling(order.amount_fen, req.ceiling_fen),
    ]
    if order.amount_fen != bid.price_fen:  # the bid's own price was checked when bidding closed
        findings.append(
            rules.outside_guide(order.amount_fen, req.rules.guide_min_fen, req.rules.guide_max_fen)
        )
    _raise_all(
        findings,
        f"order:{order.id}",
        req.ceiling_fen,
        agency_id=order.agency_id,
        item_id=item.id,
        occurred_at=order.updated_at or order.created_at or now(),
        request_id=req.id,
        order_id=order.id,
    )


def audit_payment(payment) -> None:
    """Money received on an order against the contract amount and the request's ceiling."""
    audit_paid(payment.order, payment)


def audit_paid(order, payment=None) -> None:
    """The order's money received (net of refunds) against its contract and ceiling — after a payment, and
    after a contract amendment (an amount cut below what was already paid)."""
    from marketplace.payments.services import ledger

    req = order.request
    paid = ledger(order).paid_fen
    if not paid:
        return
    _raise_all(
        [rules.over_contract(paid, order.amount_fen), rules.over_ceiling(paid, req.ceiling_fen)],
        f"paid:{order.id}",
        req.ceiling_fen,
        agency_id=order.agency_id,
        item_id=req.service_item_id,
        occurred_at=(payment.paid_at if payment is not None else None) or now(),
        request_id=req.id,
        order_id=order.id,
        payment_id=payment.id if payment is not None else None,
    )


def audit_all() -> int:
    """Run every check over the whole history (idempotent). Returns the number of flags afterwards."""
    from marketplace.payments.models import Payment, PaymentStatus
    from marketplace.requests.models import ServiceRequest

    closed = (
        select(ServiceRequest).where(ServiceRequest.closed_at.is_not(None)).order_by(ServiceRequest.closed_at)
    )
    for req in db.session.scalars(closed):
        audit_bids(req)
    for order in db.session.scalars(select(Order).where(Order.status.not_in(list(VOID)))):
        audit_contract(order)
    paid = select(Payment).where(Payment.status.in_([PaymentStatus.PAID, PaymentStatus.REFUNDED]))
    for payment in db.session.scalars(paid.order_by(Payment.paid_at)):
        audit_payment(payment)
    return db.session.scalar(select(func.count()).select_from(FeeFlag))
