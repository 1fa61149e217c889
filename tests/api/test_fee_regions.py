"""The public fee statistics filter by region at any level of GB/T 2260 (projects inside it only)."""

from marketplace.extensions import db
from marketplace.requests.models import ServiceRequest
from tests import factories as f


def _deal_in(code: str, price_fen: int):
    # the project's region is set when the request is posted (the kept fee figures count it from the deal on)
    _, _, order = f.accepted_order(price_fen=price_fen, region_code=code)
    req = db.session.get(ServiceRequest, order.request_id)
    assert req.region_code == code
    return req.service_item_id


def test_fee_statistics_by_region(client):
    item_id = _deal_in("320506", 9_000_000)  # 吴中区, 苏州市
    _deal_in("320106", 7_000_000)  # 鼓楼区, 南京市

    def winning(region=None):
        q = {"region": region} if region else {}
        r = client.get(f"/api/v1/service-items/{item_id}/fees", query_string=q)
        assert r.status_code == 200, r.get_json()
        return r.get_json()["winning"]

    assert winning()["count"] == 2
    for code, count in (("320000", 2), ("320500", 1), ("320506", 1)):  # province, city, county
        assert winning(code)["count"] == count
    assert winning("320500")["median_fen"] == 9_000_000
    assert winning("320100")["median_fen"] == 7_000_000
    assert winning("330482")["count"] == 0  # Pinghu: none there

    r = client.get("/api/v1/fees", query_string={"region": "320100"})
    assert r.status_code == 200
    assert sum(row["winning"]["count"] for row in r.get_json()) == 1

    r = client.get("/api/v1/fees", query_string={"region": "999999"})
    assert r.status_code == 422 and "region" in r.get_json()["errors"]

    page = client.get("/fees/?region=320500").get_data(as_text=True)
    assert "苏州市" in page and 'data-form="fee-region"' in page
    assert client.get("/fees/?region=nonsense").status_code == 200  # a page ignores an unknown filter
