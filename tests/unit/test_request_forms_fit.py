"""Forms that fit the choice (issue 14): the request form's method-only fields, the qualification level's 请选择,
the item facts (and their JSON), ?item= / ?agency= prefill and invitations to quote, the offer form by pricing
mode, and bids pre-filled with the agency's store price. Server-side behaviour, through the test client."""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from marketplace.agencies.models import Offer
from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.requests.invitations import RequestInvitation
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests.html import field_errors, parse


def _form(item_id: int, **over) -> dict:
    deadline = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=10)
    data = {
        "title": "徐圩新区化工园区配套管廊项目环境影响评价",
        "project_code": "2026-320700-26-01-000888",
        "service_item_id": str(item_id),
        "scope": "编制环境影响报告书，配合完成技术评估、专家评审与审批。",
        "ceiling": "300000",
        "floor": "",
        "required_level": "any",
        "region_code": "320703",
        "required_days": "40",
        "funding": "fiscal",
        "selection_method": "lowest_price",
        "bid_deadline": deadline.strftime("%Y-%m-%dT10:00"),
        "action": "publish",
    }
    return data | over


def _requests() -> int:
    return db.session.scalar(select(func.count()).select_from(ServiceRequest))


def _newest() -> ServiceRequest:
    return db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id.desc())).first()


def test_fields_of_other_methods_never_block_the_form(client):
    enterprise = f.user("enterprise")
    item = f.market_item()
    f.login(client, enterprise)
    # A page without JavaScript still shows the weights and the shortlist size; junk there is ignored.
    junk = {
        "w_price": "abcdefgh",
        "w_rating": "-1",
        "w_on_time": "",
        "w_credit": "999999",
        "shortlist_size": "x" * 9,
    }
    r = client.post("/enterprise/requests/new", data=_form(item.id, **junk))
    assert r.status_code == 302, r.get_data(as_text=True)[:400]
    req = _newest()
    assert req.selection_method.value == "lowest_price" and req.weights is None and req.shortlist_size is None

    # The same junk is checked when the method uses it: nothing is created.
    before = _requests()
    page = client.post(
        "/enterprise/requests/new", data=_form(item.id, selection_method="composite", **junk)
    ).get_data(as_text=True)
    assert field_errors(page, "w_price") and _requests() == before

    # Credit shortlist: its size is used, the weights' junk is not.
    r = client.post(
        "/enterprise/requests/new",
        data=_form(item.id, selection_method="credit_shortlist", **(junk | {"shortlist_size": "4"})),
    )
    assert r.status_code == 302
    req = _newest()
    assert req.shortlist_size == 4 and req.weights is None


def test_qualification_level_starts_at_choose_and_must_be_chosen(client):
    enterprise = f.user("enterprise")
    item = f.market_item()
    f.login(client, enterprise)
    page = client.get("/enterprise/requests/new").get_data(as_text=True)
    select_el = next(
        e for e in parse(page).iter() if e.tag == "select" and e.attrs.get("name") == "required_level"
    )
    options = [e for e in select_el.iter() if e.tag == "option"]
    assert options[0].attrs.get("value") == "" and options[0].text() == "— 请选择 —"
    assert not any("selected" in o.attrs for o in options)  # no silent default

    before = _requests()
    page = client.post("/enterprise/requests/new", data=_form(item.id, required_level="")).get_data(
        as_text=True
    )
    assert field_errors(page, "required_level") == [
        "请选择投标机构须具备的资质等级，或选择“具备有效资质即可”。"
    ]
    assert _requests() == before

    assert (
        client.post("/enterprise/requests/new", data=_form(item.id, required_level="乙级")).status_code == 302
    )
    assert _newest().required_level.value == "乙级"
    assert (
        client.post("/enterprise/requests/new", data=_form(item.id, required_level="any")).status_code == 302
    )
    req = _newest()
    assert req.required_level is None
    # Editing a request that takes any qualification shows that choice, not 请选择.
    client.post("/enterprise/requests/new", data=_form(item.id, action="draft"))
    draft = _newest()
    page = client.get(f"/enterprise/requests/{draft.id}/edit").get_data(as_text=True)
    assert '<option selected value="any">' in page


