"""Test data made through the services, as users make it. Each factory is a boundary: it commits, as a view
or a command would (inside a test's rolled-back transaction that commit is only a savepoint)."""

from __future__ import annotations

import io
import itertools
from datetime import date, timedelta

from sqlalchemy import select

from marketplace.agencies import membership
from marketplace.agencies import offers as offer_services
from marketplace.auth import services as auth_services
from marketplace.auth.models import Role, User
from marketplace.catalogue.models import Category, ServiceItem
from marketplace.common import uscc
from marketplace.extensions import db

PASSWORD = "Passw0rd!"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001 0d0a2db40000000049454e44ae426082".replace(" ", "")
)
_seq = itertools.count(1)


def new_uscc() -> str:
    n = next(_seq)
    return uscc.make("91", "320100", f"MA{n:07d}")


def user(role: str = "enterprise", email: str | None = None, org_name: str | None = None) -> User:
    n = next(_seq)
    made = auth_services.register(
        email=email or f"{role}{n}@test.cn",
        password=PASSWORD,
        role=role,
        org_name=org_name or (f"测试中介机构{n}有限公司" if role == "agency" else f"测试项目业主{n}有限公司"),
        uscc=new_uscc(),
    )
    db.session.commit()
    return made


def admin(email: str | None = None) -> User:
    made = auth_services.create_admin(email or f"admin{next(_seq)}@test.cn", PASSWORD)
    db.session.commit()
    return made


def staff(role: str, region_code: str | None = None, department: str | None = None) -> User:
    """An operator, department or supervisor account acting in `region_code` (None: the whole market area)."""
    made = auth_services.create_staff(
        f"{role}{next(_seq)}@test.cn", PASSWORD, Role(role), region_code, department
    )
    db.session.commit()
    return made


def category(code: str = "C03") -> Category:
    return db.session.scalar(select(Category).where(Category.code == code))


def guided_item() -> ServiceItem:
    return db.session.scalars(select(ServiceItem).where(ServiceItem.fee_regime == "guided")).first()


def market_item(category_code: str = "C03") -> ServiceItem:
    cat = category(category_code)
    return next(i for i in cat.items if i.fee_regime == "market")


def category_kinds(category_id: int) -> list:
    """The register's kinds that the items of a category require, in the register's order."""
    from marketplace.catalogue.models import ItemRequirement, QualificationKind

    required = (
        select(ItemRequirement.kind_id)
        .join(ServiceItem, ServiceItem.id == ItemRequirement.service_item_id)
        .where(ServiceItem.category_id == category_id)
    )
    # (not DISTINCT over the kinds: PostgreSQL cannot compare their JSON `levels`)
    stmt = select(QualificationKind).where(QualificationKind.id.in_(required))
    return sorted(db.session.scalars(stmt), key=lambda k: (k.category_id is None, k.sort_order))


def qualifications_for(category_id: int) -> list[dict]:
    """One qualification per kind the category's items require, at the kind's highest grade (a generic
    licence covering the category when none is required); the first is the category's main licence (C03: the
    环评 credit-platform registration, C08: 测绘资质（工程测量）甲级)."""
    valid_until = (date.today() + timedelta(days=700)).isoformat()
    kinds = category_kinds(category_id)
    if not kinds:
        return [
            {
                "name": "环境影响评价资质",
                "level": "甲级",
                "number": "国环评证甲字第1234号",
                "issuer": "生态环境部",
                "valid_until": valid_until,
                "category_id": category_id,
            }
        ]
    return [
        {
            "kind_code": k.code,
            "name": k.name,
            "level": k.levels[0],
            "number": f"{k.code}-2026-{n:04d}",
            "issuer": "江苏省主管部门",
            "valid_until": valid_until,
            "category_id": category_id,
        }
        for n, k in enumerate(kinds, start=1)
    ]


