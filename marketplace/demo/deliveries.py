"""An awarded story's order played through the services: confirmed, progress reported, delivered, disputed,
accepted (by the owner or by silence) — then its dates written where the story puts them."""

from __future__ import annotations

from datetime import datetime, timedelta

from marketplace.common.clock import now
from marketplace.demo import contracts
from marketplace.demo.common import put
from marketplace.demo.market import Market
from marketplace.demo.stories import Story
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderEvent, OrderStatus


def play_order(m: Market, story: Story, script: list[tuple]) -> list[tuple[int, datetime]]:
    """Run the order's (action, time, text, percent) script through the services; returns (event id, when)
    for the events made."""
    order = db.session.get(Order, story.order_id)
    agency_user = m.user(m.users[order.agency_id])
    owner = m.owner(story)
    events = []
    for action, when, text, percent in script:
        if action == "confirm" and orders.contract_step():  # signed on the platform: the clock starts then
            contracts.sign(order, owner, agency_user)
        elif action == "confirm":
            orders.confirm(agency_user, order.id)
        elif action == "progress":
            orders.report_progress(agency_user, order.id, text, percent)
        elif action == "deliver":
            orders.deliver(agency_user, order.id, text)
        elif action == "dispute":
            orders.dispute(owner, order.id, text)
        elif action == "accept":
            _date_work(story, delivered=now() - timedelta(seconds=1))
            orders.accept(owner, order.id)
        elif action == "auto_accept":
            _date_work(story, delivered=now() - m.acceptance - timedelta(seconds=1))
            orders.advance(db.session.get(Order, order.id))
        events.append((m.last_event(order.id), when))
    return events


def _date_work(story: Story, delivered: datetime) -> None:
    """Before an acceptance: the start, due date and delivery of the story, moved together so that the
    delivery falls at `delivered` (the acceptance window still open, or already closed). The statistics
    count an order's time taken and lateness when it is accepted: they are then the story's."""
    t = story.times
    shift = delivered - t["delivered"]
    put(
        Order,
        story.order_id,
        started_at=t["started"] + shift,
        due_at=t["due"] + shift,
        original_due_at=t["due"] + shift,
        reckoned_due_at=t["due"] + shift,
        delivered_at=delivered,
    )


def stamp_order(story: Story, events: list[tuple[int, datetime]]) -> None:
    """Write the order's dates and its events' times; then let the clock set its deadline flag as of today."""
    t = story.times
    oid = story.order_id
    for event_id, when in events:
        put(OrderEvent, event_id, at=when)
    order = db.session.get(Order, oid)
    put(
        Order,
        oid,
        created_at=t["awarded"],
        started_at=t.get("started"),
        due_at=t.get("due"),
        original_due_at=t.get("due"),
        reckoned_due_at=t.get("due"),
        delivered_at=t.get("delivered") if order.status != OrderStatus.DISPUTED else None,
        accepted_at=t.get("accepted"),
    )
    contracts.stamp(oid, t.get("started"))
    orders.advance(db.session.get(Order, oid))  # the yellow / red flag as of today
    last = max([when for _, when in events] + [t["awarded"]])
    put(Order, oid, updated_at=last)
