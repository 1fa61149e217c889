"""Before the deadline nobody — the enterprise, other agencies, the public, administrators — can learn a bid's
price or bidder through the API, pages, page source or error messages. Only the number of bids."""

import json

import pytest

from tests import factories as f
from tests import timetravel

SECRET_PRICE = 17_654_321  # distinctive digits to look for everywhere


def _needles(bid, agency_user):
    yuan = f"{SECRET_PRICE // 100:,}"
    return [
        str(SECRET_PRICE),
        yuan,
        yuan.replace(",", ""),
        f"{SECRET_PRICE / 100:.2f}",
        agency_user.agency.name,
        agency_user.agency.uscc,
        f'"bid_id": {bid.id}',
    ]


@pytest.fixture
def sealed():
    admin = f.admin()
    enterprise = f.user("enterprise")
    bidder = f.active_agency("C03", reviewer=admin)
    rival = f.active_agency("C03", reviewer=admin)
    req = f.published_request(enterprise)
    bid = f.bid(bidder, req, price_fen=SECRET_PRICE, plan="独家技术路线：无人机航测结合 AI 识别。")
    return {
        "admin": admin,
        "enterprise": enterprise,
        "bidder": bidder,
        "rival": rival,
        "req": req,
        "bid": bid,
    }


def _leaks(text: str, needles) -> list[str]:
    return [n for n in needles if n in text]


def test_nothing_about_the_bid_leaks_through_the_api(client, sealed):
    req, bid, bidder = sealed["req"], sealed["bid"], sealed["bidder"]
    needles = _needles(bid, bidder) + ["无人机航测"]
    viewers = {"anonymous": {}, **{k: f.token(client, sealed[k]) for k in ("enterprise", "rival", "admin")}}
    for who, h in viewers.items():
        for path in (
            f"/api/v1/requests/{req.id}",
            "/api/v1/requests",
            f"/api/v1/requests?q={req.title[:4]}",
            f"/api/v1/requests/{req.id}/draw",
            f"/api/v1/requests/{req.id}/objections",
            "/api/v1/openapi.json",
        ):
            r = client.get(path, headers=h)
            assert not _leaks(r.get_data(as_text=True), needles), (who, path)
        store = client.get(f"/api/v1/agencies/{bidder.agency.id}", headers=h).get_data(as_text=True)
        assert not _leaks(store, needles[:4] + ["无人机航测"]), who  # its store shows nothing of its bids
        r = client.get(f"/api/v1/requests/{req.id}/bids", headers=h)
        assert r.status_code in (401, 403, 409), who
        assert not _leaks(r.get_data(as_text=True), needles), who
        # Trying to touch the bid says nothing either.
        for method, path in (("patch", f"/api/v1/bids/{bid.id}"), ("delete", f"/api/v1/bids/{bid.id}")):
            r = getattr(client, method)(path, json={"price_fen": 1}, headers=h)
            assert r.status_code in (401, 403, 404), (who, path, r.status_code)
            assert not _leaks(r.get_data(as_text=True), needles), (who, path)
    body = client.get(f"/api/v1/requests/{req.id}").get_json()
    assert body["bid_count"] == 1 and body["winner"] is None
    draw = client.get(f"/api/v1/requests/{req.id}/draw").get_json()
    assert draw["seed"] is None and draw["candidates"] == [] and draw["commitment"] == req.draw_commitment


def test_the_bidder_sees_only_its_own_bid(client, sealed):
    hb, hr = f.token(client, sealed["bidder"]), f.token(client, sealed["rival"])
    mine = client.get("/api/v1/agencies/me/bids", headers=hb).get_json()
    assert [b["price_fen"] for b in mine] == [SECRET_PRICE]
    assert client.get("/api/v1/agencies/me/bids", headers=hr).get_json() == []
    # The rival's own bid attempt errors never mention the other bid.
    r = client.post(
        f"/api/v1/requests/{sealed['req'].id}/bids",
        json={"price_fen": SECRET_PRICE, "promised_days": 30, "plan": "同价报价，测试是否泄露他人信息。"},
        headers=hr,
    )
    assert r.status_code == 201 and not _leaks(
        json.dumps(r.get_json(), ensure_ascii=False), [sealed["bidder"].agency.name]
    )


def test_after_the_deadline_the_enterprise_sees_them(client, sealed):
    timetravel.past_deadline(sealed["req"])
    rows = client.get(
        f"/api/v1/requests/{sealed['req'].id}/bids", headers=f.token(client, sealed["enterprise"])
    ).get_json()
    assert [row["bid"]["price_fen"] for row in rows] == [SECRET_PRICE]
    # Other agencies still never see them; administrators do.
    assert (
        client.get(
            f"/api/v1/requests/{sealed['req'].id}/bids", headers=f.token(client, sealed["rival"])
        ).status_code
        == 403
    )
    assert (
        client.get(
            f"/api/v1/requests/{sealed['req'].id}/bids", headers=f.token(client, sealed["admin"])
        ).status_code
        == 200
    )


def test_nothing_leaks_through_the_pages(client, sealed):
    req, bid, bidder = sealed["req"], sealed["bid"], sealed["bidder"]
    needles = _needles(bid, bidder)[:-1] + ["无人机航测"]
    for who in ("anonymous", "enterprise", "rival", "admin"):
        client.post("/auth/logout")
        if who != "anonymous":
            f.login(client, sealed[who])
        for path in (
            f"/requests/{req.id}",
            "/requests/",
            f"/requests/{req.id}/draw",
            "/enterprise/",
            "/agency/inbox",
            "/agency/bids",
            "/orders/",
        ):
            page = client.get(path).get_data(as_text=True)
            assert not _leaks(page, needles), (who, path)
        r = client.get(f"/requests/{req.id}/compare")
        assert r.status_code in (302, 403, 409) and not _leaks(r.get_data(as_text=True), needles), who
    client.post("/auth/logout")
    f.login(client, bidder)
    own = client.get(f"/requests/{req.id}").get_data(as_text=True)
    assert f"{SECRET_PRICE // 100:,}" in own  # the bidder sees its own bid
