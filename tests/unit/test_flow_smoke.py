"""The whole life of a request through the services, with the clock moved by time travel."""

from marketplace.orders import services as orders
from marketplace.requests import services as requests
from tests import factories as f
from tests import timetravel


def test_post_bid_select_publicity_order_accept():
    enterprise = f.user("enterprise")
    req = f.published_request(enterprise)
    assert req.status == "bidding" and len(req.draw_commitment) == 64
    admin = f.admin()
    agencies = [f.active_agency("C03", reviewer=admin) for _ in range(3)]
    for i, a in enumerate(agencies):
        f.bid(a, req, price_fen=20_000_000 - i * 1_000_000)
    timetravel.past_deadline(req)
    req = requests.get_request(enterprise, req.id)
    assert req.status == "evaluating"
    req = requests.select_winner(enterprise, req.id)
    assert req.status == "publicity" and req.winner_bid_id is not None
    timetravel.publicity_over(req)
    req = requests.get_request(enterprise, req.id)
    assert req.status == "awarded"
    order = orders.order_for_request(req.id)
    assert order.amount_fen == 18_000_000
    winner = next(a for a in agencies if a.agency.id == order.agency_id)
    orders.confirm(winner, order.id)
    orders.report_progress(winner, order.id, "外业调查完成", 40)
    timetravel.order_elapsed(order, 0.85)
    assert orders.deadline_status(orders.get_order(enterprise, order.id)) == "yellow"
    orders.deliver(winner, order.id, "提交报告书终稿")
    orders.accept(enterprise, order.id)
    assert orders.get_order(enterprise, order.id).status == "accepted"
