"""Stores and the list as a Taobao shopper expects them (issue 14): store tabs, offer cards, the five rating
dimensions, confirmed fee violations, verified qualifications; 邀请报价 / 发布需求 links; 收藏 from the store and
the list onto the enterprise's desk; the service-item filter; search results on the list's cards."""

import io
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from marketplace.agencies import changes
from marketplace.agencies.models import Favourite
from marketplace.catalogue.models import Category
from marketplace.common.clock import LOCAL_TZ
from marketplace.extensions import db
from marketplace.fees import services as fees
from marketplace.fees.models import FeeFlag
from marketplace.ratings import services as ratings
from tests import factories as f
from tests.html import parse


def _page(client, path: str):
    r = client.get(path)
    assert r.status_code == 200, (path, r.status_code)
    return parse(r.get_data(as_text=True))


def _links(doc, kind: str) -> list[str]:
    return [a.attrs["href"] for a in doc.find_all("a") if a.attrs.get("data-link") == kind]


def _form_target(href: str) -> tuple[str, dict]:
    """The request form a 邀请报价 link leads to, directly or through the login page's next=."""
    parts = urlsplit(href)
    if parts.path == "/auth/login":
        parts = urlsplit(parse_qs(parts.query)["next"][0])
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def _rated_agency():
    """An agency with two offers, one accepted order rated on every dimension, and a confirmed fee violation."""
    admin = f.admin()
    agency = f.active_agency("C03", reviewer=admin)
    item = f.market_item()
    f.offer(agency, item, price_fen=5_000_000)  # the bid below goes above this published price: a fee flag
    enterprise, agency, order = f.accepted_order(
        price_fen=10_000_000, agency=agency, admin=admin, service_item_id=item.id
    )
    ratings.rate_order(
        enterprise,
        order.id,
        {
            "overall": 4,
            "quality": 5,
            "timeliness": 3,
            "attitude": 4,
            "fee": 2,
            "compliance": 5,
            "comment": "专业",
        },
    )
    flag = db.session.scalar(select(FeeFlag).where(FeeFlag.agency_id == agency.agency.id))
    assert flag is not None, "the bid above the published price raised no fee flag"
    fees.review(admin, flag.id, "confirm", "投标价高于本机构公示价格，属实")
    db.session.commit()
    return admin, enterprise, agency, item


def test_store_tabs_offer_cards_dimensions_violations_and_verified_qualifications(client):
    _admin, _enterprise, agency, item = _rated_agency()
    aid = agency.agency.id
    doc = _page(client, f"/agencies/{aid}")
    tabs = doc.find_all("a", role="tab")
    assert [t.attrs["data-tab"] for t in tabs] == ["home", "services", "ratings", "qualifications"]
    assert [t.attrs["aria-selected"] for t in tabs] == ["true", "false", "false", "false"]
    assert [t.text().split()[0] for t in tabs] == ["首页", "全部服务", "评价", "资质"]
    assert (
        doc.find_all(role="tablist")
        and doc.find_all(role="tabpanel")[0].attrs["aria-labelledby"] == "tab-home"
    )

    # the offer card: item, pricing mode, price, standard days, 邀请报价 with item and agency
    card = doc.find_all("article", cls="offer-card")[0]
    text = card.text()
    assert item.name in text and "固定价格" in text and "¥50,000.00" in text
    assert f"标准办理时限 {item.standard_days} 天" in text
    (invite,) = [a for a in card.find_all("a") if a.attrs.get("data-link") == "invite"]
    assert _form_target(invite.attrs["href"]) == (
        "/enterprise/requests/new",
        {"item": str(item.id), "agency": str(aid)},
    )

    # the five dimensions' averages with the count of ratings behind them
    dims = [e for e in doc.iter() if "data-dimensions" in e.attrs]
    assert dims, "no dimension panel on the store's home tab"
    values = {e.attrs["data-dimension"]: e.text() for e in dims[0].iter() if "data-dimension" in e.attrs}
    assert (
        values["quality"].endswith("5.00")
        and values["fee"].endswith("2.00")
        and values["timeliness"].endswith("3.00")
    )
    assert "质量" in values["quality"] and "收费" in values["fee"] and "规范" in values["compliance"]
    (count,) = [e for e in dims[0].iter() if "data-dimension-count" in e.attrs]
    assert count.attrs["data-dimension-count"] == "1"

    # the confirmed violation, plainly
    (violations,) = [e for e in doc.iter() if "data-violations" in e.attrs]
    assert "已确认的收费违规" in violations.text() and "高于机构自身店铺标价" in violations.text()

    # tabs are pages of their own (no JavaScript needed)
    services = _page(client, f"/agencies/{aid}?tab=services")
    assert [t.attrs["aria-selected"] for t in services.find_all("a", role="tab")][1] == "true"
    assert len(services.find_all("article", cls="offer-card")) == 1
    assert not [e for e in services.iter() if "data-dimensions" in e.attrs]
    quals = _page(client, f"/agencies/{aid}?tab=qualifications")
    verified = [e for e in quals.iter() if "data-verified" in e.attrs]
    approved = agency.agency.approved_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d")  # the date in Beijing
    assert verified and all("已核验" in v.text() and approved in v.text() for v in verified)
    ratings_tab = _page(client, f"/agencies/{aid}?tab=ratings")
    assert "专业" in ratings_tab.text() and not ratings_tab.find_all("article", cls="offer-card")
    assert (
        _page(client, f"/agencies/{aid}?tab=<script>").find_all("a", role="tab")[0].attrs["aria-selected"]
        == "true"
    )


