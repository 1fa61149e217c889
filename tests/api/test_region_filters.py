"""Lists filter by any level of the GB/T 2260 tree (the default Jiangsu market), and the old region names that
clients sent before codes still work for one release."""

from marketplace.extensions import db
from tests import factories as f


def _ids(client, path):
    r = client.get(path)
    assert r.status_code == 200, r.get_json()
    return {x["id"] for x in r.get_json()}


def test_announcements_filter_by_province_city_and_county(client):
    wuzhong = f.published_request(region_code="320506")  # 苏州市吴中区
    suzhou = f.published_request(region_code="320500")  # 苏州市 as a whole
    lianyun = f.published_request(region_code="320703")  # 连云港市连云区
    mine = {wuzhong.id, suzhou.id, lianyun.id}
    assert _ids(client, "/api/v1/requests?region=320000&per_page=100") & mine == mine
    assert _ids(client, "/api/v1/requests?region=320500&per_page=100") & mine == {wuzhong.id, suzhou.id}
    assert _ids(client, "/api/v1/requests?region=320506&per_page=100") & mine == {wuzhong.id}
    assert _ids(client, "/api/v1/requests?region=320505&per_page=100") & mine == set()
    assert _ids(client, "/api/v1/requests?region=苏州市&per_page=100") & mine == {wuzhong.id, suzhou.id}
    # The page filters the same way and names the place.
    page = client.get("/requests/?region=320506").get_data(as_text=True)
    assert wuzhong.title in page
    detail = client.get(f"/requests/{wuzhong.id}").get_data(as_text=True)
    assert "江苏省苏州市吴中区" in detail


def test_agencies_filter_by_the_areas_they_serve(client):
    admin = f.admin()
    whole = f.active_agency("C03", reviewer=admin)  # serves 320000
    city = f.active_agency("C03", reviewer=admin)
    city.agency.service_area_codes = ["320500"]
    county = f.active_agency("C03", reviewer=admin)
    county.agency.service_area_codes = ["320506", "310104"]
    db.session.commit()
    ids = {whole.agency.id, city.agency.id, county.agency.id}
    found = lambda region: _ids(client, f"/api/v1/agencies?region={region}&page_size=100") & ids  # noqa: E731
    assert found("320000") == ids  # each serves something inside Jiangsu
    assert found("320500") == ids
    assert found("320506") == ids
    assert found("320505") == {whole.agency.id, city.agency.id}
    assert found("320100") == {whole.agency.id}
    assert found("310000") == {county.agency.id}
    assert found("南京市") == {whole.agency.id}
    page = client.get("/agencies/?region=310104").get_data(as_text=True)
    assert county.agency.name in page and whole.agency.name not in page


def test_old_region_names_in_the_application(client):
    cat = f.category("C03")
    u = f.user("agency")
    h = f.token(client, u)
    data = f.application([cat.id], region="上海市")
    for key in ("region_code", "service_area_codes"):
        data.pop(key)
    f.api_evidence(client, h)
    r = client.post("/api/v1/agencies/me/application", json=data, headers=h)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["region_code"] == "310000" and body["service_area_codes"] == ["310000"]
    bad = f.application([cat.id], region="鼓楼区", service_area_codes=["320000", "123456"])
    bad.pop("region_code")
    r = client.post("/api/v1/agencies/me/application", json=bad, headers=f.token(client, f.user("agency")))
    assert r.status_code == 422
    assert {"region_code", "service_area_codes"} <= set(r.get_json()["errors"])
