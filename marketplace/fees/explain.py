"""The fee rules in words for the public page /fees/rules, with the thresholds that fees/rules.py applies (so
the page says exactly what the audit checks)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace.fees import rules
from marketplace.fees.models import RULE_LABELS, SEVERITY_LABELS, FlagRule, Severity


def _pct(share: float) -> int:
    return round(share * 100)


def audit_rules() -> list[dict]:
    """Each check of the fee audit: its name, when it fires and how serious it is."""
    high, medium, low = (SEVERITY_LABELS[s] for s in (Severity.HIGH, Severity.MEDIUM, Severity.LOW))
    texts = {
        FlagRule.OVER_CEILING: (
            _l("A bid or a contract above the request's ceiling price (最高限价)."),
            [high],
        ),
        FlagRule.OUTSIDE_GUIDE: (
            _l(
                "For items with a government guide price (政府指导价): a price above the guide range "
                "(overcharging) or below it (undercutting)."
            ),
            [high, medium],
        ),
        FlagRule.OVER_OFFER: (
            _l(
                "A bid above the price the agency itself publishes in its store for the item; more than "
                "%(n)d%% above it is serious.",
                n=_pct(rules.OVER_OFFER_HIGH),
            ),
            [high, medium],
        ),
        FlagRule.CONTRACT_MISMATCH: (
            _l("A contract amount different from the winning bid: higher is serious, lower is noted."),
            [high, low],
        ),
        FlagRule.OVER_CONTRACT: (
            _l("Payments received beyond the contract amount."),
            [high],
        ),
        FlagRule.ABNORMALLY_LOW: (
            _l(
                "A price at least %(mean)d%% below the mean of the other bids, or at least %(next)d%% below the "
                "next-higher bid, or — when the item has at least %(samples)d winning prices in the last 12 "
                "months — under %(median)d%% of their median. Two of these at once is serious.",
                mean=_pct(rules.MEAN_GAP),
                next=_pct(rules.NEXT_GAP),
                samples=rules.MEDIAN_MIN_SAMPLES,
                median=_pct(rules.MEDIAN_SHARE),
            ),
            [high, medium],
        ),
        FlagRule.IDENTICAL_PRICES: (
            _l(
                "Two or more different agencies bidding exactly the same price on one request (the request's "
                "own floor or ceiling price excepted); three or more is serious."
            ),
            [high, medium],
        ),
        FlagRule.PRICE_RISE: (
            _l(
                "An agency's price, as a share of the request's ceiling, at least %(factor)d%% of the share at "
                "which it last won the same item in the past year and at least %(points)d points higher.",
                factor=_pct(rules.RISE_FACTOR),
                points=_pct(rules.RISE_POINTS),
            ),
            [high, medium],
        ),
    }
    return [
        {"rule": rule, "label": RULE_LABELS[rule], "text": texts[rule][0], "severities": texts[rule][1]}
        for rule in FlagRule
    ]
