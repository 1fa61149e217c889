"""The dates of a story: worked out after it was played (consistent with the rules and with today's state),
then written over the rows the services made at today's time."""

from __future__ import annotations

from datetime import datetime, timedelta

from marketplace.demo import dataset as data
from marketplace.demo import reviews
from marketplace.demo.common import put
from marketplace.demo.market import Market
from marketplace.demo.stories import DONE_KINDS, Story
from marketplace.extensions import db
from marketplace.orders.models import Order, OrderEvent
from marketplace.requests.bids import Bid, BidRevision
from marketplace.requests.models import Objection, ServiceRequest


def timeline(m: Market, story: Story) -> dict:
    """Every date of the story, consistent with the rules and with today's state; for an order also its
    script of (action, time, text, percent)."""
    cal = m.calendar
    t: dict = {}
    bid_days = m.rng.randint(5, 12)
    outcome = story.outcome
    if outcome in ("draft", "cancelled_draft"):
        t["created"] = cal.office(story.start_day)
        t["updated"] = t["created"] if outcome == "draft" else cal.later(t["created"], 2, 10)
        t["deadline"] = cal.deadline(m.rng.randint(12, 40))
        return t
    if outcome == "bidding":
        t["published"] = cal.office(-m.rng.randint(1, 7))
        if story.previous is not None:
            t["published"] = cal.office(-m.rng.randint(1, 3))
        t["deadline"] = cal.deadline(m.rng.randint(2, 12))
        return _finish_request(m, t, story, t["published"])
    if outcome == "cancelled":
        t["published"] = cal.office(story.start_day)
        t["deadline"] = cal.deadline(cal.day_of(t["published"]) + bid_days)
        t["cancelled"] = cal.later(t["published"], 1, 4)
        return _finish_request(m, t, story, t["cancelled"])
    if outcome == "failed":
        if story.successor is not None:
            closed = cal.deadline(cal.day_of(story.successor.times["published"]) - m.rng.randint(1, 5))
        else:
            closed = cal.deadline(story.start_day + bid_days)
        t["deadline"] = t["closed"] = closed
        t["published"] = cal.office(cal.day_of(closed) - bid_days)
        return _finish_request(m, t, story, closed)

    # evaluating, publicity, awarded: build forwards from day 0, then move by whole days onto the anchor
    t["published"] = cal.office(0)
    t["deadline"] = t["closed"] = cal.deadline(bid_days)
    if outcome == "evaluating":
        _shift(t, -m.rng.randint(1, 4) - cal.day_of(t["deadline"]))
        return _finish_request(m, t, story, t["closed"])
    t["selected"] = cal.later(t["deadline"], 0, 3)
    publicity_from = t["selected"]
    if story.objection:
        t["lodged"] = t["selected"] + timedelta(minutes=m.rng.randint(60, 600))
        if story.objection != "open":
            t["resolved"] = t["lodged"] + timedelta(hours=m.rng.randint(3, 40))
            if story.objection == "upheld":
                publicity_from = t["resolved"]
    t["publicity_ends"] = publicity_from + m.publicity
    if outcome == "publicity":
        target = -2 if story.objection == "open" else -m.rng.randint(1, 2)
        _shift(t, target - cal.day_of(t["selected"]))
        return _finish_request(m, t, story, t.get("lodged", t["selected"]))
    if story.declined:
        t["first_order"] = t["publicity_ends"]
        t["declined"] = cal.later(t["first_order"], 0, 2)
        t["publicity_ends"] = t["declined"] + m.publicity
    t["awarded"] = t["publicity_ends"]
    _order_dates(m, story, t)
    return _finish_request(m, t, story, t["awarded"])


