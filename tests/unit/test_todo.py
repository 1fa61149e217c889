"""The to-do lists (home/todo.py): each kind appears when something is due, disappears when it is done, overdue
kinds come first, and nothing of another party or of another area leaks in."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import update

from marketplace.agencies.models import Agency
from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.home.todo import todo_for
from marketplace.orders import contracts
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.payments import services as payments
from marketplace.ratings import services as ratings
from marketplace.requests import services as requests
from tests import factories as f
from tests import timetravel

RATING = {"overall": 5, "quality": 5, "timeliness": 5, "attitude": 5, "fee": 5, "compliance": 5}


def kinds(user) -> dict:
    """{kind: Todo} of what waits for `user`."""
    return {t.kind: t for t in todo_for(user)}


def awaiting_order(enterprise=None, agency=None, method: str = "direct"):
    """(enterprise, agency, order) right after publicity: the order waits for its contract / confirmation."""
    enterprise = enterprise or f.user("enterprise")
    agency = agency or f.active_agency("C03")
    req = f.published_request(enterprise, selection_method=method)
    bid = f.bid(agency, req)
    timetravel.past_deadline(req)
    requests.select_winner(enterprise, req.id, bid.id, "技术方案最优，团队经验丰富")
    db.session.commit()
    timetravel.publicity_over(req)
    return enterprise, agency, orders.order_for_request(req.id)


@pytest.fixture(autouse=True)
def _request(app):
    with app.test_request_context():  # entries carry links
        yield


@pytest.fixture
def step_on(app):
    app.config["MARKET_CONTRACT_STEP"] = True
    yield
    app.config["MARKET_CONTRACT_STEP"] = False


def test_payment_due_then_transfer_to_confirm_then_nothing(app):
    enterprise, agency, order = f.accepted_order(price_fen=10_000_000)
    stranger = f.user("enterprise")
    due = kinds(enterprise)["payments_due"]
    assert due.count == 1 and due.entries[0].url == f"/orders/{order.id}"
    assert "payments_due" not in kinds(stranger) and "transfers_to_confirm" not in kinds(agency)

    payment = payments.record_offline(enterprise, order.id, reference="CMB20261130001", amount_fen=4_000_000)
    db.session.commit()
    # part of the money is on its way, the rest is still to pay; the agency has a transfer to confirm
    assert kinds(enterprise)["payments_due"].count == 1
    assert kinds(agency)["transfers_to_confirm"].count == 1
    payments.record_offline(enterprise, order.id, reference="CMB20261130002")
    db.session.commit()
    assert "payments_due" not in kinds(enterprise)
    assert kinds(agency)["transfers_to_confirm"].count == 2

    payments.confirm_offline(agency, payment.id)
    db.session.commit()
    assert kinds(agency)["transfers_to_confirm"].count == 1
    other_agency = f.active_agency("C03")
    assert "transfers_to_confirm" not in kinds(other_agency)


def test_contract_to_sign_then_to_confirm_by_the_other_party(client, step_on):
    enterprise, agency, order = awaiting_order()
    assert kinds(enterprise)["contracts_to_sign"].count == 1
    assert kinds(agency)["contracts_to_sign"].count == 1
    assert "orders_to_confirm" not in kinds(agency)  # with the contract step, the contract starts the order

    today = now().date()
    terms = {
        "code": "HT-2026-0001",
        "amount_fen": order.amount_fen,
        "start_date": today,
        "end_date": today + timedelta(days=60),
    }
    contracts.upload_contract(agency, order.id, terms, (io.BytesIO(f.PDF), "合同.pdf"))
    db.session.commit()
    assert "contracts_to_sign" not in kinds(enterprise) and "contracts_to_sign" not in kinds(agency)
    assert kinds(enterprise)["contracts_to_confirm"].count == 1
    assert "contracts_to_confirm" not in kinds(agency)  # its own upload waits for the enterprise

    contracts.reject_contract(enterprise, order.id, "合同金额与中选价不一致")
    db.session.commit()
    assert kinds(agency)["contracts_to_sign"].count == 1  # returned: a corrected one is due
    assert "contracts_to_confirm" not in kinds(enterprise)


def test_orders_to_confirm_without_the_contract_step():
    enterprise, agency, order = awaiting_order()
    assert kinds(agency)["orders_to_confirm"].entries[0].url == f"/orders/{order.id}"
    assert "contracts_to_sign" not in kinds(enterprise)
    orders.confirm(agency, order.id)
    db.session.commit()
    assert "orders_to_confirm" not in kinds(agency)


def test_bids_to_compare_and_selections_to_run():
    enterprise = f.user("enterprise")
    agency = f.active_agency("C03")
    judged = f.published_request(enterprise, selection_method="direct")
    by_rule = f.published_request(
        enterprise, selection_method="lowest_price", funding="social", title="宿迁市某厂房安全评价"
    )
    bid = f.bid(agency, judged)
    f.bid(agency, by_rule)
    assert "bids_to_compare" not in kinds(enterprise)  # still bidding
    timetravel.past_deadline(judged, clock=False)  # reads see the deadline passed before the clock records it
    timetravel.past_deadline(by_rule, clock=False)
    mine = kinds(enterprise)
    assert mine["bids_to_compare"].count == 1 and mine["bids_to_compare"].entries[0].label == judged.title
    assert mine["selections_to_run"].count == 1
    assert "bids_to_compare" not in kinds(f.user("enterprise"))
    requests.select_winner(enterprise, judged.id, bid.id, "技术方案最优，团队经验丰富")
    db.session.commit()
    assert "bids_to_compare" not in kinds(enterprise)


def test_delivery_to_accept_with_its_automatic_date_then_rating(app):
    enterprise, agency, order = f.accepted_order(accept=False)
    item = kinds(enterprise)["deliveries_to_accept"]
    window = timedelta(seconds=app.config["MARKET_ACCEPTANCE_SECONDS"])
    assert item.count == 1 and abs(item.entries[0].due_at - (order.delivered_at + window)) < timedelta(
        seconds=1
    )
    assert "ratings_to_give" not in kinds(enterprise)
    orders.accept(enterprise, order.id)
    db.session.commit()
    mine = kinds(enterprise)
    assert "deliveries_to_accept" not in mine and mine["ratings_to_give"].count == 1
    ratings.rate_order(enterprise, order.id, RATING)
    db.session.commit()
    assert "ratings_to_give" not in kinds(enterprise)


def test_rating_window_closed_leaves_the_list(app):
    enterprise, _agency, order = f.accepted_order()
    window = timedelta(seconds=app.config["MARKET_RATING_WINDOW_SECONDS"])
    db.session.execute(update(Order).where(Order.id == order.id).values(accepted_at=now() - window))
    db.session.commit()
    assert "ratings_to_give" not in kinds(enterprise)


def test_extension_to_decide_is_overdue_once_the_due_date_passed_and_comes_first():
    enterprise, agency, order = awaiting_order()
    orders.confirm(agency, order.id)
    db.session.commit()
    contracts.request_extension(agency, order.id, (now() + timedelta(days=90)).date(), "业主补充资料延迟两周")
    db.session.commit()
    item = kinds(enterprise)["extensions_to_decide"]
    assert item.count == 1 and item.overdue == 0
    # a second order's payment is due; then the first order's due date passes: the extension goes first
    f.accepted_order(enterprise=enterprise)
    timetravel.order_elapsed(db.session.get(Order, order.id), 1.2)
    listed = todo_for(enterprise)
    assert listed[0].kind == "extensions_to_decide" and listed[0].overdue == 1
    assert listed[0].entries[0].overdue
    # the agency sees its red order, overdue
    assert kinds(agency)["orders_due"].overdue == 1


def test_agency_orders_yellow_then_red():
    _enterprise, agency, order = awaiting_order()
    orders.confirm(agency, order.id)
    db.session.commit()
    assert "orders_due" not in kinds(agency)
    timetravel.order_elapsed(order, 0.85)
    item = kinds(agency)["orders_due"]
    assert item.count == 1 and item.overdue == 0
    timetravel.order_elapsed(db.session.get(Order, order.id), 1.1)
    assert kinds(agency)["orders_due"].overdue == 1
    orders.deliver(agency, order.id, "提交成果报告")
    db.session.commit()
    assert "orders_due" not in kinds(agency)  # delivery stops the agency's clock


def test_announcements_closing_soon_for_the_agency_until_it_bids():
    agency = f.active_agency("C03")
    other_category = f.active_agency("C08")
    soon = f.published_request(bid_deadline=(now() + timedelta(days=1, hours=2)).isoformat())
    f.published_request(bid_deadline=(now() + timedelta(days=10)).isoformat(), title="远期项目环评")
    item = kinds(agency)["requests_closing"]
    assert item.count == 1 and item.entries[0].url == f"/requests/{soon.id}"
    assert "requests_closing" not in kinds(other_category)
    f.bid(agency, soon)
    assert "requests_closing" not in kinds(agency)


def test_returned_announcement_for_the_enterprise(review_on):
    from marketplace.requests import review
    from tests.review import submitted_request

    enterprise = f.user("enterprise")
    operator = f.staff("operator", "320700")
    req = submitted_request(enterprise)
    assert kinds(operator)["announcements_to_review"].count == 1
    assert "announcements_to_review" not in kinds(f.staff("operator", "320500"))  # 苏州: not its area
    review.return_request(operator, req.id, "请补充项目立项批复文号")
    db.session.commit()
    assert kinds(enterprise)["announcements_returned"].entries[0].url == f"/enterprise/requests/{req.id}/edit"
    assert "announcements_to_review" not in kinds(operator)


def test_operator_memberships_in_its_area_overdue_first():
    applicant = f.pending_agency("C03")  # registered in 320105 (南京)
    nanjing, suzhou = f.staff("operator", "320100"), f.staff("operator", "320500")
    item = kinds(nanjing)["memberships_to_review"]
    assert item.count == 1 and item.overdue == 0
    assert "memberships_to_review" not in kinds(suzhou)
    assert "memberships_to_review" not in kinds(f.staff("supervisor", "320100"))  # reads, does not review
    db.session.execute(
        update(Agency)
        .where(Agency.id == applicant.agency.id)
        .values(review_due_at=now() - timedelta(hours=1))
    )
    db.session.commit()
    listed = todo_for(nanjing)
    assert listed[0].kind == "memberships_to_review" and listed[0].overdue == 1
    assert "memberships_to_review" in kinds(f.admin())  # the administrator holds every role everywhere


def test_supervisor_overdue_orders_in_its_area_only():
    _enterprise, agency, order = awaiting_order()  # the request lies in 320703 (连云港)
    orders.confirm(agency, order.id)
    db.session.commit()
    timetravel.order_elapsed(order, 1.5)
    item = kinds(f.staff("supervisor", "320700"))["overdue_orders"]
    assert item.count == 1 and item.overdue == 1 and item.url.startswith("/admin/deadlines")
    assert "overdue_orders" not in kinds(f.staff("supervisor", "320500"))


def test_department_ratings_of_its_trade_and_area():
    _enterprise, _agency, order = f.accepted_order()
    trade = order.request.service_item.department
    assert trade
    item = kinds(f.staff("department", "320700", trade))["department_ratings"]
    assert item.count == 1 and item.entries[0].url == f"/orders/{order.id}"
    assert "department_ratings" not in kinds(f.staff("department", "320700", "另一个主管部门"))
    assert "department_ratings" not in kinds(f.staff("department", "320500", trade))
    ratings.department_rate(f.admin(), order.id, {"quality": 5, "timeliness": 4})
    db.session.commit()
    assert "department_ratings" not in kinds(f.staff("department", "320700", trade))


def test_nothing_for_anonymous_and_empty_state(client):
    assert todo_for(None) == []
    enterprise = f.user("enterprise")
    f.login(client, enterprise)
    page = client.get("/enterprise/").get_data(as_text=True)
    assert "data-todo-empty" in page


def test_supervisor_fee_flags_open_in_its_area_until_reviewed():
    from sqlalchemy import select

    from marketplace.fees import services as fees
    from marketplace.fees.models import FeeFlag, FlagStatus

    enterprise = f.user("enterprise")
    item = f.market_item()
    a, b = f.active_agency("C03"), f.active_agency("C03")
    req = f.published_request(enterprise, item=item)  # in 320703 (连云港)
    f.bid(a, req, price_fen=20_000_000)
    f.bid(b, req, price_fen=20_000_000)  # identical prices: both flagged when the bids open
    timetravel.past_deadline(req)
    requests.get_request(enterprise, req.id)
    flags = db.session.scalars(select(FeeFlag).where(FeeFlag.status == FlagStatus.OPEN)).all()
    assert len(flags) >= 2
    lianyungang = f.staff("supervisor", "320700")
    item_todo = kinds(lianyungang)["fee_flags"]
    assert item_todo.count == len(flags) and item_todo.entries[0].url.startswith("/admin/fee-audit/")
    assert "fee_flags" not in kinds(f.staff("supervisor", "320500"))
    assert "fee_flags" not in kinds(f.staff("operator", "320700"))
    for flag in flags:
        fees.review(lianyungang, flag.id, "dismiss", "报价相同系巧合，经核实无串通")
    db.session.commit()
    assert "fee_flags" not in kinds(lianyungang)
