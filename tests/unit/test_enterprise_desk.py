"""The enterprise's desk at the size of a busy client: its requests a page at a time with the tabs counted in SQL
(by phase, as time has made it, whether or not the clock ran), the bids counted per page, and the live orders due
soonest with the count of all of them."""

from __future__ import annotations

from datetime import timedelta

from marketplace.requests import desk_views
from tests import factories as f
from tests import timetravel
from tests.html import parse


def _desk(client, query: str = ""):
    r = client.get(f"/enterprise/{query}")
    assert r.status_code == 200, r.status_code
    return parse(r.get_data(as_text=True))


def _shown(doc) -> list[int]:
    return [int(li.attrs["data-request-id"]) for li in doc.find_all("li", cls="notice")]


def _tab(doc, status: str | None) -> str:
    tabs = doc.find_all("nav", cls="tabs")[0].find_all("a")
    link = next(
        a
        for a in tabs
        if (f"status={status}" in a.attrs["href"] if status else "status=" not in a.attrs["href"])
    )
    return link.find_all("small")[0].text()


def _one(doc, tag: str, **attrs):
    found = doc.find_all(tag, **attrs)
    assert len(found) == 1, (tag, attrs, len(found))
    return found[0]


def test_requests_page_by_twenty_with_tabs_counted_by_phase(client):
    enterprise = f.user("enterprise")
    item = f.market_item()
    agency = f.active_agency("C03")
    reqs = [
        f.published_request(enterprise, item=item, title=f"连云港第{i}号管廊项目环境影响评价")
        for i in range(23)
    ]
    f.bid(agency, reqs[-1])  # the newest, on the first page
    # three past their deadline that the clock has not closed yet: evaluating all the same
    for req in reqs[:3]:
        timetravel.past_deadline(req, clock=False)
    f.login(client, enterprise)

    first = _desk(client)
    newest_first = [r.id for r in reversed(reqs)]
    assert _shown(first) == newest_first[:20]
    assert _tab(first, None) == "23"
    assert _tab(first, "bidding") == "20" and _tab(first, "evaluating") == "3"
    row = _one(first, "li", **{"data-request-id": str(reqs[-1].id)})
    assert row.find_all("div", cls="notice-side")[0].find_all("strong")[0].text() == "1"  # its bid, counted
    assert row.find_all("span", cls="countdown")  # still open: the time left, no selection button
    assert "23" in first.find_all("nav", cls="pager")[0].text()

    second = _desk(client, "?page=2")
    assert _shown(second) == newest_first[20:]

    evaluating = _desk(client, "?status=evaluating")
    assert sorted(_shown(evaluating)) == sorted(r.id for r in reqs[:3])
    for li in evaluating.find_all("li", cls="notice"):
        assert any(a.attrs["href"].endswith("/compare") for a in li.find_all("a"))
    assert reqs[0].id not in _shown(_desk(client, "?status=bidding"))
    assert len(_shown(_desk(client, "?status=bidding"))) == 20


def test_live_orders_due_soonest_with_the_count_of_all(client, monkeypatch):
    monkeypatch.setattr(desk_views, "DESK_LIVE_ORDERS", 2)
    enterprise = f.user("enterprise")
    agency = f.active_agency("C03")
    orders = [f.accepted_order(enterprise=enterprise, agency=agency, deliver=False)[2] for _ in range(3)]
    # the oldest order is due soonest
    timetravel._shift(type(orders[0]), orders[0].id, False, due_at=orders[0].due_at - timedelta(days=20))
    f.login(client, enterprise)

    doc = _desk(client)
    shown = [int(tr.attrs["data-order-id"]) for tr in doc.find_all("tr") if "data-order-id" in tr.attrs]
    assert shown[0] == orders[0].id and len(shown) == 2
    assert "3" in _one(doc, "small", **{"data-live-shown": ""}).text()
    assert _one(doc, "a", **{"data-link": "all-orders"}).attrs["href"].endswith("/orders/?status=live")
    kpi = doc.find_all("ul", cls="kpis")[0].find_all("strong")
    assert [k.text() for k in kpi][-1] == "3"  # live orders: all of them, not the ones shown

    monkeypatch.setattr(desk_views, "DESK_LIVE_ORDERS", 10)
    doc = _desk(client)
    assert len([tr for tr in doc.find_all("tr") if "data-order-id" in tr.attrs]) == 3
    assert not doc.find_all("small", **{"data-live-shown": ""})
