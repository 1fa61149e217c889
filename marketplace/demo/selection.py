"""A story's selection through the services: the winner chosen (by the request's method, or directly with a
reason), an objection lodged and resolved during publicity, the award, and a first winner who declines."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from marketplace.auth.models import User
from marketplace.common.clock import now
from marketplace.demo import dataset as data
from marketplace.demo.common import put
from marketplace.demo.market import Market
from marketplace.demo.stories import Story
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.requests import objections
from marketplace.requests import services as requests
from marketplace.requests.models import RequestStatus, SelectionMethod, ServiceRequest


def play_selection(m: Market, story: Story, owner: User) -> None:
    """From evaluation on: select, object, and (unless the story stops at publicity) award the order."""
    choose(m, story, owner)
    if story.objection:
        _object(m, story)
    if story.outcome == "publicity":
        expect(story, RequestStatus.PUBLICITY)
        return

    _award(m, story)
    if story.declined:
        first = orders.order_for_request(story.request_id)
        story.declined_order_id = first.id
        declines = data.BIDS["declines"]
        orders.decline(m.user(m.users[first.agency_id]), first.id, m.rng.choice(declines))
        _award(m, story)
    story.order_id = orders.order_for_request(story.request_id).id


def choose(m: Market, story: Story, owner: User) -> None:
    """The owner selects: by the request's method, or (direct selection) one of the two lowest with a reason."""
    if story.method != SelectionMethod.DIRECT:
        requests.select_winner(owner, story.request_id)
        return
    valid = [b for b in story.bidders if not b.withdraw]
    if story.forced_winner is not None:
        chosen = next(b for b in valid if b.agency is story.forced_winner)
    else:
        chosen = m.rng.choice(sorted(valid, key=lambda b: b.final_price)[:2])
    reason = m.rng.choice(data.BIDS["direct_reasons"]).format(
        pct=round(100 * chosen.final_price / story.ceiling_fen), days=chosen.days
    )
    requests.select_winner(owner, story.request_id, bid_id=chosen.bid_id, reason=reason)


def _object(m: Market, story: Story) -> None:
    """A losing bidder objects; unless the objection stays open, the administrator dismisses or upholds it."""
    words = data.OBJECTIONS
    objector = next(
        (b for b in story.bidders if not b.withdraw and b.bid_id != _winner(story)),
        story.bidders[0],
    )
    ground, facts = words["open"] if story.objection == "open" else m.rng.choice(words["lodged"])
    objection = objections.lodge_objection(m.agency_user(objector.agency), story.request_id, ground, facts)
    story.objection_id = objection.id
    m.counts["objections"] += 1
    if story.objection != "open":
        upheld = story.objection == "upheld"
        outcome = m.rng.choice(words["upheld"] if upheld else words["dismissed"])
        objections.resolve_objection(m.user(m.admin.id), objection.id, upheld, outcome)


def _winner(story: Story) -> int | None:
    return db.session.scalar(
        select(ServiceRequest.winner_bid_id).where(ServiceRequest.id == story.request_id)
    )


def _award(m: Market, story: Story) -> None:
    """Publicity ended a second ago: the clock's step awards the order."""
    put(ServiceRequest, story.request_id, publicity_ends_at=now() - timedelta(seconds=1))
    requests.advance(db.session.get(ServiceRequest, story.request_id))
    expect(story, RequestStatus.AWARDED)
    m.counts["orders"] += 1


def expect(story: Story, status: RequestStatus) -> ServiceRequest:
    """The story's request, which must now be in `status` (else the demo's plan and the rules disagree)."""
    req = db.session.get(ServiceRequest, story.request_id)
    db.session.refresh(req)
    if req.status != status:
        raise RuntimeError(
            f"demo history: request {req.id} ({story.outcome}/{story.kind}) is {req.status.value}, "
            f"expected {status.value}: {req.failure_reason or ''}"
        )
    return req
