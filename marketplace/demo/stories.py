"""A story of the demo's history: one request from its publishing to its order's end, planned in full before
it is played through the services.

A generic story is (request outcome, order kind). Order kinds: awaiting (the agency has not confirmed),
ok / yellow / red (in progress, by the share of the promised time used), delivered (awaiting acceptance),
disputed, accepted, late (accepted, delivered after the due date), auto (accepted by silence), redone
(disputed once, delivered again and accepted).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marketplace.agencies.models import Agency, QualificationLevel
from marketplace.auth.models import Enterprise
from marketplace.catalogue.models import ServiceItem
from marketplace.requests.models import SelectionMethod

LIVE_KINDS = ("awaiting", "ok", "yellow", "red", "delivered", "disputed")
DONE_KINDS = ("accepted", "late", "auto", "redone")


@dataclass
class Bidder:
    agency: Agency
    price_fen: int
    days: int
    plan: str
    revise_to: int | None = None  # a lower price submitted later (a new version)
    withdraw: bool = False
    # filled while playing
    bid_id: int | None = None
    revisions: list[int] = field(default_factory=list)

    @property
    def final_price(self) -> int:
        return self.revise_to or self.price_fen


@dataclass
class Story:
    enterprise: Enterprise
    item: ServiceItem
    outcome: str
    kind: str | None
    funding: str
    method: SelectionMethod
    title: str
    project: str
    project_code: str
    scope: str
    ceiling_fen: int
    floor_fen: int | None
    required_days: int
    level: QualificationLevel | None = None
    weights: dict | None = None
    shortlist: int | None = None
    exclusions: list[tuple[Agency, str]] = field(default_factory=list)
    bidders: list[Bidder] = field(default_factory=list)
    forced_winner: Agency | None = None
    declined: bool = False
    objection: str | None = None  # dismissed / upheld / open
    previous: Story | None = None  # round 1 of a republished request
    successor: Story | None = None
    start_day: int = 0  # planned publishing day (days from today, negative), for the order of play
    # filled while playing
    request_id: int | None = None
    objection_id: int | None = None
    declined_order_id: int | None = None
    order_id: int | None = None
    times: dict = field(default_factory=dict)


def nice(fen: float) -> int:
    """Round a price to whole yuan: to ¥100 above ¥20,000, ¥50 above ¥2,000, else ¥10."""
    yuan = fen / 100
    step = 100 if yuan >= 20_000 else 50 if yuan >= 2000 else 10
    return max(step, round(yuan / step) * step) * 100
