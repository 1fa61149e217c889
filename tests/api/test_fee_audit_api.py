"""The fee audit end to end: bids opened at the deadline are checked, a contract amendment is checked, flags
are filtered, reviewed (a confirmed violation lowers the agency's credit) and exported for Excel; the public
fee page shows what the market paid; the deadline board shows red orders, which count against the agency."""

import csv
import io
from datetime import timedelta

from sqlalchemy import event, func, select

from marketplace.extensions import db
from marketplace.fees import checks
from marketplace.fees.models import FeeFlag
from marketplace.orders import services as orders
from marketplace.requests import services as requests
from marketplace.stats import figures
from marketplace.tally import services as tally
from tests import factories as f
from tests import timetravel

CEILING = 30_000_000


def _opened_request():
    """Three bids: A above its own published price, A and B identical, C abnormally low."""
    admin = f.admin()
    enterprise = f.user("enterprise")
    a, b, c = (f.active_agency("C03", reviewer=admin) for _ in range(3))
    item = f.market_item()
    f.offer(a, item, price_fen=15_000_000)
    req = f.published_request(enterprise, item=item, ceiling_fen=CEILING)
    f.bid(a, req, price_fen=20_000_000)
    f.bid(b, req, price_fen=20_000_000)
    f.bid(c, req, price_fen=9_000_000)
    timetravel.past_deadline(req)
    requests.get_request(enterprise, req.id)  # reading it closes the bidding
    return admin, enterprise, (a, b, c), item, req


def _flags(client, h, **query):
    r = client.get("/api/v1/admin/fee-audit", query_string=query, headers=h)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_bids_are_checked_when_bidding_closes(app, client):
    admin, enterprise, (a, b, c), item, req = _opened_request()
    h = f.token(client, admin)
    flags = _flags(client, h)
    found = {(x["rule"], x["agency_id"]) for x in flags}
    assert found == {
        ("over_offer", a.agency.id),
        ("identical_prices", a.agency.id),
        ("identical_prices", b.agency.id),
        ("abnormally_low", c.agency.id),
    }
    low = next(x for x in flags if x["rule"] == "abnormally_low")
    assert low["severity"] == "high" and low["status"] == "open" and low["request_id"] == req.id
    assert low["figures"]["others_mean_fen"] == 20_000_000 and set(low["figures"]["reasons"]) == {
        "mean",
        "next",
    }
    over = next(x for x in flags if x["rule"] == "over_offer")
    assert over["figures"]["offer_high_fen"] == 15_000_000 and over["severity"] == "high"
    assert "¥150,000.00" in over["description"]

    # filters
    assert len(_flags(client, h, rule="identical_prices")) == 2
    assert [x["agency_id"] for x in _flags(client, h, agency_id=c.agency.id)] == [c.agency.id]
    assert {x["rule"] for x in _flags(client, h, severity="high")} >= {"abnormally_low", "over_offer"}
    assert _flags(client, h, service_item_id=item.id + 1000) == []
    assert _flags(client, h, status="confirmed") == []
    assert len(_flags(client, h, **{"from": "2000-01-01", "to": "2999-12-31"})) == 4
    assert _flags(client, h, to="2000-01-01") == []
    for bad in ({"rule": "nonsense"}, {"from": "2026-13-01"}, {"from": "2026-02-01", "to": "2026-01-01"}):
        r = client.get("/api/v1/admin/fee-audit", query_string=bad, headers=h)
        assert r.status_code == 422 and r.get_json()["errors"], bad

    # only administrators
    assert client.get("/api/v1/admin/fee-audit").status_code == 401
    assert client.get("/api/v1/admin/fee-audit", headers=f.token(client, enterprise)).status_code == 403
    assert client.get("/api/v1/admin/fee-audit", headers=f.token(client, c)).status_code == 403

    # running every check again over history finds nothing new
    before = db.session.scalar(select(func.count()).select_from(FeeFlag))
    assert checks.audit_all() == before


