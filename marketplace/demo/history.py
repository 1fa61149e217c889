"""A year of market history for the demo: requests, sealed bids, verifiable draws, publicity, objections, orders.

Every story is played through the real services, so each rule is checked, each draw is the real one and each
state change is in the audit log. The services read the clock, so a story is played at today's time (with
deadlines in the future while bids come in, then moved just into the past so that closing, award and
auto-acceptance happen) and afterwards every date of its rows — request, bids and their versions, objections,
orders and their events — is moved to where the story belongs in the past year with plain UPDATEs. Just before
an order is accepted, its start, due date and delivery get the story's spacing (moved to end now), because that
is when the running statistics count its time taken and lateness: they then agree with `flask stats rebuild`.
The audit log is never touched: its entries keep the real loading time.

Draw seeds come from the seeded generator (written over the random one right after publishing, before any
draw), so the same seed gives the same rows; the dates follow today's date.

The parts: `planning` decides every story up front, `tendering` and `selection` play a request, `timeline`
works out and writes its dates, `deliveries` plays and dates its order; all share the `market`.
"""

from __future__ import annotations

import random
from datetime import datetime

from marketplace.demo.common import step
from marketplace.demo.deliveries import play_order, stamp_order
from marketplace.demo.market import Market
from marketplace.demo.planning import plan_all
from marketplace.demo.stories import Story
from marketplace.demo.tendering import play
from marketplace.demo.timeline import stamp, timeline


def load_history(rng: random.Random, midnight: datetime) -> dict[str, int]:
    """Play a year of market history on top of the demo members (which must be committed already), one story
    (with its republished round) per step. Returns what was created."""
    m = Market(rng, midnight)
    for story in plan_all(m):
        with step():
            _play_story(m, story)
    return dict(m.counts)


def _play_story(m: Market, story: Story) -> None:
    chain = [story]
    while chain[-1].successor is not None:
        chain.append(chain[-1].successor)
    for part in chain:
        play(m, part)
    for part in reversed(chain):  # round 1's dates hang on round 2's
        part.times = timeline(m, part)
    for part in chain:
        stamp(m, part)
        if part.order_id:
            events = play_order(m, part, list(part.times.get("script", [])))
            stamp_order(part, events)
