"""The demo agencies' stores: an offer per chosen service item, priced within the guide range or around a
plausible market band, with a description of what it includes."""

from __future__ import annotations

import math

from marketplace.agencies.models import Agency, Offer, PriceMode
from marketplace.catalogue.models import ServiceItem
from marketplace.demo import dataset as data
from marketplace.demo.common import log_point
from marketplace.demo.members import Members
from marketplace.extensions import db


def offer(m: Members, agency: Agency, item: ServiceItem, mode: str | None = None) -> Offer:
    """One offer of `agency`'s store; `mode` (fixed / range / discount) when it is not left to chance."""
    code = item.code.split("-")[0]
    made = Offer(
        agency=agency,
        service_item=item,
        promised_days=max(1, round(item.standard_days * m.rng.uniform(0.6, 1.0))),
        description=description(m, code, item),
        active=True,
        created_at=agency.approved_at,
        updated_at=agency.approved_at,
    )
    guided = item.is_guided and item.guide_min_fen is not None and item.guide_max_fen is not None
    roll = m.rng.random()
    if guided:
        chosen = mode or ("discount" if roll < 0.2 else "range" if roll < 0.4 else "fixed")
    else:
        chosen = mode or ("range" if roll < 0.2 else "fixed")
    if chosen == "discount" and guided:
        made.price_mode = PriceMode.DISCOUNT
        made.discount_pct = m.rng.choice(data.DISCOUNTS)
    elif guided:
        low_fen, high_fen = item.guide_min_fen, item.guide_max_fen
        if chosen == "range":
            start = m.rng.random() * 0.5
            end = min(1.0, start + m.rng.uniform(0.2, 0.5))
            made.price_mode = PriceMode.RANGE
            made.price_min_fen = _clamp(round_fen(log_point(low_fen, high_fen, start)), low_fen, high_fen)
            made.price_max_fen = _clamp(round_fen(log_point(low_fen, high_fen, end)), low_fen, high_fen)
        else:
            made.price_mode = PriceMode.FIXED
            point = log_point(low_fen, high_fen, m.rng.random() ** 1.6)
            made.price_fen = _clamp(round_fen(point), low_fen, high_fen)
    else:
        band = data.price_band(item.code, code)
        centre = math.sqrt(band[0] * band[1]) * 100 * m.rng.uniform(0.6, 1.4)
        if chosen == "range":
            made.price_mode = PriceMode.RANGE
            made.price_min_fen = round_fen(centre * 0.8)
            made.price_max_fen = max(round_fen(centre * m.rng.uniform(1.2, 1.6)), made.price_min_fen + 10_000)
        else:
            made.price_mode = PriceMode.FIXED
            made.price_fen = round_fen(centre)
    db.session.add(made)
    m.counts["offers"] += 1
    return made


def description(m: Members, code: str, item: ServiceItem) -> str:
    includes = data.OFFER_INCLUDES.get(code, data.DEFAULT_INCLUDES)
    picked = sorted(m.rng.sample(range(len(includes)), min(len(includes), m.rng.randint(2, 4))))
    text = data.OFFER_DESCRIPTION.format(item=item.name, includes="、".join(includes[i] for i in picked))
    if m.rng.random() < 0.7:
        text += m.rng.choice(data.OFFER_PROMISES)
    return text


def round_fen(fen: float) -> int:
    """Round a price to whole yuan: to ¥1,000 above ¥100k, ¥100 above ¥2,000, else ¥50 or ¥10."""
    yuan = fen / 100
    step = 1000 if yuan >= 100_000 else 100 if yuan >= 2000 else 50 if yuan >= 500 else 10
    return max(step, round(yuan / step) * step) * 100


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))