def test_review_feeds_credit_and_csv_opens_in_excel(app, client):
    admin, enterprise, (a, b, c), item, req = _opened_request()
    h = f.token(client, admin)
    low = _flags(client, h, rule="abnormally_low")[0]
    url = f"/api/v1/admin/fee-audit/{low['id']}/review"
    assert client.post(url, json={"action": "confirm", "note": ""}, headers=h).status_code == 422
    assert client.post(url, json={"action": "approve", "note": "经核查属实"}, headers=h).status_code == 422
    assert (
        client.post(
            url, json={"action": "confirm", "note": "经核查属实"}, headers=f.token(client, c)
        ).status_code
        == 403
    )
    assert figures.agency_stats(c.agency.id)["credit_score"] == 80.0  # a new member: the base score

    r = client.post(
        url, json={"action": "confirm", "note": "经约谈核实，报价低于成本，认定违规。"}, headers=h
    )
    assert r.status_code == 200 and r.get_json()["status"] == "confirmed"
    confirmed = figures.agency_stats(c.agency.id)
    assert confirmed["violations"] == 1
    # credit (marketplace/credit/rules.py): a confirmed fee violation is −10 in the market source, whose
    # sub-score drops from 80 to 70; score = 0.5 × 80 + 0.3 × 80 + 0.2 × 70 = 78.0, grade C.
    assert confirmed["credit_score"] == 78.0 and confirmed["credit_grade"] == "C"
    # confirming twice is refused and counts nothing twice
    assert client.post(url, json={"action": "confirm", "note": "再次确认"}, headers=h).status_code == 409
    assert figures.agency_stats(c.agency.id)["violations"] == 1
    r = client.post(
        url, json={"action": "dismiss", "note": "复核后认定成本测算合理，撤销违规认定。"}, headers=h
    )
    assert r.get_json()["status"] == "dismissed" and r.get_json()["note"].startswith("复核后")
    assert figures.agency_stats(c.agency.id)["violations"] == 0
    # the event is withdrawn: the base score again
    assert figures.agency_stats(c.agency.id)["credit_score"] == 80.0

    r = client.get("/api/v1/admin/fee-audit.csv", query_string={"rule": "identical_prices"}, headers=h)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.data.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs for UTF-8
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert len(rows) == 3 and len(rows[0]) == len(rows[1]) == 11
    assert {rows[1][5], rows[2][5]} == {a.agency.name, b.agency.name}  # Chinese names intact
    assert b.agency.name in rows[1][9] or a.agency.name in rows[1][9]  # "same price as …"
    assert client.get("/api/v1/admin/fee-audit.csv", headers=f.token(client, enterprise)).status_code == 403


def test_contract_amendment_is_checked_and_public_fees_show_winning_prices(app, client):
    admin, enterprise, (a, b, c), item, req = _opened_request()
    requests.select_winner(enterprise, req.id)  # lowest price: C
    timetravel.publicity_over(req)
    order = orders.order_for_request(requests.get_request(enterprise, req.id).id)
    assert order.agency_id == c.agency.id and order.amount_fen == 9_000_000
    he, h = f.token(client, enterprise), f.token(client, admin)
    url = f"/api/v1/orders/{order.id}/amend"
    assert (
        client.post(
            url, json={"amount_fen": 31_000_000, "reason": "增加工作量"}, headers=f.token(client, c)
        ).status_code
        == 403
    )
    assert (
        client.post(url, json={"amount_fen": 9_000_000, "reason": "金额不变"}, headers=he).status_code == 422
    )
    assert client.post(url, json={"amount_fen": -1, "reason": "负数金额"}, headers=he).status_code == 422
    assert client.post(url, json={"amount_fen": 31_000_000, "reason": ""}, headers=he).status_code == 422
    assert not _flags(client, h, rule="contract_mismatch")

    r = client.post(url, json={"amount_fen": 31_000_000, "reason": "补充协议：增加专题论证"}, headers=he)
    assert r.status_code == 200 and r.get_json()["amount_fen"] == 31_000_000
    assert r.get_json()["events"][-1]["kind"] == "amend"
    mismatch = _flags(client, h, rule="contract_mismatch")
    assert len(mismatch) == 1 and mismatch[0]["order_id"] == order.id and mismatch[0]["severity"] == "high"
    assert mismatch[0]["figures"]["bid_price_fen"] == 9_000_000
    over = _flags(client, h, rule="over_ceiling")
    assert len(over) == 1 and over[0]["figures"]["over_fen"] == 1_000_000

    fees = client.get(f"/api/v1/service-items/{item.id}/fees").get_json()  # public
    assert fees["winning"]["count"] == 1 and fees["winning"]["median_fen"] == 31_000_000
    assert fees["guide_max_fen"] is None and len(fees["monthly"]) == 12 and fees["monthly"][-1]["count"] == 1
    listing = client.get("/api/v1/fees").get_json()
    assert next(x for x in listing if x["service_item_id"] == item.id)["winning"]["count"] == 1
    assert client.get("/api/v1/service-items/999999/fees").status_code == 404
    page = client.get(f"/fees/items/{item.id}")
    assert page.status_code == 200 and "¥310,000.00" in page.get_data(as_text=True)


