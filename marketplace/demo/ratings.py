"""Demo ratings for the history's accepted orders: mostly good, some mediocre, a few poor — with comments,
some agency replies and some department ratings. Inserted directly (the rating window of old orders has closed),
each counted in the statistics as the rating service counts it."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from marketplace.demo import dataset as data
from marketplace.extensions import db
from marketplace.orders.models import Order, OrderStatus
from marketplace.ratings.models import DepartmentRating, Rating
from marketplace.tally import services as tally


def load_ratings(rng: random.Random) -> dict[str, int]:
    """Rate about 85% of the accepted orders (a quarter of those also by the department); returns the counts."""
    words = data.RATINGS
    orders = db.session.scalars(
        select(Order).where(Order.status == OrderStatus.ACCEPTED).order_by(Order.id)
    ).all()
    admin_id = db.session.execute(
        select(db.text("id")).select_from(db.text('"user"')).where(db.text("role = 'admin'"))
    ).scalar()
    n = dept = 0
    for order in orders:
        if rng.random() > 0.85:
            continue
        late = (
            order.delivered_at is not None and order.due_at is not None and order.delivered_at > order.due_at
        )
        base = rng.choices([5, 4, 3, 2], weights=[2, 5, 2, 1] if late else [6, 3, 1, 0.3])[0]
        dims = {
            d: max(1, min(5, base + rng.choice([-1, 0, 0, 0, 1])))
            for d in ("quality", "timeliness", "attitude", "fee", "compliance")
        }
        if late:
            dims["timeliness"] = max(1, dims["timeliness"] - 1)
        comment = rng.choice(words["good"] if base >= 4 else words["fair"] if base == 3 else words["poor"])
        at = order.accepted_at + timedelta(hours=rng.randint(2, 240))
        rating = Rating(
            order_id=order.id,
            agency_id=order.agency_id,
            enterprise_id=order.enterprise_id,
            overall=base,
            comment=comment,
            created_at=at,
            **dims,
        )
        if rng.random() < 0.4:
            rating.reply, rating.replied_at = (
                rng.choice(words["replies"]),
                at + timedelta(hours=rng.randint(1, 48)),
            )
        db.session.add(rating)
        db.session.flush()
        tally.on_order_rated(rating)
        n += 1
        if admin_id and rng.random() < 0.25:
            db.session.add(
                DepartmentRating(
                    order_id=order.id,
                    agency_id=order.agency_id,
                    author_id=admin_id,
                    quality=max(1, base - rng.choice([0, 0, 1])),
                    timeliness=dims["timeliness"],
                    created_at=at,
                )
            )
            dept += 1
    return {"ratings": n, "department_ratings": dept}
