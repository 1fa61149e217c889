"""Random inspections (双随机、一公开) through the API: the register, the commitment published at planning, the
seed revealed at the draw, a draw anyone can recompute with the standalone verifier, findings, closing only when
complete, the events sent once, scope and authorization, bad input refused with nothing changed."""

from __future__ import annotations

import copy
import hashlib
import io

import pytest
from sqlalchemy import func, select

from marketplace import events
from marketplace.extensions import db
from marketplace.inspections import rules
from marketplace.inspections.models import InspectionTask, Inspector, TaskStatus
from marketplace.requests import verify_draw
from tests import factories as f

ENV = "市生态环境局"  # the trade of C03
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _inspectors(client, h, n: int, department: str = ENV, region_code=None) -> list[int]:
    ids = []
    for _ in range(n):
        r = client.post(
            "/api/v1/admin/inspectors",
            json={
                "name": "张检查",
                "department": department,
                "certificate_no": f"32010{next(f._seq):05d}",
                "region_code": region_code,
            },
            headers=h,
        )
        assert r.status_code == 201, r.get_json()
        ids.append(r.get_json()["id"])
    return ids


def _task(client, h, **over) -> dict:
    data = {
        "title": "2026年度环评机构双随机抽查",
        "category_id": f.category("C03").id,
        "agency_count": 2,
        "inspectors_per_agency": 2,
    }
    data.update(over)
    r = client.post("/api/v1/admin/inspections", json=data, headers=h)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


@pytest.fixture
def market(client):
    """Three active C03 members, a supervisor over the whole market area and four inspectors."""
    agencies = [f.active_agency("C03").agency.id for _ in range(3)]
    supervisor = f.staff("supervisor")
    h = f.token(client, supervisor)
    inspectors = _inspectors(client, h, 4)
    return {"agencies": agencies, "h": h, "inspectors": inspectors, "supervisor": supervisor}


def test_commitment_before_seed_at_draw_reproducible_and_verified(client, market):
    task = _task(client, market["h"])
    assert len(task["draw_commitment"]) == 64 and task["status"] == "planned"
    assert len(task["checklist"]) >= 5  # the trade's default list

    before = client.get(f"/api/v1/inspections/{task['id']}/draw").get_json()
    assert before["commitment"] == task["draw_commitment"]
    assert before["seed"] is None and before["agencies"] == [] and before["kind"] == "inspection"
    assert not verify_draw.verify(before)  # nothing to verify yet

    r = client.post(f"/api/v1/admin/inspections/{task['id']}/draw", headers=market["h"])
    assert r.status_code == 200, r.get_json()
    record = r.get_json()
    assert hashlib.sha256(record["seed"].encode()).hexdigest() == task["draw_commitment"]
    assert record["agency_candidates"] == sorted(market["agencies"])
    assert record["inspector_candidates"] == sorted(market["inspectors"])
    assert len(record["agencies"]) == 2 == len(set(record["agencies"])) == record["drawn_count"]
    for row in record["assignments"]:
        assert len(row["inspector_ids"]) == 2 == len(set(row["inspector_ids"]))
        assert set(row["inspector_ids"]) <= set(market["inspectors"])

    # Reproducible: the application's own algorithm and the standalone verifier agree with what was published.
    again = rules.draw(record["seed"], market["agencies"], market["inspectors"], 2, None, 2)
    assert again["agencies"] == record["agencies"] and again["assignments"] == record["assignments"]
    public = client.get(f"/api/v1/inspections/{task['id']}/draw").get_json()
    assert public == record
    assert verify_draw.verify(public)
    assert verify_draw.verify(client.get(f"/api/v1/inspections/{task['id']}").get_json())  # the whole record

    # A tampered record fails: another agency, another inspector, another seed.
    swapped = copy.deepcopy(public)
    swapped["agencies"][0] = next(a for a in market["agencies"] if a not in public["agencies"])
    assert not verify_draw.verify(swapped)
    other = copy.deepcopy(public)
    first = other["assignments"][0]
    first["inspector_ids"][0] = next(i for i in market["inspectors"] if i not in first["inspector_ids"])
    assert not verify_draw.verify(other)
    reseeded = dict(public, seed="0" * 32)
    assert not verify_draw.verify(reseeded)

    # Drawn once only.
    r = client.post(f"/api/v1/admin/inspections/{task['id']}/draw", headers=market["h"])
    assert r.status_code == 409
    detail = client.get(f"/api/v1/inspections/{task['id']}").get_json()
    assert [t["agency_id"] for t in detail["targets"]] == record["agencies"]
    assert all(len(t["inspectors"]) == 2 and t["findings"] is None for t in detail["targets"])