def test_a_qualification_added_by_an_approved_change_is_verified_on_that_day(client):
    admin = f.admin()
    member = f.active_agency("C03", reviewer=admin)
    (first,) = member.agency.qualifications
    assert first.verified_at == member.agency.approved_at  # checked at the membership review
    member.agency.approved_at -= timedelta(days=10)  # admitted ten days ago
    body = {
        "name": "工程咨询单位乙级资信",
        "level": "乙级",
        "number": "乙232026010001",
        "issuer": "江苏省工程咨询协会",
        "valid_until": (date.today() + timedelta(days=700)).isoformat(),
    }
    change = changes.propose_qualification(member, body, prefix="")
    changes.attach_change_file(member, change.id, io.BytesIO(f.PDF), "scan.pdf")
    changes.approve(admin, change.id)
    db.session.commit()
    added = next(q for q in member.agency.qualifications if q.number == "乙232026010001")
    assert added.verified_at.date() == date.today() and added.verified_at > member.agency.approved_at
    doc = _page(client, f"/agencies/{member.agency.id}?tab=qualifications")
    row = next(e for e in doc.iter() if e.attrs.get("data-qualification") == str(added.id))
    assert (
        "已核验" in row.text() and added.verified_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d") in row.text()
    )


def test_buyers_find_a_way_to_act_on_home_store_and_catalogue(client):
    agency = f.active_agency()
    item = f.market_item()
    f.offer(agency, item)
    aid = agency.agency.id
    # visitors: through the login page, back to the pre-filled form
    (hero,) = _links(_page(client, "/"), "post-request")
    assert urlsplit(hero).path == "/auth/login" and _form_target(hero) == ("/enterprise/requests/new", {})
    (store_invite,) = _links(_page(client, f"/agencies/{aid}"), "invite-agency")
    assert _form_target(store_invite) == ("/enterprise/requests/new", {"agency": str(aid)})
    page = _page(client, f"/catalogue/items/{item.id}")
    (post,) = _links(page, "post-request")
    assert _form_target(post) == ("/enterprise/requests/new", {"item": str(item.id)})
    assert [_form_target(h) for h in _links(page, "invite")] == [
        ("/enterprise/requests/new", {"item": str(item.id), "agency": str(aid)})
    ]

    # an enterprise goes straight to the form
    f.login(client, f.user("enterprise"))
    (direct,) = _links(_page(client, f"/agencies/{aid}"), "invite-agency")
    assert direct == f"/enterprise/requests/new?agency={aid}"
    assert client.get(direct).status_code == 200

    # an agency cannot post requests: no such buttons for it
    client.get("/auth/logout")
    f.login(client, f.active_agency())
    assert not _links(_page(client, f"/agencies/{aid}"), "invite-agency")
    assert not _links(_page(client, f"/catalogue/items/{item.id}"), "post-request")


def _kept(user) -> int:
    return db.session.scalar(select(func.count()).select_from(Favourite).where(Favourite.user_id == user.id))


