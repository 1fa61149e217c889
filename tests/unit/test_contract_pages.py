"""The contract and extension panels of the order page, driven through their forms (CSRF off in tests)."""

from __future__ import annotations

import io
from datetime import timedelta

from marketplace.common.clock import LOCAL_TZ, now
from marketplace.extensions import db
from marketplace.orders.models import Order
from tests import factories as f
from tests.api.test_contracts import awaiting_order, step_on  # noqa: F401 (a fixture)
from tests.api.test_extensions_and_payee import started_order


def form(order, **over) -> dict:
    today = now().astimezone(LOCAL_TZ).date()
    data = {
        "code": "HT-2026-0421",
        "amount": f"{order.amount_fen / 100:.2f}",
        "start_date": today.isoformat(),
        "end_date": (today + timedelta(days=45)).isoformat(),
        "file": (io.BytesIO(f.PDF), "合同扫描件.pdf"),
    }
    return data | over


def test_upload_reject_upload_again_and_confirm_through_the_pages(client, step_on):  # noqa: F811
    enterprise, agency, order = awaiting_order()
    f.login(client, agency)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-form="upload-contract"' in page and 'data-form="confirm"' not in page
    assert "model-contract" in page

    bad = client.post(f"/orders/{order.id}/contract", data=form(order, amount="1.00"))
    assert bad.status_code == 422 and "has-error" in bad.get_data(as_text=True)
    png = client.post(f"/orders/{order.id}/contract", data=form(order, file=(io.BytesIO(f.PNG), "a.pdf")))
    assert png.status_code == 422
    assert db.session.get(Order, order.id).contract is None

    assert client.post(f"/orders/{order.id}/contract", data=form(order)).status_code == 302
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-contract-status="pending"' in page and 'data-form="confirm-contract"' not in page

    f.login(client, enterprise)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-form="confirm-contract"' in page and 'data-form="reject-contract"' in page
    empty = client.post(f"/orders/{order.id}/contract/reject", data={"reason": ""})
    assert empty.status_code == 422
    db.session.expire_all()
    assert db.session.get(Order, order.id).contract.status.value == "pending"
    done = client.post(
        f"/orders/{order.id}/contract/reject", data={"reason": "乙方未加盖骑缝章，请补盖后上传"}
    )
    assert done.status_code == 302

    f.login(client, agency)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "乙方未加盖骑缝章" in page and 'data-form="upload-contract"' in page
    assert (
        client.post(f"/orders/{order.id}/contract", data=form(order, code="HT-2026-0421-2")).status_code
        == 302
    )

    f.login(client, enterprise)
    assert client.post(f"/orders/{order.id}/contract/confirm").status_code == 302
    db.session.expire_all()
    assert db.session.get(Order, order.id).status.value == "in_progress"
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-contract-status="confirmed"' in page and "data-contract-old" in page


def test_extension_through_the_pages(client):
    enterprise, agency, order = started_order()
    f.login(client, agency)
    due = (order.due_at.astimezone(LOCAL_TZ).date() + timedelta(days=9)).isoformat()
    assert (
        client.post(f"/orders/{order.id}/extensions", data={"due_date": due, "reason": ""}).status_code == 422
    )
    resp = client.post(
        f"/orders/{order.id}/extensions", data={"due_date": due, "reason": "资料补充滞后，需顺延"}
    )
    assert resp.status_code == 302
    f.login(client, enterprise)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-form="approve-extension"' in page
    ext = db.session.get(Order, order.id).extensions[0]
    assert client.post(f"/orders/{order.id}/extensions/{ext.id}/approve").status_code == 302
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "data-original-due" in page and 'data-extension-state="approved"' in page


def test_model_contract_page_and_download(client):
    item = f.market_item()
    page = client.get(f"/catalogue/items/{item.id}/model-contract")
    assert page.status_code == 200 and item.name in page.get_data(as_text=True)
    txt = client.get(f"/catalogue/items/{item.id}/model-contract?format=txt")
    assert txt.status_code == 200 and txt.mimetype == "text/plain"
    body = txt.get_data(as_text=True)
    assert (
        "第八条　违约责任" in body
        and item.name in body
        and "attachment" in txt.headers["Content-Disposition"]
    )
    assert "model-contract" in client.get(f"/catalogue/items/{item.id}").get_data(as_text=True)
    # The department's own text replaces the generic one.
    item.model_contract = "本事项合同示范文本由生态环境局发布。"
    db.session.commit()
    assert "生态环境局发布" in client.get(f"/catalogue/items/{item.id}/model-contract").get_data(as_text=True)
