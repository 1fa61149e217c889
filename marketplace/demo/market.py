"""The market the demo's history is played in: the members as loaded, the rules' settings, the seeded random
source with its calendar, and the choices of who bids on what."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TypeVar

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace.agencies.models import Agency, AgencyStatus, Offer, QualificationLevel
from marketplace.auth.models import Enterprise, User
from marketplace.catalogue.models import ServiceItem
from marketplace.credit.scores import barred_all
from marketplace.demo import dataset as data
from marketplace.demo.common import ADMIN_EMAIL, AGENCY_EMAIL, ENTERPRISE_EMAIL, Calendar
from marketplace.demo.stories import LIVE_KINDS, Story
from marketplace.extensions import db
from marketplace.orders.models import OrderEvent
from marketplace.requests import bidding
from marketplace.requests.bids import BidRevision

T = TypeVar("T")


class Market:
    def __init__(self, rng: random.Random, midnight: datetime) -> None:
        self.rng = rng
        self.midnight = midnight
        self.calendar = Calendar(rng, midnight)
        self.publicity = timedelta(seconds=current_app.config["MARKET_PUBLICITY_SECONDS"])
        self.acceptance = timedelta(seconds=current_app.config["MARKET_ACCEPTANCE_SECONDS"])
        self.decision = timedelta(seconds=current_app.config["MARKET_OBJECTION_DECISION_SECONDS"])
        self.min_bids = current_app.config["MARKET_MIN_BIDS"]
        self.counts = {"requests": 0, "bids": 0, "orders": 0, "objections": 0}

        self.admin = db.session.scalar(select(User).where(User.email == ADMIN_EMAIL))
        self.agencies = list(
            db.session.scalars(
                select(Agency)
                .where(Agency.status == AgencyStatus.ACTIVE)
                .options(
                    selectinload(Agency.categories),
                    selectinload(Agency.qualifications),
                    selectinload(Agency.user),
                )
                .order_by(Agency.id)
            )
        )
        self.fixed_agency = next(a for a in self.agencies if a.user.email == AGENCY_EMAIL)
        enterprises = list(
            db.session.scalars(
                select(Enterprise).options(selectinload(Enterprise.user)).order_by(Enterprise.id)
            )
        )
        self.fixed_enterprise = next(e for e in enterprises if e.user.email == ENTERPRISE_EMAIL)
        self.enterprises = [e for e in enterprises if e is not self.fixed_enterprise]
        self.items = list(
            db.session.scalars(
                select(ServiceItem).options(selectinload(ServiceItem.category)).order_by(ServiceItem.code)
            )
        )
        self.item_by_code = {i.code: i for i in self.items}
        self.offers = {(a, i) for a, i in db.session.execute(select(Offer.agency_id, Offer.service_item_id))}
        # What each agency publishes as its highest price per item: its bids stay within it (the fee audit
        # flags a bid above an agency's own published price).
        self.offer_high = {
            (o.agency_id, o.service_item_id): o.high_fen
            for o in db.session.scalars(select(Offer).options(selectinload(Offer.service_item)))
            if o.high_fen
        }
        # How keen each agency is to bid (some members hardly ever do).
        self.keenness = {a.id: self.rng.choice([0.2, 1.0, 1.0, 1.5, 2.0, 3.0]) for a in self.agencies}
        self.keenness[self.fixed_agency.id] = 2.0
        self.pools: dict = {}
        # Whose account acts for an agency or an enterprise.
        self.users = {a.id: a.user_id for a in self.agencies}
        self.enterprise_users = {e.id: e.user_id for e in enterprises}

    # -- choosing ----------------------------------------------------------------------------------------

    def weighted(self, pairs: Sequence[tuple[T, float]]) -> T:
        values = [v for v, _ in pairs]
        return self.rng.choices(values, weights=[w for _, w in pairs])[0]

    def pool(self, item: ServiceItem, level: QualificationLevel | None) -> list[Agency]:
        """Active members that may bid on the item at this level (the bidding rules themselves decide)."""
        key = (item.id, level)
        if key not in self.pools:
            # every demo member serves the whole province (demo/regions.py), wherever the project lies in it
            probe = SimpleNamespace(
                exclusions=[], service_item=item, required_level=level, region_code="320000"
            )
            # the agencies' credit bars in one read, not one per agency
            bars = barred_all([a.id for a in self.agencies])
            self.pools[key] = [
                a for a in self.agencies if not bidding.eligibility_problems(a, probe, credit_bar=bars[a.id])
            ]
        return self.pools[key]

    def pick_bidders(
        self, pool: list[Agency], n: int, first: list[Agency], item: ServiceItem
    ) -> list[Agency]:
        """`first`, then more of the pool up to n: keen agencies and those offering the item more often."""
        chosen = list(first)
        rest = [a for a in pool if a not in chosen]
        while len(chosen) < n and rest:
            weights = [self.keenness[a.id] * (3 if (a.id, item.id) in self.offers else 1) for a in rest]
            agency = self.rng.choices(rest, weights=weights)[0]
            rest.remove(agency)
            chosen.append(agency)
        return chosen

    def pick_item(self, kind: str | None, min_pool: int) -> ServiceItem:
        """A service item long enough for the order kind, with at least `min_pool` possible bidders."""
        least = {"yellow": 30}.get(kind, 10 if kind in LIVE_KINDS else 3)
        items = [i for i in self.items if i.standard_days >= least and len(self.pool(i, None)) >= min_pool]
        weights = [data.CATEGORY_WEIGHTS.get(i.category.code, 1) for i in items]
        return self.rng.choices(items, weights=weights)[0]

    # -- who acts -----------------------------------------------------------------------------------------

    def user(self, user_id: int) -> User:
        return db.session.get(User, user_id)

    def agency_user(self, agency: Agency) -> User:
        return self.user(self.users[agency.id])

    def owner(self, story: Story) -> User:
        return self.user(self.enterprise_users[story.enterprise.id])

    # -- what was made --------------------------------------------------------------------------------------

    def last_event(self, order_id: int) -> int:
        return db.session.scalar(select(func.max(OrderEvent.id)).where(OrderEvent.order_id == order_id))

    def last_revision(self, bid_id: int) -> int:
        return db.session.scalar(select(func.max(BidRevision.id)).where(BidRevision.bid_id == bid_id))
