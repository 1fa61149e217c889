"""In a real browser, with the contract step on: the agency uploads the signed contract, the enterprise reads
the model contract, opens the file and confirms it, and the order starts (the service clock runs from then).
The pages are also shot at phone width, and the public 合同公告 lists the contract."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from marketplace.common.clock import LOCAL_TZ, now
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.requests import services as requests
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests import timetravel
from tests.conftest import build_app

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """tests/e2e/conftest.py's server, with the contract step on (the production default)."""
    app, drop = build_app(tmp_path_factory, MARKET_CONTRACT_STEP=True)
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


def _login(browser, base, email, viewport=DESKTOP):
    page = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True).new_page()
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")
    return page


def test_agency_uploads_the_contract_enterprise_confirms_the_order_starts(live_server, browser, shot):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        enterprise = f.user("enterprise", org_name="连云港港口控股集团有限公司")
        agency = f.active_agency("C03", org_name="江苏蓝海环境工程咨询有限公司")
        req = f.published_request(
            enterprise, selection_method="direct", title="徐圩港区二期码头工程环境影响评价"
        )
        bid = f.bid(agency, req, price_fen=12_800_000, promised_days=40)
        timetravel.past_deadline(db.session.get(ServiceRequest, req.id))
        requests.select_winner(enterprise, req.id, bid.id, "技术方案最优，团队经验丰富")
        db.session.commit()
        timetravel.publicity_over(db.session.get(ServiceRequest, req.id))
        order = orders.order_for_request(req.id)
        order_id, ent_email, agency_email = order.id, enterprise.email, agency.email
    order_url = f"{base}/orders/{order_id}"
    today = now().astimezone(LOCAL_TZ).date()

    page = _login(browser, base, agency_email)
    page.goto(order_url)
    assert page.get_attribute("[data-contract-panel]", "data-contract-status") == "none"
    assert page.locator("form[data-form=confirm]").count() == 0  # no start without the contract
    form = "form[data-form=upload-contract]"
    page.fill(f"{form} input[name=code]", "HT-LYG-2026-0158")
    assert page.input_value(f"{form} input[name=amount]") == "128000.00"
    page.fill(f"{form} input[name=start_date]", today.isoformat())
    page.fill(f"{form} input[name=end_date]", (today + timedelta(days=70)).isoformat())
    page.set_input_files(
        f"{form} input[name=file]",
        files=[{"name": "环评合同（双方签章）.pdf", "mimeType": "application/pdf", "buffer": f.PDF}],
    )
    page.locator(form).scroll_into_view_if_needed()
    shot(page, "60-contract-upload-form")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("[data-contract-panel][data-contract-status=pending]")
    assert "HT-LYG-2026-0158" in page.inner_text("[data-contract-panel]")
    shot(page, "61-contract-uploaded")

    owner = _login(browser, base, ent_email)
    owner.goto(order_url)
    with owner.expect_download() as download:
        owner.click("[data-contract-file]")
    assert download.value.suggested_filename == "环评合同（双方签章）.pdf"
    owner.click("[data-link=model-contract]")
    assert "违约责任" in owner.inner_text("[data-model-contract]")
    owner.goto(order_url)
    phone = _login(browser, base, ent_email, PHONE)
    phone.goto(order_url + "#contract")
    shot(phone, "62-contract-to-confirm-phone")
    owner.click("form[data-form=confirm-contract] button[type=submit]")
    owner.wait_for_selector("[data-contract-panel][data-contract-status=confirmed]")
    assert owner.get_attribute("[data-status]", "data-status") == "in_progress"
    assert owner.inner_text("[data-due]").strip()
    shot(owner, "63-contract-confirmed-order-started")

    with live_server.app_context():
        started = orders.order_for_request(req.id)
        assert started.due_at == started.started_at + timedelta(days=40)
        assert started.started_at > now() - timedelta(minutes=5)

    public = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    public.goto(f"{base}/contracts/")
    assert "HT-LYG-2026-0158" in public.inner_text("[data-contracts]")
    assert "环评合同（双方签章）.pdf" not in public.content()
    shot(public, "64-contract-announcements-phone")
