"""The draw arithmetic (pure) and the standalone verifier agreeing with it, and refusing tampered records."""

import copy
import hashlib

import pytest

from marketplace.requests import draw, verify_draw

SEED = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def rows(*prices, credits=None):
    credits = credits or [None] * len(prices)
    return [
        {
            "bid_id": 10 + i,
            "price_fen": p,
            "promised_days": 20,
            "credit_score": c,
            "avg_rating": None,
            "on_time_rate": None,
        }
        for i, (p, c) in enumerate(zip(prices, credits, strict=True))
    ]


def record(method, candidates, **kw):
    ranking, details = draw.rank(method, SEED, candidates, kw.get("weights"), kw.get("shortlist_size"))
    return {
        "method": method,
        "seed": SEED,
        "commitment": draw.commitment(SEED),
        "candidates": candidates,
        "ranking": ranking,
        "winner_bid_id": ranking[0],
        "details": details,
    }


def test_commitment_is_sha256_of_the_seed_text():
    assert draw.commitment(SEED) == hashlib.sha256(SEED.encode()).hexdigest()
    assert len(draw.new_seed()) == 32 and draw.new_seed() != draw.new_seed()


def test_shuffle_is_a_permutation_and_depends_on_seed_and_purpose():
    items = list(range(20))
    a = draw.shuffled(SEED, "random", items)
    assert sorted(a) == items and a != items
    assert draw.shuffled(SEED, "random", items) == a
    assert draw.shuffled(SEED, "tie", items) != a
    assert draw.shuffled("another-seed", "random", items) != a


def test_random_draw_is_roughly_uniform():
    wins = [0, 0, 0]
    for n in range(3000):
        wins[draw.index(f"seed-{n}", "random:0", 3)] += 1
    assert all(900 < w < 1100 for w in wins), wins


def test_lowest_price_and_ties_by_draw():
    ranking, details = draw.rank("lowest_price", SEED, rows(300, 100, 100, 200))
    assert set(ranking[:2]) == {11, 12} and ranking[2:] == [13, 10]
    tie_order = details["tie_order"]
    assert ranking[:2] == sorted([11, 12], key=tie_order.index)


def test_average_price_method():
    prices = [100_000, 90_000, 95_000, 80_000, 120_000]
    coefficient = draw.coefficient(SEED)
    assert coefficient in (95, 96, 97, 98)
    mean = draw.trimmed_mean_fen(prices)
    assert mean == 95_000  # drop 120,000 and 80,000; average 100,000 / 90,000 / 95,000
    reference = draw.reference_price_fen(prices, coefficient)
    assert reference == round(95_000 * coefficient / 100)
    ranking, details = draw.rank("average_price", SEED, rows(*prices))
    closest = min(rows(*prices), key=lambda r: abs(r["price_fen"] - reference))
    assert ranking[0] == closest["bid_id"] and details["reference_fen"] == reference


def test_composite_uses_published_weights():
    candidates = rows(100_000, 80_000)
    candidates[0]["credit_score"], candidates[1]["credit_score"] = 100, 20
    price_heavy, _ = draw.rank(
        "composite", SEED, candidates, {"price": 100, "rating": 0, "on_time": 0, "credit": 0}
    )
    credit_heavy, _ = draw.rank(
        "composite", SEED, candidates, {"price": 0, "rating": 0, "on_time": 0, "credit": 100}
    )
    assert price_heavy[0] == 11 and credit_heavy[0] == 10


def test_credit_shortlist_draws_only_among_the_best():
    candidates = rows(1, 2, 3, 4, 5, credits=[50, 90, 70, 95, 60])
    for seed in ("a", "b", "c", "d", "e", "f"):
        ranking, details = draw.rank("credit_shortlist", seed, candidates, shortlist_size=3)
        assert set(details["shortlist"]) == {11, 12, 13} and ranking[0] in {11, 12, 13}


@pytest.mark.parametrize(
    "method", ["random", "lowest_price", "composite", "average_price", "credit_shortlist"]
)
def test_verifier_recomputes_every_method(method, capsys):
    kw = (
        {"weights": draw.DEFAULT_WEIGHTS}
        if method == "composite"
        else {"shortlist_size": 2}
        if method == "credit_shortlist"
        else {}
    )
    rec = record(method, rows(120_000, 95_000, 95_000, 101_000, credits=[90, 80, 85, 70]), **kw)
    assert verify_draw.verify(rec)
    assert "VERIFIED" in capsys.readouterr().out


def test_verifier_refuses_a_swapped_seed_or_a_forged_winner():
    rec = record("random", rows(1, 2, 3, 4))
    forged = copy.deepcopy(rec)
    forged["seed"] = "1" * 32
    assert not verify_draw.verify(forged)
    forged = copy.deepcopy(rec)
    forged["ranking"] = list(reversed(rec["ranking"]))
    assert not verify_draw.verify(forged)
