"""Credit listens to the market: each event it hears becomes one itemised credit event (credit/rules.py says how
many points). The senders of features above credit (orders, ratings, fees, complaints, inspections) are read by
their attributes only — credit does not import them."""

from __future__ import annotations

import zlib

from marketplace import events
from marketplace.credit import rules, scores
from marketplace.credit.models import EventStatus


def _order_path(order) -> str:
    return f"/orders/{order.id}"


def _rating_given(rating, actor=None, **_) -> None:
    scores.record_event(
        rating.agency_id,
        "rating",
        "rating",
        rating.id,
        points=rules.star_points(rating.overall),
        evidence=f"/agencies/{rating.agency_id}#rating-{rating.id}",
        actor=actor,
    )


def _department_rating_given(rating, actor=None, **_) -> None:
    stars = round((rating.quality + rating.timeliness) / 2 + 0.01)  # 4.5 rounds up
    scores.record_event(
        rating.agency_id,
        "department_rating",
        "department_rating",
        rating.id,
        points=rules.star_points(stars),
        evidence=_order_path(rating.order)
        if getattr(rating, "order", None)
        else f"/orders/{rating.order_id}",
        actor=actor,
    )


def _order_accepted(order, actor=None, **_) -> None:
    path = _order_path(order)
    scores.record_event(order.agency_id, "order_completed", "order", order.id, evidence=path, actor=actor)
    due = order.on_time_due_at
    if order.delivered_at is not None and due is not None:
        rule = "on_time" if order.delivered_at <= due else "late"
        scores.record_event(order.agency_id, rule, "order", order.id, evidence=path, actor=actor)


def _order_light_changed(order, after: str = "", **_) -> None:
    if after == "red":
        scores.record_event(order.agency_id, "order_red", "order", order.id, evidence=_order_path(order))


def _violation_changed(flag, delta: int = 0, **_) -> None:
    existing = scores.find_event(flag.agency_id, "fee_violation", "fee_flag", flag.id)
    if delta > 0:
        if existing is None:
            scores.record_event(
                flag.agency_id, "fee_violation", "fee_flag", flag.id, evidence=f"/admin/fee-audit/{flag.id}"
            )
        elif existing.status == EventStatus.WITHDRAWN:
            scores.set_status(existing, EventStatus.COUNTED)
    elif delta < 0 and existing is not None and existing.status == EventStatus.COUNTED:
        scores.set_status(existing, EventStatus.WITHDRAWN)


def _order_declined(order, actor=None, **_) -> None:
    scores.record_event(
        order.agency_id, "declined", "order", order.id, evidence=_order_path(order), actor=actor
    )


def _winner_withdrawn(req, order=None, actor=None, **_) -> None:
    if order is None:
        return
    scores.record_event(
        order.agency_id, "winner_removed", "order", order.id, evidence=f"/requests/{req.id}", actor=actor
    )


def _complaint_decided(
    complaint, upheld: bool = False, consequences=(), agency_id=None, points=None, actor=None, **_
):
    if not upheld or "credit" not in (consequences or ()) or not agency_id:
        return
    scores.record_event(
        agency_id,
        "complaint_upheld",
        "complaint",
        complaint.id,
        points=points if points is not None else None,
        evidence=f"/complaints/{complaint.number}",
        actor=actor,
    )


def _inspection_item_failed(
    finding, agency_id=None, item: str = "", source=None, evidence=None, actor=None, **_
):
    if not agency_id:
        return
    # one event per failed item of a finding: the item's words are part of the subject
    key = f"inspection_item:{zlib.crc32(item.encode('utf-8')):08x}"
    scores.record_event(
        agency_id,
        "inspection_failed",
        key,
        finding.id,
        source=source if source in ("department", "market") else "department",
        evidence=evidence,
        note=item or None,
        actor=actor,
    )


def connect() -> None:
    events.rating_given.connect(_rating_given)
    events.department_rating_given.connect(_department_rating_given)
    events.order_accepted.connect(_order_accepted)
    events.order_light_changed.connect(_order_light_changed)
    events.violation_changed.connect(_violation_changed)
    events.order_declined.connect(_order_declined)
    events.winner_withdrawn.connect(_winner_withdrawn)
    events.complaint_decided.connect(_complaint_decided)
    events.inspection_item_failed.connect(_inspection_item_failed)
    _register_figures()


def _register_figures() -> None:
    """The statistics below credit show its score and grade (stats/figures.py's one registry)."""
    from marketplace.stats import figures

    figures.CREDIT = scores