def test_a_share_is_rounded_up_and_verified(client, market):
    task = _task(client, market["h"], agency_count=None, share_pct=50, inspectors_per_agency=1)
    record = client.post(f"/api/v1/admin/inspections/{task['id']}/draw", headers=market["h"]).get_json()
    assert record["drawn_count"] == 2  # ceil(50 % × 3)
    assert verify_draw.verify(record)
    record["drawn_count"] = 1
    record["agencies"] = record["agencies"][:1]
    record["assignments"] = record["assignments"][:1]
    assert not verify_draw.verify(record)


def test_findings_close_only_when_complete_and_events_once(client, market):
    heard: dict[str, list] = {"drawn": [], "closed": [], "failed": []}

    def on(name):
        def receiver(sender, **kw):
            # Keep plain values: the request's session is gone once the client returns.
            heard[name].append((sender.id, {k: getattr(v, "id", v) for k, v in kw.items()}))

        return receiver

    receivers = {"drawn": on("drawn"), "closed": on("closed"), "failed": on("failed")}
    events.inspection_drawn.connect(receivers["drawn"])
    events.inspection_closed.connect(receivers["closed"])
    events.inspection_item_failed.connect(receivers["failed"])
    try:
        h = market["h"]
        task = _task(client, h, checklist=["营业执照在有效期内", "收费与公示一致", "档案完整"])
        tid = task["id"]
        assert (
            client.post(f"/api/v1/admin/inspections/{tid}/close", headers=h).status_code == 409
        )  # not drawn
        record = client.post(f"/api/v1/admin/inspections/{tid}/draw", headers=h).get_json()
        assert len(heard["drawn"]) == 1
        first, second = record["agencies"]
        url = f"/api/v1/admin/inspections/{tid}/agencies/{{}}/findings"

        # Bad findings: wrong number of results, a failed item without notes, an inspector not drawn.
        for bad in (
            {"results": [{"passed": True}]},
            {"results": [{"passed": True}, {"passed": False}, {"passed": True}]},
            {"results": [{"passed": True}] * 3, "inspected_by": [max(market["inspectors"]) + 99]},
        ):
            r = client.post(url.format(first), json=bad, headers=h)
            assert r.status_code == 422, r.get_json()
        undrawn = next(a for a in market["agencies"] if a not in record["agencies"])
        assert (
            client.post(url.format(undrawn), json={"results": [{"passed": True}] * 3}, headers=h).status_code
            == 404
        )

        results = [{"passed": True}, {"passed": False, "notes": "收费高于公示价格20%"}, {"passed": True}]
        r = client.post(url.format(first), json={"results": results, "notes": "责令整改"}, headers=h)
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["failed_count"] == 1

        # Evidence: private to staff, its key known to `uploads sweep`.
        r = client.post(
            f"/api/v1/admin/inspections/{tid}/agencies/{first}/evidence",
            data={"file": (io.BytesIO(PDF), "现场检查记录.pdf")},
            headers=h,
            content_type="multipart/form-data",
        )
        assert r.status_code == 200, r.get_json()
        key = r.get_json()["evidence"][0]["key"]
        from marketplace.cli import _referenced_uploads

        assert key in _referenced_uploads()["inspections"]
        r = client.post(
            f"/api/v1/admin/inspections/{tid}/agencies/{first}/evidence",
            data={"file": (io.BytesIO(b"not a pdf"), "x.pdf")},
            headers=h,
            content_type="multipart/form-data",
        )
        assert r.status_code == 422

        # Not complete yet: the second agency has no findings.
        r = client.post(f"/api/v1/admin/inspections/{tid}/close", headers=h)
        assert r.status_code == 409 and not heard["closed"]
        public = client.get(f"/api/v1/inspections/{tid}").get_json()
        assert all(t["findings"] is None and t["evidence"] == [] for t in public["targets"])  # not public yet

        r = client.post(url.format(second), json={"results": [{"passed": True}] * 3}, headers=h)
        assert r.status_code == 200
        r = client.post(f"/api/v1/admin/inspections/{tid}/close", headers=h)
        assert r.status_code == 200, r.get_json()
        closed = r.get_json()
        assert closed["status"] == "closed"

        assert len(heard["closed"]) == 1 and heard["closed"][0][0] == tid
        assert len(heard["failed"]) == 1
        _finding, kw = heard["failed"][0]
        assert kw["agency_id"] == first and kw["item"] == "收费与公示一致" and kw["source"] == "market"
        assert (
            kw["evidence"] == f"/inspections/{tid}#agency-{first}" and kw["actor"] == market["supervisor"].id
        )

        # Once: closing again and recording after closing are refused, and nothing more is sent.
        assert client.post(f"/api/v1/admin/inspections/{tid}/close", headers=h).status_code == 409
        assert (
            client.post(url.format(second), json={"results": [{"passed": True}] * 3}, headers=h).status_code
            == 409
        )
        assert (len(heard["closed"]), len(heard["failed"]), len(heard["drawn"])) == (1, 1, 1)

        public = client.get(f"/api/v1/inspections/{tid}").get_json()
        by_agency = {t["agency_id"]: t for t in public["targets"]}
        assert [x["passed"] for x in by_agency[first]["findings"]] == [True, False, True]
        assert by_agency[first]["notes"] == "责令整改" and by_agency[first]["evidence"] == []
        listed = client.get(
            "/api/v1/inspections", query_string={"agency_id": first, "status": "closed"}
        ).get_json()
        assert [t["id"] for t in listed] == [tid]
    finally:
        events.inspection_drawn.disconnect(receivers["drawn"])
        events.inspection_closed.disconnect(receivers["closed"])
        events.inspection_item_failed.disconnect(receivers["failed"])


