"""In a real browser, numbers people can trust: the public fee page marks a deal above the guide ceiling and
says "above the ceilings" in words, the deadline board counts days and hours, the payment panel after a
registered transfer says it is on its way (not "unpaid" beside it), and a newcomer is labelled in the list."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from tests import factories as f

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1366, "height": 900}


def _page(browser, base, email=None):
    page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    if email:
        page.goto(f"{base}/auth/login")
        page.fill("#email", email)
        page.fill("#password", f.PASSWORD)
        with page.expect_navigation():
            page.click("form.form button[type=submit]")
    return page


def test_numbers_walk(live_server, browser, shot):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        admin = f.admin()
        item = f.guided_item()
        # a deal of the guided item whose contract was amended to 15% over the guide ceiling (and the ceiling)
        owner, _, over = f.accepted_order(
            price_fen=item.guide_max_fen,
            agency=f.active_agency(item.category.code, reviewer=admin),
            service_item_id=item.id,
            ceiling_fen=item.guide_max_fen,
            admin=admin,
        )
        # a supplementary agreement (补充协议), as the enterprise records it: the kept fee figures follow it
        orders.amend_contract(owner, over.id, round(item.guide_max_fen * 1.15), "补充协议：增加外业测量范围")
        # an order under way, due in 2½ hours; an accepted order the enterprise will pay by transfer
        _, _, soon = f.accepted_order(accept=False, deliver=False, admin=admin)
        db.session.execute(
            update(Order).where(Order.id == soon.id).values(due_at=now() + timedelta(hours=2, minutes=30))
        )
        enterprise, _, payable = f.accepted_order(price_fen=532_000, admin=admin)
        f.active_agency("C03", reviewer=admin, org_name="南京新入驻规划咨询有限公司")
        db.session.commit()
        ids = {"item": item.id, "soon": soon.id, "payable": payable.id}
        admin_email, ent_email = admin.email, enterprise.email

    # the public fee page: the mark with its words, and "above the ceilings" (never a negative "below")
    page = _page(browser, base)
    page.goto(f"{base}/fees/items/{ids['item']}")
    savings = page.locator("[data-savings]")
    assert savings.get_attribute("data-savings") == "above" and "平均高于最高限价" in savings.inner_text()
    mark = page.locator("[data-outside-guide=above]").first
    assert mark.inner_text() == "1 笔高于指导价" and "高于政府指导价上限" in mark.get_attribute("title")
    shot(page, "h1-fee-item-outside-guide")
    page.goto(f"{base}/fees/")
    row = page.locator(f"tr[data-item-id='{ids['item']}']")
    assert "1 笔高于指导价" in row.inner_text()

    # the list labels the newcomer ranked on neutral values, and explains the ranking
    page.goto(f"{base}/agencies/")
    card = page.locator("article.agency-card", has_text="南京新入驻规划咨询有限公司")
    assert card.locator("[data-newcomer]").inner_text() == "新入驻，按中性值"
    page.locator("[data-ranking-note] summary").click()
    assert "贝叶斯平均" in page.locator("[data-ranking-note]").inner_text()

    # the deadline board: hours, not "0.1 天"
    staff = _page(browser, base, admin_email)
    staff.goto(f"{base}/admin/deadlines")
    left = staff.locator(f"tr[data-order-id='{ids['soon']}'] [data-remaining]")
    assert left.inner_text() == "剩余 2 小时"
    assert "0.1 天" not in staff.inner_text("main")
    shot(staff, "h1-deadline-board")

    # the payment panel after registering a transfer: on its way, once, in the payer's words
    payer = _page(browser, base, ent_email)
    payer.goto(f"{base}/orders/{ids['payable']}")
    payer.fill("form[data-form=pay-offline] input[name=reference]", "ICBC20261130-5320")
    with payer.expect_navigation():
        payer.click("form[data-form=pay-offline] button[type=submit]")
    panel = payer.locator("[data-payment-panel]")
    assert panel.locator("[data-ledger-label]").inner_text() == "转账待确认"
    assert panel.locator("[data-outstanding-label]").inner_text() == "未付（含在途）"
    words = panel.locator("[data-paid-words]").inner_text()
    assert "已支付并经确认到账：合同金额的 0%" in words and "已收到" not in words
    assert "未付款" not in panel.inner_text()
    panel.scroll_into_view_if_needed()
    shot(payer, "h1-payment-in-transit")
