"""The monthly release packages: which requests had an event in a month, their releases dated in it, the
package around them, and the months that have any."""

from __future__ import annotations

from datetime import date, datetime, time

from flask import current_app
from sqlalchemy import or_, select

from marketplace.common.clock import LOCAL_TZ, as_utc, local, now
from marketplace.extensions import db
from marketplace.opendata.ocds import BID_EXTENSION, Process, happened
from marketplace.orders.models import Order
from marketplace.payments.models import Payment
from marketplace.requests.models import UNPUBLISHED, ServiceRequest
from marketplace.stats import open_months


def month_bounds(month: date) -> tuple[datetime, datetime]:
    start = datetime.combine(month.replace(day=1), time(), LOCAL_TZ)
    following = month.replace(day=28).toordinal() + 4
    nxt = date.fromordinal(following).replace(day=1)
    return start, datetime.combine(nxt, time(), LOCAL_TZ)


def _request_ids_in(start: datetime, end: datetime) -> set[int]:
    """Requests with any event in [start, end) (a superset: the releases are filtered by date afterwards)."""
    r, o, p = ServiceRequest, Order, Payment

    def between(column):
        return (column >= start) & (column < end)

    ids = set(
        db.session.scalars(
            select(r.id).where(
                r.published_at.is_not(None),
                or_(
                    between(r.published_at),
                    between(r.selected_at),
                    between(r.publicity_ends_at),
                    between(r.updated_at),
                ),
            )
        )
    )
    ids |= set(
        db.session.scalars(
            select(o.request_id).where(
                or_(
                    between(o.created_at),
                    between(o.started_at),
                    between(o.delivered_at),
                    between(o.accepted_at),
                )
            )
        )
    )
    ids |= set(db.session.scalars(select(o.request_id).join(p, p.order_id == o.id).where(between(p.paid_at))))
    return ids


def releases_for_month(month: date) -> list[dict]:
    """Every release dated in the month (Beijing time), oldest first."""
    start, end = month_bounds(month)
    out: list[tuple[datetime, dict]] = []
    ids = sorted(_request_ids_in(start, end))
    for req in db.session.scalars(
        select(ServiceRequest).where(ServiceRequest.id.in_(ids)).order_by(ServiceRequest.id)
    ):
        if req.published_at is None or req.status in UNPUBLISHED:
            continue
        process = Process(req)
        for event in process.events():
            if as_utc(start) <= as_utc(event.at) < as_utc(end) and happened(event.at, now()):
                out.append((as_utc(event.at), process.release(event)))
    out.sort(key=lambda pair: (pair[0], pair[1]["id"]))
    return [release for _, release in out]


def package(month: date, uri: str) -> dict | None:
    """The month's release package, or None when nothing happened in it."""
    releases = releases_for_month(month)
    if not releases:
        return None
    out = {
        "uri": uri,
        "version": "1.1",
        "extensions": [BID_EXTENSION],
        "publishedDate": max(r["date"] for r in releases),
        "publisher": {"name": current_app.config["OCDS_PUBLISHER_NAME"]},
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "publicationPolicy": current_app.config.get("OCDS_PUBLICATION_POLICY") or None,
        "releases": releases,
    }
    return {k: v for k, v in out.items() if v is not None}


def months() -> list[date]:
    """The months that have releases, newest first: the kept rows (stats/open_months.py), up to this month."""
    return [date(int(m[:4]), int(m[5:]), 1) for m in open_months.months_until(local(now()).strftime("%Y-%m"))]