def test_bad_plans_are_refused_with_nothing_changed(client, market):
    h = market["h"]
    cat = f.category("C03").id
    base = {"title": "抽查", "category_id": cat, "agency_count": 2, "inspectors_per_agency": 2}
    before = _count(InspectionTask)
    for bad in (
        {**base, "title": "查"},
        {**base, "share_pct": 20},  # both a number and a share
        {**base, "agency_count": None},  # neither
        {**base, "agency_count": 0},
        {**base, "inspectors_per_agency": 0},
        {**base, "inspectors_per_agency": 99},
        {**base, "category_id": 999999},
        {**base, "region_code": "310000"},  # Shanghai: outside the market (Jiangsu)
        {**base, "region_code": "999999"},
        {**base, "checklist": ["", " "]},
        {**base, "checklist": ["档案完整", "档案完整"]},
        {**base, "agency_count": "2"},
        {"title": "抽查"},
    ):
        r = client.post("/api/v1/admin/inspections", json=bad, headers=h)
        assert r.status_code == 422, (bad, r.get_json())
        assert r.get_json()["errors"]
    assert _count(InspectionTask) == before

    inspectors = _count(Inspector)
    taken = db.session.get(Inspector, market["inspectors"][0]).certificate_no
    for bad in (
        {"name": "李", "department": ENV, "certificate_no": "32019999"},
        {"name": "李明", "department": ENV, "certificate_no": taken},
        {"name": "李明", "department": ENV, "certificate_no": "32019999", "region_code": "310101"},
        {"name": "李明", "department": "", "certificate_no": "32019999"},
    ):
        r = client.post("/api/v1/admin/inspectors", json=bad, headers=h)
        assert r.status_code == 422, (bad, r.get_json())
    assert _count(Inspector) == inspectors


def test_draw_refused_without_enough_inspectors_changes_nothing(client, market):
    h = market["h"]
    task = _task(client, h, inspectors_per_agency=5)
    r = client.post(f"/api/v1/admin/inspections/{task['id']}/draw", headers=h)
    assert r.status_code == 409
    db.session.expire_all()
    row = db.session.get(InspectionTask, task["id"])
    assert row.status == TaskStatus.PLANNED and row.seed_revealed_at is None and not row.targets
    assert client.get(f"/api/v1/inspections/{task['id']}/draw").get_json()["seed"] is None

    nobody = _task(client, h, category_id=f.category("C14").id)  # no member in 气象防雷
    assert client.post(f"/api/v1/admin/inspections/{nobody['id']}/draw", headers=h).status_code == 409


