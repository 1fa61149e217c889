"""A demo member that shows the qualification rule: 南京绿源 holds only a 清洁生产审核 filing, so it takes the
环境 items whose rules require no licence (清洁生产审核, 排污许可申请咨询) but is refused on 环评, which requires the
环境影响评价信用平台 registration (log in as qingjie@demo.cn and try to bid on an open 环评 announcement)."""

from __future__ import annotations

from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.auth.models import Role
from marketplace.demo import dataset as data
from marketplace.demo import locations, qualifications, stores
from marketplace.demo.members import Members
from marketplace.extensions import db

SPEC: dict = data._json("qualification_cases.json")["cleaner_production_agency"]


def cleaner_production_agency(m: Members) -> Agency:
    spec = SPEC
    approved, created = m.moment(120), m.moment(130)
    user = m.user(spec["email"], Role.AGENCY, spec["contact_name"], spec["contact_phone"], created)
    m.names.add(spec["name"])
    made = Agency(
        user=user,
        name=spec["name"],
        uscc=m.uscc(spec["division"]),
        status=AgencyStatus.ACTIVE,
        legal_rep=spec["legal_rep"],
        region_code=spec["division"],
        address=spec["address"],
        contact_name=spec["contact_name"],
        contact_phone=spec["contact_phone"],
        intro=spec["intro"],
        submitted_at=m.moment(125),
        approved_at=approved,
        created_at=created,
        updated_at=approved,
    )
    made.categories = [m.by_code[spec["category"]]]
    made.service_area_codes = locations.service_areas(spec["division"])
    db.session.add(made)
    m.counts["agencies"] += 1
    qualifications.qualification(m, made, 9000, 1, spec["category"], spec["qualification"])
    qualifications.qualification(m, made, 9000, 2, None, data.BUSINESS_LICENCE)
    wanted = set(spec["offers"])
    for item in m.items(spec["category"]):
        if item.code in wanted:
            stores.offer(m, made, item, mode="fixed")
    return made
