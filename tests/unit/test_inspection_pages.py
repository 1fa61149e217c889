"""The inspection pages through the test client: the register form, planning with the trade's default checklist,
the draw, findings refused beside their item then recorded, closing, and the public page before and after."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.inspections.models import InspectionTask, Inspector
from marketplace.inspections.rules import COMMON_ITEMS
from tests import factories as f


def _csrf(html: str) -> str:
    """The form's token where CSRF is on (the test app turns it off: then any value passes)."""
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    return found.group(1) if found else ""


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_supervisor_plans_draws_records_and_publishes(client):
    agencies = [f.active_agency("C03").agency for _ in range(2)]
    supervisor = f.staff("supervisor")
    assert f.login(client, supervisor).status_code == 302

    home = client.get("/admin/").get_data(as_text=True)
    assert "/admin/inspections" in home

    page = client.get("/admin/inspectors").get_data(as_text=True)
    for n, name in enumerate(("周建国", "陈晓燕")):
        r = client.post(
            "/admin/inspectors",
            data={
                "csrf_token": _csrf(page),
                "name": name,
                "department": "市生态环境局",
                "certificate_no": f"3201002026{n:04d}",
                "region_code": "",
            },
        )
        assert r.status_code == 302, r.get_data(as_text=True)
    # A duplicate certificate number is refused beside its field, nothing added.
    r = client.post(
        "/admin/inspectors",
        data={
            "csrf_token": _csrf(page),
            "name": "王五",
            "department": "市生态环境局",
            "certificate_no": "32010020260000",
        },
    )
    assert r.status_code == 422 and "已在名录中" in r.get_data(as_text=True)
    assert _count(Inspector) == 2

    # Choosing the category fills in its default checklist.
    c03 = f.category("C03")
    page = client.get(f"/admin/inspections/new?category_id={c03.id}").get_data(as_text=True)
    assert COMMON_ITEMS[0] in page
    r = client.post(
        "/admin/inspections/new",
        data={
            "csrf_token": _csrf(page),
            "title": "环评",
            "category_id": c03.id,
            "how_many": "count",
            "agency_count": "2",
            "inspectors_per_agency": "2",
            "checklist": "资质有效\n收费合规",
        },
    )
    assert r.status_code == 422 and _count(InspectionTask) == 0  # the title is too short
    r = client.post(
        "/admin/inspections/new",
        data={
            "csrf_token": _csrf(page),
            "title": "环评机构双随机抽查",
            "category_id": c03.id,
            "how_many": "count",
            "agency_count": "2",
            "inspectors_per_agency": "2",
            "checklist": "资质有效\n收费合规",
        },
    )
    assert r.status_code == 302
    task = db.session.scalars(select(InspectionTask)).one()

    public = client.get(f"/inspections/{task.id}").get_data(as_text=True)
    assert task.draw_commitment in public and "尚未抽取" in public

    desk = client.get(f"/admin/inspections/{task.id}").get_data(as_text=True)
    assert (
        client.post(f"/admin/inspections/{task.id}/draw", data={"csrf_token": _csrf(desk)}).status_code == 302
    )
    db.session.expire_all()
    assert task.seed_revealed_at is not None and len(task.targets) == 2

    desk = client.get(f"/admin/inspections/{task.id}").get_data(as_text=True)
    first, second = (t.agency_id for t in task.targets)
    # A failed item without notes: refused, the error beside the item, nothing recorded.
    r = client.post(
        f"/admin/inspections/{task.id}/agencies/{first}/findings",
        data={"csrf_token": _csrf(desk), "passed-0": "pass", "passed-1": "fail"},
    )
    assert r.status_code == 422 and "请说明" in r.get_data(as_text=True)
    db.session.expire_all()
    assert not task.targets[0].recorded
    for agency_id, verdict in ((first, "fail"), (second, "pass")):
        r = client.post(
            f"/admin/inspections/{task.id}/agencies/{agency_id}/findings",
            data={
                "csrf_token": _csrf(desk),
                "passed-0": "pass",
                "passed-1": verdict,
                "notes-1": "收费高于公示标准" if verdict == "fail" else "",
                "notes": "责令限期整改",
            },
        )
        assert r.status_code == 302
    assert (
        client.post(f"/admin/inspections/{task.id}/close", data={"csrf_token": _csrf(desk)}).status_code
        == 302
    )

    public = client.get(f"/inspections/{task.id}").get_data(as_text=True)
    assert "收费高于公示标准" in public and "责令限期整改" in public
    assert all(a.name in public for a in agencies)
    assert "python -m marketplace.requests.verify_draw" in public
    assert f"/inspections/{task.id}" in client.get("/inspections/").get_data(as_text=True)


def test_the_desk_is_for_supervisors_and_departments(client):
    enterprise = f.user("enterprise")
    f.login(client, enterprise)
    assert client.get("/admin/inspections").status_code == 403
    assert client.get("/admin/inspectors").status_code == 403
