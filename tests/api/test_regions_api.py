"""GET /api/v1/regions: the GB/T 2260 divisions, province → city → county, from the table migration 0012 seeded."""

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.regions import services as regions
from marketplace.regions.models import Region


def test_the_migration_seeds_every_division():
    assert db.session.scalar(select(func.count()).select_from(Region)) == 3210
    counts = dict(db.session.execute(select(Region.level, func.count()).group_by(Region.level)).all())
    assert counts[1] == 34 and counts[2] == 333
    pinghu = db.session.get(Region, "330482")
    assert (pinghu.name, pinghu.level, pinghu.parent_code, pinghu.full_name) == (
        "平湖市",
        3,
        "330400",
        "浙江省嘉兴市平湖市",
    )
    # A municipality's districts hang from the province; so does a 省直辖县级 city.
    assert db.session.get(Region, "110101").parent_code == "110000"
    xiantao = db.session.get(Region, "429004")
    assert (xiantao.parent_code, xiantao.full_name) == ("420000", "湖北省仙桃市")


def test_no_parent_lists_the_provinces(client):
    r = client.get("/api/v1/regions")
    assert r.status_code == 200
    rows = r.get_json()
    assert len(rows) == 34 and {x["level"] for x in rows} == {1}
    assert {"code": "320000", "name": "江苏省", "level": 1} in rows


def test_children_down_to_the_county(client):
    cities = client.get("/api/v1/regions?parent=330000").get_json()
    assert {"code": "330400", "name": "嘉兴市", "level": 2} in cities
    counties = client.get("/api/v1/regions?parent=330400").get_json()
    assert {"code": "330482", "name": "平湖市", "level": 3} in counties
    assert all(c["code"].startswith("3304") for c in counties)
    assert client.get("/api/v1/regions?parent=330482").get_json() == []  # nothing below a county
    shanghai = client.get("/api/v1/regions?parent=310000").get_json()
    assert {"code": "310104", "name": "徐汇区", "level": 3} in shanghai


def test_bad_parents(client):
    unknown = client.get("/api/v1/regions?parent=999999")
    assert unknown.status_code == 404 and unknown.is_json
    for bad in ("abc", "3300", "33000000", "000000"):
        r = client.get(f"/api/v1/regions?parent={bad}")
        assert r.status_code == 422, bad
        assert "parent" in r.get_json()["errors"]


def test_names_and_lookups():
    assert regions.name("320506") == "吴中区"
    assert regions.full_name("320506") == "江苏省苏州市吴中区"
    assert regions.code_for_name("苏州市") == "320500"
    assert regions.code_for_name("鼓楼区", "320000") is None  # Nanjing's and Xuzhou's: ambiguous
    assert regions.code_for_name("鼓楼区", "320100") == "320106"
    assert regions.code_for_name("平湖市", "320000") is None  # not inside Jiangsu
    assert [d.code for d in regions.chain("330482")] == ["330000", "330400", "330482"]


def test_sync_reports_renames_and_additions(app):
    data = regions.package_divisions()
    db.session.execute(db.update(Region).where(Region.code == "330482").values(name="旧名"))
    db.session.execute(db.delete(Region).where(Region.code == "330481"))
    regions.forget()
    report = regions.sync(data)
    assert report.added == ["330481"]
    assert report.renamed == [("330482", "旧名", "平湖市")]
    assert regions.name("330482") == "平湖市"
    again = regions.sync(data)
    assert again.added == [] and again.renamed == []


def test_sync_command(app):
    out = app.test_cli_runner().invoke(args=["regions", "sync"])
    assert out.exit_code == 0, out.output
    assert "3210 divisions, 0 added, 0 renamed" in out.output


def test_an_unknown_market_area_stops_the_app():
    import pytest

    from marketplace.app import create_app

    with pytest.raises(RuntimeError, match="MARKET_AREA_CODE"):
        create_app(
            {"MARKET_AREA_CODE": "339999", "MARKET_ENV": "testing", "TESTING": True, "SECRET_KEY": "x"}
        )
    with pytest.raises(RuntimeError, match="MARKET_AREA_CODE"):
        create_app(
            {"MARKET_AREA_CODE": "Pinghu", "MARKET_ENV": "testing", "TESTING": True, "SECRET_KEY": "x"}
        )
