"""The public fee figures kept per service item and division (stats/fees.py, fees/summary.py): after a realistic
run of deals — made, amended, declined, in several divisions, one leaving the 12-month window — the kept rows
equal the rebuilt ones, and the pages show the same figures as computed from the orders."""

import json
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from marketplace.catalogue import services as catalogue
from marketplace.catalogue.models import ServiceItem
from marketplace.common.clock import now
from marketplace.common.money import format_fen
from marketplace.common.sql import count_of
from marketplace.extensions import db
from marketplace.fees import reports as fee_reports
from marketplace.fees import summary
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.requests import services as requests
from marketplace.requests.models import ServiceRequest
from marketplace.requests.queries import public_requests_query
from marketplace.stats.fees import FeeItemSummary, summary_of
from tests import factories as f
from tests import timetravel
from tests.plans import statements


def _figures(client, item_id: int) -> dict:
    """What the fee pages, the fee API and the item facts say about one item (and the market)."""
    out = {
        "overview": client.get("/api/v1/fees").get_json(),
        "overview_city": client.get("/api/v1/fees?region=320500").get_json(),
        "facts": client.get(f"/api/v1/catalogue/items/{item_id}/facts").get_json(),
    }
    for region in (None, "320000", "320500", "320506", "330482"):
        q = f"?region={region}" if region else ""
        out[f"item{q}"] = client.get(f"/api/v1/service-items/{item_id}/fees{q}").get_json()
        page = client.get(f"/fees/items/{item_id}{q}")
        assert page.status_code == 200
        out[f"page{q}"] = page.get_data(as_text=True).split("<main", 1)[-1]
    out["index"] = client.get("/fees/").get_data(as_text=True).split("<main", 1)[-1]
    return out


def _declined_deal(item, agency, enterprise) -> Order:
    req = f.published_request(enterprise, selection_method="direct", service_item_id=item.id)
    winning = f.bid(agency, req, price_fen=item.guide_max_fen)
    timetravel.past_deadline(req)
    requests.select_winner(enterprise, req.id, winning.id, "技术方案最优，团队经验丰富")
    db.session.commit()
    timetravel.publicity_over(req)
    order = orders.order_for_request(req.id)
    orders.decline(agency, order.id, "项目组人员不足，无法按期完成")
    db.session.commit()
    return order


