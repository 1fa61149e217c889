"""Forms that fit the choice (issue 14): registration keeps what was typed and carries the contact into the
profile; deliveries in the trades' formats, checked by content; stars, the Chinese file button and YYYY-MM-DD
dates; and the five irreversible actions that ask first (nothing happens without confirm=yes)."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from marketplace.agencies.models import Agency
from marketplace.auth.models import User
from marketplace.common import uploads
from marketplace.common.errors import Invalid
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.payments import services as payments
from marketplace.payments.models import Payment
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests import timetravel
from tests.html import field_errors, parse


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in parts.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
DOCX = _zip({"[Content_Types].xml": TYPES, "word/document.xml": b"<w:document/>", "_rels/.rels": b"<r/>"})
XLSX = _zip(
    {"[Content_Types].xml": TYPES, "xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b"<s/>"}
)
ZIP = _zip({"测绘成果/界址点坐标.txt": b"J1 3830000.00 40500000.00"})
DWG = b"AC1032\x00\x00\x00\x00\x00\x06\x01" + bytes(200)  # AutoCAD 2018's header
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(200)


def _values(root) -> dict:
    return {i.attrs.get("name"): i.attrs.get("value") for i in root.find_all("input")}


def _register(client, **over):
    data = {
        "role": "agency",
        "org_name": "连云港海州测绘工程有限公司",
        "uscc": f.new_uscc(),
        "contact_name": "王晓明",
        "phone": "0518-85512345",
        "email": "wang@haizhou-ch.cn",
        "password": "abc12345",
        "confirm": "abc12345",
    } | over
    return client.post("/auth/register", data=data)


# --- registration ---------------------------------------------------------------------------------------


def test_registration_keeps_what_was_typed_but_the_passwords_and_says_so(client):
    r = _register(client, uscc="91350100M000100Y44", confirm="abc12346")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and db.session.scalar(select(func.count()).select_from(User)) == 0
    doc = parse(page)
    kept = _values(doc)
    assert kept["org_name"] == "连云港海州测绘工程有限公司" and kept["uscc"] == "91350100M000100Y44"
    assert (kept["contact_name"], kept["phone"], kept["email"]) == (
        "王晓明",
        "0518-85512345",
        "wang@haizhou-ch.cn",
    )
    assert "checked" in doc.find_all("input", name="role", value="agency")[0].attrs
    assert not kept["password"] and not kept["confirm"]  # never sent back …
    assert "data-password-note" in page and "请重新输入" in page  # … and the page says so
    assert "data-password-note" not in client.get("/auth/register").get_data(as_text=True)


def test_the_contact_typed_at_registration_starts_the_profile(client):
    assert _register(client).status_code == 302
    agency = db.session.scalar(select(Agency).where(Agency.name == "连云港海州测绘工程有限公司"))
    assert (agency.contact_name, agency.contact_phone) == ("王晓明", "0518-85512345")
    page = client.get("/agency/profile").get_data(as_text=True)
    kept = _values(parse(page))
    assert (kept["contact_name"], kept["contact_phone"]) == ("王晓明", "0518-85512345")
    client.post("/auth/logout")
    assert (
        _register(client, role="enterprise", email="li@gangcheng.cn", contact_name="李娜").status_code == 302
    )
    account = client.get("/auth/account").get_data(as_text=True)
    assert 'data-field="contact">李娜<' in account and 'data-field="phone">0518-85512345<' in account


def test_the_required_mark_sits_inside_the_label(client):
    doc = parse(client.get("/auth/register").get_data(as_text=True))
    (label,) = doc.find_all("label", **{"for": "org_name"})
    assert [e.text() for e in label.find_all("em", cls="req")] == ["*"]
    (label,) = doc.find_all("label", **{"for": "contact_name"})
    assert label.find_all("em") == []  # optional: no mark


# --- deliveries -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (DWG, uploads.DWG),
        (DOCX, uploads.DOCX),
        (XLSX, uploads.XLSX),
        (ZIP, uploads.ZIP),
        (f.PDF, "application/pdf"),
    ],
)
def test_deliverables_are_told_by_content(app, data, mime):
    assert uploads.check_upload(data, "files", uploads.DELIVERABLES) == mime
    if mime != "application/pdf":  # scans stay PDF, JPG or PNG
        with pytest.raises(Invalid):
            uploads.check_upload(data, "file")


@pytest.mark.parametrize(
    "data",
    [
        EXE,
        "这是一份纯文本，只是改了扩展名。".encode(),
        b"PK\x03\x04" + bytes(100),
        b"AC10xx" + bytes(50),
        b"",
    ],
)
def test_renamed_or_broken_files_are_refused(app, data):
    with pytest.raises(Invalid):
        uploads.check_upload(data, "files", uploads.DELIVERABLES)


def test_a_delivery_takes_drawings_reports_and_tables_and_refuses_a_renamed_program(client):
    enterprise, agency, order = f.accepted_order(accept=False, deliver=False)
    f.login(client, agency)
    r = client.post(
        f"/orders/{order.id}/deliver",
        data={
            "text": "交付测绘成果",
            "files": [(io.BytesIO(DWG), "宗地图.dwg"), (io.BytesIO(EXE), "成果报告.docx")],
        },
        content_type="multipart/form-data",
    )
    errors = field_errors(r.get_data(as_text=True), "files")
    assert r.status_code == 200 and errors == [
        "仅支持 PDF、JPG、PNG、DWG、DOCX、XLSX 或 ZIP 文件（按文件内容而非文件名校验）。"
    ]
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "in_progress"
    files = [
        (io.BytesIO(d), n)
        for d, n in ((DWG, "宗地图.dwg"), (DOCX, "报告.docx"), (XLSX, "坐标.xlsx"), (ZIP, "成果.zip"))
    ]
    r = client.post(
        f"/orders/{order.id}/deliver",
        data={"text": "交付测绘成果", "files": files},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    db.session.expire_all()
    delivered = db.session.get(Order, order.id)
    assert delivered.status == "delivered"
    stored = delivered.events[-1].files
    assert [s["key"].rsplit(".", 1)[1] for s in stored] == ["dwg", "docx", "xlsx", "zip"]
    assert client.get(f"/orders/{order.id}/files/{stored[1]['key']}").data == DOCX


# --- stars, file buttons, dates -------------------------------------------------------------------------


def test_the_rating_form_is_a_row_of_star_radios_per_dimension(client):
    enterprise, _, order = f.accepted_order()
    f.login(client, enterprise)
    doc = parse(client.get(f"/orders/{order.id}").get_data(as_text=True))
    rows = doc.find_all("form", **{"data-form": "rate"})[0].find_all("fieldset")
    assert [r.attrs.get("data-stars") for r in rows] == [
        "overall",
        "quality",
        "timeliness",
        "attitude",
        "fee",
        "compliance",
    ]
    for row in rows:
        radios = [label.find_all("input")[0] for label in row.find_all("label", cls="star-label")]
        assert [i.attrs["value"] for i in radios] == ["1", "2", "3", "4", "5"]  # left to right, as shown
        assert all(i.attrs["type"] == "radio" and i.attrs["name"] == row.attrs["data-stars"] for i in radios)


def test_file_fields_are_the_chinese_file_button_and_dates_are_typed(client):
    _, agency, order = f.accepted_order(accept=False, deliver=False)
    f.login(client, agency)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    form = parse(page).find_all("form", **{"data-form": "deliver"})[0]
    (button,) = [e for e in form.find_all("span") if "data-file-button" in e.attrs]
    assert (
        "multiple" in button.find_all("input")[0].attrs and button.find_all("label")[0].text() == "选择文件"
    )
    assert "选择文件" in page and "未选择文件" in page
    page = client.get("/agency/qualifications").get_data(as_text=True)
    (day,) = parse(page).find_all("input", name="valid_until")
    assert day.attrs["type"] == "text" and day.attrs["placeholder"] == "YYYY-MM-DD"
    assert 'type="date"' not in page and 'type="file"' in page and "data-file-button" in page


def test_a_date_is_read_as_people_write_it_or_refused_in_chinese(client):
    u = f.user("agency")
    f.login(client, u)
    from marketplace.catalogue.models import Category

    category = db.session.scalar(select(Category).where(Category.code == "C03"))
    data = {
        "category_id": category.id,
        "name": "工程测绘资质",
        "level": "甲级",
        "number": "甲测资字32000001",
        "issuer": "江苏省自然资源厅",
        "valid_until": "2027/13/45",
    }
    r = client.post("/agency/qualifications", data=data)
    errors = field_errors(r.get_data(as_text=True), "valid_until")
    assert errors == ["请按 YYYY-MM-DD 填写日期，例如 2026-12-31。"]
    from marketplace.common.forms import parse_day

    assert str(parse_day("2027年3月5日")) == str(parse_day("2027/03/05")) == "2027-03-05"


# --- irreversible actions ask first ---------------------------------------------------------------------


def _confirmation(r) -> dict:
    """What the confirmation page shows: its facts, its warnings, and the fields it posts again."""
    assert r.status_code == 200
    doc = parse(r.get_data(as_text=True))
    panels = [e for e in doc.find_all("section") if "data-confirm" in e.attrs]
    assert panels, r.get_data(as_text=True)[:400]
    panel = panels[0]
    facts = {dt.text(): dd.text() for dt, dd in zip(panel.find_all("dt"), panel.find_all("dd"), strict=True)}
    kept = _values(panel)
    warnings = [li.text() for li in panel.find_all("li")]
    assert kept["confirm"] == "yes" and warnings
    return {"facts": facts, "kept": kept, "warnings": warnings}


def test_selecting_asks_first_with_the_method_and_the_bid(client):
    enterprise = f.user("enterprise")
    agency = f.active_agency("C03")
    req = f.published_request(enterprise, selection_method="direct")
    bid = f.bid(agency, req, price_fen=8_800_000)
    timetravel.past_deadline(req)
    f.login(client, enterprise)
    data = {"bid_id": bid.id, "reason": "方案最完整，团队有同类项目经验"}
    shown = _confirmation(client.post(f"/requests/{req.id}/select", data=data))
    assert shown["facts"]["选取方式"] == "直接选取" and "¥88,000.00" in shown["facts"]["选定的报价"]
    assert shown["kept"]["reason"] == data["reason"] and shown["kept"]["bid_id"] == str(bid.id)
    db.session.expire_all()
    assert db.session.get(ServiceRequest, req.id).winner_bid_id is None
    assert client.post(f"/requests/{req.id}/select", data=data | {"confirm": "yes"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(ServiceRequest, req.id).winner_bid_id == bid.id


def test_confirming_a_receipt_asks_first_with_the_amount(client):
    enterprise, agency, order = f.accepted_order(price_fen=5_320_000)
    payment = payments.record_offline(enterprise, order.id, reference="HZ20261130-0001")
    db.session.commit()
    f.login(client, agency)
    shown = _confirmation(client.post(f"/payments/{payment.id}/confirm"))
    assert shown["facts"]["金额"] == "¥53,200.00" and shown["facts"]["付款方式"] == "银行转账"
    assert db.session.get(Payment, payment.id).status == "submitted"
    client.post(f"/payments/{payment.id}/confirm", data={"confirm": "yes"})
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status == "paid"


def test_accepting_the_work_asks_first(client):
    enterprise, _, order = f.accepted_order(accept=False, price_fen=4_500_000)
    f.login(client, enterprise)
    shown = _confirmation(client.post(f"/orders/{order.id}/accept"))
    assert shown["facts"]["合同金额"] == "¥45,000.00"
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "delivered"
    client.post(f"/orders/{order.id}/accept", data={"confirm": "yes"})
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "accepted"


def test_cancelling_an_announcement_asks_first(client):
    enterprise = f.user("enterprise")
    req = f.published_request(enterprise)
    f.login(client, enterprise)
    # without a reason there is nothing to confirm yet: the form says what is missing
    r = client.post(f"/enterprise/requests/{req.id}/cancel", data={"reason": ""})
    assert "data-confirm" not in r.get_data(as_text=True)
    shown = _confirmation(
        client.post(f"/enterprise/requests/{req.id}/cancel", data={"reason": "项目暂缓建设"})
    )
    assert shown["facts"]["理由"] == "项目暂缓建设" and "最高限价" in shown["facts"]
    db.session.expire_all()
    assert db.session.get(ServiceRequest, req.id).status == "bidding"
    client.post(f"/enterprise/requests/{req.id}/cancel", data={"reason": "项目暂缓建设", "confirm": "yes"})
    db.session.expire_all()
    assert db.session.get(ServiceRequest, req.id).status == "cancelled"


def test_membership_decisions_ask_first(client):
    u = f.pending_agency()
    f.login(client, f.admin())
    shown = _confirmation(
        client.post(f"/admin/agencies/{u.agency.id}/reject", data={"reason": "资质证书已过期"})
    )
    assert shown["facts"]["中介机构"] == u.agency.name and shown["kept"]["reason"] == "资质证书已过期"
    shown = _confirmation(client.post(f"/admin/agencies/{u.agency.id}/approve"))
    db.session.expire_all()
    assert db.session.get(Agency, u.agency.id).status == "pending"
    client.post(f"/admin/agencies/{u.agency.id}/approve", data={"confirm": "yes"})
    db.session.expire_all()
    assert db.session.get(Agency, u.agency.id).status == "active"


def test_announcement_review_asks_first(client, review_on):
    enterprise = f.user("enterprise")
    h = f.token(client, enterprise)
    rid = client.post("/api/v1/requests", json=f.request_data(publish=False), headers=h).get_json()["id"]
    document = {"file": (io.BytesIO(f.PDF), "立项批复.pdf")}
    client.post(f"/api/v1/requests/{rid}/approval-document", data=document, headers=h)
    assert client.post(f"/api/v1/requests/{rid}/publish", headers=h).get_json()["status"] == "review"
    req = db.session.get(ServiceRequest, rid)
    f.login(client, f.admin())
    shown = _confirmation(client.post(f"/admin/announcements/{req.id}/approve"))
    assert shown["facts"]["选取方式"] and "立即发布" in " ".join(shown["warnings"])
    r = client.post(f"/admin/announcements/{req.id}/return", data={"opinion": "请补充项目批复文号"})
    assert _confirmation(r)["kept"]["opinion"] == "请补充项目批复文号"
    db.session.expire_all()
    assert db.session.get(ServiceRequest, req.id).status == "review"
    client.post(f"/admin/announcements/{req.id}/approve", data={"confirm": "yes"})
    db.session.expire_all()
    assert db.session.get(ServiceRequest, req.id).status == "bidding"


def test_the_bid_deadline_is_typed_in_beijing_time(client):
    from marketplace.common.clock import LOCAL_TZ
    from marketplace.requests import services as request_services

    enterprise = f.user("enterprise")
    req = request_services.create_request(enterprise, f.request_data(), publish=False)
    db.session.commit()
    f.login(client, enterprise)
    (box,) = parse(client.get(f"/enterprise/requests/{req.id}/edit").get_data(as_text=True)).find_all(
        "input", name="bid_deadline"
    )
    assert box.attrs["type"] == "text" and box.attrs["placeholder"] == "YYYY-MM-DD HH:MM"
    assert box.attrs["value"] == req.bid_deadline.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
