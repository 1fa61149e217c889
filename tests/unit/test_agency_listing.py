"""The list's kept rows (stats/listing.py, tally/listing.py): after a realistic run of market events they equal a
rebuild from scratch, and every sort and filter lists the agencies in the order of the query that reads the
agencies, offers, statistics and credit directly (agencies/services.py `public_agencies_query`, the reference),
whether paged by number (from either end) or by cursor."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text

from marketplace.agencies import membership, services
from marketplace.agencies import offers as offer_services
from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.catalogue.models import Category, FeeRegime, ServiceItem
from marketplace.credit import scores as credit_scores
from marketplace.extensions import db
from marketplace.tally import listing
from tests import factories as f

SORTS = ("composite", "sales", "rating", "price", "speed")
SCORES = {"quality": 5, "timeliness": 5, "attitude": 5, "fee": 5, "compliance": 5}


def _kept_equals_rebuilt() -> None:
    kept = listing.snapshot()
    listing.rebuild()
    assert listing.snapshot() == kept


def _reference(**filters) -> list[int]:
    stmt = services.public_agencies_query(services.ListFilter(**filters))
    return [a.id for a in db.session.scalars(stmt)]


def _listed(per_page: int = 100, page: int = 1, **filters) -> list[int]:
    return [
        a.id
        for a in services.listing_page(services.ListFilter(**filters), page=page, per_page=per_page).items
    ]


def _market(client):
    admin = f.admin()
    c03, c05 = f.category("C03"), f.category("C05")
    item = f.market_item("C03")
    other = next(i for i in c03.items if i.id != item.id)
    a1 = f.active_agency("C03", reviewer=admin, org_name="南京华信环境咨询有限公司")
    a1.agency.intro = "Huaxin: 环境影响评价与节能评估"
    db.session.commit()
    a2 = f.active_agency("C03", reviewer=admin, org_name="苏州中衡安全评价有限公司")
    a3 = f.active_agency("C05", reviewer=admin, org_name="无锡恒通测绘有限公司")
    a4 = f.active_agency("C03", reviewer=admin, org_name="常州明德工程咨询有限公司")
    _kept_equals_rebuilt()
    f.offer(a1, item, price_fen=3_000_000, promised_days=20)
    f.offer(a1, other, price_fen=1_000_000, promised_days=30)
    f.offer(a2, item, price_mode="range", price_fen=None, price_min_fen=2_000_000, price_max_fen=4_000_000)
    doomed = f.offer(a4, item, price_fen=2_000_000, promised_days=10)
    _kept_equals_rebuilt()
    for agency, price, overall in ((a1, 9_000_000, 5), (a1, 8_000_000, 4), (a2, 7_000_000, 2)):
        enterprise, _, order = f.accepted_order(price, agency=agency, admin=admin)
        r = client.post(
            f"/api/v1/orders/{order.id}/rating",
            json=SCORES | {"overall": overall},
            headers=f.token(client, enterprise),
        )
        assert r.status_code in (200, 201), r.get_json()
    _kept_equals_rebuilt()
    offer_services.remove_offer(a4, doomed.id)  # a4 keeps no offer: last by price and speed
    credit_scores.record_event(a2.agency.id, "false_statement", "agency", a2.agency.id, evidence="/x")
    membership.decide(admin, a3.agency.id, "suspend", "资质证书过期未更新")
    db.session.commit()
    _kept_equals_rebuilt()
    return {"c03": c03.id, "c05": c05.id, "item": item.id, "ids": [a.agency.id for a in (a1, a2, a3, a4)]}


FILTERS = [
    {},
    {"category_id": "c03"},
    {"category_id": "c05"},
    {"service_item_id": "item"},
    {"service_item_id": "item", "category_id": "c03"},
    {"service_item_id": "item", "category_id": "c05"},
    {"region": "320000"},
    {"level": "乙级"},
    {"q": "环境"},
    {"price_max_fen": 2_500_000},
    {"price_min_fen": 1_500_000, "price_max_fen": 5_000_000},
    {"service_item_id": "item", "price_max_fen": 2_500_000},
    {"price_min_fen": 1_500_000},
    {"service_item_id": "item", "category_id": "c03", "price_min_fen": 1_000_000, "price_max_fen": 2_500_000},
    {"price_min_fen": 1_000_000, "price_max_fen": 3_000_000, "region": "320000", "q": "咨询"},
    {"q": "测"},  # one character: no bigram to look up, the kept words are scanned
    {"q": "HUAXIN"},  # case-insensitive, in the introduction
    {"q": "环境 咨询"},  # a space inside: not found, as the reference does not
    {"q": "有限公司", "category_id": "c03"},
    {"q": "50%"},  # % is a plain character
]


def test_every_sort_and_filter_lists_as_the_reference_does(client):
    market = _market(client)
    assert market["ids"][2] not in _listed()  # suspended: off the list
    for raw in FILTERS:
        filters = {k: market[v] if isinstance(v, str) and v in market else v for k, v in raw.items()}
        for sort in SORTS:
            expected = _reference(sort=sort, **filters)
            assert _listed(sort=sort, **filters) == expected, (sort, filters)
            page = services.listing_page(services.ListFilter(sort=sort, **filters), per_page=1)
            assert page.total == len(expected)
            # one by one: by page number (the far half read backwards) and by cursor
            assert [
                _listed(sort=sort, page=n, per_page=1, **filters) for n in range(1, len(expected) + 3)
            ] == [[i] for i in expected] + [[], []], (sort, filters)  # and past the end
            walked, after = [], None
            while True:
                page = services.listing_page(
                    services.ListFilter(sort=sort, **filters), per_page=1, after=after
                )
                walked += [a.id for a in page.items]
                if not page.next_cursor:
                    break
                after = services.decode_cursor(sort, page.next_cursor)
            assert walked == expected, (sort, filters)


def test_the_list_pages_through_a_cursor_over_http(client):
    _market(client)
    first = client.get("/api/v1/agencies?page_size=1&sort=price")
    cursor = first.headers["X-Next-Cursor"]
    second = client.get(f"/api/v1/agencies?page_size=1&sort=price&after={cursor}")
    assert second.status_code == 200
    assert second.get_json()[0]["id"] == _reference(sort="price")[1]
    assert client.get(f"/api/v1/agencies?sort=sales&after={cursor}").status_code == 422  # another sort's
    assert client.get("/api/v1/agencies?after=bm9wZQ").status_code == 422
    html = client.get("/agencies/?sort=price&after=garbage")  # not ours: the first page
    assert html.status_code == 200


# garbage, not a list, too short, another sort's, page 1 or a boolean page, a float where the id goes
@pytest.mark.parametrize(
    "bad",
    ["", "!!", "e30", "WyJwcmljZSIsMV0", "WyJzYWxlcyIsMSwyXQ", "WyJwcmljZSIsInBhZ2UiLDFd",
     "WyJwcmljZSIsInBhZ2UiLHRydWVd", "WyJwcmljZSIsMS41LDIuNV0"],
)  # fmt: skip
def test_a_cursor_that_is_not_ours_is_refused(bad):
    assert services.decode_cursor("price", bad) is None


def test_the_keyword_follows_renames_of_agencies_items_and_categories(client):
    """The kept words follow every change the reference query sees: an agency renamed, an item's name and aliases,
    a category's name, an offer withdrawn — and equal a rebuild after them."""
    market = _market(client)
    a1 = db.session.get(Agency, market["ids"][0])
    item = db.session.get(ServiceItem, market["item"])
    assert a1.id in _listed(q=item.name[:3])
    item.name, item.aliases = "遥感监测服务", ["卫星遥感"]
    db.session.commit()
    a1.name = "南京华信规划设计院"
    db.session.get(Category, market["c03"]).name = "遥感规划设计服务类"
    db.session.commit()
    _kept_equals_rebuilt()
    for q in ("遥感", "卫星", "规划设计", "华信环境", "环境", item.name[:3], "设计院"):
        for sort in SORTS:
            assert _listed(q=q, sort=sort) == _reference(q=q, sort=sort), (q, sort)
    assert a1.id in _listed(q="卫星遥感") and a1.id not in _listed(q="华信环境")