def test_scope_and_authorization(client, market):
    env_dept = f.staff("department", None, ENV)
    hd = f.token(client, env_dept)
    # A department keeps only its own inspectors, and plans only for its own trade.
    r = client.post(
        "/api/v1/admin/inspectors",
        json={"name": "王敏", "department": "市应急管理局", "certificate_no": "32057777"},
        headers=hd,
    )
    assert r.status_code == 422
    own = _inspectors(client, hd, 2, ENV)
    other = _inspectors(client, market["h"], 2, "市应急管理局")
    listed = {i["id"] for i in client.get("/api/v1/admin/inspectors", headers=hd).get_json()}
    assert set(own) <= listed and not set(other) & listed
    r = client.post(
        "/api/v1/admin/inspections",
        json={
            "title": "安评机构抽查",
            "category_id": f.category("C04").id,
            "agency_count": 1,
            "inspectors_per_agency": 1,
        },
        headers=hd,
    )
    assert r.status_code == 422 and "category_id" in r.get_json()["errors"]
    task = _task(client, hd, inspectors_per_agency=2)
    assert task["source"] == "department" and task["department"] == ENV

    # The draw of a department's task takes only that department's inspectors.
    record = client.post(f"/api/v1/admin/inspections/{task['id']}/draw", headers=hd).get_json()
    assert set(record["inspector_candidates"]) == set(market["inspectors"]) | set(own)  # all are ENV's
    assert not set(record["inspector_candidates"]) & set(other)

    # Others may not run it: another department, the supervisor (it is the department's), a regional department.
    land = f.token(client, f.staff("department", None, "市自然资源和规划局"))
    regional = f.token(client, f.staff("department", "320500", ENV))
    for h in (land, regional, market["h"]):
        r = client.post(
            f"/api/v1/admin/inspections/{task['id']}/agencies/{record['agencies'][0]}/findings",
            json={"results": [{"passed": True}] * len(task["checklist"])},
            headers=h,
        )
        assert r.status_code == 403, r.get_json()
    # A regional account plans only inside its area.
    suzhou = f.token(client, f.staff("supervisor", "320500"))
    r = client.post(
        "/api/v1/admin/inspections",
        json={
            "title": "南京抽查",
            "category_id": f.category("C03").id,
            "agency_count": 1,
            "inspectors_per_agency": 1,
            "region_code": "320100",
        },
        headers=suzhou,
    )
    assert r.status_code == 422 and "region_code" in r.get_json()["errors"]
    assert _task(client, suzhou, region_code="320506")["source"] == "market"
    assert _task(client, suzhou)["region_code"] == "320500"  # no region: the account's own area

    # Enterprises, agencies and strangers reach no staff endpoint.
    ent = f.token(client, f.user("enterprise"))
    assert client.post("/api/v1/admin/inspections", json={}, headers=ent).status_code in (403, 422)
    assert client.post(f"/api/v1/admin/inspections/{task['id']}/draw", headers=ent).status_code == 403
    assert client.get("/api/v1/admin/inspectors", headers=ent).status_code == 403
    assert client.get("/api/v1/admin/inspectors").status_code == 401
    assert client.post(f"/api/v1/admin/inspections/{task['id']}/close").status_code == 401


def test_an_inspector_off_the_draw_is_no_candidate(client, market):
    h = market["h"]
    retired = market["inspectors"][0]
    land = f.token(client, f.staff("department", None, "市自然资源和规划局"))
    r = client.post(f"/api/v1/admin/inspectors/{retired}/active", json={"active": False}, headers=land)
    assert r.status_code == 404  # another body's inspector: not in its register
    r = client.post(f"/api/v1/admin/inspectors/{retired}/active", json={"active": False}, headers=h)
    assert r.status_code == 200 and r.get_json()["active"] is False
    task = _task(client, h, inspectors_per_agency=3)
    record = client.post(f"/api/v1/admin/inspections/{task['id']}/draw", headers=h).get_json()
    assert retired not in record["inspector_candidates"] and len(record["inspector_candidates"]) == 3
    assert all(retired not in row["inspector_ids"] for row in record["assignments"])
    assert verify_draw.verify(record)
