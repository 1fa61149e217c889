"""The fee-audit rules as plain functions of prices: each returns a finding (severity + the figures that
triggered it) or None. No database here, so every threshold is easy to read, test and explain.

Thresholds:
- abnormally low (低价恶性竞争): Prozorro's rule — a price at least 40% below the mean of the other bids, or at
  least 30% below the next-higher bid; or, when the item has at least five winning prices in the last
  12 months, under half their median.
- identical prices: two or more different agencies bidding exactly the same price on one request (except
  the request's own floor or ceiling price).
- price rise after winning: an agency's price, as a share of the request's ceiling, at least 40% higher (and
  20 points higher) than the share at which it last won the same item in the past year.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from statistics import median

from marketplace.fees.models import FlagRule, Severity

MEAN_GAP = 0.40
NEXT_GAP = 0.30
MEDIAN_SHARE = 0.5
MEDIAN_MIN_SAMPLES = 5
RISE_FACTOR = 1.4
RISE_POINTS = 0.20
OVER_OFFER_HIGH = 0.20  # more than 20% above the agency's own published price is high severity
EPS = 1e-9  # shares are floats: a price exactly at a threshold counts as reaching it


@dataclass
class Finding:
    rule: FlagRule
    severity: Severity
    figures: dict = field(default_factory=dict)


def over_ceiling(price_fen: int, ceiling_fen: int) -> Finding | None:
    if price_fen <= ceiling_fen:
        return None
    return Finding(
        FlagRule.OVER_CEILING,
        Severity.HIGH,
        {"price_fen": price_fen, "ceiling_fen": ceiling_fen, "over_fen": price_fen - ceiling_fen},
    )


def outside_guide(price_fen: int, guide_min_fen: int | None, guide_max_fen: int | None) -> Finding | None:
    """Government-guided items (政府指导价): above the range is overcharging, below it undercutting."""
    if guide_min_fen is None or guide_max_fen is None:
        return None
    figures = {"price_fen": price_fen, "guide_min_fen": guide_min_fen, "guide_max_fen": guide_max_fen}
    if price_fen > guide_max_fen:
        return Finding(FlagRule.OUTSIDE_GUIDE, Severity.HIGH, figures | {"side": "above"})
    if price_fen < guide_min_fen:
        return Finding(FlagRule.OUTSIDE_GUIDE, Severity.MEDIUM, figures | {"side": "below"})
    return None


def over_offer(price_fen: int, offer_high_fen: int | None) -> Finding | None:
    """A price above what the agency itself publishes in its store for the item."""
    if offer_high_fen is None or price_fen <= offer_high_fen:
        return None
    excess = price_fen / offer_high_fen - 1
    severity = Severity.HIGH if excess > OVER_OFFER_HIGH else Severity.MEDIUM
    return Finding(
        FlagRule.OVER_OFFER,
        severity,
        {"price_fen": price_fen, "offer_high_fen": offer_high_fen, "excess": round(excess, 4)},
    )


def contract_mismatch(amount_fen: int, bid_price_fen: int) -> Finding | None:
    if amount_fen == bid_price_fen:
        return None
    severity = Severity.HIGH if amount_fen > bid_price_fen else Severity.LOW
    return Finding(
        FlagRule.CONTRACT_MISMATCH,
        severity,
        {
            "amount_fen": amount_fen,
            "bid_price_fen": bid_price_fen,
            "difference_fen": amount_fen - bid_price_fen,
        },
    )


def over_contract(paid_fen: int, contract_fen: int) -> Finding | None:
    if paid_fen <= contract_fen:
        return None
    return Finding(
        FlagRule.OVER_CONTRACT,
        Severity.HIGH,
        {"paid_fen": paid_fen, "contract_fen": contract_fen, "over_fen": paid_fen - contract_fen},
    )


def abnormally_low(price_fen: int, others_fen: list[int], item_median_fen: int | None) -> Finding | None:
    """Prozorro's abnormally-low-tender rule, or under half the item's median winning price."""
    figures: dict = {"price_fen": price_fen}
    reasons = []
    if others_fen:
        mean = sum(others_fen) / len(others_fen)
        gap = 1 - price_fen / mean
        figures |= {"others_mean_fen": round(mean), "below_mean": round(gap, 4)}
        if gap >= MEAN_GAP - EPS:
            reasons.append("mean")
        higher = [p for p in others_fen if p > price_fen]
        if higher:
            nxt = min(higher)
            below_next = 1 - price_fen / nxt
            figures |= {"next_fen": nxt, "below_next": round(below_next, 4)}
            if below_next >= NEXT_GAP - EPS:
                reasons.append("next")
    if item_median_fen:
        figures["item_median_fen"] = item_median_fen
        if price_fen < MEDIAN_SHARE * item_median_fen:
            reasons.append("median")
    if not reasons:
        return None
    severity = Severity.HIGH if len(reasons) > 1 else Severity.MEDIUM
    thresholds = {
        "mean": MEAN_GAP,
        "next": NEXT_GAP,
        "median": MEDIAN_SHARE,
    }  # the words name the one in force
    return Finding(
        FlagRule.ABNORMALLY_LOW, severity, figures | {"reasons": reasons, "thresholds": thresholds}
    )


def identical_prices(
    bids: list[tuple[int, int, int]], bounds: tuple[int | None, ...] = ()
) -> dict[int, Finding]:
    """bids: (bid id, agency id, price). Returns a finding per bid whose price another agency also bid.
    Prices equal to the request's floor or ceiling (`bounds`) are left out: bidding the floor or the ceiling
    is what everyone does when it is the obvious price, not a sign of agreement."""
    by_price: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for bid_id, agency_id, price in bids:
        if price not in bounds:
            by_price[price].append((bid_id, agency_id))
    found: dict[int, Finding] = {}
    for price, group in by_price.items():
        agencies = sorted({a for _, a in group})
        if len(agencies) < 2:
            continue
        severity = Severity.HIGH if len(agencies) >= 3 else Severity.MEDIUM
        for bid_id, agency_id in group:
            found[bid_id] = Finding(
                FlagRule.IDENTICAL_PRICES,
                severity,
                {
                    "price_fen": price,
                    "agency_ids": agencies,
                    "others": [a for a in agencies if a != agency_id],
                },
            )
    return found


def price_rise(share_now: float, share_won: float) -> Finding | None:
    """Prices as shares of the request's ceiling, so that projects of different sizes compare."""
    if (
        share_won <= 0
        or share_now < share_won * RISE_FACTOR - EPS
        or share_now - share_won < RISE_POINTS - EPS
    ):
        return None
    severity = Severity.HIGH if share_now >= share_won * 1.8 - EPS else Severity.MEDIUM
    return Finding(
        FlagRule.PRICE_RISE,
        severity,
        {
            "share_now": round(share_now, 4),
            "share_won": round(share_won, 4),
            "rise": round(share_now / share_won - 1, 4),
        },
    )


def median_or_none(prices: list[int]) -> int | None:
    return round(median(prices)) if len(prices) >= MEDIAN_MIN_SAMPLES else None
