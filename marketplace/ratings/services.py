"""Rating an accepted order (once, within the rating window), the agency's one reply, the approving
department's own rating, and hiding an abusive comment (never changing a score)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace import events
from marketplace.audit.services import record, snapshot
from marketplace.auth.models import Role, User
from marketplace.auth.policy import acts_in, located
from marketplace.auth.services import require_acting, require_role, require_staff
from marketplace.common.clock import LOCAL_TZ, now
from marketplace.common.errors import Invalid, NotFound, WrongState, invalid_fields
from marketplace.extensions import db
from marketplace.orders.models import Order, OrderStatus
from marketplace.ratings.models import DIMENSIONS, DepartmentRating, Rating

SCORES = ("overall", *DIMENSIONS)


def _scores(data: dict[str, Any], names) -> dict[str, int]:
    errors, out = {}, {}
    for name in names:
        value = data.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            errors[name] = [_l("A score from 1 to 5.")]
        out[name] = value
    if errors:
        raise invalid_fields(errors)
    return out


def _comment(text: Any, field: str = "comment", limit: int = 1000) -> str | None:
    text = text.strip() if isinstance(text, str) else ""
    if len(text) > limit:
        raise Invalid(
            _l("At most %(n)d characters.", n=limit), {field: [_l("At most %(n)d characters.", n=limit)]}
        )
    return text or None


def rating_window_ends(order: Order):
    return order.accepted_at + timedelta(seconds=current_app.config["MARKET_RATING_WINDOW_SECONDS"])


def can_rate(actor: User | None, order: Order) -> bool:
    return (
        actor is not None
        and actor.role == Role.ENTERPRISE
        and actor.enterprise is not None
        and actor.enterprise.id == order.enterprise_id
        and order.status == OrderStatus.ACCEPTED
        and now() < rating_window_ends(order)
        and rating_for(order.id) is None
    )


def order_scope(order: Order) -> tuple[str, str]:
    """Where an order lies for staff: its request's region (see `located`) and its item's trade."""
    req = order.request
    return located(req.region_code), req.service_item.department or ""


def may_department_rate(actor: User | None, order: Order) -> bool:
    region, trade = order_scope(order)
    return acts_in(actor, Role.DEPARTMENT, region, trade)


def may_hide(actor: User | None, order: Order) -> bool:
    return acts_in(actor, Role.OPERATOR, order_scope(order)[0])


def rating_for(order_id: int) -> Rating | None:
    return db.session.scalar(select(Rating).where(Rating.order_id == order_id))


def department_rating_for(order_id: int) -> DepartmentRating | None:
    return db.session.scalar(select(DepartmentRating).where(DepartmentRating.order_id == order_id))


def rate_order(actor: User | None, order_id: int, data: dict[str, Any]) -> Rating:
    """The enterprise rates its accepted order once: overall and 质量/时效/态度/收费/规范, with a comment."""
    actor = require_role(actor, Role.ENTERPRISE)
    order = db.session.scalar(select(Order).where(Order.id == order_id).with_for_update())
    if order is None or actor.enterprise is None or order.enterprise_id != actor.enterprise.id:
        raise NotFound(_l("No such order."))
    if order.status != OrderStatus.ACCEPTED:
        raise WrongState(_l("Only an accepted order can be rated."))
    if now() >= rating_window_ends(order):
        raise WrongState(_l("The rating window for this order has closed."))
    if rating_for(order.id) is not None:
        raise WrongState(_l("This order has already been rated."))
    scores = _scores(data, SCORES)
    rating = Rating(
        order_id=order.id,
        agency_id=order.agency_id,
        enterprise_id=order.enterprise_id,
        comment=_comment(data.get("comment")),
        **scores,
    )
    db.session.add(rating)
    db.session.flush()
    record(actor, "rating.create", rating, after=snapshot(rating, (*SCORES, "comment")))
    events.rating_given.send(rating, actor=actor)
    return rating


def reply(actor: User | None, rating_id: int, text: str) -> Rating:
    actor = require_role(actor, Role.AGENCY)
    rating = db.session.get(Rating, rating_id)
    if rating is None or actor.agency is None or rating.agency_id != actor.agency.id:
        raise NotFound(_l("No such rating."))
    if rating.reply is not None:
        raise WrongState(_l("You have already replied to this rating."))
    text = _comment(text, "reply")
    if not text:
        raise Invalid(_l("Write a reply."), {"reply": [_l("Write a reply.")]})
    rating.reply, rating.replied_at = text, now()
    record(actor, "rating.reply", rating, after={"reply": text})
    return rating


def department_rate(actor: User | None, order_id: int, data: dict[str, Any]) -> DepartmentRating:
    """双评价: the approving department's own quality and timeliness scores, shown separately — given by the
    department of the item's trade in the request's area (the administrator anywhere)."""
    actor = require_staff(actor)
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(_l("No such order."))
    region, trade = order_scope(order)
    require_acting(actor, Role.DEPARTMENT, region, trade)
    if order.status != OrderStatus.ACCEPTED:
        raise WrongState(_l("Only an accepted order can be rated."))
    if department_rating_for(order_id) is not None:
        raise WrongState(_l("This order has already been rated."))
    scores = _scores(data, ("quality", "timeliness"))
    rating = DepartmentRating(
        order_id=order.id,
        agency_id=order.agency_id,
        author_id=actor.id,
        comment=_comment(data.get("comment")),
        **scores,
    )
    db.session.add(rating)
    db.session.flush()
    record(
        actor,
        "department_rating.create",
        rating,
        after=snapshot(rating, ("quality", "timeliness", "comment")),
    )
    events.department_rating_given.send(rating, actor=actor)
    return rating


def hide_comment(actor: User | None, rating_id: int, reason: str) -> Rating:
    """The operator of the order's area hides an abusive comment (the scores stay)."""
    actor = require_staff(actor)
    rating = db.session.get(Rating, rating_id)
    if rating is None:
        raise NotFound(_l("No such rating."))
    require_acting(actor, Role.OPERATOR, order_scope(rating.order)[0])
    reason = _comment(reason, "reason", 500)
    if not reason:
        raise Invalid(_l("A reason is required."), {"reason": [_l("A reason is required.")]})
    record(
        actor,
        "rating.hide_comment",
        rating,
        before={"comment": rating.comment},
        after={"hidden_reason": reason},
    )
    rating.hidden_reason, rating.moderated_at = reason, now()
    return rating