def test_kept_fee_figures_equal_the_rebuilt_ones_and_the_live_ones(client):
    item = f.guided_item()
    agency = f.active_agency(item.category.code)
    enterprise = f.user("enterprise")
    prices = ((item.guide_min_fen, "320506"), (item.guide_max_fen, "320506"), (item.guide_max_fen, "320106"))
    made = [
        f.accepted_order(
            price_fen=p, agency=agency, enterprise=enterprise, service_item_id=item.id, region_code=c
        )
        for p, c in prices
    ]
    orders.amend_contract(
        enterprise, made[1][2].id, item.guide_max_fen + 50_000, "补充协议：增加外业测量范围"
    )
    db.session.commit()
    declined = _declined_deal(item, agency, enterprise)
    assert db.session.get(Order, declined.id).status.value == "declined"
    # A year and a day pass for one deal (its date and the kept row's "valid until" move back together, as time
    # moving on would leave them): it has left the window, and the clock recomputes the item.
    old = made[2][2]
    db.session.execute(update(Order).where(Order.id == old.id).values(created_at=now() - timedelta(days=366)))
    db.session.execute(
        update(FeeItemSummary)
        .where(FeeItemSummary.service_item_id == item.id)
        .values(valid_until=now() - timedelta(days=1))
    )
    db.session.commit()
    # A GET never computes from the orders: until the clock's pass the pages show the kept row (the old deal
    # still counted) with the moment its figures were exact.
    before_clock = _figures(client, item.id)
    assert before_clock["facts"]["deal_count"] == 3
    assert before_clock["item"]["winning"]["count"] == 3 and before_clock["item"]["as_of"] is not None
    assert "data-as-of" in before_clock["page"] and "data-as-of" in before_clock["index"]
    assert db.session.get(FeeItemSummary, (item.id, "")).count == 3  # reading wrote nothing
    assert item.id in summary.due_ids()
    timetravel.run_clock()

    kept = summary.snapshot()
    kept_pages = _figures(client, item.id)
    assert kept_pages["facts"]["deal_count"] == 2 and kept_pages["item"]["as_of"] is None
    assert "data-as-of" not in kept_pages["page"] and "data-as-of" not in kept_pages["index"]
    market = db.session.get(FeeItemSummary, (item.id, ""))
    assert market.count == 2 and market.above_guide == 1
    assert set(
        db.session.scalars(select(FeeItemSummary.scope).where(FeeItemSummary.service_item_id == item.id))
    ) >= {
        "",
        "32",
        "3205",
        "320506",
    }
    # the kept figures are those of the orders: the same as computed from them by the reports' arithmetic
    deals = [d for d in fee_reports._deals(item.id)]
    assert summary_of(market) == fee_reports.price_summary(
        [d[1] for d in deals], [d[2] for d in deals], (item.guide_min_fen, item.guide_max_fen)
    )

    if db.engine.dialect.name == "postgresql":  # the database's grouped read equals the Python pass
        items = list(db.session.scalars(select(ServiceItem)))
        year = summary._deals()
        by_python = [r for i in items for r in summary._rows(i, [d for d in year if d[0] == i.id])]
        key = lambda r: (r["service_item_id"], r["scope"])  # noqa: E731
        assert sorted(summary._rows_by_sql(items), key=key) == sorted(by_python, key=key)
        assert sorted(summary._rows_by_sql([item], item.id), key=key) == sorted(
            summary._rows(item, [d for d in year if d[0] == item.id]), key=key
        )

    summary.rebuild()
    db.session.commit()
    assert summary.snapshot() == kept
    assert _figures(client, item.id) == kept_pages

    # Without any kept row (a database the rows were never built on) the pages show no deal, compute nothing,
    # and the clock's next pass writes the rows: the same figures again.
    db.session.execute(delete(FeeItemSummary))
    db.session.commit()
    assert client.get(f"/api/v1/service-items/{item.id}/fees").get_json()["winning"]["count"] == 0
    assert db.session.scalar(select(func.count()).select_from(FeeItemSummary)) == 0  # reading wrote nothing
    assert item.id in summary.due_ids()
    timetravel.run_clock()
    assert _figures(client, item.id) == kept_pages


def test_a_changed_guide_range_is_not_read_from_a_row_counted_against_the_old_one(client):
    item = f.guided_item()
    agency = f.active_agency(item.category.code)
    f.accepted_order(price_fen=item.guide_max_fen, agency=agency, service_item_id=item.id)
    page = client.get(f"/api/v1/service-items/{item.id}/fees").get_json()["winning"]
    assert page["above_guide"] == 0
    # The department lowers the ceiling of the guide range: its edit recounts the marks in its transaction.
    department = f.staff("department", department=item.department)
    catalogue.edit_item(
        department, item.id, {"guide_max_fen": item.guide_max_fen - 100, "note": "按新文件下调上限"}
    )
    db.session.commit()
    assert client.get(f"/api/v1/service-items/{item.id}/fees").get_json()["winning"]["above_guide"] == 1
    assert item.id not in summary.due_ids()
    assert db.session.get(FeeItemSummary, (item.id, "")).above_guide == 1
    # A row counted against another range (a change made outside the service) is the clock's to recount.
    item.guide_max_fen -= 100
    db.session.commit()
    assert item.id in summary.due_ids()
    timetravel.run_clock()
    assert item.id not in summary.due_ids()
    assert db.session.get(FeeItemSummary, (item.id, "")).above_guide == 1


