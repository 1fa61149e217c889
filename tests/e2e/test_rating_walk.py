"""In a real browser: the enterprise rates an accepted order → the agency's card moves up the list, its store
shows the new figures, and searching 环评 from the header finds it."""

import re

import pytest

from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.requests import services as requests
from marketplace.requests.models import ServiceRequest
from marketplace.search import backends as search_backends
from tests import factories as f
from tests import timetravel

pytestmark = pytest.mark.e2e


def test_rate_then_the_list_and_store_change_and_search_finds_it(live_server, browser, shot):
    base = live_server.config["LIVE_URL"]
    with live_server.app_context():
        admin = f.admin()
        enterprise = f.user("enterprise")
        item = next(i for i in f.category("C03").items if "环境影响评价" in i.name)
        first = f.active_agency("C03", reviewer=admin)
        rated = f.active_agency("C03", reviewer=admin)  # created second: below `first` while ratings tie
        for a in (first, rated):
            f.offer(a, item, price_fen=9_000_000)
        req = f.published_request(enterprise, selection_method="direct", service_item_id=item.id)
        bid = f.bid(rated, req, price_fen=8_800_000)
        timetravel.past_deadline(db.session.get(ServiceRequest, req.id))
        requests.select_winner(enterprise, req.id, bid.id, "技术方案与团队最优")
        timetravel.publicity_over(db.session.get(ServiceRequest, req.id))
        order = orders.order_for_request(requests.get_request(enterprise, req.id).id)
        orders.confirm(rated, order.id)
        orders.deliver(rated, order.id, "提交环评报告书")
        orders.accept(enterprise, order.id)
        db.session.commit()  # the test is the boundary here, as a view would be
        search_backends.reindex()  # built explicitly, as `flask search reindex` does: never on a request
        order_id, ent_email = order.id, enterprise.email
        first_name, rated_name, rated_id = first.agency.name, rated.agency.name, rated.agency.id
        category_id = item.category_id

    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    list_url = f"{base}/agencies/?category={category_id}&sort=rating"

    def order_in_list():
        page.goto(list_url)
        names = page.locator(".agency-card h3").all_inner_texts()
        return names.index(first_name), names.index(rated_name)

    before = order_in_list()
    assert before[1] > before[0]

    page.goto(f"{base}/auth/login")
    page.fill("#email", ent_email)
    page.fill("#password", f.PASSWORD)
    page.click("form.form button[type=submit]")
    page.goto(f"{base}/orders/{order_id}")
    for name in ("overall", "quality", "timeliness", "attitude", "fee", "compliance"):
        page.check(f"form[data-form=rate] input[name={name}][value='5']")
    page.fill("form[data-form=rate] textarea[name=comment]", "报告质量高，一次通过专家评审")
    page.click("form[data-form=rate] button[type=submit]")
    assert page.get_attribute("[data-rating]", "data-rating") == "5"
    shot(page, "20-order-rated")

    after = order_in_list()
    assert after[1] < after[0]  # the rated agency's card moved above
    shot(page, "21-list-after-rating")
    page.click(f"a[href$='/agencies/{rated_id}']")
    assert page.inner_text("[data-stat=avg_rating]") == "5.0"
    assert page.inner_text("[data-stat=completed_orders]") == "1"
    assert "报告质量高" in page.inner_text("#ratings")
    shot(page, "22-store-with-rating")

    page.fill("form.header-search input[name=q]", "环评")
    page.click("form.header-search button[type=submit]")
    page.wait_for_url(re.compile(r"/search"))
    assert rated_name in page.inner_text("main")
    shot(page, "23-search-huanping")
