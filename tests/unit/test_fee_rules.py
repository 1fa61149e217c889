"""The fee-audit rules as plain functions: thresholds at their edges."""

from marketplace.common import charts
from marketplace.fees import rules
from marketplace.fees.models import FlagRule, Severity


def test_abnormally_low_prozorro_mean_and_next_bid():
    # 40% below the mean of the others: 60 vs mean 100 → exactly at the threshold
    found = rules.abnormally_low(60, [100, 100], None)
    assert found.rule == FlagRule.ABNORMALLY_LOW and "mean" in found.figures["reasons"]
    assert (
        rules.abnormally_low(61, [100, 100], None) is None
        or "mean" not in rules.abnormally_low(61, [100, 100], None).figures["reasons"]
    )
    # 30% below the next bid, though not 40% below the mean
    found = rules.abnormally_low(70, [100, 105], None)
    assert found.figures["reasons"] == ["next"] and found.figures["next_fen"] == 100
    assert rules.abnormally_low(71, [100, 101], None) is None
    # the highest bid is never "below the next"
    assert rules.abnormally_low(100, [90, 95], None) is None


def test_abnormally_low_against_the_item_median_needs_enough_history():
    assert rules.median_or_none([100, 200, 300, 400]) is None  # fewer than five winning prices
    median = rules.median_or_none([100, 200, 300, 400, 500])
    assert median == 300
    found = rules.abnormally_low(149, [], median)
    assert found.figures["reasons"] == ["median"] and found.severity == Severity.MEDIUM
    assert rules.abnormally_low(150, [], median) is None
    both = rules.abnormally_low(100, [200, 220], median)
    assert set(both.figures["reasons"]) == {"mean", "next", "median"} and both.severity == Severity.HIGH


def test_identical_prices_from_different_agencies_only():
    found = rules.identical_prices([(1, 10, 500), (2, 11, 500), (3, 12, 600)])
    assert set(found) == {1, 2}
    assert found[1].figures["others"] == [11] and found[1].severity == Severity.MEDIUM
    three = rules.identical_prices([(1, 10, 500), (2, 11, 500), (3, 12, 500)])
    assert all(f.severity == Severity.HIGH for f in three.values())
    # bidding the request's floor or ceiling is not a sign of agreement
    assert rules.identical_prices([(1, 10, 500), (2, 11, 500)], (500, 900)) == {}


def test_guide_offer_ceiling_contract_payment_rules():
    assert rules.outside_guide(100, None, None) is None  # market-priced item
    assert rules.outside_guide(100, 100, 200) is None and rules.outside_guide(200, 100, 200) is None
    above = rules.outside_guide(201, 100, 200)
    assert above.severity == Severity.HIGH and above.figures["side"] == "above"
    assert rules.outside_guide(99, 100, 200).figures["side"] == "below"
    assert rules.over_offer(100, 100) is None and rules.over_offer(100, None) is None
    assert rules.over_offer(120, 100).severity == Severity.MEDIUM
    assert rules.over_offer(121, 100).severity == Severity.HIGH
    assert rules.over_ceiling(100, 100) is None and rules.over_ceiling(101, 100).figures["over_fen"] == 1
    assert rules.contract_mismatch(100, 100) is None
    assert rules.contract_mismatch(110, 100).severity == Severity.HIGH
    assert rules.contract_mismatch(90, 100).severity == Severity.LOW
    assert rules.over_contract(100, 100) is None and rules.over_contract(101, 100).figures["over_fen"] == 1


def test_price_rise_after_winning():
    assert rules.price_rise(0.69, 0.5) is None  # +38%
    assert rules.price_rise(0.70, 0.5).severity == Severity.MEDIUM  # +40% and 20 points
    assert rules.price_rise(0.30, 0.2) is None  # +50% but only 10 points
    assert rules.price_rise(0.95, 0.5).severity == Severity.HIGH


def test_chart_axes_are_round_and_gaps_break_the_line():
    pct = charts.bars(["1", "2"], [0.35, -0.05], lambda v: f"{v * 100:.3g}%")
    assert [t["label"] for t in pct.ticks] == ["-10%", "0%", "10%", "20%", "30%", "40%"]
    assert pct.columns[1]["y"] == pct.bottom_y  # a negative bar hangs from the zero line
    line = charts.line_with_band(["1", "2", "3", "4"], [100, None, 300, 400], (0, 4_000_000), str)
    assert line.lines == [
        f"{line.columns[2]['x']},{line.columns[2]['y']} {line.columns[3]['x']},{line.columns[3]['y']}"
    ]
    assert line.band["h"] > 0 and line.ticks[-1]["label"] == "5000000.0"
