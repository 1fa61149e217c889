"""Demo ratings for the history's accepted orders: mostly good, some mediocre, a few poor — with comments,
some agency replies and some department ratings. Inserted directly (the rating window of old orders has closed),
each counted in the statistics as the rating service counts it."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.orders.models import Order, OrderStatus
from marketplace.ratings.models import DepartmentRating, Rating
from marketplace.stats import services as stats

GOOD = [
    "报告质量高，一次通过专家评审。",
    "响应及时，现场踏勘细致。",
    "沟通顺畅，按承诺时限交付。",
    "收费透明，无额外费用。",
    "技术力量强，修改意见落实到位。",
]
FAIR = ["整体可以，个别章节需返工。", "交付略晚，但质量尚可。", "沟通需更主动一些。"]
POOR = ["多次催促才交付，影响审批进度。", "报告错漏较多，返工两次。"]
REPLIES = [
    "感谢认可，我们将继续做好服务！",
    "感谢反馈，已安排专人回访整改。",
    "抱歉给您带来不便，已优化内部审核流程。",
]


def load_ratings(rng: random.Random) -> dict[str, int]:
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
        comment = rng.choice(GOOD if base >= 4 else FAIR if base == 3 else POOR)
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
            rating.reply, rating.replied_at = rng.choice(REPLIES), at + timedelta(hours=rng.randint(1, 48))
        db.session.add(rating)
        db.session.flush()
        stats.on_order_rated(rating)
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
    db.session.commit()
    return {"ratings": n, "department_ratings": dept}