def _order_dates(m: Market, story: Story, t: dict) -> None:
    """The order's dates and script, placed: finished stories on their planned day, live ones by today."""
    cal = m.calendar
    kind = story.kind
    days = db.session.get(Order, story.order_id).promised_days
    words = data.DELIVERIES
    script: list[list] = []
    if kind != "awaiting":
        t["started"] = cal.later(t["awarded"], 0, 2)
        t["due"] = t["started"] + timedelta(days=days)
        script.append(["confirm", t["started"], None, None])
    stages = words["stages"].get(story.item.category.code, words["default_stages"])
    form = m.rng.choice(words["delivery_forms"])
    delivery = words["delivery"].format(
        project=story.project, item=story.item.name, form=form, copies=m.rng.randint(2, 8)
    )

    def work(start: datetime, end: datetime, low: int, high: int, upto: float = 1.0) -> None:
        """Progress reports between start and end, from the stages reached by `upto` of the work."""
        last = len(stages) - 1
        reached = [i for i in range(len(stages)) if i <= upto * last + 0.5]
        n = min(m.rng.randint(low, high), len(reached))
        picked = sorted(m.rng.sample(reached, n))
        for i, when in zip(picked, cal.spread(start, end, n), strict=True):
            percent = 5 * round((15 + 75 * i / last) / 5)
            script.append(["progress", when, stages[i], percent])

    if kind in ("accepted", "late", "auto", "redone", "delivered", "disputed"):
        if kind == "late":
            t["delivered"] = cal.later(t["started"], days + 1, days + 12)
        else:
            t["delivered"] = cal.later(t["started"], max(1, days // 2), days - 1)
        work(t["started"], t["delivered"], 1, 2 + days // 15)
        script.append(["deliver", t["delivered"], delivery, None])
        if kind in ("disputed", "redone"):
            t["disputed"] = cal.later(t["delivered"], 1, 5)
            script.append(["dispute", t["disputed"], m.rng.choice(words["disputes"]), None])
        if kind == "redone":
            t["delivered"] = cal.later(t["disputed"], 2, 8)
            rework = cal.spread(t["disputed"], t["delivered"], 1)[0]
            script.append(["progress", rework, m.rng.choice(words["rework"]), 95])
            script.append(["deliver", t["delivered"], words["redelivery"], None])
        if kind in ("accepted", "late", "redone"):
            t["accepted"] = cal.later(t["delivered"], 1, 8)
            script.append(["accept", t["accepted"], None, None])
        if kind == "auto":
            t["accepted"] = t["delivered"] + m.acceptance
            script.append(["auto_accept", t["accepted"], None, None])
    # place the chain: finished stories on their planned day, live ones relative to today
    if kind in DONE_KINDS:
        _shift(t, story.start_day, script)
        overshoot = cal.day_of(t["accepted"]) + 2
        if overshoot > 0:
            _shift(t, -overshoot, script)
    else:
        anchor, target = {
            "awaiting": ("awarded", -m.rng.randint(1, 3)),
            "ok": ("started", -m.rng.randint(1, max(1, int(days * 0.55)))),
            "yellow": ("due", m.rng.randint(2, max(2, int(days * 0.2 - 0.5)))),
            "red": ("due", -m.rng.randint(1, 10)),
            "delivered": ("delivered", -m.rng.randint(1, 12)),
            "disputed": ("disputed", -m.rng.randint(1, 8)),
        }[kind]
        _shift(t, target - cal.day_of(t[anchor]), script)
        yesterday = m.midnight - timedelta(hours=1)
        if kind in ("ok", "yellow", "red"):
            share = (yesterday - t["started"]) / (t["due"] - t["started"])
            work(t["started"], yesterday, 0 if kind == "ok" else 1, 3, min(share, 1.0))
        if kind == "disputed" and m.rng.random() < 0.6:
            rework = cal.spread(t["disputed"], yesterday, 1)[0]
            script.append(["progress", rework, m.rng.choice(words["rework"]), 95])
    script.sort(key=lambda row: row[1])
    t["script"] = [tuple(row) for row in script]


def _shift(t: dict, days: int, script: list | None = None) -> None:
    delta = timedelta(days=days)
    for key, value in t.items():
        if isinstance(value, datetime):
            t[key] = value + delta
    for row in script or []:
        row[1] += delta


def _finish_request(m: Market, t: dict, story: Story, last: datetime) -> dict:
    t["created"] = t["published"] - timedelta(minutes=m.rng.randint(5, 180))
    t["updated"] = last
    # bids come in while bidding is open (and before today for what is still open)
    end = min(t.get("cancelled") or t["deadline"], m.midnight - timedelta(minutes=30))
    moments = m.calendar.spread(t["published"], end, len(story.bidders))
    t["bids"] = []
    for bidder, when in zip(story.bidders, moments, strict=True):
        times = [when] + m.calendar.spread(when, end, len(bidder.revisions) - 1)
        t["bids"].append(times)
    return t


def stamp(m: Market, story: Story) -> None:
    """Write the story's request dates: the request, its bids and their versions, an objection, a declined
    first order."""
    t = story.times
    rid = story.request_id
    if story.outcome in ("draft", "cancelled_draft"):
        put(ServiceRequest, rid, created_at=t["created"], updated_at=t["updated"], bid_deadline=t["deadline"])
        return
    for bidder, times in zip(story.bidders, t["bids"], strict=True):
        for revision_id, when in zip(bidder.revisions, times, strict=True):
            put(BidRevision, revision_id, at=when)
        put(Bid, bidder.bid_id, created_at=times[0], updated_at=times[-1])
    values = {
        "created_at": t["created"],
        "published_at": t["published"],
        "bid_deadline": t["deadline"],
        "closed_at": t.get("closed"),
        "seed_revealed_at": t.get("selected"),
        "selected_at": t.get("selected"),
        "publicity_ends_at": t.get("publicity_ends"),
        "updated_at": t["updated"],
    }
    put(ServiceRequest, rid, **values)
    reviews.stamp(rid, t["created"], t["published"])
    if story.objection_id:
        put(
            Objection,
            story.objection_id,
            created_at=t["lodged"],
            updated_at=t.get("resolved", t["lodged"]),
            resolved_at=t.get("resolved"),
            decide_by=t["lodged"] + m.decision,
        )
    if story.declined_order_id:
        first = story.declined_order_id
        put(OrderEvent, m.last_event(first), at=t["declined"])
        put(Order, first, created_at=t["first_order"], updated_at=t["declined"])
