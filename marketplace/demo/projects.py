"""What a demo request is about and what its bids say: the project, its code, the scope of the service, the
price ceiling; a bid's price and work plan."""

from __future__ import annotations

from datetime import timedelta

from marketplace.auth.models import Enterprise
from marketplace.catalogue.models import ServiceItem
from marketplace.demo import dataset as data
from marketplace.demo.common import log_point
from marketplace.demo.market import Market
from marketplace.demo.stories import Story, nice
from marketplace.regions import services as regions


def ceiling(m: Market, item: ServiceItem) -> int:
    """A price ceiling within the item's guide range, or within a plausible band for market-priced items."""
    if item.is_guided and item.guide_min_fen and item.guide_max_fen:
        low, high = item.guide_min_fen / 100, item.guide_max_fen / 100
        share = m.rng.uniform(0.3, 0.85)
    else:
        low, high = data.price_band(item.code, item.category.code)
        share = m.rng.uniform(0.35, 0.95)
    return nice(log_point(low, high, share) * 100)


def price(story: Story, share: float) -> int:
    """A bid's price: to ¥10, as people price bids (whole-hundred prices collide too often)."""
    fen = max(1000, round(story.ceiling_fen * share / 1000) * 1000)
    if story.floor_fen:
        fen = max(fen, story.floor_fen)
    return min(fen, story.ceiling_fen)


def project(m: Market, enterprise: Enterprise) -> str:
    """A project of the enterprise in one of its city's development zones or towns."""
    words = data.PROJECTS
    city = regions.name(enterprise.region_code[:4] + "00") if enterprise.region_code else None
    region = city or words["default_region"]
    areas = data.ENTERPRISE_AREAS.get(region) or [""]
    place = region.removesuffix("市") + m.rng.choice(areas)
    sizes = words["sizes"]
    return m.rng.choice(words["templates"]).format(
        place=place,
        n=m.rng.choice(sizes["n"]),
        mw=m.rng.choice(sizes["mw"]),
        mwh=m.rng.choice(sizes["mwh"]),
        k=m.rng.choice(sizes["k"]),
    )


def project_code(m: Market, enterprise: Enterprise, start_day: int) -> str:
    """The project's code in the investment project register (项目代码): year, division, industry, kind, serial."""
    registered = m.midnight + timedelta(days=start_day - m.rng.randint(20, 240))
    division = enterprise.uscc[2:8]
    return (
        f"{registered:%Y}-{division}-{m.rng.choice(data.PROJECTS['code_industries'])}"
        f"-{m.rng.choice(data.PROJECTS['code_kinds'])}-{m.rng.randint(100000, 999999)}"
    )


def scope(m: Market, project_name: str, item: ServiceItem) -> str:
    includes = data.OFFER_INCLUDES.get(item.category.code, data.DEFAULT_INCLUDES)
    picked = sorted(m.rng.sample(range(len(includes)), min(len(includes), m.rng.randint(3, 4))))
    work = "、".join(includes[i] for i in picked)
    serves = data.PROJECTS["serves"].format(approval=item.approval) if item.approval else ""
    return data.PROJECTS["scope"].format(
        project=project_name,
        item=item.name,
        serves=serves,
        work=work,
        requirement=m.rng.choice(data.PROJECTS["requirements"]),
    )


def plan(m: Market, item: ServiceItem, days: int) -> str:
    """A bid's work plan: the team, its leader, the steps and a promise."""
    includes = data.OFFER_INCLUDES.get(item.category.code, data.DEFAULT_INCLUDES)
    steps = "、".join(includes[: m.rng.randint(3, len(includes))])
    surname = m.rng.choice(data.SURNAMES)
    return data.BIDS["plan"].format(
        people=m.rng.randint(3, 8),
        surname=surname,
        title=m.rng.choice(data.BIDS["plan_titles"]),
        years=m.rng.randint(5, 20),
        steps=steps,
        days=days,
        promise=m.rng.choice(data.BIDS["plan_promises"]),
    )