def _sql_median(item_id: int) -> tuple[int | None, int]:
    rows = db.session.execute(
        text(
            "SELECT o.amount_fen FROM service_order o JOIN service_request r ON r.id = o.request_id "
            "WHERE r.service_item_id = :item AND o.status NOT IN ('declined', 'cancelled')"
        ),
        {"item": item_id},
    ).scalars()
    prices = list(rows)
    return (round(median(prices)) if prices else None), len(prices)


def test_item_facts_json_and_the_page_agree_with_sql(client):
    item = f.guided_item()
    agency = f.active_agency(item.category.code)
    for price in (8_000_000, 9_500_000, 12_000_000, 9_000_000):
        f.accepted_order(price_fen=price, agency=agency, service_item_id=item.id)
    expected, count = _sql_median(item.id)
    assert count == 4 and expected == 9_250_000

    body = client.get(f"/api/v1/catalogue/items/{item.id}/facts").get_json()
    assert body == {
        "id": item.id,
        "name": item.name,
        "category_id": item.category_id,
        "standard_days": item.standard_days,
        "fee_regime": "guided",
        "guide_min_fen": item.guide_min_fen,
        "guide_max_fen": item.guide_max_fen,
        "median_fen": expected,
        "deal_count": 4,
    }
    market = f.market_item()
    assert client.get(f"/api/v1/catalogue/items/{market.id}/facts").get_json()["median_fen"] is None
    assert client.get("/api/v1/catalogue/items/999999/facts").status_code == 404
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/catalogue/items/{item_id}/facts" in spec["paths"]

    # The form shows them server-side when the item is pre-selected (?item=).
    f.login(client, f.user("enterprise"))
    page = client.get(f"/enterprise/requests/new?item={item.id}").get_data(as_text=True)
    root = parse(page)
    chosen = [e for e in root.iter() if e.tag == "option" and "selected" in e.attrs]
    assert any(o.attrs.get("value") == str(item.id) for o in chosen)
    box = root.find_all(**{"data-item-facts": ""})[0]
    assert "hidden" not in box.attrs
    facts = {e.attrs["data-fact"]: e.text() for e in box.iter() if "data-fact" in e.attrs}
    assert facts["days"] == f"{item.standard_days} 天"
    assert facts["median"] == "¥92,500.00（4 单）"
    assert "至" in facts["guide"] and f"{item.guide_max_fen // 100:,}" in facts["guide"]


def test_an_invited_agency_is_told_on_publication_and_sees_it_marked(client):
    enterprise = f.user("enterprise")
    item = f.market_item()
    invited = f.active_agency("C03", org_name="连云港华测环境咨询有限公司")
    other = f.active_agency("C03")
    f.login(client, enterprise)
    page = client.get(f"/enterprise/requests/new?item={item.id}&agency={invited.agency.id}").get_data(
        as_text=True
    )
    assert "邀请 连云港华测环境咨询有限公司 报价" in page
    assert f'name="invite_agency_id" value="{invited.agency.id}" checked' in page
    # An unknown or inactive agency is no invitation.
    assert 'name="invite_agency_id"' not in client.get("/enterprise/requests/new?agency=999999").get_data(
        as_text=True
    )

    # A draft keeps the invitation without telling anyone.
    client.post(
        "/enterprise/requests/new",
        data=_form(item.id, action="draft", invite_agency_id=str(invited.agency.id)),
    )
    draft = _newest()
    assert [i.agency_id for i in db.session.scalars(select(RequestInvitation))] == [invited.agency.id]
    told = select(func.count()).select_from(Notification).where(Notification.user_id == invited.id)
    before = db.session.scalar(told)

    # Publishing tells the invited agency once; the request stays an open announcement.
    form = _form(item.id, invite_agency_id=str(invited.agency.id))
    assert client.post(f"/enterprise/requests/{draft.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(ServiceRequest, draft.id).status.value == "bidding"
    invitation = db.session.scalars(select(RequestInvitation)).one()
    assert invitation.notified_at is not None
    assert db.session.scalar(told) > before
    note = db.session.scalars(
        select(Notification).where(Notification.user_id == invited.id).order_by(Notification.id.desc())
    ).first()
    assert note.link == f"/requests/{draft.id}" and "invites" in note.text
    assert db.session.scalar(told) == before + 1  # the invitation, not also the "new in your field" one
    assert db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "request.invite")
    )

    client.get("/auth/logout")
    f.login(client, invited)
    inbox = parse(client.get("/agency/inbox").get_data(as_text=True))
    row = inbox.find_all("li", **{"data-request-id": str(draft.id)})[0]
    assert row.find_all(**{"data-invited": ""})[0].text() == "邀请"
    client.get("/auth/logout")
    f.login(client, other)
    row = parse(client.get("/agency/inbox").get_data(as_text=True)).find_all(
        "li", **{"data-request-id": str(draft.id)}
    )
    assert row and not row[0].find_all(**{"data-invited": ""})  # open to all; only the invited one is marked


