"""OCDS releases of one awarded request, field by field; the seal (no bid in a release while bidding is open);
bad months refused with a structured 422; the monthly file download."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from marketplace.common.clock import local, now
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.payments import services as payments
from marketplace.requests import services as requests
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests import timetravel
from tests.ocds import check_bids, package_for, validate


def _month() -> str:
    return local(now()).strftime("%Y-%m")


def _awarded():
    owner = f.user("enterprise", org_name="连云港港口建设集团有限公司")
    admin = f.admin()
    agencies = [
        f.active_agency("C03", reviewer=admin, org_name=f"开放数据{n}环境咨询有限公司") for n in "甲乙丙"
    ]
    req = f.published_request(
        owner, selection_method="lowest_price", title="开放数据：港区堆场扩建工程环境影响评价"
    )
    prices = [23_456_700, 19_876_500, 21_000_000]
    bids = [
        f.bid(a, req, price_fen=p, promised_days=30 + i)
        for i, (a, p) in enumerate(zip(agencies, prices, strict=True))
    ]
    timetravel.past_deadline(req, by=timedelta(hours=2))
    requests.select_winner(owner, req.id)
    db.session.commit()
    # selected an hour ago, publicity over a second ago
    timetravel._shift(ServiceRequest, req.id, clock=False, selected_at=now() - timedelta(hours=1))
    timetravel.publicity_over(req)
    order = orders.order_for_request(req.id)
    orders.confirm(agencies[1], order.id)
    orders.deliver(agencies[1], order.id, "提交报告书")
    orders.accept(owner, order.id)
    payment = payments.record_offline(owner, order.id, reference="HX-OCDS-0001")
    payments.confirm_offline(agencies[1], payment.id)
    db.session.commit()
    return owner, agencies, req, bids, order, payment


def _releases(client, req) -> dict[str, dict]:
    """The request's releases in the packages of the months from its publication to this one (the walk dates its
    publication days back, which in a month's first days falls in the month before; a month none of the market's
    releases fall in has no package)."""
    prefix = f"ocds-zjcs00-{req.id}"
    found = {}
    for month in sorted({local(req.published_at).strftime("%Y-%m"), _month()}):
        body = package_for(client, month)
        validate(body)
        check_bids(body)
        found |= {
            r["tag"][0] + ":" + r["id"].removeprefix(prefix + "-"): r
            for r in body["releases"]
            if r["ocid"] == prefix
        }
    return found


def test_an_awarded_request_field_by_field(client):
    owner, agencies, req, bids, order, payment = _awarded()
    db.session.refresh(req)
    releases = _releases(client, req)
    keys = set(releases)
    assert {
        "tender:tender",
        "award:award",
        "awardUpdate:award-final",
        f"contract:contract-{order.id}",
    } <= keys
    assert f"contractUpdate:contract-{order.id}-active" in keys
    assert f"implementation:contract-{order.id}-delivery" in keys
    assert f"implementation:contract-{order.id}-acceptance" in keys
    assert f"implementation:payment-{payment.id}" in keys

    tender = releases["tender:tender"]
    assert tender["initiationType"] == "tender" and tender["language"] == "zh"
    assert tender["buyer"]["name"] == "连云港港口建设集团有限公司"
    buyer = tender["parties"][0]
    assert buyer["roles"] == ["buyer", "procuringEntity"]
    assert buyer["identifier"] == {
        "scheme": "CN-USCC",
        "id": owner.enterprise.uscc,
        "legalName": owner.enterprise.name,
    }
    t = tender["tender"]
    assert t["title"] == "开放数据：港区堆场扩建工程环境影响评价"
    assert t["status"] == "active"
    assert t["value"] == {"amount": 300000.0, "currency": "CNY"}  # the ceiling, 30,000,000 fen
    assert t["awardCriteria"] == "priceOnly"
    assert "最低" in t["awardCriteriaDetails"] or "低" in t["awardCriteriaDetails"]
    assert t["procurementMethodDetails"] == "竞价选取"
    assert t["mainProcurementCategory"] == "services"
    assert t["items"][0]["classification"]["id"] == req.service_item.code
    assert "bids" not in tender and "tenderers" not in t  # published while bidding was open

    final = releases[f"implementation:payment-{payment.id}"]
    winner = agencies[1].agency
    uscc = f"CN-USCC-{winner.uscc}"
    roles = {p["id"]: p["roles"] for p in final["parties"]}
    assert roles[uscc] == ["tenderer", "supplier", "payee"]
    assert roles[f"CN-USCC-{owner.enterprise.uscc}"] == ["buyer", "procuringEntity", "payer"]
    assert final["tender"]["status"] == "complete"
    assert final["tender"]["numberOfTenderers"] == 3
    details = {d["id"]: d for d in final["bids"]["details"]}
    assert {d["value"]["amount"] for d in details.values()} == {234567.0, 198765.0, 210000.0}
    assert details[str(bids[1].id)]["tenderers"] == [{"id": uscc, "name": winner.name}]
    assert all(d["status"] == "valid" for d in details.values())
    (award,) = final["awards"]
    assert award["status"] == "active"
    assert award["value"] == {"amount": 198765.0, "currency": "CNY"}
    assert award["suppliers"] == [{"id": uscc, "name": winner.name}]
    (contract,) = final["contracts"]
    assert contract["awardID"] == award["id"]
    assert contract["status"] == "terminated"  # accepted: fulfilled
    assert contract["value"] == {"amount": 198765.0, "currency": "CNY"}
    impl = contract["implementation"]
    (tx,) = impl["transactions"]
    assert tx["value"] == {"amount": 198765.0, "currency": "CNY"}
    assert tx["payer"]["id"] == f"CN-USCC-{owner.enterprise.uscc}" and tx["payee"]["id"] == uscc
    milestones = {m["id"]: m for m in impl["milestones"]}
    assert milestones["delivery"]["status"] == "met" and milestones["acceptance"]["status"] == "met"

    award_release = releases["award:award"]
    assert award_release["awards"][0]["status"] == "pending"  # under publicity
    assert "contracts" not in award_release
    delivery = releases[f"implementation:contract-{order.id}-delivery"]
    d_milestones = {m["id"]: m["status"] for m in delivery["contracts"][0]["implementation"]["milestones"]}
    assert d_milestones == {"delivery": "met", "acceptance": "scheduled"}
    assert delivery["contracts"][0]["status"] == "active"
    assert delivery["contracts"][0]["implementation"]["transactions"] == []


def test_no_bid_appears_for_a_request_still_bidding(client):
    owner = f.user("enterprise")
    agency = f.active_agency("C03", reviewer=f.admin())
    req = f.published_request(owner, bid_deadline=(now() + timedelta(days=3)).isoformat())
    f.bid(agency, req, price_fen=12_345_600)
    body = package_for(client, _month())
    validate(body)
    check_bids(body)
    (release,) = [r for r in body["releases"] if r["ocid"].endswith(f"-{req.id}")]
    assert release["tag"] == ["tender"]
    text = client.get(f"/api/v1/ocds/releases?month={_month()}").get_data(as_text=True)
    assert "123456" not in text and agency.agency.name not in text and agency.agency.uscc not in text
    download = client.get(f"/opendata/ocds/{_month()}.json")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert agency.agency.name not in download.get_data(as_text=True)


def test_bad_months_are_refused_with_a_structured_422(client):
    for bad in ("2026-13", "2026-1", "abc", "", "1999-12"):
        r = client.get(f"/api/v1/ocds/releases?month={bad}")
        assert r.status_code == 422, bad
        body = r.get_json()
        assert body["code"] == 422 and "month" in body["errors"]
    assert client.get("/api/v1/ocds/releases").status_code == 422
    assert client.get("/api/v1/ocds/releases?month=2031-01").status_code == 404
    assert client.get("/opendata/ocds/2026-13.json").status_code == 404


def test_the_open_data_page_lists_the_months(client):
    _awarded()
    page = client.get("/opendata/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-month="{_month()}"' in html and f"/opendata/ocds/{_month()}.json" in html


def _stamped_months() -> list[str]:
    """Every month with a release-making stamp, from the records (written here, apart from the kept rows)."""
    sql = {
        "service_request": ("published_at", "selected_at", "publicity_ends_at", "ended_at"),
        "service_order": ("created_at", "started_at", "delivered_at", "accepted_at"),
        "payment": ("paid_at",),
    }
    found = set()
    for table, columns in sql.items():
        published = " AND published_at IS NOT NULL" if table == "service_request" else ""
        for column in columns:
            final = " AND status = 'awarded'" if column == "publicity_ends_at" else ""
            for (value,) in db.session.execute(
                text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL{published}{final}")
            ):
                moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
                found.add(local(moment.replace(tzinfo=moment.tzinfo or UTC)).strftime("%Y-%m"))
    return sorted(found, reverse=True)


def test_the_months_are_kept_as_the_records_change(client):
    """The kept months (tally/ocds_months.py) follow publication, award, order, payment and time travel, equal
    the months of the records' stamps, and equal a rebuild; the page and the API list them newest first."""
    from marketplace.tally import ocds_months

    owner, agencies, req, _, order, _ = _awarded()
    timetravel._shift(Order, order.id, clock=False, started_at=now() - timedelta(days=75))  # behind the ORM
    draft = f.published_request(owner, title="开放数据：未发布的草稿不算")
    timetravel._shift(
        ServiceRequest, draft.id, clock=False, published_at=None, selected_at=now() - timedelta(days=400)
    )
    expected = _stamped_months()
    assert len(expected) >= 2
    body = client.get("/api/v1/ocds/months").get_json()
    assert [m["month"] for m in body] == expected
    assert body[0]["url"].endswith(f"/api/v1/ocds/releases?month={expected[0]}")
    html = client.get("/opendata/").get_data(as_text=True)
    assert [m for m in expected if f'data-month="{m}"' in html] == expected
    kept = ocds_months.snapshot(db.session)
    ocds_months.rebuild(db.session)
    assert ocds_months.snapshot(db.session) == kept == sorted(expected)