def test_the_list_page_reads_a_fixed_number_of_statements(client):
    """The cards' rows come in a few statements whatever the page's size (no lazy load per card or offer)."""
    market = _market(client)
    for agency_id in market["ids"][:2]:  # a discount offer's price is a share of its item's guide price
        agency = db.session.get(Agency, agency_id)
        offered = {o.service_item_id for o in agency.offers}
        other = next(i for c in agency.categories for i in c.items if i.id not in offered)
        other.fee_regime, other.guide_min_fen, other.guide_max_fen = FeeRegime.GUIDED, 1_000_000, 3_000_000
        db.session.commit()
        f.offer(agency.user, other, price_mode="discount", price_fen=None, discount_pct=80)
    db.session.commit()
    del agency, other
    db.session.expunge_all()  # the test's own references would keep the items in the identity map
    engine = db.engine
    counts = []
    for size in (1, 4):
        seen: list[str] = []
        listen = lambda *a, seen=seen: seen.append(a[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listen)
        try:
            assert client.get(f"/api/v1/agencies?page_size={size}&sort=price").status_code == 200
            assert client.get(f"/agencies/?sort=price&per_page={size}").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        counts.append(len(seen))
    assert counts[0] == counts[1], counts


def test_the_cards_read_as_rows_say_what_the_agencies_say(client):
    """The HTML pages' cards (agencies/cards.py) read name, region, categories and the offers' summary as rows,
    the lowest price by `Offer.low_fen`'s rule in SQL: the same as the full objects say — fixed, range and
    discount offers, an inactive offer, an agency without offers, a suspended one (left out when asked)."""
    from marketplace.agencies.cards import cards

    market = _market(client)
    a1 = db.session.get(Agency, market["ids"][0])
    offered = {o.service_item_id for o in a1.offers}
    spare = [i for c in a1.categories for i in c.items if i.id not in offered]
    spare[0].fee_regime, spare[0].guide_min_fen, spare[0].guide_max_fen = FeeRegime.GUIDED, 999_999, 3_000_000
    db.session.commit()
    f.offer(a1.user, spare[0], price_mode="discount", price_fen=None, discount_pct=77, promised_days=7)
    db.session.expire_all()
    earlier = min((o for o in a1.offers if o.service_item_id != spare[0].id), key=lambda o: o.id)
    earlier.active = False  # an inactive offer counts for nothing
    db.session.commit()
    db.session.expire_all()
    ids = market["ids"]
    read = cards(ids)
    assert set(read) == set(ids)
    for agency in db.session.scalars(select(Agency).where(Agency.id.in_(ids))):
        card = read[agency.id]
        assert (card.id, card.name, card.region_code) == (agency.id, agency.name, agency.region_code)
        assert [c.name for c in card.categories] == [c.name for c in agency.categories]
        assert card.offer_summary == agency.offer_summary, agency.name
    assert read[a1.id].offer_summary.lowest_fen == 999_999 * 77 // 100  # the discount offer is the cheapest
    assert read[ids[3]].offer_summary.count == 0
    assert set(cards(ids, active_only=True)) == set(ids) - {ids[2]}  # the suspended one


def test_a_kept_card_shows_what_its_agency_says_now_and_in_the_visitors_language(client, app):
    """A card's HTML is kept per process (agencies/cards.py `agency_card`) under everything it shows: a renamed
    agency, a changed figure, a new offer, an item check, the other language each show at once."""
    market = _market(client)
    a1 = market["ids"][0]

    def card(path: str = "/agencies/") -> str:
        page = client.get(path).get_data(as_text=True)
        start = page.index(f'href="/agencies/{a1}"')
        return page[start : page.index("</article>", start)]

    first = card()
    assert "南京华信环境咨询有限公司" in first and card() == first  # the second one is the kept one
    assert app.extensions["mp_agency_cards"].made  # (kept: the rest of this test is about what it keeps)
    db.session.execute(
        text("UPDATE agency_stats SET completed_orders = 777 WHERE agency_id = :id"), {"id": a1}
    )
    db.session.commit()
    assert "<b>777</b>" in card() and "<b>777</b>" not in first
    db.session.execute(text("UPDATE agency SET name = '南京华信环评咨询有限公司' WHERE id = :id"), {"id": a1})
    db.session.commit()
    renamed = card()
    assert "南京华信环评咨询有限公司" in renamed and "南京华信环境咨询有限公司" not in renamed
    agency = db.session.get(Agency, a1)
    offered = {o.service_item_id for o in agency.offers}
    spare = next(i for c in agency.categories for i in c.items if i.id not in offered)
    f.offer(agency.user, spare, price_fen=12_300, promised_days=2)
    db.session.commit()
    offered_now = card()
    assert "¥123" in offered_now and "¥123" not in renamed
    item = next(iter(offered))
    assert "data-qual-check" in card(f"/agencies/?service_item={item}") and "data-qual-check" not in card()
    # no region: nothing in the card but its words differs between the languages
    db.session.execute(text("UPDATE agency SET region_code = NULL WHERE id = :id"), {"id": a1})
    db.session.commit()
    chinese = card()
    assert "<b>777</b> 单" in chinese
    client.get("/auth/lang/en")
    assert "<b>777</b> orders" in card()
    client.get("/auth/lang/zh_Hans")
    assert card() == chinese


# --- the price band and keyword filters against a plain Python filter ---------------------------------------------

NAMES = [
    ("南京华信环境咨询有限公司", "环境影响评价、节能评估。HUAXIN Consulting"),
    ("苏州中衡安全评价有限公司", "安全评价与职业卫生，服务苏州及周边"),
    ("无锡环境监测技术有限公司", "环境监测、环保验收"),
    ("常州明德工程咨询有限公司", "工程咨询、可研报告与环境评估"),
    ("南通华信测绘院", "测绘、不动产测量，50%以上项目在南通"),
    ("扬州信达环评中心", "环评报告书、报告表编制"),
    ("镇江安评科技有限公司", "安全预评价、验收评价"),
    ("泰州绿源节能服务有限公司", "节能评估、能源审计。Green Energy"),
]


def _plain_market(client) -> list[int]:
    """Agencies with Chinese names and introductions, each with several offers at prices spread from 5,000 to
    900,000 yuan (fixed or a range, one withdrawn), in two categories."""
    admin = f.admin()
    ids = []
    for n, (name, intro) in enumerate(NAMES):
        u = f.active_agency("C03" if n % 3 else "C05", reviewer=admin, org_name=name)
        u.agency.intro = intro
        db.session.commit()
        items = [i for c in u.agency.categories for i in c.items if i.fee_regime == FeeRegime.MARKET][:4]
        for k, item in enumerate(items):
            price = 500_000 * (1 + (n * 7 + k * 13) % 180)  # 5,000 to 900,000 yuan
            if (n + k) % 3 == 0:
                f.offer(
                    u, item, price_mode="range", price_fen=None, price_min_fen=price, price_max_fen=price * 2
                )
            else:
                f.offer(u, item, price_fen=price, promised_days=5 + (n + k) % 20)
        if items and n % 4 == 1:  # a withdrawn offer counts for nothing
            offer_services.remove_offer(u, u.agency.offers[0].id)
        ids.append(u.agency.id)
    db.session.commit()
    _kept_equals_rebuilt()
    return ids


def _plain(agency: Agency, *, q=None, low=None, high=None, item=None, category=None) -> bool:
    """The filters as a person reads them, in Python over the agency's own rows."""
    if agency.status != AgencyStatus.ACTIVE:
        return False
    offers = [o for o in agency.offers if o.active and (item is None or o.service_item_id == item)]
    if (item or category) and not offers and item:
        return False
    if category and category not in {c.id for c in agency.categories}:
        return False
    if q is not None:
        pieces = [agency.name, agency.intro or "", *(c.name for c in agency.categories)]
        pieces += [
            p
            for o in agency.offers
            if o.active
            for p in (o.service_item.name, *(o.service_item.aliases or []))
        ]
        if not any(q.strip().lower() in p.lower() for p in pieces):
            return False
    if low is not None or high is not None:
        prices = [o.price_fen if o.price_fen is not None else o.price_min_fen for o in offers]
        if not any(
            p is not None and (low is None or p >= low) and (high is None or p <= high) for p in prices
        ):
            return False
    return True


def _best(agency: Agency, low: int, high: int | None) -> int:
    """The agency's lowest price inside the band (an offer's fixed price or the bottom of its range)."""
    prices = [o.price_fen if o.price_fen is not None else o.price_min_fen for o in agency.offers if o.active]
    return min(p for p in prices if p is not None and p >= low and (high is None or p <= high))


PLAIN = [
    {"low": 1_000_000, "high": 50_000_000},  # the benchmark's 1–50万
    {"low": 20_000_000},
    {"high": 3_000_000},
    {"low": 3_000_000, "high": 3_000_000},
    {"low": 90_000_001},  # above every price
    {"q": "环境"},
    {"q": "华信"},
    {"q": "环境咨询"},
    {"q": " 安评 "},
    {"q": "huaxin"},
    {"q": "ENERGY"},
    {"q": "评价与"},
    {"q": "环境监"},
    {"q": "信环"},  # two characters inside one name
    {"q": "司南"},  # across two pieces: never
    {"q": "50%以"},
    {"q": "环境", "low": 1_000_000, "high": 50_000_000},
    {"q": "有限公司", "high": 20_000_000, "category": "c03"},
    {"q": "测绘", "category": "c05"},
    {"item": "item", "low": 1_000_000, "high": 60_000_000},
]


@pytest.mark.parametrize(
    "rare", [0, 2, 4000]
)  # pieces read as a list of candidates, checked per row, or mixed
def test_band_and_keyword_list_what_a_plain_filter_finds(client, monkeypatch, rare):
    """On either database: the list with a price band or keyword holds exactly the agencies a plain Python filter
    over their offers and words keeps, in the reference query's order, with its total."""
    from marketplace.stats import listing as kept

    monkeypatch.setattr(kept, "RARE_GRAM", rare)
    monkeypatch.setattr(services, "FEW_OFFERS", rare)  # a band's agencies as a list, or checked per row
    ids = _plain_market(client)
    c03 = f.category("C03").id
    item = next(o.service_item_id for a in ids for o in db.session.get(Agency, a).offers if o.active)
    agencies = [db.session.get(Agency, i) for i in ids]
    for raw in PLAIN:
        plain = {"category": c03 if raw.get("category") else None, "item": item if raw.get("item") else None}
        plain |= {k: raw[k] for k in ("q", "low", "high") if k in raw}
        expected = {a.id for a in agencies if _plain(a, **plain)}
        filters = {"q": raw.get("q"), "price_min_fen": raw.get("low"), "price_max_fen": raw.get("high")}
        filters |= {"category_id": plain["category"], "service_item_id": plain["item"]}
        for sort in SORTS:
            page = services.listing_page(services.ListFilter(sort=sort, **filters), per_page=100)
            listed = [a.id for a in page.items]
            assert set(listed) == expected and len(listed) == len(expected), (raw, sort)
            assert page.total == len(expected)
            assert listed == _reference(sort=sort, **filters), (raw, sort)
        if (
            plain.get("low") is not None and not plain["item"]
        ):  # by price: each agency's best offer in the band
            band = (plain["low"], plain.get("high"))
            by_price = sorted(
                (a for a in agencies if a.id in expected), key=lambda a: (_best(a, *band), a.id)
            )
            assert _listed(sort="price", **filters) == [a.id for a in by_price], raw
    # renamed, re-described, an offer withdrawn: the kept pieces follow, and equal a rebuild
    assert agencies[0].id in _listed(q="华信环境")
    agencies[0].name, agencies[1].intro = "南京华信规划设计院", "华信环境咨询 HUAXIN"
    db.session.commit()
    offer_services.remove_offer(agencies[2].user, next(o.id for o in agencies[2].offers if o.active))
    db.session.commit()
    _kept_equals_rebuilt()
    assert _listed(q="华信环境") == [agencies[1].id]
    for q in ("华信", "规划设计", "huaxin", "环境", "咨询 h"):
        assert {a.id for a in agencies if _plain(a, q=q)} == set(_listed(q=q)), q


def test_on_sqlite_a_band_asks_each_listed_agency_along_its_own_offers(client, monkeypatch):
    """SQLite has no statistics: the band's check per listed row must descend ix_offer_agency_low (one agency's
    offers, migration 0038), not ix_offer_low (the whole band: seconds at 100k agencies)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's own plan (PostgreSQL plans on statistics)")
    from marketplace.stats.listing import AgencyListing

    f.offer(f.active_agency("C03"), f.market_item("C03"), price_fen=3_000_000)
    monkeypatch.setattr(services, "FEW_OFFERS", 0)  # a broad band: asked per row
    band = services.ListFilter(price_min_fen=1_000_000, price_max_fen=50_000_000)
    stmt = select(AgencyListing.agency_id).where(services._in_band(band, AgencyListing.agency_id))
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    plan = " ".join(row[3] for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert "ix_offer_agency_low" in plan and "ix_offer_low " not in plan, plan