def application(category_ids: list[int], **over) -> dict:
    data = {
        "legal_rep": "张建国",
        "region_code": "320105",
        "service_area_codes": ["320000"],
        "address": "南京市建邺区江东中路1号",
        "contact_name": "李娜",
        "contact_phone": "13800000000",
        "intro": "专业从事环境影响评价。",
        "category_ids": category_ids,
        "qualifications": qualifications_for(category_ids[0])[:1],
    }
    data.update(over)
    return data


def id_number(region: str = "320102", born: str = "19850312", serial: int | None = None) -> str:
    """A resident ID number with a valid check character (GB 11643)."""
    from marketplace.agencies.validation import id_check_digit

    first = f"{region}{born}{(serial if serial is not None else next(_seq)) % 1000:03d}"
    return first + id_check_digit(first)


def practitioner_data(**over) -> dict:
    data = {
        "name": "王立军",
        "id_number": id_number(),
        "registration": "环境影响评价工程师",
        "certificate_no": f"HP{next(_seq):08d}",
        "years": 8,
        "is_lead": True,
    }
    data.update(over)
    return data


def evidence(u: User, practitioners: int = 1, **practitioner_over) -> None:
    """The entry evidence besides qualifications: pledge, authorised person, power of attorney, practitioners
    (each with a certificate scan)."""
    from marketplace.agencies import practitioners as people

    people.save_document(u, "pledge", io.BytesIO(PDF), "承诺书.pdf")
    people.save_authorised_person(u, {"name": "李娜", "id_number": id_number(), "phone": "13800000001"})
    people.save_document(u, "authorisation", io.BytesIO(PDF), "授权委托书.pdf")
    for _ in range(practitioners):
        people.add_practitioner(u, practitioner_data(**practitioner_over), io.BytesIO(PDF), "证书.pdf")


def pending_agency(category_code: str = "C03", org_name: str | None = None, **evidence_over) -> User:
    """An agency that applied (with a scan uploaded) and waits for review; it holds its category's main licence
    (for C03 it may bid on the market-priced 环评 item, not on the CMA monitoring items). `evidence_over` goes to
    `evidence` (e.g. practitioners=2, registration="注册安全工程师")."""
    u = applicant(category_code, org_name, **evidence_over)
    membership.submit_application(u)
    db.session.commit()
    return u


def applicant(category_code: str = "C03", org_name: str | None = None, **evidence_over) -> User:
    """An agency with its profile, main licence and entry evidence in place that has not applied yet (its
    scans may still be replaced); `evidence_over` as for `pending_agency`."""
    u = user("agency", org_name=org_name)
    cat = category(category_code)
    membership.update_profile(u, {k: v for k, v in application([cat.id]).items() if k != "qualifications"})
    for data in qualifications_for(cat.id)[:1]:
        membership.add_qualification(u, data, io.BytesIO(PDF), "资质.pdf")
    evidence(u, **evidence_over)
    db.session.commit()
    return u


def active_agency(
    category_code: str = "C03", reviewer: User | None = None, org_name: str | None = None, **evidence_over
) -> User:
    u = pending_agency(category_code, org_name, **evidence_over)
    membership.decide(reviewer or admin(), u.agency.id, "approve")
    db.session.commit()
    return u


def offer(agency_user: User, item: ServiceItem | None = None, **over):
    item = item or market_item()
    data = {
        "service_item_id": item.id,
        "price_fen": 2_000_000,
        "promised_days": max(1, item.standard_days - 5),
    }
    data.update(over)
    offer = offer_services.save_offer(agency_user, data)
    db.session.commit()
    return offer


def login(client, u: User, password: str = PASSWORD):
    return client.post("/auth/login", data={"email": u.email, "password": password})


