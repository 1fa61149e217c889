"""A story's request played through the services at today's time: created (or republished), published with a
seeded draw, sealed bids submitted, revised and withdrawn, then cancelled, left open, or closed by the clock and
handed to the selection."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from flask import current_app

from marketplace.common.clock import now
from marketplace.demo import dataset as data
from marketplace.demo import locations, reviews
from marketplace.demo.common import DAY, put
from marketplace.demo.market import Market
from marketplace.demo.selection import expect, play_selection
from marketplace.demo.stories import Story
from marketplace.extensions import db
from marketplace.requests import bidding
from marketplace.requests import services as requests
from marketplace.requests.models import RequestStatus, ServiceRequest


def play(m: Market, story: Story) -> None:
    """Play the story's request as far as its outcome goes (its order's life comes later)."""
    owner = m.owner(story)
    draft = story.outcome in ("draft", "cancelled_draft")
    if story.previous is not None:
        req = requests.republish(owner, story.previous.request_id, _open_deadline())
        reviews.approve_if_waiting(req)
    else:
        req = requests.create_request(owner, _request_data(story), publish=False)
        if not draft:
            reviews.publish(owner, req)
    story.request_id = req.id
    m.counts["requests"] += 1
    if draft:
        if story.outcome == "cancelled_draft":
            requests.cancel_request(owner, req.id, None)
        return
    _seed(m, req.id)
    for bidder in story.bidders:
        user = m.agency_user(bidder.agency)
        plan = {"price_fen": bidder.price_fen, "promised_days": bidder.days, "plan": bidder.plan}
        need = req.service_item.required_practitioners
        if need:  # name the approved practitioners the item requires
            plan["practitioner_ids"] = [p.id for p in bidding.qualified_practitioners(bidder.agency, req)][
                :need
            ]
        bid = bidding.submit_bid(user, req.id, plan)
        bidder.bid_id = bid.id
        bidder.revisions.append(m.last_revision(bid.id))
        m.counts["bids"] += 1
        if bidder.revise_to is not None:
            bidding.revise_bid(user, bid.id, {"price_fen": bidder.revise_to})
            bidder.revisions.append(m.last_revision(bid.id))
        if bidder.withdraw:
            bidding.withdraw_bid(user, bid.id)
            bidder.revisions.append(m.last_revision(bid.id))
    if story.outcome == "cancelled":
        requests.cancel_request(owner, req.id, m.rng.choice(data.BIDS["cancels"]))
        return
    if story.outcome == "bidding":
        return

    put(ServiceRequest, req.id, bid_deadline=now() - requests.close_grace() - timedelta(seconds=1))
    requests.advance(db.session.get(ServiceRequest, req.id))
    if story.outcome == "failed":
        expect(story, RequestStatus.FAILED)
        return
    expect(story, RequestStatus.EVALUATING)
    if story.outcome == "evaluating":
        return
    play_selection(m, story, owner)


def _seed(m: Market, request_id: int) -> None:
    """Replace the random draw seed of a just-published request with one from the seeded generator (before
    any bid or draw)."""
    seed = f"{m.rng.getrandbits(128):032x}"
    put(
        ServiceRequest,
        request_id,
        draw_seed=seed,
        draw_commitment=hashlib.sha256(seed.encode("utf-8")).hexdigest(),
    )


def _request_data(story: Story) -> dict:
    return {
        "title": story.title,
        "project_code": story.project_code,
        "service_item_id": story.item.id,
        "scope": story.scope,
        "ceiling_fen": story.ceiling_fen,
        "floor_fen": story.floor_fen,
        "required_level": story.level.value if story.level else None,
        "region_code": locations.project_location(story.enterprise.region_code, story.project_code),
        "required_days": story.required_days,
        "funding": story.funding,
        "selection_method": story.method.value,
        "weights": story.weights,
        "shortlist_size": story.shortlist,
        "bid_deadline": _open_deadline(),
        "exclusions": [{"agency_id": a.id, "reason": reason} for a, reason in story.exclusions],
    }


def _open_deadline() -> datetime:
    return now() + timedelta(seconds=current_app.config["MARKET_MIN_BIDDING_SECONDS"]) + 2 * DAY
