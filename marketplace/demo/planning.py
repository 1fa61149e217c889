"""Planning the demo's year: the fixed accounts' stories, the mix of generic ones (some declined, some with an
objection), and failed requests published again — each with its request, bidders, prices and start day."""

from __future__ import annotations

import math

from marketplace.agencies.models import Agency, QualificationLevel
from marketplace.auth.models import Enterprise
from marketplace.catalogue.models import ServiceItem
from marketplace.demo import dataset as data
from marketplace.demo import projects
from marketplace.demo.market import Market
from marketplace.demo.stories import DONE_KINDS, LIVE_KINDS, Bidder, Story, nice
from marketplace.requests.models import SelectionMethod

METHOD_WEIGHTS = [(SelectionMethod(method), weight) for method, weight in data.BIDS["methods"].items()]


def plan_all(m: Market) -> list[Story]:
    """Every story of the year, first rounds only (a republished request's round 2 is its `successor`),
    in the order of their planned start."""
    stories: list[Story] = []
    for spec in data.FIXED_STORIES:
        spec = dict(spec)
        who, z = spec.pop("who"), spec.pop("z", None)
        then = spec.pop("then", None)
        item = m.item_by_code.get(spec.pop("item"))
        if item is None:
            continue
        if len(m.pool(item, None)) < min(int(spec["n"]), m.min_bids):
            item = None  # too few members hold this item's licences: the planner picks an item that has them
        story = plan_story(
            m,
            spec.pop("outcome"),
            spec.pop("kind", None),
            enterprise=m.fixed_enterprise if who == "Q" else None,
            item=item,
            method=SelectionMethod(spec.pop("method")),
            funding=spec.pop("funding"),
            n=spec.pop("n"),
            z=z,
        )
        stories.append(story)
        if then:
            follow_up(m, story, *then)
    tokens = [token for token, n in data.STORY_MIX for _ in range(n)]
    m.rng.shuffle(tokens)
    flags = ["declined"] * data.DECLINED_STORIES
    flags += [k for k, n in data.OBJECTION_STORIES.items() for _ in range(n)]
    republish = list(data.REPUBLISHED)
    for outcome, kind in tokens:
        extra = {}
        if kind == "accepted" and flags:
            flag = flags.pop()
            extra = {"declined": True} if flag == "declined" else {"objection": flag}
        story = plan_story(m, outcome, kind, **extra)
        if outcome == "publicity" and not any(s.objection == "open" for s in stories):
            story.objection = "open" if len(story.bidders) >= 2 else None
        stories.append(story)
        if outcome == "failed" and republish:
            follow_up(m, story, *republish.pop())
    stories.sort(key=lambda s: s.start_day)
    return [s for s in stories if s.previous is None]


def plan_story(
    m: Market,
    outcome: str,
    kind: str | None = None,
    *,
    enterprise: Enterprise | None = None,
    item: ServiceItem | None = None,
    method: SelectionMethod | None = None,
    funding: str | None = None,
    n: int | None = None,
    z: str | None = None,
    declined: bool = False,
    objection: str | None = None,
) -> Story:
    """One story; what is not given is chosen. z: "bid" — the fixed agency bids, "win" — and is chosen."""
    fiscal_only = outcome == "failed" or declined or objection == "upheld"
    if funding is None:
        funding = "fiscal" if fiscal_only or m.rng.random() < 0.6 else "social"
    if method is None:
        choices = METHOD_WEIGHTS
        if outcome == "failed" or declined or objection:
            choices = [(mt, w) for mt, w in METHOD_WEIGHTS if mt != SelectionMethod.DIRECT]
        method = m.weighted(choices)
    strict = funding == "fiscal" and method != SelectionMethod.DIRECT
    need = {
        "awarded": m.min_bids if strict else 1,
        "publicity": m.min_bids if strict else 1,
        "evaluating": m.min_bids if strict else 2,
    }.get(outcome, 0)
    if declined or objection:
        need = max(need, 2)
    if outcome == "failed":
        need = m.min_bids  # enough members could have bid; too few did
    enterprise = enterprise or m.rng.choice(m.enterprises)
    item = item or m.pick_item(kind, max(need, 1))
    pool = m.pool(item, None)

    level = None
    if m.rng.random() < 0.25:
        candidate = m.rng.choice(
            [QualificationLevel.A, QualificationLevel.B, QualificationLevel.B, QualificationLevel.NONE]
        )
        narrowed = m.pool(item, candidate)
        if len(narrowed) >= need + 1 and (z is None or m.fixed_agency in narrowed):
            level, pool = candidate, narrowed
    fixed = [m.fixed_agency] if z else []

    exclusions = []
    others = [a for a in pool if a not in fixed]
    if others and len(pool) > need + 1 and m.rng.random() < 0.1:
        excluded = m.rng.choice(others)
        exclusions.append((excluded, m.rng.choice(data.BIDS["exclusions"])))
        pool = [a for a in pool if a is not excluded]

    if n is None:
        top = min(len(pool), 7 if strict else 5)
        n = {
            "failed": min(m.rng.choice([0, 1, 1, 2, 2, 2]), m.min_bids - 1),
            "bidding": m.rng.randint(0, min(5, len(pool))),
            "cancelled": m.rng.randint(0, min(2, len(pool))),
            "draft": 0,
            "cancelled_draft": 0,
        }.get(outcome)
        if n is None:
            n = m.rng.randint(need, max(need, top))
    if outcome in ("awarded", "publicity", "evaluating"):
        n = max(n, need)
    n = min(n, len(pool))

    required = max(3, round(item.standard_days * m.rng.uniform(0.7, 1.0)))
    if kind == "yellow":
        required = max(required, 22)
    ceiling = projects.ceiling(m, item)
    floor = None
    if z != "win" and m.rng.random() < 0.3:
        floor = nice(ceiling * m.rng.uniform(0.55, 0.7))
    if outcome in ("awarded", "failed") and kind not in LIVE_KINDS:
        start_day = -m.rng.randint(required + 25, 345)
    elif outcome == "awarded":
        start_day = -(required + 25)
    else:
        start_day = {
            "draft": -m.rng.randint(1, 20),
            "cancelled_draft": -m.rng.randint(30, 90),
            "cancelled": -m.rng.randint(20, 200),
            "bidding": -5,
        }.get(outcome, -15)
    project = projects.project(m, enterprise)
    story = Story(
        enterprise=enterprise,
        item=item,
        outcome=outcome,
        kind=kind,
        funding=funding,
        method=method,
        title=f"{project}{item.name}",
        project=project,
        project_code=projects.project_code(m, enterprise, start_day),
        scope=projects.scope(m, project, item),
        ceiling_fen=ceiling,
        floor_fen=floor,
        required_days=required,
        level=level,
        exclusions=exclusions,
        forced_winner=m.fixed_agency if z == "win" else None,
        declined=declined,
        objection=objection,
        start_day=start_day,
    )
    if method == SelectionMethod.COMPOSITE:
        story.weights = dict(m.rng.choice(data.BIDS["composite_weights"]))
    if method == SelectionMethod.CREDIT_SHORTLIST:
        story.shortlist = m.rng.choice([2, 3, 3, 4])
    add_bidders(m, story, pool, n, fixed)
    return story