# --- reading ------------------------------------------------------------------------------------------------


def recent_for_agency(agency_id: int, limit: int = 10) -> list[Rating]:
    stmt = (
        select(Rating)
        .where(Rating.agency_id == agency_id)
        .options(selectinload(Rating.enterprise))  # each rating names its enterprise: one query, not one each
        .order_by(Rating.created_at.desc(), Rating.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def store_summary(agency_id: int) -> tuple[dict[int, int], dict, dict]:
    """The store's rating figures in one statement: (how many ratings gave each overall score, 5 down to 1; the
    five dimensions' averages 质量 时效 态度 收费 规范 as `{count, quality, …}`; the departments' ratings as
    `{count, quality, timeliness}`), each average rounded to two decimals, None without ratings."""
    stars = (5, 4, 3, 2, 1)
    mine = Rating.agency_id == agency_id
    theirs = DepartmentRating.agency_id == agency_id
    row = db.session.execute(
        select(
            func.count(),
            *(func.avg(getattr(Rating, d)) for d in DIMENSIONS),
            *(func.count().filter(Rating.overall == star) for star in stars),
            select(func.count()).where(theirs).scalar_subquery(),
            select(func.avg(DepartmentRating.quality)).where(theirs).scalar_subquery(),
            select(func.avg(DepartmentRating.timeliness)).where(theirs).scalar_subquery(),
        ).where(mine)
    ).one()
    averages, counts, department = row[1 : 1 + len(DIMENSIONS)], row[1 + len(DIMENSIONS) : -3], row[-3:]
    dimensions: dict = {"count": row[0]} | dict(zip(DIMENSIONS, map(_average, averages), strict=True))
    return (
        dict(zip(stars, counts, strict=True)),
        dimensions,
        {"count": department[0], "quality": _average(department[1]), "timeliness": _average(department[2])},
    )


def _average(value) -> float | None:
    return round(float(value), 2) if value is not None else None


def monthly(agency_id: int, months: int = 12) -> list[dict]:
    """Orders accepted and on-time share per month over the last year (for the store's chart)."""
    since = now() - timedelta(days=31 * months)
    orders = db.session.execute(
        # on time = by the original due date, unless an extension was approved in time (Order.on_time_due_at)
        select(
            Order.accepted_at, Order.delivered_at, func.coalesce(Order.reckoned_due_at, Order.due_at)
        ).where(
            Order.agency_id == agency_id, Order.status == OrderStatus.ACCEPTED, Order.accepted_at >= since
        )
    ).all()
    buckets: dict[str, list[int]] = {}
    cursor = now().astimezone(LOCAL_TZ).replace(day=1)
    keys = []
    for _ in range(months):
        keys.append(cursor.strftime("%Y-%m"))
        cursor = (cursor - timedelta(days=1)).replace(day=1)
    for key in keys:
        buckets[key] = [0, 0]
    for accepted_at, delivered_at, due_at in orders:
        key = accepted_at.astimezone(LOCAL_TZ).strftime("%Y-%m")
        if key in buckets:
            buckets[key][0] += 1
            buckets[key][1] += int(delivered_at is not None and due_at is not None and delivered_at <= due_at)
    return [
        {"month": k, "orders": v[0], "on_time_rate": round(v[1] / v[0], 3) if v[0] else None}
        for k, v in reversed(buckets.items())
    ]
