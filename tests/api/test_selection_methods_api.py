"""Each selection method end to end through the API, proven with the standalone verifier; too few bids → 流标."""

import pytest

from marketplace.requests import verify_draw
from tests import factories as f
from tests import timetravel

PRICES = [21_000_000, 19_500_000, 20_000_000, 19_500_000]


def _bidding(client, method, n=4, funding="fiscal", **extra):
    enterprise, admin = f.user("enterprise"), f.admin()
    req = f.published_request(enterprise, selection_method=method, funding=funding, **extra)
    agencies = [f.active_agency("C03", reviewer=admin) for _ in range(n)]
    bids = [f.bid(a, req, price_fen=PRICES[i % 4]) for i, a in enumerate(agencies)]
    timetravel.past_deadline(req)
    return enterprise, req, bids


@pytest.mark.parametrize(
    "method", ["random", "lowest_price", "composite", "average_price", "credit_shortlist"]
)
def test_methods_are_verifiable(client, method):
    enterprise, req, bids = _bidding(client, method)
    h = f.token(client, enterprise)
    r = client.post(f"/api/v1/requests/{req.id}/selection", json={}, headers=h)
    assert r.status_code == 200, r.get_json()
    record = client.get(f"/api/v1/requests/{req.id}/draw").get_json()
    assert verify_draw.verify(record)
    assert record["winner_bid_id"] == r.get_json()["winner_bid_id"] == record["ranking"][0]
    assert sorted(record["ranking"]) == sorted(b.id for b in bids)
    if method == "lowest_price":
        assert {record["ranking"][0], record["ranking"][1]} == {bids[1].id, bids[3].id}  # the tie at ¥195,000
    if method == "average_price":
        assert record["details"]["coefficient_pct"] in (95, 96, 97, 98)


def test_direct_pick_needs_a_bid_and_a_reason(client):
    enterprise, req, bids = _bidding(client, "direct", n=1)
    h = f.token(client, enterprise)
    r = client.post(f"/api/v1/requests/{req.id}/selection", json={"bid_id": bids[0].id}, headers=h)
    assert r.status_code == 422 and "reason" in r.get_json()["errors"]
    r = client.post(
        f"/api/v1/requests/{req.id}/selection", json={"bid_id": 999999, "reason": "技术方案最优"}, headers=h
    )
    assert r.status_code == 422 and "bid_id" in r.get_json()["errors"]
    r = client.post(
        f"/api/v1/requests/{req.id}/selection",
        json={"bid_id": bids[0].id, "reason": "技术方案最优，团队经验丰富"},
        headers=h,
    )
    assert r.status_code == 200 and r.get_json()["winner_bid_id"] == bids[0].id
    assert (
        client.get(f"/api/v1/requests/{req.id}").get_json()["selection_reason"]
        == "技术方案最优，团队经验丰富"
    )


def test_too_few_bids_fail_and_can_be_republished(client):
    enterprise, req, _ = _bidding(client, "lowest_price", n=2)
    h = f.token(client, enterprise)
    body = client.get(f"/api/v1/requests/{req.id}").get_json()
    assert body["status"] == "failed" and "流标" in body["failure_reason"]
    assert client.post(f"/api/v1/requests/{req.id}/selection", json={}, headers=h).status_code == 409
    new_deadline = f.request_data()["bid_deadline"]
    r = client.post(f"/api/v1/requests/{req.id}/republish", json={"bid_deadline": new_deadline}, headers=h)
    assert r.status_code == 201
    again = r.get_json()
    assert again["status"] == "bidding" and again["round"] == 2 and again["previous_id"] == req.id
    assert again["draw_commitment"] != body["draw_commitment"]


def test_social_funding_may_award_a_single_bidder(client):
    enterprise, req, bids = _bidding(client, "lowest_price", n=1, funding="social")
    r = client.post(f"/api/v1/requests/{req.id}/selection", json={}, headers=f.token(client, enterprise))
    assert r.status_code == 200 and r.get_json()["winner_bid_id"] == bids[0].id


def test_min_bids_setting_is_respected(app, client):
    app.config["MARKET_MIN_BIDS"] = 5
    try:
        _, req, _ = _bidding(client, "random", n=4)
        assert client.get(f"/api/v1/requests/{req.id}").get_json()["status"] == "failed"
    finally:
        app.config["MARKET_MIN_BIDS"] = 3


def test_a_bidder_suspended_before_the_deadline_is_not_a_candidate(client):
    enterprise, admin = f.user("enterprise"), f.admin()
    req = f.published_request(enterprise, selection_method="lowest_price")
    agencies = [f.active_agency("C03", reviewer=admin) for _ in range(4)]
    bids = [
        f.bid(a, req, price_fen=p)
        for a, p in zip(agencies, [10_000_000, 20_000_000, 21_000_000, 22_000_000], strict=True)
    ]
    from marketplace.agencies import membership

    membership.decide(admin, agencies[0].agency.id, "suspend", "投诉查实，暂停会员资格")
    timetravel.past_deadline(req)
    rows = client.get(f"/api/v1/requests/{req.id}/bids", headers=f.token(client, enterprise)).get_json()
    statuses = {row["bid"]["id"]: row["bid"]["status"] for row in rows}
    assert statuses[bids[0].id] == "invalid"
    r = client.post(f"/api/v1/requests/{req.id}/selection", json={}, headers=f.token(client, enterprise))
    assert r.get_json()["winner_bid_id"] == bids[1].id
    assert client.get(f"/api/v1/requests/{req.id}/draw").get_json()["ranking"] == [
        bids[1].id,
        bids[2].id,
        bids[3].id,
    ]


def test_the_verifier_runs_standalone_on_the_api_output(client, tmp_path):
    """Copied alone into an empty folder and run by a plain Python, it verifies a real draw."""
    import json
    import shutil
    import subprocess
    import sys

    from marketplace.requests import verify_draw

    enterprise, req, _ = _bidding(client, "average_price")
    client.post(f"/api/v1/requests/{req.id}/selection", json={}, headers=f.token(client, enterprise))
    record = client.get(f"/api/v1/requests/{req.id}/draw").get_json()
    (tmp_path / "draw.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    script = shutil.copy(verify_draw.__file__, tmp_path / "verify.py")
    run = subprocess.run(
        [sys.executable, "-I", script, "draw.json"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0 and "VERIFIED" in run.stdout, run.stdout + run.stderr
    record["winner_bid_id"] = 424242
    (tmp_path / "draw.json").write_text(json.dumps(record), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-I", script, "draw.json"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1 and "NOT VERIFIED" in run.stdout