def test_announcement_counts_are_kept_as_requests_move_and_equal_a_recount(app, client):
    from marketplace.requests import counts
    from marketplace.requests.models import RequestStatus

    item = f.guided_item()
    agency = f.active_agency(item.category.code)
    enterprise = f.user("enterprise")
    f.accepted_order(
        price_fen=item.guide_max_fen, agency=agency, enterprise=enterprise, service_item_id=item.id
    )
    _declined_deal(item, agency, enterprise)
    open_req = f.published_request(enterprise, service_item_id=item.id)
    requests.create_request(enterprise, f.request_data(item), publish=False)  # a draft: never counted
    cancelled = f.published_request(enterprise)
    requests.cancel_request(enterprise, cancelled.id, "项目取消")
    db.session.commit()

    kept = counts.snapshot()
    counts.rebuild()
    db.session.commit()
    assert counts.snapshot() == kept
    assert counts.total({RequestStatus.BIDDING}, item.id) == 1 and open_req.status == RequestStatus.BIDDING

    def listed(query: str) -> int:
        return len(client.get(f"/requests/?{query}").get_data(as_text=True).split("data-request-id=")) - 1

    def said(query: str) -> str:
        page = client.get(f"/requests/?{query}").get_data(as_text=True)
        return page.split('sortbar-count">', 1)[1].split("<", 1)[0]

    public = db.session.scalar(
        select(func.count()).select_from(ServiceRequest).where(ServiceRequest.published_at.is_not(None))
    )
    assert said("") == f"共 {public} 条公告" and listed("") == min(public, 20)
    assert said(f"service_item={item.id}") == "共 3 条公告"  # awarded, failed after the decline, open
    assert said("status=cancelled") == "共 1 条公告" and listed("status=cancelled") == 1
    assert said(f"status=bidding&service_item={item.id}") == "共 1 条公告"

    def api_total(query: str) -> int:  # the API's X-Pagination reads the same kept counts
        answer = client.get(f"/api/v1/requests?{query}")
        return json.loads(answer.headers["X-Pagination"])["total"]

    assert api_total("") == public and api_total(f"service_item_id={item.id}") == 3
    assert api_total("status=cancelled") == 1 and api_total("status=draft") == public
    assert api_total(f"status=bidding&service_item_id={item.id}") == 1
    assert api_total("q=no-such-title-anywhere") == 0  # a keyword still counts the query

    # the deadline passes and the clock has not run yet: bidding is over as time has made it, in the counts too
    bidding_before, evaluating_before = api_total("status=bidding"), api_total("status=evaluating")
    timetravel.past_deadline(open_req, clock=False)
    assert db.session.get(ServiceRequest, open_req.id).status == RequestStatus.BIDDING  # (by its status)
    assert api_total(f"status=bidding&service_item_id={item.id}") == 0
    assert api_total(f"status=evaluating&service_item_id={item.id}") == 1
    assert said(f"status=evaluating&service_item={item.id}") == "共 1 条公告"
    assert (api_total("status=bidding"), api_total("status=evaluating")) == (
        bidding_before - 1,
        evaluating_before + 1,
    )
    with statements(r"FROM \(SELECT service_request\.id") as counted:  # the page's query counted row by row
        api_total("status=bidding"), api_total("status=evaluating")
    assert not counted  # the kept counts and the few overdue ones
    for phase in (RequestStatus.BIDDING, RequestStatus.EVALUATING):  # as the query itself counts them
        assert api_total(f"status={phase.value}") == count_of(public_requests_query(phase.value))


def test_an_item_page_lists_the_fastest_offers_and_sends_to_the_list_for_the_rest(client, monkeypatch):
    from marketplace.home import catalogue

    item = f.market_item()
    slow, fast = f.active_agency(item.category.code), f.active_agency(item.category.code)
    f.offer(slow, item, promised_days=item.standard_days)
    f.offer(fast, item, promised_days=1)
    page = client.get(f"/catalogue/items/{item.id}").get_data(as_text=True)
    assert slow.agency.name in page and fast.agency.name in page and "data-more-offers" not in page

    monkeypatch.setattr(catalogue, "ITEM_OFFERS", 1)
    page = client.get(f"/catalogue/items/{item.id}").get_data(as_text=True)
    assert fast.agency.name in page and slow.agency.name not in page
    assert "data-more-offers" in page and "此处列出承诺时限最短的 1 家报价" in page