def test_an_enterprise_keeps_favourites_from_the_store_and_the_list_and_sees_them_on_its_desk(client):
    agency = f.active_agency(org_name="江苏绿源环境科技有限公司")
    f.offer(agency)
    aid = agency.agency.id
    # visitors are sent to log in, and nothing is kept
    r = client.post(f"/agencies/{aid}/favourite", data={"next": f"/agencies/{aid}"})
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/auth/login"
    assert db.session.scalar(select(func.count()).select_from(Favourite)) == 0
    # … and a visitor's card on the list links to the log-in, back to the same list page
    listing = _page(client, "/agencies/?sort=rating")
    (link,) = [a for a in listing.find_all("a") if a.attrs.get("data-favourite-login") == str(aid)]
    assert link.attrs["href"] == "/auth/login?next=/agencies/?sort%3Drating" and "收藏" in link.text()
    assert not [b for b in listing.find_all("button") if b.attrs.get("data-favourite")]

    buyer = f.user("enterprise")
    f.login(client, buyer)
    desk = _page(client, "/enterprise/")
    assert not desk.find_all("li", cls="fav-row") and "收藏" in desk.text()
    store = _page(client, f"/agencies/{aid}")
    (button,) = [b for b in store.find_all("button") if b.attrs.get("data-favourite") == str(aid)]
    assert button.attrs["aria-pressed"] == "false"
    for _ in range(2):  # twice is once
        r = client.post(f"/agencies/{aid}/favourite", data={"next": f"/agencies/{aid}"})
        assert r.status_code == 302 and r.headers["Location"] == f"/agencies/{aid}"
    assert _kept(buyer) == 1
    store = _page(client, f"/agencies/{aid}")
    (button,) = [b for b in store.find_all("button") if b.attrs.get("data-favourite") == str(aid)]
    assert button.attrs["aria-pressed"] == "true" and "已收藏" in button.text()

    desk = _page(client, "/enterprise/")
    (row,) = desk.find_all("li", cls="fav-row")
    assert "江苏绿源环境科技有限公司" in row.text() and "暂无评价" in row.text()
    (invite,) = [a for a in row.find_all("a") if a.attrs.get("data-link") == "invite"]
    assert invite.attrs["href"] == f"/enterprise/requests/new?agency={aid}"

    # from the list: the card's button, back to the same list page; a foreign next= is ignored
    listing = _page(client, "/agencies/?sort=rating")
    assert [b for b in listing.find_all("button") if b.attrs.get("data-favourite") == str(aid)]
    r = client.post(f"/agencies/{aid}/unfavourite", data={"next": "/agencies/?sort=rating"})
    assert r.headers["Location"] == "/agencies/?sort=rating" and _kept(buyer) == 0
    r = client.post(f"/agencies/{aid}/unfavourite", data={"next": "https://evil.example/"})
    assert r.headers["Location"] == f"/agencies/{aid}" and _kept(buyer) == 0
    assert client.get(f"/agencies/{aid}/favourite").status_code == 405

    # another enterprise user's favourites are its own; agencies and missing stores are refused
    client.post(f"/agencies/{aid}/favourite")
    client.get("/auth/logout")
    other = f.user("enterprise")
    f.login(client, other)
    assert not _page(client, "/enterprise/").find_all("li", cls="fav-row")
    assert client.post("/agencies/999999/favourite").status_code == 404
    client.get("/auth/logout")
    f.login(client, f.active_agency())
    assert client.post(f"/agencies/{aid}/favourite").status_code == 403
    assert _kept(buyer) == 1 and _kept(other) == 0


def test_favourite_posts_need_the_csrf_token(app, client):
    agency = f.active_agency()
    buyer = f.user("enterprise")
    f.login(client, buyer)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post(f"/agencies/{agency.agency.id}/favourite").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert _kept(buyer) == 0


def test_the_list_filters_by_service_item_within_the_category(client):
    a = f.active_agency("C03")
    b = f.active_agency("C03")
    item = f.market_item("C03")
    f.offer(a, item)
    doc = _page(client, "/agencies/")
    (select_item,) = [s for s in doc.find_all("select") if s.attrs.get("name") == "service_item"]
    assert "disabled" in select_item.attrs  # no category chosen yet
    assert [s for s in doc.find_all("script") if "filters.js" in s.attrs.get("src", "")]
    assert "data-autosubmit" in doc.find_all("form", cls="filters")[0].attrs

    doc = _page(client, f"/agencies/?category={item.category_id}")
    (select_item,) = [s for s in doc.find_all("select") if s.attrs.get("name") == "service_item"]
    options = [o.attrs.get("value") for o in select_item.find_all("option")]
    assert str(item.id) in options and "disabled" not in select_item.attrs

    doc = _page(client, f"/agencies/?category={item.category_id}&service_item={item.id}")
    shown = {int(e.attrs["data-agency-stats"]) for e in doc.iter() if "data-agency-stats" in e.attrs}
    assert a.agency.id in shown and b.agency.id not in shown
    # an item of another category is dropped when the category changes
    other = db.session.scalar(select(Category).where(Category.id != item.category_id).limit(1))
    doc = _page(client, f"/agencies/?category={other.id}&service_item={item.id}")
    assert item.name not in doc.find_all("h1")[0].text()


@pytest.fixture
def index_dir(app, tmp_path_factory, tmp_path, monkeypatch):
    from tests.unit.test_search import fresh_index

    return fresh_index(app, tmp_path_factory, tmp_path, monkeypatch)


def test_search_results_show_agencies_on_the_lists_cards(client, index_dir):
    agency = f.active_agency(org_name="南京蓝天测绘有限公司")
    f.offer(agency, price_fen=1_234_500)
    doc = _page(client, "/search?q=蓝天测绘")
    cards = doc.find_all("article", cls="agency-card")
    assert cards, "no agency card among the search results"
    (card,) = [c for c in cards if "南京蓝天测绘有限公司" in c.text()]
    assert "¥12,345.00" in card.text() and "单" in card.text()
    assert [e for e in card.iter() if e.attrs.get("data-agency-stats") == str(agency.agency.id)]
