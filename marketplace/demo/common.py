"""What the demo's loaders share: the demo accounts, random moments around the day of loading, a price scale,
plain row updates, and the transactions.

Transactions: the orchestrator (`marketplace.demo.services.load_demo`) and the history run each step of the
load — the members, one story of a request, one order's payments, the ratings, the fee cases — inside `step()`,
which commits once at its end — the demo's boundaries, as views and the clock are the market's (services never
commit).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update

from marketplace.demo.dataset import ACCOUNTS
from marketplace.extensions import db

DEMO_PASSWORD: str = ACCOUNTS["password"]
ADMIN_EMAIL: str = ACCOUNTS["admin"]["email"]
ENTERPRISE_EMAIL: str = ACCOUNTS["enterprise"]["email"]
AGENCY_EMAIL: str = ACCOUNTS["agency"]["email"]

DAY = timedelta(days=1)


@dataclass
class Calendar:
    """Random moments counted in days from the midnight (UTC) of the day the demo is loaded."""

    rng: random.Random
    midnight: datetime

    def office(self, day: int) -> datetime:
        """A moment of Beijing office hours (01:00–09:59 UTC) on the day `day` days from today."""
        return self.midnight + timedelta(
            days=day, hours=self.rng.randint(1, 9), minutes=self.rng.randint(0, 59)
        )

    def moment(self, days_ago: int) -> datetime:
        """A time during Beijing office hours, `days_ago` (>= 1) days before today."""
        return self.office(-max(days_ago, 1))

    def day_of(self, t: datetime) -> int:
        return (t - self.midnight).days

    def later(self, t: datetime, low: int, high: int) -> datetime:
        """A moment `low`..`high` days after t (0: the same day, a little later)."""
        k = self.rng.randint(low, high)
        if k == 0:
            return t + timedelta(minutes=self.rng.randint(20, 240))
        return self.office(self.day_of(t) + k)

    def deadline(self, day: int) -> datetime:
        return self.midnight + timedelta(days=day, hours=1, minutes=30)  # 09:30 in Beijing

    def spread(self, start: datetime, end: datetime, n: int) -> list[datetime]:
        """n sorted moments strictly between start and end: office hours on the days between, when there are
        any, else whole minutes after start."""
        days = list(range(self.day_of(start) + 1, self.day_of(end)))
        if days:
            return sorted(self.office(self.rng.choice(days)) for _ in range(n))
        minutes = max(int((end - start).total_seconds() // 60) - 1, 1)
        return sorted(start + timedelta(minutes=self.rng.randint(1, minutes)) for _ in range(n))


def log_point(low: float, high: float, share: float) -> float:
    """The point `share` (0..1) of the way from low to high on a logarithmic scale (prices across a band)."""
    return math.exp(math.log(low) + share * (math.log(high) - math.log(low)))


def put(model: type, row_id: int, **values: object) -> None:
    """Set columns of one row with a plain UPDATE (moving dates into the past); a loaded copy is expired."""
    db.session.execute(
        update(model).where(model.id == row_id).values(**values).execution_options(synchronize_session=False)
    )
    obj = db.session.identity_map.get(db.session.identity_key(model, row_id))
    if obj is not None:
        db.session.expire(obj)


@contextmanager
def step(on_error: Callable[[], None] | None = None) -> Iterator[None]:
    """One step of the demo load: committed once at its end; rolled back (then `on_error`) when it fails."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if on_error is not None:
            on_error()
        raise
