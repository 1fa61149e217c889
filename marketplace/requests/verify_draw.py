"""Recompute a selection from its published draw record, with nothing but the Python standard library.

    python -m marketplace.requests.verify_draw https://…/api/v1/requests/42/draw
    python -m marketplace.requests.verify_draw draw.json

    python -m marketplace.requests.verify_draw https://…/api/v1/inspections/7/draw

Deliberately independent of the application's code (copy this file anywhere): it checks that the revealed
seed matches the commitment published with the announcement, then redoes the method's arithmetic and draws
and compares the ranking and the winner. Exit status 0 when everything agrees, 1 otherwise.

A random inspection's record (`"kind": "inspection"`, 双随机) is recognised too: the agencies are
shuffle(seed, "agencies", candidates)[:n], with n the task's number of agencies or ceil(share % × candidates)
(at least one, at most all), and each drawn agency a's inspectors shuffle(seed, "inspectors:a", inspectors)[:k].
"""

from __future__ import annotations

import hashlib
import json
import sys
import urllib.request

NEUTRAL = {"credit_score": 80.0, "avg_rating": 4.0, "on_time_rate": 0.8}
COEFFICIENTS = (95, 96, 97, 98)


def pick(seed: str, purpose: str, n: int) -> int:
    return int(hashlib.sha256(f"{seed}:{purpose}".encode()).hexdigest(), 16) % n


def shuffle(seed: str, purpose: str, items: list) -> list:
    pool, out, k = list(items), [], 0
    while pool:
        out.append(pool.pop(pick(seed, f"{purpose}:{k}", len(pool))))
        k += 1
    return out


def stat(row: dict, name: str) -> float:
    return float(NEUTRAL[name] if row.get(name) is None else row[name])


def recompute(record: dict) -> list[int]:
    seed, method, details = record["seed"], record["method"], record.get("details") or {}
    rows = sorted(record["candidates"], key=lambda r: r["bid_id"])
    ids = [r["bid_id"] for r in rows]
    if method == "direct":
        return record["ranking"]  # a recorded human choice: nothing random to recompute
    tie = {b: i for i, b in enumerate(shuffle(seed, "tie", ids))}
    if method == "random":
        return shuffle(seed, "random", ids)
    if method == "lowest_price":
        return [r["bid_id"] for r in sorted(rows, key=lambda r: (r["price_fen"], tie[r["bid_id"]]))]
    if method == "composite":
        weights = details["weights"]
        low = min(r["price_fen"] for r in rows)

        def score(r):
            parts = {
                "price": low / r["price_fen"],
                "rating": stat(r, "avg_rating") / 5,
                "on_time": stat(r, "on_time_rate"),
                "credit": stat(r, "credit_score") / 100,
            }
            return round(sum(weights.get(k, 0) * v for k, v in parts.items()), 6)

        return sorted(ids, key=lambda b: (-score(next(r for r in rows if r["bid_id"] == b)), tie[b]))
    if method == "average_price":
        prices = sorted(r["price_fen"] for r in rows)
        kept = prices[1:-1] if len(prices) >= 3 else prices
        mean = (2 * sum(kept) + len(kept)) // (2 * len(kept))
        coefficient = COEFFICIENTS[pick(seed, "coefficient", len(COEFFICIENTS))]
        reference = (2 * mean * coefficient + 100) // 200
        print(f"  trimmed mean {mean} fen × {coefficient}% = reference {reference} fen")
        return sorted(
            ids,
            key=lambda b: (abs(next(r for r in rows if r["bid_id"] == b)["price_fen"] - reference), tie[b]),
        )
    if method == "credit_shortlist":
        size = details["shortlist_size"]
        by_credit = sorted(rows, key=lambda r: (-stat(r, "credit_score"), tie[r["bid_id"]]))
        shortlist = sorted(r["bid_id"] for r in by_credit[:size])
        return shuffle(seed, "shortlist", shortlist) + [r["bid_id"] for r in by_credit[size:]]
    raise SystemExit(f"unknown method {method!r}")


def inspection_count(record: dict, candidates: int) -> int:
    if candidates <= 0:
        return 0
    if record.get("agency_count") is not None:
        return min(record["agency_count"], candidates)
    return min(candidates, max(1, -(-candidates * (record.get("share_pct") or 0) // 100)))


def verify_inspection(record: dict) -> bool:
    """双随机: recompute the drawn agencies, then each one's inspectors, from the revealed seed."""
    ok = True
    seed = record["seed"]
    agencies = sorted(record["agency_candidates"])
    inspectors = sorted(record["inspector_candidates"])
    if agencies != record["agency_candidates"] or inspectors != record["inspector_candidates"]:
        print("MISMATCH: the candidates are not in ascending id order")
        ok = False
    n = inspection_count(record, len(agencies))
    drawn = shuffle(seed, "agencies", agencies)[:n]
    print(f"agencies: {n} of {len(agencies)} candidates, recomputed {drawn}")
    if drawn != record["agencies"]:
        print(f"MISMATCH: published agencies {record['agencies']}")
        ok = False
    k = record["inspectors_per_agency"]
    expected = [
        {"agency_id": a, "inspector_ids": shuffle(seed, f"inspectors:{a}", inspectors)[:k]} for a in drawn
    ]
    published = [
        {"agency_id": r["agency_id"], "inspector_ids": r["inspector_ids"]} for r in record["assignments"]
    ]
    for row in expected:
        print(f"  agency {row['agency_id']}: inspectors {row['inspector_ids']}")
    if expected != published:
        print(f"MISMATCH: published inspectors {published}")
        ok = False
    if any(len(set(r["inspector_ids"])) != len(r["inspector_ids"]) for r in published):
        print("MISMATCH: an agency was given the same inspector twice")
        ok = False
    return ok


def verify(record: dict) -> bool:
    if isinstance(record.get("draw"), dict) and record["draw"].get("kind") == "inspection":
        record = record["draw"]  # an inspection's whole public record, with its draw inside
    ok = True
    if not record.get("seed"):
        print("the seed has not been revealed yet: nothing to verify")
        return False
    digest = hashlib.sha256(record["seed"].encode("utf-8")).hexdigest()
    print(f"commitment {record['commitment']}")
    print(f"sha256(seed) {digest}")
    if digest != record["commitment"]:
        print("MISMATCH: the revealed seed is not the one committed to at publishing")
        ok = False
    if record.get("kind") == "inspection":
        ok = verify_inspection(record) and ok
        print("VERIFIED" if ok else "NOT VERIFIED")
        return ok
    ranking = recompute(record)
    print(f"method {record['method']}: recomputed ranking {ranking}")
    if ranking != record["ranking"]:
        print(f"MISMATCH: published ranking {record['ranking']}")
        ok = False
    if record["ranking"] and record["winner_bid_id"] not in record["ranking"]:
        print("MISMATCH: the winner is not among the ranked bids")
        ok = False
    elif ranking and record["winner_bid_id"] != ranking[0] and record["method"] != "direct":
        print(
            f"note: winner {record['winner_bid_id']} is not first; an earlier winner stepped out (declined, disqualified or objection upheld)"
        )
    print("VERIFIED" if ok else "NOT VERIFIED")
    return ok


def load(source: str) -> dict:
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:  # noqa: S310 (a URL the user gives)
            return json.load(response)
    with open(source, encoding="utf-8") as fh:
        return json.load(fh)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    return 0 if verify(load(argv[1])) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