def test_unticking_the_invitation_removes_it(client):
    enterprise = f.user("enterprise")
    item = f.market_item()
    invited = f.active_agency("C03")
    f.login(client, enterprise)
    client.post(
        "/enterprise/requests/new",
        data=_form(item.id, action="draft", invite_agency_id=str(invited.agency.id)),
    )
    draft = _newest()
    assert db.session.scalar(select(func.count()).select_from(RequestInvitation)) == 1
    client.post(f"/enterprise/requests/{draft.id}/edit", data=_form(item.id))  # the box unticked: not sent
    assert db.session.scalar(select(func.count()).select_from(RequestInvitation)) == 0
    # An excluded agency cannot be invited: refused, nothing changes.
    form = _form(
        item.id,
        action="draft",
        invite_agency_id=str(invited.agency.id),
        **{"exclusions-0-agency_id": str(invited.agency.id), "exclusions-0-reason": "与本单位存在关联关系"},
    )
    before = _requests()
    page = client.post("/enterprise/requests/new", data=form).get_data(as_text=True)
    assert "您已要求该机构回避本需求，不能邀请其报价。" in page
    assert _requests() == before


def _offers_form(item_id: int, **over) -> dict:
    return {"service_item_id": str(item_id), "price_mode": "fixed", "promised_days": "20"} | over


def test_the_offer_form_checks_only_the_chosen_pricing_mode(client):
    agency = f.active_agency("C03")
    market, guided = f.market_item(), f.guided_item()
    f.login(client, agency)
    page = client.get("/agency/offers").get_data(as_text=True)
    root = parse(page)
    slots = {
        e.attrs["data-show-when"]
        for e in root.find_all(**{"data-form": "offer"})[0].iter()
        if "data-show-when" in e.attrs
    }
    assert slots == {"price_mode=fixed", "price_mode=range", "price_mode=discount"}
    option = next(e for e in root.iter() if e.tag == "option" and e.attrs.get("value") == str(market.id))
    assert option.attrs.get("data-guided") == "0"

    junk = {"price_min": "x" * 30, "price_max": "y" * 30, "discount_pct": "1234"}
    r = client.post("/agency/offers", data=_offers_form(market.id, price="18000", **junk))
    assert r.status_code == 302
    offer = db.session.scalar(select(Offer).where(Offer.agency_id == agency.agency.id))
    assert offer.price_fen == 1_800_000 and offer.price_min_fen is None and offer.discount_pct is None

    # The range's own fields are checked when it is chosen.
    page = client.post("/agency/offers", data=_offers_form(market.id, price_mode="range", **junk)).get_data(
        as_text=True
    )
    assert field_errors(page, "price_min") and field_errors(page, "price_max")
    # No discount on the guide price for a market-priced item.
    page = client.post(
        "/agency/offers", data=_offers_form(market.id, price_mode="discount", discount_pct="85")
    ).get_data(as_text=True)
    assert field_errors(page, "price_mode")
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).price_mode.value == "fixed"
    # A guided item takes the discount.
    client.get("/auth/logout")
    f.login(client, f.active_agency(guided.category.code))
    r = client.post("/agency/offers", data=_offers_form(guided.id, price_mode="discount", discount_pct="85"))
    assert r.status_code == 302