def _card(client, agency_id: int) -> str:
    """The agency's figures on its card in the public list."""
    page = client.get("/agencies/", query_string={"q": ""}).get_data(as_text=True)
    start = page.index(f'data-agency-stats="{agency_id}"')
    return page[start : page.index("</p>", start)]


def test_deadline_board_and_red_orders_count_against_the_agency(app, client):
    admin, enterprise, (a, b, c), item, req = _opened_request()
    requests.select_winner(enterprise, req.id)
    timetravel.publicity_over(req)
    order = orders.order_for_request(requests.get_request(enterprise, req.id).id)
    orders.confirm(c, order.id)
    h = f.token(client, admin)
    board = client.get("/api/v1/admin/deadlines", headers=h).get_json()
    assert [(r["order"]["id"], r["deadline_status"]) for r in board] == [(order.id, "ok")]
    assert client.get("/api/v1/admin/deadlines", headers=f.token(client, enterprise)).status_code == 403
    assert (
        client.get("/api/v1/admin/deadlines", query_string={"state": "purple"}, headers=h).status_code == 422
    )

    timetravel.order_elapsed(order, 0.85)
    assert (
        client.get("/api/v1/admin/deadlines", query_string={"state": "yellow"}, headers=h).get_json()[0][
            "order"
        ]["id"]
        == order.id
    )
    timetravel.order_elapsed(order, 1.2)
    red = client.get("/api/v1/admin/deadlines", query_string={"state": "red"}, headers=h).get_json()
    assert red[0]["deadline_status"] == "red" and red[0]["days_left"] < 0
    overdue = figures.agency_stats(c.agency.id)
    assert (
        overdue["overdue_orders"] == 1
        and overdue["on_time_rate"] == 0.0
        and overdue["credit_score"] is not None
    )
    incremental = tally.snapshot()
    tally.rebuild()
    assert tally.snapshot() == incremental  # the rebuild counts the red order the same way
    # the list's card says why its on-time rate is 0 % with no completed order: one order is overdue
    assert "1 单已超期" in _card(client, c.agency.id)

    orders.deliver(c, order.id, "逾期提交成果")
    orders.accept(enterprise, order.id)
    done = figures.agency_stats(c.agency.id)
    assert done["overdue_orders"] == 0 and done["completed_orders"] == 1 and done["on_time_rate"] == 0.0
    assert "data-overdue" not in _card(
        client, c.agency.id
    )  # delivered late: counted in the rate, no longer overdue
    assert client.get("/api/v1/admin/deadlines", headers=h).get_json() == []
    incremental = tally.snapshot()
    tally.rebuild()
    assert tally.snapshot() == incremental


