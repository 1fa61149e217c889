"""In a real browser: anyone opens /stats — figures and charts of the whole market, as the API counts them —,
narrows it to a city and a month, sees a bad month refused with a message, opens last month's report and its
PDF; screenshots at desktop and phone width."""

import shutil
from pathlib import Path

import pytest

from marketplace.extensions import db
from marketplace.reports import services
from tests import stats_market
from tests.e2e.conftest import ARTIFACTS, SHOTS_WANTED

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots_stats")


def _figure(page, name: str) -> str:
    return page.locator(f"[data-figures=summary] [data-figure={name}]").inner_text().strip()


def _pct(rate) -> str:
    return f"{rate * 100:.1f}%"


def _keep(shot, page, name: str) -> None:
    shot(page, name)
    if not SHOTS_WANTED:  # screenshots are taken only with E2E_SHOTS=1
        return
    SHOTS.mkdir(exist_ok=True)
    shutil.copy(ARTIFACTS / f"{name}.png", SHOTS / f"{name}.png")


def test_anyone_reads_the_statistics_and_the_monthly_report(live_server, browser, shot):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        built = stats_market.build()
        m0, m1, m2 = built["months"]
        report = services.generate("320000", m1)
        db.session.commit()
        report_id = report.id

    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    api = page.request.get(f"{base}/api/v1/stats").json()["summary"]
    page.goto(f"{base}/stats/")
    assert page.locator("h1").inner_text() == "中介超市运行统计"
    assert _figure(page, "members") == str(api["members"]) == "3"
    assert _figure(page, "requests") == str(api["requests"])
    assert _figure(page, "deals") == str(api["deals"]) == "4"
    assert _figure(page, "on_time_rate") == _pct(api["on_time_rate"]) == "50.0%"
    assert _figure(page, "satisfaction") == _pct(api["satisfaction"])
    assert _figure(page, "savings_rate") == f"−{api['savings_rate'] * 100:.1f}%"
    charts = page.locator("svg.svg-chart[role=img]")
    assert charts.count() == 5
    for i in range(charts.count()):
        assert charts.nth(i).get_attribute("aria-label")
    assert page.locator("svg.svg-chart rect.bar").count() > 0
    complaints = page.request.get(f"{base}/api/v1/stats").json()["complaints"]
    assert page.locator("[data-figure=complaints_filed]").inner_text() == str(complaints["filed"]) == "3"
    assert page.locator("#open-data [data-open-data=ocds] a").get_attribute("href") == "/opendata/"
    assert page.locator("#open-data [data-download=stats-json]").count() == 1
    assert page.locator(f"#monthly-reports [data-report-id='{report_id}']").count() == 1
    _keep(shot, page, "stats-1366")

    # a city and a month: the figures follow
    page.select_option(".stats-filters .region-picker select[data-level='1']", "320700")
    page.fill("input[name=from]", m1)
    page.fill("input[name=to]", m1)
    page.click(".stats-filters button[type=submit]")
    page.wait_for_load_state()
    assert "region=320700" in page.url
    assert "连云港市" in page.locator("[data-scope=area]").inner_text()
    assert page.locator("[data-scope=period]").inner_text() == f"{m1} 至 {m1}"
    assert _figure(page, "deals") == "1" and _figure(page, "members") == "1"
    assert page.locator("table[data-table=monthly] tbody tr").count() == 1

    # a month that is not one: said beside the filters, the page still stands
    page.goto(f"{base}/stats/?from=2026-13")
    assert "统计筛选条件有误" in page.locator("[data-problem]").inner_text()
    assert "起始月份" in page.locator("[data-problem]").inner_text()

    # last month's report and its PDF
    page.goto(f"{base}/stats/")
    page.click(f"#monthly-reports [data-report-id='{report_id}'] a >> nth=0")
    page.wait_for_load_state()
    assert "中介超市月度运行报告" in page.locator("h1").inner_text()
    assert m1 in page.locator(".report-month-line").inner_text()
    _keep(shot, page, "stats-report-1366")
    pdf = page.request.get(f"{base}/stats/reports/{report_id}.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    small = phone.new_page()
    small.goto(f"{base}/stats/")
    assert _figure(small, "deals") == "4"
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    _keep(shot, small, "stats-390")
    phone.close()
    context.close()