def test_a_kept_fee_table_shows_the_figures_and_guide_of_now_in_the_visitors_language(client, app):
    """Each category's table on /fees/ is kept per process (fees/views.py `fee_section`) under everything it
    shows: a new deal, a changed guide range and the other language each show at once."""
    item = f.guided_item()
    agency = f.active_agency(item.category.code)

    def row() -> str:
        page = client.get("/fees/").get_data(as_text=True)
        start = page.index(f'data-item-id="{item.id}"')
        return page[start : page.index("</tr>", start)]

    empty = row()
    assert row() == empty and app.extensions["mp_fee_sections"].made  # the second one is the kept one
    assert '<span class="muted">—</span>' in empty and "price" not in empty
    f.accepted_order(price_fen=item.guide_max_fen, agency=agency, service_item_id=item.id)
    one = row()
    assert f'<span class="price">{format_fen(item.guide_max_fen)}</span>' in one and one.endswith(
        ">1</td>\n      "
    )
    department = f.staff("department", department=item.department)
    ceiling = item.guide_max_fen - 100
    catalogue.edit_item(department, item.id, {"guide_max_fen": ceiling, "note": "按新文件下调上限"})
    db.session.commit()
    lowered = row()
    assert (
        format_fen(ceiling) in lowered and "data-outside-guide" in lowered and "data-outside-guide" not in one
    )
    assert "政府指导价" in lowered
    client.get("/auth/lang/en")
    english = row()
    assert "Government guide price" in english and "政府指导价" not in english
    client.get("/auth/lang/zh_Hans")
    assert row() == lowered


def test_with_a_delay_a_busy_items_deals_wait_for_one_recompute_by_the_clock(client, app, monkeypatch):
    """Production's way (FEES_FIGURES_DELAY_SECONDS ≥ 0): a deal only marks its item; the clock's first pass after
    the delay recomputes the item once for all its deals meanwhile, and the figures are those of a rebuild."""
    from marketplace.stats.fees import FeeItemDue

    item = f.guided_item()
    agency = f.active_agency(item.category.code)
    enterprise = f.user("enterprise")
    f.accepted_order(
        price_fen=item.guide_min_fen, agency=agency, enterprise=enterprise, service_item_id=item.id
    )
    assert db.session.get(FeeItemSummary, (item.id, "")).count == 1  # the tests' default: in the transaction
    before = summary.snapshot()

    monkeypatch.setitem(app.config, "FEES_FIGURES_DELAY_SECONDS", 30)
    f.accepted_order(
        price_fen=item.guide_max_fen, agency=agency, enterprise=enterprise, service_item_id=item.id
    )
    first = db.session.get(FeeItemDue, item.id).since
    f.accepted_order(
        price_fen=item.guide_max_fen + 10_000,
        agency=agency,
        enterprise=enterprise,
        service_item_id=item.id,
        region_code="320506",
    )
    db.session.expire_all()
    assert summary.snapshot() == before  # neither deal recomputed anything
    assert db.session.get(FeeItemDue, item.id).since == first  # one mark, from the first deal
    assert client.get(f"/api/v1/service-items/{item.id}/fees").get_json()["winning"]["count"] == 1

    assert item.id not in summary.due_ids()  # not before the delay
    timetravel.run_clock()
    assert db.session.get(FeeItemSummary, (item.id, "")).count == 1
    db.session.execute(update(FeeItemDue).values(since=first - timedelta(seconds=31)))  # 31 s pass
    db.session.commit()
    assert summary.due_ids() == [item.id]
    timetravel.run_clock()
    assert count_of(select(FeeItemDue)) == 0
    market = db.session.get(FeeItemSummary, (item.id, ""))
    assert market.count == 3 and market.above_guide == 1
    assert db.session.get(FeeItemSummary, (item.id, "320506")).count == 1
    assert client.get(f"/api/v1/service-items/{item.id}/fees").get_json()["winning"]["count"] == 3
    kept = summary.snapshot()
    summary.rebuild()
    db.session.commit()
    assert summary.snapshot() == kept
