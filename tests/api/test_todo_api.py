"""GET /api/v1/todo and the order lists' payment filter (待付款 / 在途 / 已付清), page and API."""

from __future__ import annotations

from marketplace.extensions import db
from marketplace.payments import services as payments
from tests import factories as f


def _three_orders():
    """One enterprise and agency with three accepted orders: nothing paid, a transfer on its way, paid in full."""
    enterprise, agency, unpaid = f.accepted_order(price_fen=1_000_000)
    _, _, on_way = f.accepted_order(price_fen=2_000_000, enterprise=enterprise, agency=agency)
    _, _, paid = f.accepted_order(price_fen=3_000_000, enterprise=enterprise, agency=agency)
    payments.record_offline(enterprise, on_way.id, reference="ICBC-2026-0001")
    done = payments.record_offline(enterprise, paid.id, reference="ICBC-2026-0002")
    db.session.commit()
    payments.confirm_offline(agency, done.id)
    db.session.commit()
    return enterprise, agency, {"due": unpaid.id, "pending": on_way.id, "paid": paid.id}


def _ids(resp) -> set[int]:
    assert resp.status_code == 200, resp.get_json()
    return {o["id"] for o in resp.get_json()}


def test_order_list_api_filters_by_payment_status(client):
    enterprise, agency, ids = _three_orders()
    for who in (enterprise, agency):
        headers = f.token(client, who)
        assert _ids(client.get("/api/v1/orders", headers=headers)) == set(ids.values())
        for kind, order_id in ids.items():
            assert _ids(client.get(f"/api/v1/orders?payment={kind}", headers=headers)) == {order_id}, kind
    stranger = f.token(client, f.user("enterprise"))
    assert _ids(client.get("/api/v1/orders?payment=due", headers=stranger)) == set()


def test_order_list_api_refuses_an_unknown_payment_filter(client):
    enterprise, _agency, _order = f.accepted_order()
    resp = client.get("/api/v1/orders?payment=unpaid", headers=f.token(client, enterprise))
    assert resp.status_code == 422
    assert "payment" in str(resp.get_json())


def test_order_list_page_shows_the_payment_column_and_filters(client):
    enterprise, agency, ids = _three_orders()
    f.login(client, enterprise)
    page = client.get("/orders/").get_data(as_text=True)
    for order_id in ids.values():
        assert f'data-order-id="{order_id}"' in page
    assert 'data-payment="due"' in page and 'data-payment="pending"' in page and 'data-payment="paid"' in page
    for kind, order_id in ids.items():
        page = client.get(f"/orders/?payment={kind}").get_data(as_text=True)
        shown = {i for i in ids.values() if f'data-order-id="{i}"' in page}
        assert shown == {order_id}, kind
    resp = client.get("/orders/?payment=nonsense")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "data-payment-error" in page and all(f'data-order-id="{i}"' in page for i in ids.values())


def test_todo_api_lists_what_waits_overdue_first(client):
    enterprise, agency, ids = _three_orders()
    resp = client.get("/api/v1/todo", headers=f.token(client, enterprise))
    assert resp.status_code == 200
    body = resp.get_json()
    due = next(i for i in body["items"] if i["kind"] == "payments_due")
    assert due["count"] == 1 and due["entries"][0]["url"] == f"/orders/{ids['due']}"
    assert due["title"] and due["url"] == "/orders/?payment=due"
    assert body["total"] == sum(i["count"] for i in body["items"])
    body = client.get("/api/v1/todo", headers=f.token(client, agency)).get_json()
    transfers = next(i for i in body["items"] if i["kind"] == "transfers_to_confirm")
    assert transfers["count"] == 1 and transfers["entries"][0]["url"] == f"/orders/{ids['pending']}"
    assert all(i["kind"] != "payments_due" for i in body["items"])


def test_todo_api_needs_a_token(client):
    resp = client.get("/api/v1/todo")
    assert resp.status_code == 401
    assert resp.is_json
