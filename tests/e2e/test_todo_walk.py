"""In a real browser: the enterprise's desk opens with its to-do list — the payment due and the contract to sign —
and each entry leads to the order where it is done; the agency's desk lists the transfer to confirm, the
operator's staff home its membership review. Each desk is shot at desktop and phone width."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.payments import services as payments
from marketplace.requests import services as requests
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests import timetravel
from tests.conftest import build_app
from tests.e2e.conftest import SHOTS_WANTED

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = Path("/tmp/shots_todo")


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
    page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")
    return page


def _both_widths(browser, base, email, path, name, shot):
    if not SHOTS_WANTED:  # logs in and loads the page only for people to look at
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = _login(browser, base, email, viewport)
        page.goto(f"{base}{path}")
        page.screenshot(path=str(SHOTS / f"{name}_{label}.png"), full_page=True)
        shot(page, f"todo_{name}_{label}")
        page.context.close()


def _market(app):
    """An enterprise with an accepted order not paid and a fresh order waiting for its contract; another
    accepted order of the same agency with a transfer to confirm; an applicant in the operator's area."""
    enterprise = f.user("enterprise", org_name="连云港港口控股集团有限公司")
    agency = f.active_agency("C03", org_name="江苏蓝海环境工程咨询有限公司")
    app.config["MARKET_CONTRACT_STEP"] = False  # the older orders started the way the factory starts them
    _, _, unpaid = f.accepted_order(price_fen=8_600_000, enterprise=enterprise, agency=agency)
    _, _, on_way = f.accepted_order(price_fen=5_200_000, enterprise=enterprise, agency=agency)
    app.config["MARKET_CONTRACT_STEP"] = True
    payments.record_offline(enterprise, on_way.id, reference="ICBC-LYG-20261128")
    db.session.commit()
    req = f.published_request(enterprise, selection_method="direct", title="徐圩港区二期码头工程环境影响评价")
    bid = f.bid(agency, req, price_fen=12_800_000, promised_days=40)
    timetravel.past_deadline(db.session.get(ServiceRequest, req.id))
    requests.select_winner(enterprise, req.id, bid.id, "技术方案最优，团队经验丰富")
    db.session.commit()
    timetravel.publicity_over(db.session.get(ServiceRequest, req.id))
    awaiting = orders.order_for_request(req.id)
    f.pending_agency("C03", org_name="南京清源环保科技有限公司")
    operator = f.staff("operator", "320100")
    return {
        "enterprise": enterprise.email,
        "agency": agency.email,
        "operator": operator.email,
        "unpaid": unpaid.id,
        "awaiting": awaiting.id,
        "on_way": on_way.id,
    }


def test_the_desks_open_on_what_waits(live_server, browser, shot):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        m = _market(live_server)

    page = _login(browser, base, m["enterprise"])
    page.goto(f"{base}/enterprise/")
    panel = page.locator("[data-todo]")
    assert panel.is_visible()
    due = panel.locator("[data-todo-kind=payments_due]")
    assert due.locator("[data-count]").inner_text() == "1"
    sign = panel.locator("[data-todo-kind=contracts_to_sign]")
    assert sign.locator("[data-count]").inner_text() == "1"
    assert "徐圩港区二期码头工程环境影响评价" in sign.inner_text()

    due.locator("[data-todo-entry]").first.click()
    page.wait_for_url(f"{base}/orders/{m['unpaid']}")
    assert page.locator("form[data-form=pay-offline]").count() == 1

    page.goto(f"{base}/enterprise/")
    page.locator("[data-todo-kind=contracts_to_sign] [data-todo-entry]").first.click()
    page.wait_for_url(f"{base}/orders/{m['awaiting']}")
    assert page.locator("form[data-form=upload-contract]").count() == 1

    page.goto(f"{base}/enterprise/")
    page.locator("[data-todo-kind=payments_due] .todo-head").click()
    page.wait_for_url(f"{base}/orders/?payment=due")
    assert page.locator(f"tr[data-order-id='{m['unpaid']}']").count() == 1
    assert page.locator(f"tr[data-order-id='{m['on_way']}']").count() == 0
    page.context.close()

    page = _login(browser, base, m["agency"])
    page.goto(f"{base}/agency/")
    transfers = page.locator("[data-todo-kind=transfers_to_confirm]")
    assert transfers.locator("[data-count]").inner_text() == "1"
    transfers.locator("[data-todo-entry]").first.click()
    page.wait_for_url(f"{base}/orders/{m['on_way']}")
    page.context.close()

    page = _login(browser, base, m["operator"])
    page.goto(f"{base}/admin/")
    assert page.locator("[data-todo-kind=memberships_to_review] [data-count]").inner_text() == "1"
    page.context.close()

    _both_widths(browser, base, m["enterprise"], "/enterprise/", "enterprise", shot)
    _both_widths(browser, base, m["agency"], "/agency/", "agency", shot)
    _both_widths(browser, base, m["operator"], "/admin/", "staff", shot)
    _both_widths(browser, base, m["enterprise"], "/orders/", "orders", shot)