def test_the_bid_form_is_pre_filled_with_the_store_price(client):
    item = f.market_item()
    agency = f.active_agency("C03")
    f.offer(agency, item, price_fen=2_500_000, promised_days=25)
    req = f.published_request(service_item_id=item.id, ceiling_fen=30_000_000, required_days=40)
    f.login(client, agency)
    root = parse(client.get(f"/requests/{req.id}").get_data(as_text=True))
    form = root.find_all("form", **{"data-form": "bid"})[0]
    values = {e.attrs.get("name"): e.attrs.get("value") for e in form.iter() if e.tag == "input"}
    assert values["price"] == "25000.00" and values["promised_days"] == "25"
    assert form.find_all(**{"data-prefilled": ""})[0].text() == "按本店报价预填，可按需修改。"

    # A store price above the request's ceiling is not offered as the bid.
    dear = f.published_request(service_item_id=item.id, ceiling_fen=2_000_000, required_days=40)
    form = parse(client.get(f"/requests/{dear.id}").get_data(as_text=True)).find_all(
        "form", **{"data-form": "bid"}
    )[0]
    values = {e.attrs.get("name"): e.attrs.get("value") for e in form.iter() if e.tag == "input"}
    assert not values.get("price") and not form.find_all(**{"data-prefilled": ""})

    # An agency without an offer for the item gets an empty form.
    client.get("/auth/logout")
    f.login(client, f.active_agency("C03"))
    form = parse(client.get(f"/requests/{req.id}").get_data(as_text=True)).find_all(
        "form", **{"data-form": "bid"}
    )[0]
    assert not form.find_all(**{"data-prefilled": ""})


def test_the_inbox_shows_each_row_its_own_bid_count_and_bar_in_queries_that_do_not_grow_with_rows(client):
    """The agency's desk: beside each open announcement its own bid (if any), the number of bids and why it may
    not bid — read for the whole page at once (a few queries per row made the inbox slow at national size)."""
    from marketplace.credit import services as credit

    enterprise, agency, rival = f.user("enterprise"), f.active_agency("C03"), f.active_agency("C03")
    reqs = [f.published_request(enterprise, title=f"南京江北新区第{i}号地块环境影响评价") for i in range(3)]
    f.bid(agency, reqs[0], price_fen=18_800_000)
    f.bid(rival, reqs[0])
    f.bid(rival, reqs[1])

    def rows() -> dict[int, str]:
        page = parse(client.get("/agency/inbox").get_data(as_text=True))
        return {
            r.id: " ".join(page.find_all("li", **{"data-request-id": str(r.id)})[0].text().split())
            for r in reqs
        }

    f.login(client, agency)
    seen = rows()
    assert "我的报价" in seen[reqs[0].id] and "¥188,000.00" in seen[reqs[0].id]
    assert (
        "报价数 2 " in seen[reqs[0].id]
        and "报价数 1 " in seen[reqs[1].id]
        and "报价数 0 " in seen[reqs[2].id]
    )
    assert "我的报价" not in seen[reqs[1].id] and "立即报价" in seen[reqs[1].id]
    assert "⚠" not in "".join(seen.values())

    credit.list_agency(
        f.staff("supervisor"),
        {
            "agency_id": agency.agency.id,
            "list": "black",
            "reason": "虚假承诺",
            "basis": "平台管理办法第二十条",
            "until": (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=90)).date().isoformat(),
        },
    )
    db.session.commit()
    seen = rows()
    assert (
        "⚠" in seen[reqs[1].id] and "⚠" in seen[reqs[2].id]
    )  # the black list bars every row it has no bid on
    assert "我的报价" in seen[reqs[0].id]

    engine = db.engine
    counted: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        counted.append(statement)

    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", listen)
    try:
        client.get("/agency/inbox")
        three = len(counted)
        for i in range(3, 9):
            f.published_request(enterprise, title=f"南京江北新区第{i}号地块环境影响评价")
        counted.clear()
        client.get("/agency/inbox")
        nine = len(counted)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert nine <= three + 1, (three, nine)  # one more at most (another service item's requirements)
