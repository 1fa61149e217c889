"""A fee flag in words: WHICH test fired and its figures ("比次低报价低 32%（阈值 30%）：¥x vs ¥y"), for the
audit list, the flag page, the CSV and the API.

The test is derived from the stored figures: an abnormally low price records the tests it failed (`reasons`:
mean, next, median) and, since this module, the thresholds in force (`thresholds`); older flags fall back to
the rules' current thresholds. Nothing is stored as text, so the English UI reads English."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from marketplace.common.money import format_fen as yuan
from marketplace.extensions import db
from marketplace.fees import rules
from marketplace.fees.models import RULE_LABELS, FeeFlag, FlagRule


def _pct(share: float) -> str:
    return f"{round(share * 100)}%"


def _gap(price: int, other: int) -> str:
    """How far `price` lies from `other`, as a share of `other`."""
    return _pct(abs(price / other - 1)) if other else "—"


def _low(f: dict) -> list[tuple[str, str]]:
    limits = {"mean": rules.MEAN_GAP, "next": rules.NEXT_GAP, "median": rules.MEDIAN_SHARE}
    limits |= f.get("thresholds") or {}
    out = []
    for reason in f.get("reasons") or []:
        if reason == "mean" and f.get("others_mean_fen"):
            text = _(
                "%(gap)s below the mean of the other bids (threshold %(limit)s): %(price)s vs %(mean)s",
                gap=_pct(f["below_mean"]),
                limit=_pct(limits["mean"]),
                price=yuan(f["price_fen"]),
                mean=yuan(f["others_mean_fen"]),
            )
            out.append(("below_mean", text))
        elif reason == "next" and f.get("next_fen"):
            text = _(
                "%(gap)s below the next-lowest bid (threshold %(limit)s): %(price)s vs %(next)s",
                gap=_pct(f["below_next"]),
                limit=_pct(limits["next"]),
                price=yuan(f["price_fen"]),
                next=yuan(f["next_fen"]),
            )
            out.append(("below_next", text))
        elif reason == "median" and f.get("item_median_fen"):
            text = _(
                "%(share)s of the item's median winning price (threshold under %(limit)s): %(price)s vs %(median)s",
                share=_pct(f["price_fen"] / f["item_median_fen"]),
                limit=_pct(limits["median"]),
                price=yuan(f["price_fen"]),
                median=yuan(f["item_median_fen"]),
            )
            out.append(("below_median", text))
    return out


def tests_fired(flag: FeeFlag) -> list[tuple[str, str]]:
    """(test, words) for each test that raised the flag — usually one; an abnormally low price may fail
    several. A flag whose stored figures lack what the words need (hand-edited data) shows its rule's name."""
    try:
        return _tests_fired(flag) or [(flag.rule.value, str(RULE_LABELS[flag.rule]))]
    except (KeyError, TypeError, ZeroDivisionError):
        return [(flag.rule.value, str(RULE_LABELS[flag.rule]))]


def _tests_fired(flag: FeeFlag) -> list[tuple[str, str]]:
    f = flag.figures or {}
    rule = flag.rule
    if rule == FlagRule.ABNORMALLY_LOW:
        return _low(f)
    if rule == FlagRule.OVER_CEILING:
        return [
            (
                "over_ceiling",
                _(
                    "%(over)s (%(gap)s) above the ceiling price: %(price)s vs %(ceiling)s",
                    over=yuan(f["over_fen"]),
                    gap=_gap(f["price_fen"], f["ceiling_fen"]),
                    price=yuan(f["price_fen"]),
                    ceiling=yuan(f["ceiling_fen"]),
                ),
            )
        ]
    if rule == FlagRule.OUTSIDE_GUIDE:
        price, low, high = f["price_fen"], f["guide_min_fen"], f["guide_max_fen"]
        if f.get("side") == "below" or price < low:
            text = _(
                "%(gap)s below the guide price floor: %(price)s vs %(floor)s (guide range %(low)s–%(high)s)",
                gap=_gap(price, low),
                price=yuan(price),
                floor=yuan(low),
                low=yuan(low),
                high=yuan(high),
            )
            return [("below_guide", text)]
        text = _(
            "%(gap)s above the guide price ceiling: %(price)s vs %(top)s (guide range %(low)s–%(high)s)",
            gap=_gap(price, high),
            price=yuan(price),
            top=yuan(high),
            low=yuan(low),
            high=yuan(high),
        )
        return [("above_guide", text)]
    if rule == FlagRule.OVER_OFFER:
        text = _(
            "%(gap)s above the agency's own published price: %(price)s vs %(offer)s",
            gap=_pct(f["excess"]),
            price=yuan(f["price_fen"]),
            offer=yuan(f["offer_high_fen"]),
        )
        return [("over_offer", text)]
    if rule == FlagRule.CONTRACT_MISMATCH:
        diff = f["difference_fen"]
        words = (
            _("The contract is %(d)s above the winning bid: %(amount)s vs %(bid)s")
            if diff > 0
            else _("The contract is %(d)s below the winning bid: %(amount)s vs %(bid)s")
        )
        return [
            (
                "contract_mismatch",
                words
                % {"d": yuan(abs(diff)), "amount": yuan(f["amount_fen"]), "bid": yuan(f["bid_price_fen"])},
            )
        ]
    if rule == FlagRule.OVER_CONTRACT:
        text = _(
            "%(over)s paid beyond the contract: %(paid)s vs %(contract)s",
            over=yuan(f["over_fen"]),
            paid=yuan(f["paid_fen"]),
            contract=yuan(f["contract_fen"]),
        )
        return [("over_contract", text)]
    if rule == FlagRule.IDENTICAL_PRICES:
        from marketplace.agencies.models import Agency

        ids = f.get("others") or []
        names = (
            db.session.scalars(select(Agency.name).where(Agency.id.in_(ids)).order_by(Agency.id))
            if ids
            else []
        )
        text = _("The same price as %(names)s: %(price)s", names="、".join(names), price=yuan(f["price_fen"]))
        return [("identical_prices", text)]
    if rule == FlagRule.PRICE_RISE:
        limit = _pct(rules.RISE_FACTOR - 1)
        if f.get("new_high_fen") is not None:
            text = _(
                "Published price raised %(rise)s after winning (threshold %(limit)s): %(old)s → %(new)s",
                rise=_pct(f["rise"]),
                limit=limit,
                old=yuan(f["old_high_fen"]),
                new=yuan(f["new_high_fen"]),
            )
            return [("offer_rise", text)]
        text = _(
            "Price as a share of the ceiling rose %(rise)s since the last win (threshold %(limit)s): %(was)s → %(now)s",
            rise=_pct(f["rise"]),
            limit=limit,
            was=_pct(f["share_won"]),
            now=_pct(f["share_now"]),
        )
        return [("price_rise", text)]
    return []


def describe(flag: FeeFlag) -> str:
    """The tests that fired, in words, one after another (the list, the CSV, the API's `description`)."""
    return _("; ").join(text for _test, text in tests_fired(flag))