def token(client, u: User) -> dict:
    r = client.post("/api/v1/auth/token", json={"email": u.email, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def request_data(item: ServiceItem | None = None, **over) -> dict:
    from datetime import UTC, datetime

    item = item or market_item()
    data = {
        "title": "连云港徐圩新区化工园区配套管廊项目环境影响评价",
        "project_code": "2026-320700-26-01-000123",
        "service_item_id": item.id,
        "scope": "编制环境影响报告书并配合完成技术评估与审批。",
        "ceiling_fen": 30_000_000,
        "required_days": 40,
        "region_code": "320703",
        "funding": "fiscal",
        "selection_method": "lowest_price",
        "bid_deadline": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
    }
    data.update(over)
    return data


def published_request(enterprise: User | None = None, **over):
    from marketplace.requests import services as request_services

    req = request_services.create_request(enterprise or user("enterprise"), request_data(**over))
    db.session.commit()
    return req


def bid(
    agency_user: User,
    req,
    price_fen: int = 20_000_000,
    promised_days: int = 30,
    plan: str = "组建项目组，现场踏勘后编制报告书。",
):
    from marketplace.requests import bidding

    placed = bidding.submit_bid(
        agency_user, req.id, {"price_fen": price_fen, "promised_days": promised_days, "plan": plan}
    )
    db.session.commit()
    return placed


def awaiting_order(price_fen: int = 10_000_000, enterprise=None, agency=None, admin=None, **request_over):
    """(enterprise user, agency user, order): an order made when the publicity of a direct award ended, awaiting
    the winner's confirmation; `request_over` changes the request (service_item_id, region_code, ceiling_fen …)."""
    from marketplace.orders import services as orders
    from marketplace.requests import services as requests
    from tests import timetravel

    enterprise = enterprise or user("enterprise")
    agency = agency or active_agency("C03", reviewer=admin or _admin())
    req = published_request(enterprise, selection_method="direct", **request_over)
    winning = bid(agency, req, price_fen=price_fen)
    timetravel.past_deadline(req)
    requests.select_winner(enterprise, req.id, winning.id, "技术方案最优，团队经验丰富")
    db.session.commit()
    timetravel.publicity_over(req)
    return enterprise, agency, orders.order_for_request(req.id)


def accepted_order(
    price_fen: int = 10_000_000,
    enterprise=None,
    agency=None,
    admin=None,
    accept=True,
    deliver=True,
    **request_over,
):
    """(enterprise user, agency user, order): an order whose work was delivered and (by default) accepted;
    `request_over` changes the request (service_item_id, region_code, ceiling_fen …)."""
    from marketplace.orders import services as orders

    enterprise, agency, order = awaiting_order(price_fen, enterprise, agency, admin, **request_over)
    orders.confirm(agency, order.id)
    if deliver:
        orders.deliver(agency, order.id, "提交成果报告")
    if accept and deliver:
        orders.accept(enterprise, order.id)
    db.session.commit()
    return enterprise, agency, order


_admin = admin  # awaiting_order's and accepted_order's `admin` parameter hides the factory of the same name


def api_evidence(client, headers: dict, **practitioner_over) -> dict:
    """The entry evidence through the API: pledge, authorised person and power of attorney, one practitioner
    with its certificate scan; returns the practitioner as the API answered."""
    for kind in ("pledge", "authorisation"):
        r = client.post(
            f"/api/v1/agencies/me/documents/{kind}",
            data={"file": (io.BytesIO(PDF), f"{kind}.pdf")},
            headers=headers,
            content_type="multipart/form-data",
        )
        assert r.status_code == 200, r.get_json()
    person = {"name": "李娜", "id_number": id_number(), "phone": "13800000001"}
    r = client.put("/api/v1/agencies/me/authorised-person", json=person, headers=headers)
    assert r.status_code == 200, r.get_json()
    r = client.post(
        "/api/v1/agencies/me/practitioners", json=practitioner_data(**practitioner_over), headers=headers
    )
    assert r.status_code == 201, r.get_json()
    made = r.get_json()
    r = client.post(
        f"/api/v1/agencies/me/practitioners/{made['id']}/file",
        data={"file": (io.BytesIO(PDF), "证书.pdf")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert r.status_code == 200, r.get_json()
    return made
