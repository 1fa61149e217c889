"""In a real browser: an agency that bid in the round lodges an objection with an evidence file while the result
is under publicity; an agency that did not bid is not offered the form and is told who may object; the
administrator sees the objection on the objection desk, turning red once its decide-by time has passed, and on the
deadline board under 逾期未处理的异议, downloads the evidence and dismisses it; the objector sees the outcome."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.requests import services as requests
from marketplace.requests.models import Objection
from tests import factories as f
from tests import timetravel
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e
FACTS = "中选机构报价 ¥200,000.00 的评分计算有误：按公布的权重，其价格分应为 28.6 分而非 30 分，请复核排名。"


def _login(page, base, email):
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()


def _logout(page):
    page.click("form[action$='/auth/logout'] button")
    page.wait_for_load_state()


def test_a_bidder_objects_with_evidence_and_a_stranger_may_not(live_server, browser, shot, tmp_path):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        admin = f.admin()
        enterprise = f.user("enterprise", org_name="连云港徐圩新区管委会")
        bidders = [f.active_agency("C03", reviewer=admin) for _ in range(3)]
        stranger = f.active_agency("C03", reviewer=admin)
        req = f.published_request(enterprise, title="徐圩新区化工园区配套管廊项目环境影响评价")
        for i, agency in enumerate(bidders):
            f.bid(agency, req, price_fen=20_000_000 + i * 1_500_000)
        timetravel.past_deadline(req)
        requests.select_winner(enterprise, req.id)
        db.session.commit()  # the test is the boundary here
        req_id, objector_email, objector_name = req.id, bidders[1].email, bidders[1].agency.name
        stranger_email, admin_email = stranger.email, admin.email
    evidence = tmp_path / "评分复核计算表.pdf"
    evidence.write_bytes(f.PDF)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    request_url = f"{base}/requests/{req_id}"

    # 1. An agency that did not bid: no form, a note that says who may object.
    _login(page, base, stranger_email)
    page.goto(request_url)
    assert page.locator("form[data-form=objection]").count() == 0
    assert "只有参与本轮报价的机构（利害关系人）可以提出异议" in page.inner_text("[data-objection-note]")
    _logout(page)

    # 2. A bidder of the round lodges an objection with a ground, the facts and an evidence file.
    _login(page, base, objector_email)
    page.goto(request_url)
    form = page.locator("form[data-form=objection]")
    form.locator("input[name=ground][value=calculation]").check()
    form.locator("[name=facts]").fill("评分有误")  # too short: refused, with the reason beside the field
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "请用 20 至 2000 个字符陈述事实" in page.inner_text("form[data-form=objection]")
    form = page.locator("form[data-form=objection]")
    assert form.locator("input[name=ground][value=calculation]").is_checked()  # the choice is kept
    form.locator("[name=facts]").fill(FACTS)
    form.locator("input[name=evidence]").set_input_files(str(evidence))
    shot(page, "objection-1-form")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{request_url}#objections")
    assert "异议已登记" in page.inner_text(".flash-success")
    item = page.locator("[data-objection=open]")
    assert FACTS in item.inner_text() and "报价或评分计算有误" in item.inner_text()
    assert "处理时限" in item.inner_text() and "评分复核计算表.pdf" in item.inner_text()
    assert page.locator("form[data-form=objection]").count() == 0  # once per round
    shot(page, "objection-2-request-page-objector")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "objection-3-request-page-phone")
    page.locator("#objections").screenshot(path=str(ARTIFACTS / "objection-3-phone-section.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    _logout(page)

    # 3. The public sees that an objection is being handled, not who lodged it or why.
    page.goto(request_url)
    assert page.locator("[data-objection=open]").count() == 1
    assert FACTS not in page.content() and "评分复核计算表" not in page.content()
    shot(page, "objection-4-request-page-public")

    # 4. Past its decide-by time it is overdue: red on the desk and on the deadline board.
    with live_server.app_context():
        db.session.execute(
            update(Objection)
            .where(Objection.request_id == req_id)
            .values(decide_by=now() - timedelta(hours=5))
        )
        db.session.commit()
    _login(page, base, admin_email)
    page.goto(f"{base}/admin/objections")
    card = page.locator(".objection-card")
    assert card.get_attribute("data-overdue") == "yes" and "逾期未处理" in card.inner_text()
    assert objector_name in card.inner_text() and FACTS in card.inner_text()
    with page.expect_download() as download:
        card.locator("a[data-evidence]").click()
    assert download.value.suggested_filename == "评分复核计算表.pdf"
    assert Path(download.value.path()).read_bytes() == f.PDF
    shot(page, "objection-5-admin-desk-overdue")
    page.goto(f"{base}/admin/deadlines")
    section = page.locator("[data-section=overdue-objections]")
    assert "逾期未处理的异议" in section.inner_text() and objector_name in section.inner_text()
    assert section.locator("[data-count=objections]").inner_text() == "1"
    shot(page, "objection-6-deadline-board")
    page.set_viewport_size({"width": 390, "height": 844})
    section.screenshot(path=str(ARTIFACTS / "objection-6-deadline-board-phone-section.png"))
    page.goto(f"{base}/admin/objections")
    page.locator(".objection-card").screenshot(path=str(ARTIFACTS / "objection-5-admin-desk-phone-card.png"))
    page.set_viewport_size({"width": 1280, "height": 900})

    # 5. The administrator dismisses it; the objector sees the outcome.
    page.goto(f"{base}/admin/objections")
    page.fill("form[data-form=resolve] textarea", "经复核，价格分按公布公式计算无误，异议不成立。")
    page.click("form[data-form=resolve] button[value=dismiss]")
    page.wait_for_load_state()
    assert "异议已驳回" in page.inner_text(".flash-success")
    _logout(page)
    _login(page, base, objector_email)
    page.goto(request_url)
    item = page.locator("[data-objection=dismissed]")
    assert "价格分按公布公式计算无误" in item.inner_text()
    page.locator("#objections").screenshot(path=str(ARTIFACTS / "objection-7-outcome-section.png"))
    context.close()
