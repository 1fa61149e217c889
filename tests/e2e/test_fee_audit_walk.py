"""In a real browser: an administrator finds an abnormally low bid in the fee audit, confirms it as a
violation with a note (the agency's credit drops on its store page), exports the CSV and watches a red order
on the deadline board; the public fee page shows the winning price."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.requests import services as requests
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests import timetravel

pytestmark = pytest.mark.e2e


def test_admin_reviews_a_fee_flag_and_watches_deadlines(live_server, browser, shot):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        admin = f.admin()
        enterprise = f.user("enterprise")
        agencies = [f.active_agency("C03", reviewer=admin) for _ in range(3)]
        item = f.market_item()
        req = f.published_request(enterprise, item=item, ceiling_fen=30_000_000)
        for agency, price in zip(agencies, (21_000_000, 20_000_000, 8_000_000), strict=True):
            f.bid(agency, req, price_fen=price)
        timetravel.past_deadline(db.session.get(ServiceRequest, req.id))
        requests.select_winner(enterprise, req.id)
        timetravel.publicity_over(db.session.get(ServiceRequest, req.id))
        order = orders.order_for_request(requests.get_request(enterprise, req.id).id)
        low = agencies[2]
        orders.confirm(low, order.id)
        timetravel.order_elapsed(order, 1.3)
        admin_email, low_name, low_id, order_id, item_id = (
            admin.email,
            low.agency.name,
            low.agency.id,
            order.id,
            item.id,
        )

    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    page.goto(f"{base}/auth/login")
    page.fill("#email", admin_email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")
    page.click("nav.mainnav >> text=时限监控")
    row = page.locator(f"tr[data-order-id='{order_id}']")
    assert row.get_attribute("data-deadline") == "red" and "已超期" in row.inner_text()
    assert page.locator("[data-count=red]").inner_text() == "1"
    shot(page, "deadline-board")
    # the red light already counts against the agency: −3 in the market source (credit/rules.py), whose
    # sub-score drops to 77: 0.5 × 80 + 0.3 × 80 + 0.2 × 77 = 79.4
    assert _credit(page, base, low_id) == 79.4

    page.click("nav.mainnav >> text=收费审计")
    page.select_option("select[name=rule]", "abnormally_low")
    page.click("form[data-form=fee-filters] button[type=submit]")
    page.wait_for_url(re.compile(r"rule=abnormally_low"))
    rows = page.locator("tr[data-flag-id]")
    expect(rows).to_have_count(1)  # (count() does not wait: it could run before the filtered page arrived)
    assert low_name in rows.first.inner_text() and "异常低价" in rows.first.inner_text()
    assert page.locator("svg.svg-chart").count() >= 1
    # each flag says which test fired, with its figures (not a bare "低于均值 x%")
    fired = rows.first.locator("[data-test]")
    assert fired.evaluate_all("els => els.map(e => e.dataset.test)") == ["below_mean", "below_next"]
    assert fired.nth(0).inner_text() == "低于其他报价均值 61%（阈值 40%）：¥80,000.00 vs 均值 ¥205,000.00"
    assert fired.nth(1).inner_text() == "比次低报价低 60%（阈值 30%）：¥80,000.00 vs 次低 ¥200,000.00"
    shot(page, "fee-audit")

    with page.expect_download() as download:
        page.click("a[data-link=csv]")
    body = download.value.path().read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    rows_csv = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows_csv[0][0] == "预警编号" and rows_csv[1][5] == low_name and rows_csv[1][2] == "异常低价"

    credit_before = _credit(page, base, low_id)
    page.goto(f"{base}/admin/fee-audit/?rule=abnormally_low")
    page.click("tr[data-flag-id] a")
    page.fill(
        "form[data-form=review] textarea[name=note]", "经约谈核实，报价明显低于成本，认定为恶意低价竞争。"
    )
    with page.expect_navigation():
        page.click("form[data-form=review] button[value=confirm]")
    expect(page.locator("[data-status]").first).to_have_attribute("data-status", "confirmed")
    assert "恶意低价竞争" in page.locator("blockquote[data-note]").inner_text()
    shot(page, "fee-flag")
    assert _credit(page, base, low_id) == round(credit_before - 0.2 * 10, 1)  # −10 points, weight 20 %
    assert re.fullmatch(r"\d+\.\d\d", page.inner_text("[data-stat=credit_score]"))  # one format: two decimals
    violation = page.locator("[data-violations] [data-violation]")  # the store shows the confirmed violation
    assert (
        violation.count() == 1 and "异常低价" in violation.inner_text() and "确认于" in violation.inner_text()
    )

    page.goto(f"{base}/fees/items/{item_id}")
    assert page.locator("[data-fee=median]").inner_text() == "¥80,000.00"
    shot(page, "fees-item")
    context.close()


def _credit(page, base: str, agency_id: int) -> float:
    page.goto(f"{base}/agencies/{agency_id}")
    return float(page.locator("[data-stat=credit_score]").inner_text())
