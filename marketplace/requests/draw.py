"""Verifiable draws: pure functions that anyone can re-run from the published seed and candidates.

Commitment: at publishing a secret seed (32 hex characters) is stored and SHA-256(seed as UTF-8) published.
At the draw the seed is revealed; every random choice is then

    index(seed, purpose, n) = int(SHA-256(f"{seed}:{purpose}").hexdigest(), 16) mod n

and a random order of a list is built by repeatedly taking `index(seed, f"{purpose}:{k}", remaining)` for
k = 0, 1, 2, … from the candidates in canonical order (ascending bid id). The standalone verifier in
`marketplace/requests/verify_draw.py` re-implements this with nothing but the standard library.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")
ALGORITHM = "sha256-mod-v1"
COEFFICIENTS = (95, 96, 97, 98)


def new_seed() -> str:
    return secrets.token_hex(16)


def commitment(seed: str) -> str:
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


def index(seed: str, purpose: str, n: int) -> int:
    if n <= 0:
        raise ValueError("nothing to draw from")
    return int(hashlib.sha256(f"{seed}:{purpose}".encode()).hexdigest(), 16) % n


def shuffled(seed: str, purpose: str, items: Sequence[T]) -> list[T]:
    pool = list(items)
    out: list[T] = []
    k = 0
    while pool:
        out.append(pool.pop(index(seed, f"{purpose}:{k}", len(pool))))
        k += 1
    return out


def coefficient(seed: str) -> int:
    """The average-price method's coefficient, in percent, drawn from 95–98."""
    return COEFFICIENTS[index(seed, "coefficient", len(COEFFICIENTS))]


def trimmed_mean_fen(prices: Sequence[int]) -> int:
    """Drop one highest and one lowest price (when at least three), average the rest, round half up to a fen."""
    values = sorted(prices)
    if len(values) >= 3:
        values = values[1:-1]
    total, n = sum(values), len(values)
    return (2 * total + n) // (2 * n)


def reference_price_fen(prices: Sequence[int], coefficient_pct: int) -> int:
    mean = trimmed_mean_fen(prices)
    return (2 * mean * coefficient_pct + 100) // 200


# --- ranking by method -----------------------------------------------------------------------------
# A candidate is a dict: {"bid_id", "price_fen", "promised_days", "credit_score", "avg_rating", "on_time_rate"}.
# Missing statistics (a new member) count as NEUTRAL so newcomers are neither favoured nor shut out.
NEUTRAL = {"credit_score": 80.0, "avg_rating": 4.0, "on_time_rate": 0.8}
DEFAULT_WEIGHTS = {"price": 50, "rating": 20, "on_time": 15, "credit": 15}
DEFAULT_SHORTLIST = 3


def _stat(candidate: dict, name: str) -> float:
    value = candidate.get(name)
    return float(NEUTRAL[name] if value is None else value)


def composite_score(candidate: dict, lowest_price_fen: int, weights: dict[str, int]) -> float:
    parts = {
        "price": lowest_price_fen / candidate["price_fen"],
        "rating": _stat(candidate, "avg_rating") / 5,
        "on_time": _stat(candidate, "on_time_rate"),
        "credit": _stat(candidate, "credit_score") / 100,
    }
    return round(sum(weights.get(k, 0) * v for k, v in parts.items()), 6)


def rank(
    method: str,
    seed: str,
    candidates: list[dict],
    weights: dict | None = None,
    shortlist_size: int | None = None,
):
    """Order every candidate by the method's rule; ties (and the random methods) use the seed.

    Returns (ranking as bid ids, details for the published proof).
    """
    ordered = sorted(candidates, key=lambda c: c["bid_id"])
    ids = [c["bid_id"] for c in ordered]
    tie = {bid_id: pos for pos, bid_id in enumerate(shuffled(seed, "tie", ids))}
    details: dict = {"algorithm": ALGORITHM, "candidates": ids, "tie_order": shuffled(seed, "tie", ids)}
    if method == "random":
        ranking = shuffled(seed, "random", ids)
    elif method == "lowest_price":
        ranking = [c["bid_id"] for c in sorted(ordered, key=lambda c: (c["price_fen"], tie[c["bid_id"]]))]
    elif method == "composite":
        weights = weights or DEFAULT_WEIGHTS
        lowest = min(c["price_fen"] for c in ordered)
        scores = {c["bid_id"]: composite_score(c, lowest, weights) for c in ordered}
        ranking = sorted(ids, key=lambda b: (-scores[b], tie[b]))
        details.update(weights=weights, scores={str(k): v for k, v in scores.items()})
    elif method == "average_price":
        coef = coefficient(seed)
        reference = reference_price_fen([c["price_fen"] for c in ordered], coef)
        distance = {c["bid_id"]: abs(c["price_fen"] - reference) for c in ordered}
        ranking = sorted(ids, key=lambda b: (distance[b], tie[b]))
        details.update(
            coefficient_pct=coef,
            trimmed_mean_fen=trimmed_mean_fen([c["price_fen"] for c in ordered]),
            reference_fen=reference,
        )
    elif method == "credit_shortlist":
        size = shortlist_size or DEFAULT_SHORTLIST
        by_credit = sorted(ordered, key=lambda c: (-_stat(c, "credit_score"), tie[c["bid_id"]]))
        shortlist = [c["bid_id"] for c in by_credit[:size]]
        ranking = shuffled(seed, "shortlist", sorted(shortlist)) + [c["bid_id"] for c in by_credit[size:]]
        details.update(shortlist=shortlist, shortlist_size=size)
    else:
        raise ValueError(f"unknown method {method}")
    details["ranking"] = ranking
    return ranking, details
