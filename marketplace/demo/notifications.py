"""The demo's notifications: the listeners wrote them while the year of history was played (at loading time);
here each one is moved to the moment its story says it happened, and older ones are marked read, so that the bell
shows a believable mix — a few recent unread items, a history of read ones.

The time of a notification comes from what it is about (its message key and its link): a new announcement from
the request's publication, a delivery from the order's delivery, a transfer from its payment, and so on. One bulk
UPDATE; no other row is touched.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select, update

from marketplace.auth.models import User
from marketplace.common.clock import now
from marketplace.common.messages import decode
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.orders.models import Contract, Extension, Order
from marketplace.payments.models import Payment
from marketplace.ratings.models import Rating
from marketplace.requests.models import Objection, ServiceRequest

RECENT = timedelta(days=7)  # newer than this stays unread …
MOST_UNREAD = 6  # … at most this many per person (the newest)
FIXED_UNREAD = 3  # the demo's own accounts always have a few unread, whatever today's date
_LINK = re.compile(r"^/(requests|orders)/(\d+)")


def _first(*times: datetime | None) -> datetime | None:
    return next((t for t in times if t is not None), None)


def _request_time(key: str, req: ServiceRequest, objections: list[Objection]) -> datetime | None:
    if key.startswith("New announcement"):
        return req.published_at
    if key.startswith("Bidding on") or "failed (流标)" in key:
        return _first(req.closed_at, req.bid_deadline)
    if "was selected" in key or "was not selected" in key or "next-ranked" in key:
        return req.selected_at
    if key.startswith("Publicity of"):
        return req.publicity_ends_at
    if key.startswith("An objection was lodged"):
        return min((o.created_at for o in objections), default=None)
    if key.startswith("The objection"):
        return max((o.resolved_at for o in objections if o.resolved_at), default=None)
    if key.startswith("Your announcement"):
        return req.updated_at
    return None


def _yellow(order: Order) -> datetime | None:
    if order.started_at is None or order.due_at is None:
        return None
    return order.started_at + (order.due_at - order.started_at) * 0.8


def _order_time(key: str, args: dict, order: Order, related: dict) -> datetime | None:
    contracts, extensions, payments, rating = (related[k].get(order.id) for k in ("c", "e", "p", "r"))
    if "is placed" in key:
        return order.created_at
    if "waits for your confirmation" in key:
        return max((c.created_at for c in contracts or []), default=None)
    if key.startswith("The contract for order"):
        return max((c.decided_at for c in contracts or [] if c.decided_at), default=None)
    if "has started" in key:
        return order.started_at
    if "(yellow light)" in key:
        return _yellow(order)
    if "(red light)" in key:
        return order.due_at
    if "was delivered" in key:
        return order.delivered_at
    if "was accepted" in key:
        return order.accepted_at
    if "asks to extend" in key:
        return max((e.created_at for e in extensions or []), default=None)
    if key.startswith("Your extension"):
        return max((e.decided_at for e in extensions or [] if e.decided_at), default=None)
    if "was rated" in key:
        return rating.created_at if rating else None
    if "transfer" in key or "online" in key:
        ref = args.get("ref")
        mine = [p for p in payments or [] if ref is None or p.reference == ref]
        if key.startswith("A bank transfer"):
            return min((p.created_at for p in mine), default=None)
        return max((_first(p.paid_at, p.updated_at) for p in mine), default=None)
    return None


def _related() -> dict[str, dict[int, list]]:
    out: dict[str, dict[int, list]] = {"c": defaultdict(list), "e": defaultdict(list), "p": defaultdict(list)}
    for name, model in (("c", Contract), ("e", Extension), ("p", Payment)):
        for row in db.session.scalars(select(model)):
            out[name][row.order_id].append(row)
    out["r"] = {r.order_id: r for r in db.session.scalars(select(Rating))}
    return out


def load_notifications(enterprise_email: str, agency_email: str) -> dict[str, int]:
    """Date the notifications the history wrote and mark the older ones read. Returns the counts."""
    requests = {r.id: r for r in db.session.scalars(select(ServiceRequest))}
    orders = {o.id: o for o in db.session.scalars(select(Order))}
    objections: dict[int, list[Objection]] = defaultdict(list)
    for o in db.session.scalars(select(Objection)):
        objections[o.request_id].append(o)
    related = _related()
    fixed = set(db.session.scalars(select(User.id).where(User.email.in_([enterprise_email, agency_email]))))
    t = now()
    dated: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for nid, user_id, text, link, created in db.session.execute(
        select(
            Notification.id,
            Notification.user_id,
            Notification.text,
            Notification.link,
            Notification.created_at,
        )
    ):
        msg = decode(text)
        key, args = (msg.key, msg.params) if hasattr(msg, "key") else ("", {})
        found = _LINK.match(link or "")
        at = None
        if found and found.group(1) == "requests" and int(found.group(2)) in requests:
            rid = int(found.group(2))
            at = _request_time(key, requests[rid], objections[rid])
        elif found and int(found.group(2)) in orders:
            at = _order_time(key, args, orders[int(found.group(2))], related)
        dated[user_id].append((min(at or created, t), nid))
    rows, unread = [], 0
    for user_id, items in dated.items():
        items.sort(reverse=True)  # newest first
        keep = MOST_UNREAD
        for i, (at, nid) in enumerate(items):
            stays = (i < keep and t - at < RECENT) or (user_id in fixed and i < FIXED_UNREAD)
            unread += stays
            rows.append(
                {"id": nid, "created_at": at, "read_at": None if stays else min(at + timedelta(hours=3), t)}
            )
    if rows:
        db.session.execute(update(Notification), rows)
    return {"notifications": len(rows), "notifications_unread": unread}