def test_fee_pages_in_the_browser_forms(app, client):
    """The HTML side: the audit page with filters, charts and CSV, a review through the form, the amendment
    form, the deadline board, the public fee pages; non-administrators are turned away."""
    admin, enterprise, (a, b, c), item, req = _opened_request()
    f.login(client, admin)
    page = client.get("/admin/fee-audit/?rule=identical_prices")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and a.agency.name in html and b.agency.name in html
    assert c.agency.name not in html.split("<tbody>")[1].split("</tbody>")[0]  # filtered out
    main = html.split("<main", 1)[1].split("</main>", 1)[0]  # the tab bar's icons are SVG too
    assert main.count("<svg") == 1  # no guided item has deals yet: only the savings chart
    assert client.get("/admin/fee-audit/?from=not-a-date").status_code == 200  # explained, not a 500
    csv_body = client.get("/admin/fee-audit/export.csv?rule=abnormally_low").data
    assert csv_body.startswith(b"\xef\xbb\xbf") and c.agency.name.encode() in csv_body

    low = db.session.scalar(select(FeeFlag).where(FeeFlag.rule == "abnormally_low"))
    r = client.post(f"/admin/fee-audit/{low.id}/review", data={"action": "confirm", "note": ""})
    assert r.status_code == 422 and db.session.get(FeeFlag, low.id).status == "open"
    r = client.post(
        f"/admin/fee-audit/{low.id}/review", data={"action": "confirm", "note": "经核查属实，认定违规。"}
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(FeeFlag, low.id).status == "confirmed"
    assert "经核查属实" in client.get(f"/admin/fee-audit/{low.id}").get_data(as_text=True)
    assert client.get("/admin/deadlines").status_code == 200
    assert client.get("/fees/").status_code == 200 and item.name in client.get("/fees/").get_data(
        as_text=True
    )

    other = app.test_client()
    f.login(other, enterprise)
    assert other.get("/admin/fee-audit/").status_code == 403
    assert other.get("/admin/deadlines").status_code == 403
    requests.select_winner(enterprise, req.id)
    timetravel.publicity_over(req)
    order = orders.order_for_request(requests.get_request(enterprise, req.id).id)
    assert other.get(f"/orders/{order.id}/amend").status_code == 200
    r = other.post(f"/orders/{order.id}/amend", data={"amount": "abc", "reason": "增加工作量"})
    assert r.status_code == 200 and orders.get_order(enterprise, order.id).amount_fen == 9_000_000
    r = other.post(f"/orders/{order.id}/amend", data={"amount": "95000", "reason": "补充协议：增加工作量"})
    assert r.status_code == 302
    db.session.expire_all()
    assert orders.get_order(enterprise, order.id).amount_fen == 9_500_000
    agency_client = app.test_client()
    f.login(agency_client, c)
    assert agency_client.get(f"/orders/{order.id}/amend").status_code == 404


def test_fees_audit_command_is_idempotent(app):
    _opened_request()
    db.session.execute(FeeFlag.__table__.delete().where(FeeFlag.rule == "abnormally_low"))
    db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["fees", "audit"])
    assert first.exit_code == 0 and "4 flags (1 new)" in first.output  # the deleted finding is found again
    again = runner.invoke(args=["fees", "audit"])
    assert "4 flags (0 new)" in again.output


def test_store_price_raised_sharply_after_winning(app, client):
    admin, enterprise, (a, b, c), item, req = _opened_request()
    f.offer(c, item, price_fen=9_000_000)
    f.offer(b, item, price_fen=9_000_000)
    requests.select_winner(enterprise, req.id)  # C wins at ¥90,000
    timetravel.publicity_over(req)
    assert orders.order_for_request(requests.get_request(enterprise, req.id).id).agency_id == c.agency.id
    h = f.token(client, admin)
    f.offer(c, item, price_fen=11_000_000)  # +22%: a price change, not a jump
    f.offer(b, item, price_fen=15_000_000)  # +67%, but B has not won anything
    assert _flags(client, h, rule="price_rise") == []
    f.offer(c, item, price_fen=16_000_000)  # +45% over the published price just before
    rise = _flags(client, h, rule="price_rise")
    assert len(rise) == 1 and rise[0]["agency_id"] == c.agency.id and rise[0]["bid_id"] is None
    assert (
        rise[0]["figures"]["old_high_fen"] == 11_000_000 and rise[0]["figures"]["new_high_fen"] == 16_000_000
    )
    assert "¥160,000.00" in rise[0]["description"]


def test_money_received_beyond_the_contract_is_flagged(app, client):
    from marketplace.payments import services as payments

    enterprise, agency, order = f.accepted_order(price_fen=10_000_000)
    paid = payments.record_offline(enterprise, order.id, reference="BOC20261122001", amount_fen=10_000_000)
    h = f.token(client, f.admin())
    assert _flags(client, h, rule="over_contract") == []  # not counted until the agency confirms
    payments.confirm_offline(agency, paid.id)
    assert _flags(client, h, rule="over_contract") == []  # exactly the contract: fine
    orders.amend_contract(enterprise, order.id, 9_000_000, "补充协议：核减部分工作内容")
    over = _flags(client, h, rule="over_contract")
    assert len(over) == 1 and over[0]["order_id"] == order.id and over[0]["severity"] == "high"
    assert over[0]["figures"] == {
        "paid_fen": 10_000_000,
        "contract_fen": 9_000_000,
        "over_fen": 1_000_000,
        "ceiling_fen": over[0]["figures"]["ceiling_fen"],
    }
    assert figures.agency_stats(agency.agency.id)["completed_orders"] == 1
    incremental = tally.snapshot()
    tally.rebuild()
    assert tally.snapshot() == incremental  # the cut follows into the totals (amount and guide sums)