def add_bidders(m: Market, story: Story, pool: list[Agency], n: int, fixed: list[Agency]) -> None:
    """n bidders from the pool (the fixed ones first), their prices, days and plans; perhaps one withdraws."""
    item = story.item
    least_days = {"yellow": 18}.get(story.kind, 5 if story.kind in LIVE_KINDS else 2)
    least_days = min(least_days, story.required_days)
    # Agencies whose published price is far below this project's scale stay away from it.
    fitting = [
        a for a in pool if a in fixed or m.offer_high.get((a.id, item.id), 10**15) >= 0.6 * story.ceiling_fen
    ]
    if len(fitting) >= n + 1:
        pool = fitting
    agencies = m.pick_bidders(pool, n, fixed, item)
    if len(pool) > n and story.outcome not in ("draft", "cancelled_draft") and m.rng.random() < 0.1:
        extra = m.pick_bidders([a for a in pool if a not in agencies], 1, [], item)
        agencies += extra  # this one will withdraw before the deadline
        withdrawing = extra[0] if extra else None
    else:
        withdrawing = None
    for agency in agencies:
        days = m.rng.randint(max(least_days, math.ceil(story.required_days * 0.6)), story.required_days)
        share = m.rng.triangular(0.72, 0.98, 0.9)
        high = m.offer_high.get((agency.id, item.id))
        if high and high < story.ceiling_fen * share:  # within its own published price
            share = high * m.rng.uniform(0.93, 1.0) / story.ceiling_fen
        bidder = Bidder(agency, projects.price(story, share), days, projects.plan(m, item, days))
        if m.rng.random() < 0.12:
            lower = projects.price(story, share * m.rng.uniform(0.94, 0.98))
            if lower < bidder.price_fen:
                bidder.revise_to = lower
        bidder.withdraw = agency is withdrawing
        story.bidders.append(bidder)
    if story.forced_winner is not None:  # the fixed agency wins: make it clearly the lowest
        mine = next(b for b in story.bidders if b.agency is story.forced_winner)
        rivals = [b.final_price for b in story.bidders if b is not mine and not b.withdraw]
        cap = min(rivals) if rivals else story.ceiling_fen
        mine.price_fen = min(nice(cap * 0.95), projects.price(story, 0.8))
        mine.revise_to, mine.withdraw = None, False


def follow_up(m: Market, first: Story, outcome: str, kind: str | None) -> None:
    """Round 2 of a failed request: the same request published again, this time with more bidders."""
    second = plan_story(
        m,
        outcome,
        kind,
        enterprise=first.enterprise,
        item=first.item,
        method=first.method,
        funding=first.funding,
    )
    for name in ("title", "project", "project_code", "scope", "ceiling_fen", "floor_fen", "required_days"):
        setattr(second, name, getattr(first, name))
    second.level, second.weights, second.shortlist = first.level, first.weights, first.shortlist
    second.exclusions = first.exclusions
    excluded = {a.id for a, _ in first.exclusions}
    pool = [a for a in m.pool(first.item, first.level) if a.id not in excluded]
    need = {"awarded": m.min_bids, "failed": 0, "bidding": 0}.get(outcome, m.min_bids)
    n = {"failed": 1, "bidding": m.rng.randint(1, 3)}.get(outcome) or m.rng.randint(need, max(need, 5))
    second.bidders = []
    add_bidders(m, second, pool, min(n, len(pool)), [])
    second.previous, first.successor = first, second
    second.start_day = first.start_day + 20
    if kind in DONE_KINDS or outcome == "failed":  # round 1 needs room before round 2
        first.start_day = min(first.start_day, -(first.required_days + 100))
        second.start_day = first.start_day + 20
    else:  # round 2 is under way: round 1 failed a few weeks ago
        first.start_day = second.start_day = -(first.required_days + 30)
