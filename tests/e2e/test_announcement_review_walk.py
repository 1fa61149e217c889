"""In a real browser, announcement review: the enterprise submits a request with its approval document, the
operator returns it with an opinion, the enterprise fixes it and submits again, the operator approves, and only
then does the public see it."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from werkzeug.serving import make_server

from marketplace.extensions import db
from tests import factories as f
from tests.conftest import build_app
from tests.review import THRESHOLD

pytestmark = pytest.mark.e2e
SHOTS = Path("/tmp/shots_announce")
TITLE = "徐圩新区危化品仓储基地项目环境影响评价"
OPINION = "资质要求与事项不符，请删除指定品牌的表述"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A live server with announcement review and the fiscal threshold on (the defaults of a real market)."""
    app, drop = build_app(
        tmp_path_factory, MARKET_REVIEW_ANNOUNCEMENTS=1, MARKET_FISCAL_THRESHOLD_FEN=THRESHOLD
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


def _login(page, base, email, password=f.PASSWORD):
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()


def _logout(page):
    page.click("form[action$='/auth/logout'] button")
    page.wait_for_load_state()


def _snap(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_submit_return_fix_resubmit_approve(live_server, browser, tmp_path):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        enterprise = f.user("enterprise", org_name="连云港徐圩新区港口建设有限公司")
        operator = f.staff("operator", "320700")
        item_id = f.market_item("C03").id
        ent_email, op_email = enterprise.email, operator.email
    scan = tmp_path / "立项批复.pdf"
    scan.write_bytes(f.PDF)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()

    # 1. The enterprise fills in the request; a fiscal ceiling above the threshold is refused first.
    _login(page, base, ent_email)
    page.goto(f"{base}/enterprise/requests/new")
    page.fill("#title", TITLE)
    page.fill("#project_code", "2026-320700-59-02-004512")
    page.select_option("#service_item_id", str(item_id))
    page.fill("#scope", "编制环境影响报告书；须采用某品牌在线监测设备开展现场监测。")
    page.fill("#ceiling", "1200000")
    page.fill("#required_days", "45")
    # city, then county (static/js/regions.js builds the selects)
    page.select_option("select.region-level#region_code", "320700")
    page.select_option(".region-picker select[data-level='2']", "320703")
    page.select_option("#funding", "fiscal")
    page.select_option("#selection_method", "lowest_price")
    page.select_option("#required_level", "any")
    deadline = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=10)).strftime("%Y-%m-%dT10:00")
    page.fill("#bid_deadline", deadline)
    page.click("button[name=action][value=publish]")
    page.wait_for_load_state()
    assert "政府采购" in page.inner_text("main")
    page.fill("#ceiling", "360000")
    page.fill("#bid_deadline", deadline)
    page.set_input_files("#approval_document", str(scan))
    _snap(page, "01-request-form")
    page.click("button[name=action][value=publish]")
    page.wait_for_url(re.compile(r"/requests/\d+$"))
    request_id = int(page.url.rsplit("/", 1)[1])
    assert page.get_attribute("[data-status]", "data-status") == "review"
    assert "立项批复.pdf" in page.inner_text("[data-approval-document]")
    _snap(page, "02-submitted")
    _logout(page)

    # 2. The public does not see it.
    assert page.goto(f"{base}/requests/{request_id}").status == 404
    page.goto(f"{base}/requests/")
    assert TITLE not in page.inner_text("main")

    # 3. The operator returns it with an opinion (an empty one is refused).
    _login(page, base, op_email)
    page.click("a[data-link=announcement-review]")
    assert TITLE in page.inner_text("[data-table=review-queue]")
    _snap(page, "03-review-queue")
    page.click("a[data-link=review]")
    assert "立项批复.pdf" in page.inner_text("[data-approval-document]")
    page.click("form[data-form=return] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("form[data-form=return] .error").count() == 1
    page.fill("#opinion", OPINION)
    _snap(page, "04-review-detail")
    page.click("form[data-form=return] button[type=submit]")
    assert OPINION in page.inner_text("[data-confirm]")  # 驳回 asks first, with the opinion as sent
    assert "以下操作不可撤销" in page.inner_text("[data-confirm]")
    page.click("[data-confirm-yes]")
    page.wait_for_load_state()
    assert TITLE not in page.inner_text("main")  # no longer waiting
    _logout(page)

    # 4. The enterprise reads the opinion, fixes the scope and submits again.
    _login(page, base, ent_email)
    page.goto(f"{base}/enterprise/")
    assert OPINION in page.inner_text(f"[data-request-id='{request_id}']")
    _snap(page, "05-dashboard-returned")
    page.click(f"[data-request-id='{request_id}'] a[data-link=fix]")
    assert OPINION in page.inner_text("[data-review-opinion]")
    page.fill("#scope", "编制环境影响报告书，配合完成技术评估、专家评审与审批。")
    page.click("button[name=action][value=publish]")
    page.wait_for_url(re.compile(rf"/requests/{request_id}$"))
    assert page.get_attribute("[data-status]", "data-status") == "review"
    assert page.locator("[data-review-history] li").count() == 3
    _logout(page)

    # 5. The operator approves; the announcement is public and open for bids.
    _login(page, base, op_email)
    page.goto(f"{base}/admin/announcements/{request_id}")
    assert "编制环境影响报告书，配合完成" in page.inner_text("main")
    page.click("form[data-form=approve] button[type=submit]")
    assert "审核通过" in page.inner_text("[data-confirm] h1")  # 审核通过 asks first, naming the method
    assert "选取方式" in page.inner_text("[data-confirm] .confirm-facts")
    page.click("[data-confirm-yes]")
    page.wait_for_load_state()
    assert page.locator("[data-empty]").count() == 1
    _logout(page)
    page.goto(f"{base}/requests/")
    assert TITLE in page.inner_text("main")
    page.goto(f"{base}/requests/{request_id}")
    assert page.get_attribute("[data-status]", "data-status") == "bidding"
    assert page.locator("[data-approval-document]").count() == 0  # private
    _snap(page, "06-public")

    # The pages on a phone.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    _login(phone, base, op_email)
    phone.goto(f"{base}/admin/announcements/{request_id}")
    _snap(phone, "07-phone-review-detail")
    phone.goto(f"{base}/admin/announcements/")
    _snap(phone, "08-phone-queue")