def test_admin_pages_ask_anonymous_visitors_to_log_in_in_chinese(client):
    r = client.get("/admin/fee-audit/", follow_redirects=True)
    assert "/auth/login" in r.request.url and "请先登录后再访问此页面。" in r.get_data(as_text=True)


def test_csv_export_never_hands_excel_a_formula(app, client):
    """A request title, an agency name and a staff note that start like formulas reach Excel as text."""
    admin = f.admin()
    enterprise = f.user("enterprise")
    evil = f.active_agency("C03", reviewer=admin)
    db.session.execute(
        db.update(type(evil.agency))
        .where(type(evil.agency).id == evil.agency.id)
        .values(name="+cmd|' /C calc'!A0")
    )
    db.session.commit()
    others = [f.active_agency("C03", reviewer=admin) for _ in range(2)]
    req = f.published_request(
        enterprise, title='=HYPERLINK("http://evil.example","点击查看")', ceiling_fen=CEILING
    )
    f.bid(evil, req, price_fen=9_000_000)
    for other in others:
        f.bid(other, req, price_fen=20_000_000)
    timetravel.past_deadline(req)
    requests.get_request(enterprise, req.id)
    h = f.token(client, admin)
    low = next(x for x in _flags(client, h) if x["rule"] == "abnormally_low")
    r = client.post(
        f"/api/v1/admin/fee-audit/{low['id']}/review",
        json={"action": "dismiss", "note": "@SUM(1+1)*cmd"},
        headers=h,
    )
    assert r.status_code == 200
    body = client.get("/api/v1/admin/fee-audit.csv", query_string={"rule": "abnormally_low"}, headers=h).data
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    row = next(r for r in rows[1:] if r[0] == str(low["id"]))
    assert '\'=HYPERLINK("http://evil.example","点击查看")' in row
    assert "'+cmd|' /C calc'!A0" in row
    assert "'@SUM(1+1)*cmd" in row
    assert not any(cell[:1] in "=+-@\t\r" for cell in row if cell)


def test_bids_opened_now_meet_the_items_kept_median_and_history_its_own_year(app, client):
    """Bids opened now are checked against the item's median winning price as the fee page keeps it (exact,
    recomputed with every deal), without reading the item's year of orders inside the closing's transaction; a
    request re-checked over history (`audit_all`) meets the median of the year before its own closing."""
    item = f.market_item()
    admin = f.admin()
    for price in (10_000_000, 11_000_000, 12_000_000, 13_000_000, 14_000_000):
        f.accepted_order(price_fen=price, admin=admin, service_item_id=item.id)
    assert (
        checks.item_median(item.id, checks.now())
        == 12_000_000
        == checks.rules.median_or_none(checks.winning_prices(item.id, checks.now()))
    )
    enterprise, low = f.user("enterprise"), f.active_agency("C03", reviewer=admin)
    req = f.published_request(enterprise, item=item, ceiling_fen=CEILING)
    f.bid(low, req, price_fen=5_000_000)  # under half the median, the only bid
    timetravel.past_deadline(req, clock=False)
    with app.app_context():
        engine = db.engine
    scans = []

    def note(_conn, _cursor, statement, *_args):
        deals = "service_order.amount_fen" in statement and "JOIN service_request" in statement
        if deals and "service_order.agency_id IN" not in statement:  # an item's deals, not an agency's
            scans.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        timetravel.run_clock()  # the clock closes the bidding
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert not scans  # the agencies' own past wins only, by agency
    flag = db.session.scalar(select(FeeFlag).where(FeeFlag.rule == "abnormally_low"))
    assert flag.agency_id == low.agency.id and flag.figures["reasons"] == ["median"]
    assert flag.figures["item_median_fen"] == 12_000_000

    # a day before the deals the item had no year of prices: history is computed as of its own moment
    assert checks.item_median(item.id, checks.now() - timedelta(days=1)) is None
    assert checks.item_median(item.id + 1000, checks.now()) is None  # an item without deals
