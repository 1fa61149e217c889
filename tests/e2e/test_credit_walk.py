"""In a real browser: a supervisor blacklists an agency that has a pending win — the win passes to the next
bid at once and the agency's next bid is refused; an agency appeals a credit event, the operator upholds the
appeal, and the event shows reversed with the score back. Screenshots of the credit pages at 1366 and 390."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from marketplace.common.clock import now
from marketplace.credit import services as credit
from marketplace.extensions import db
from marketplace.requests import services as requests
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests import timetravel

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots_credit")


def _login(browser, base: str, email: str, width: int = 1366, height: int = 900):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")
    return context, page


def test_blacklisted_agency_loses_its_pending_win_and_cannot_bid(live_server, browser, shot):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        admin, supervisor = f.admin(), f.staff("supervisor")
        owner = f.user("enterprise")
        first = f.active_agency(reviewer=admin, org_name="连云港失信测试环境咨询有限公司")
        second = f.active_agency(reviewer=admin, org_name="连云港递补测试环境科技有限公司")
        req = f.published_request(
            owner, selection_method="lowest_price", funding="social", title="徐圩新区管廊项目环评"
        )
        f.bid(first, req, price_fen=10_000_000)
        runner_up = f.bid(second, req, price_fen=12_000_000)
        timetravel.past_deadline(req)
        requests.select_winner(owner, req.id)
        db.session.commit()
        other = f.published_request(owner, title="灌云县化工园区环评")
        ids = (req.id, other.id, first.agency.id, runner_up.id)
        emails = (supervisor.email, first.email)
    req_id, other_id, first_id, runner_up_id = ids

    context, page = _login(browser, base, emails[0])
    page.goto(f"{base}/admin/credit/lists")
    form = page.locator("form[data-form=list]")
    form.locator("input[name=agency_id]").fill(str(first_id))
    form.locator("select[name=list]").select_option("black")
    form.locator("textarea[name=reason]").fill("提供虚假业绩材料，经核查属实")
    form.locator("input[name=basis]").fill("《市中介服务网上交易平台管理办法》第二十条")
    form.locator("input[name=until]").fill((now() + timedelta(days=180)).date().isoformat())
    form.locator("button[type=submit]").click()
    assert "已列入失信名单" in page.locator(".flash").first.inner_text()
    assert page.locator("tr[data-entry-id]").count() == 1
    shot(page, "credit-admin-lists")
    context.close()

    with live_server.app_context():
        db.session.expire_all()
        assert db.session.get(ServiceRequest, req_id).winner_bid_id == runner_up_id  # passed on at once

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/credit/blacklist")
    assert "连云港失信测试环境咨询有限公司" in page.locator("tr[data-agency-id]").first.inner_text()
    page.goto(f"{base}/agencies/{first_id}")
    assert page.locator("[data-listed=black]").is_visible()
    page.goto(f"{base}/requests/{req_id}")
    assert "连云港递补测试环境科技有限公司" in page.content()
    page.close()

    context, page = _login(browser, base, emails[1])
    page.goto(f"{base}/requests/{other_id}")
    problems = page.locator("[data-eligibility]").inner_text()
    assert "失信名单" in problems
    shot(page, "credit-bid-refused")
    context.close()


def test_an_upheld_appeal_reverses_the_event(live_server, browser, shot):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        supervisor, operator = f.staff("supervisor"), f.staff("operator")
        agency = f.active_agency(org_name="连云港申诉测试工程咨询有限公司")
        event = credit.record_conduct(
            supervisor,
            {
                "agency_id": agency.agency.id,
                "rule": "misconduct",
                "evidence": f"/agencies/{agency.agency.id}",
                "note": "项目负责人与投标文件所列人员不一致。",
            },
        )
        db.session.commit()
        agency_id, event_id, emails = agency.agency.id, event.id, (agency.email, operator.email)

    context, page = _login(browser, base, emails[0])
    page.goto(f"{base}/agency/credit")
    assert page.locator("[data-credit-score]").inner_text() == "78.50"
    item = page.locator(f"#event-{event_id}")
    item.locator("summary").click()
    item.locator("textarea[name=reason]").fill("项目负责人因病更换，已向业主报备并取得书面同意。")
    item.locator("input[name=evidence]").set_input_files(
        files=[{"name": "报备函.pdf", "mimeType": "application/pdf", "buffer": f.PDF}]
    )
    shot(page, "credit-mine-appeal")
    item.locator("button[type=submit]").click()
    assert page.locator(f"#event-{event_id} [data-appeal=pending]").is_visible()
    context.close()

    context, page = _login(browser, base, emails[1])
    page.goto(f"{base}/admin/")
    page.click("a[href='/admin/credit/']")
    card = page.locator("article.credit-appeal").first
    assert "因病更换" in card.inner_text() and "报备函.pdf" in card.inner_text()
    shot(page, "credit-admin-desk")
    card.locator("textarea[name=opinion]").fill("经核查已报备，异议成立，撤销该记录。")
    card.locator("button[value=uphold]").click()
    assert "异议成立" in page.locator(".flash").first.inner_text()
    context.close()

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/agencies/{agency_id}/credit")
    row = page.locator(f"tr[data-event-id='{event_id}']")
    assert row.get_attribute("data-status") == "reversed" and "异议成立已撤销" in row.inner_text()
    assert page.locator("[data-credit-score]").inner_text() == "80.00"
    shot(page, "credit-agency-page")
    page.close()


def test_screenshots_of_the_credit_pages(live_server, browser):
    """The pages at desktop and phone width, for looking at (/tmp/shots_credit)."""
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        from sqlalchemy import select

        from marketplace.agencies.models import Agency

        agency_id = db.session.scalar(select(Agency.id).order_by(Agency.id.desc()).limit(1))
        listed = db.session.scalar(select(Agency.id).where(Agency.name == "连云港失信测试环境咨询有限公司"))
    SHOTS.mkdir(exist_ok=True)
    for width in (1366, 390):
        page = browser.new_page(viewport={"width": width, "height": 900})
        for name, path in (
            ("rules", "/credit/rules"),
            ("blacklist", "/credit/blacklist"),
            ("agency", f"/agencies/{agency_id}/credit"),
            ("store-listed", f"/agencies/{listed}" if listed else "/agencies/"),
            ("list", "/agencies/"),
        ):
            response = page.goto(f"{base}{path}")
            assert response.status < 400, path
            page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        page.close()
