"""The demo agencies: the fixed agency account with its full store, and 120 generated members in every
membership status, with names, introductions, licences and (when active) a store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.auth.models import Role
from marketplace.demo import dataset as data
from marketplace.demo import locations, qualifications, stores
from marketplace.demo.common import AGENCY_EMAIL
from marketplace.demo.members import Members
from marketplace.extensions import db

MIN_ACTIVE_PER_CATEGORY = 4
EXPIRED_QUALIFICATIONS = 5  # active members whose main licence has lapsed


@dataclass
class Plan:
    """What one generated agency will be, decided before any row is made."""

    index: int
    status: AgencyStatus
    codes: list[str]
    expired: bool = False


def plans(m: Members) -> list[Plan]:
    """Statuses and categories for the generated agencies: every category gets enough active members."""
    statuses = [AgencyStatus(status) for status, n in data.AGENCY_STATUSES for _ in range(n)]
    m.rng.shuffle(statuses)
    weighted = [code for code in m.codes for _ in range(data.CATEGORY_WEIGHTS.get(code, 1))]
    active_total = statuses.count(AgencyStatus.ACTIVE)
    per_category = min(MIN_ACTIVE_PER_CATEGORY, active_total // len(m.codes))
    active_primaries = [code for code in m.codes for _ in range(per_category)]
    active_primaries += [m.rng.choice(weighted) for _ in range(active_total - len(active_primaries))]
    m.rng.shuffle(active_primaries)

    made = []
    for index, status in enumerate(statuses, start=1):
        primary = active_primaries.pop() if status == AgencyStatus.ACTIVE else m.rng.choice(weighted)
        made.append(Plan(index, status, _category_codes(m, primary)))
    active = [p for p in made if p.status == AgencyStatus.ACTIVE]
    for plan in m.rng.sample(active, min(EXPIRED_QUALIFICATIONS, len(active))):
        plan.expired = True
    return made


def _category_codes(m: Members, primary: str) -> list[str]:
    roll = m.rng.random()
    extra = 0 if roll < 0.45 else 1 if roll < 0.85 else 2
    related = [c for c in data.RELATED.get(primary, []) if c in m.by_code]
    return [primary] + m.rng.sample(related, min(extra, len(related)))


def agency(m: Members, plan: Plan) -> Agency:
    """A generated agency as its plan says, with licences and, when active, a store of 2–8 offers."""
    primary = plan.codes[0]
    city = m.city()
    division, district = m.division(city)
    contact = m.person()
    phone = m.phone()
    when = _dates(m, plan.status)
    email = data.ACCOUNTS["numbered"]["agency"].format(index=plan.index)
    user = m.user(email, Role.AGENCY, contact, phone, when["created"])
    founded = m.today.year - m.rng.randint(3, 25)
    elsewhere = locations.outside(plan.index)
    place = None
    extra: list[str] = []
    if elsewhere:  # registered in another province, serving Jiangsu as well
        city, district, division, place, extra = elsewhere
    made = Agency(
        user=user,
        name=_name(m, primary, city, place),
        uscc=m.uscc(division),
        status=plan.status,
        legal_rep=m.person(),
        region_code=division,
        address=m.address(city, district),
        contact_name=contact,
        contact_phone=phone,
        intro=_intro(m, primary, city, founded),
        status_reason=_reason(m, plan.status),
        submitted_at=when["submitted"],
        approved_at=when["approved"],
        created_at=when["created"],
        updated_at=when["updated"],
    )
    made.categories = [m.by_code[code] for code in plan.codes]
    made.service_area_codes = locations.service_areas(division, extra)
    db.session.add(made)
    m.counts["agencies"] += 1

    wanted = m.rng.choice([0, 1, 1, 2] if plan.status == AgencyStatus.DRAFT else [1, 2, 2, 3])  # licences
    for n, (code, template) in enumerate(qualifications.choices(m, plan.codes)[:wanted], start=1):
        expired = plan.expired and n == 1
        qualifications.qualification(m, made, plan.index, n, code, template, expired=expired)
    if plan.status == AgencyStatus.ACTIVE:
        pool = [item for code in plan.codes for item in m.items(code)]
        chosen = m.rng.sample(pool, min(len(pool), m.rng.randint(2, 8)))
        for item in sorted(chosen, key=lambda i: i.code):
            stores.offer(m, made, item)
    return made


def fixed_agency(m: Members) -> Agency:
    """zhongjie@demo.cn: an active member since 200 days with its licences and every item of its categories."""
    spec = data.ACCOUNTS["agency"]
    approved = m.moment(200)
    submitted = m.moment(203)
    created = m.moment(210)
    user = m.user(AGENCY_EMAIL, Role.AGENCY, spec["contact_name"], spec["contact_phone"], created)
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
        submitted_at=submitted,
        approved_at=approved,
        created_at=created,
        updated_at=approved,
    )
    codes = [c for c in spec["categories"] if c in m.by_code] or [m.codes[0]]
    made.categories = [m.by_code[c] for c in codes]
    made.service_area_codes = locations.service_areas(spec["division"])
    db.session.add(made)
    m.counts["agencies"] += 1
    templates = {(code, t["name"]): t for code, ts in data.QUALIFICATIONS.items() for t in ts}
    n = 0
    for code, name in spec["qualifications"]:
        if code is None:
            template = data.BUSINESS_LICENCE
        elif code in m.by_code and (code, name) in templates:
            template = templates[(code, name)]
        else:
            continue
        n += 1
        qualifications.qualification(m, made, 0, n, code, template)
    for code in codes:  # a full store: every item of its categories
        for item in m.items(code):
            stores.offer(m, made, item, mode="range" if item.code.endswith("-01") else "fixed")
    return made


def _name(m: Members, code: str, city: str, place_name: str | None = None) -> str:
    trades = data.TRADES.get(code, data.DEFAULT_TRADES)
    forms = data.FORMS_BY_CATEGORY.get(code, data.FORMS)
    while True:
        roll = m.rng.random()
        place = (
            data.PROVINCE if roll < 0.3 else data.PROVINCE_FULL if roll < 0.35 else city.removesuffix("市")
        )
        place = place_name or place
        brand = m.rng.choice(m.brands + data.LOCAL_BRANDS.get(city, []))
        name = f"{place}{brand}{m.rng.choice(trades)}{m.rng.choice(forms)}"
        if name not in m.names:
            m.names.add(name)
            return name


def _intro(m: Members, code: str, city: str, founded: int) -> str:
    first = m.rng.choice(data.INTROS.get(code, data.DEFAULT_INTROS))
    if code not in data.STAFF or m.rng.random() < 0.25:
        return first
    second = m.rng.choice(data.INTRO_SECOND).format(
        year=founded,
        staff=data.STAFF[code],
        n=m.rng.randint(4, 40),
        m=m.rng.choice(data.PROJECTS_DONE),
        city=city,
    )
    return first + second


def _dates(m: Members, status: AgencyStatus) -> dict[str, datetime | None]:
    """created / submitted / approved times that fit the membership status."""
    submitted = approved = None
    if status == AgencyStatus.DRAFT:
        created = m.moment(m.rng.randint(1, 30))
    elif status == AgencyStatus.PENDING:
        days = m.rng.randint(1, 6)
        submitted = m.moment(days)
        created = m.moment(days + m.rng.randint(0, 20))
    elif status == AgencyStatus.REJECTED:
        days = m.rng.randint(10, 60)
        submitted = m.moment(days)
        created = m.moment(days + m.rng.randint(1, 20))
    else:  # active, or once active
        oldest = 120 if status in (AgencyStatus.SUSPENDED, AgencyStatus.EXPELLED) else 7
        days = m.rng.randint(oldest, 360)
        approved = m.moment(days)
        submitted = m.moment(days + m.rng.randint(1, 6))
        created = m.moment(days + m.rng.randint(7, 30))
    if created > (submitted or created):
        created = submitted
    updated = approved or submitted or created
    if status in (AgencyStatus.SUSPENDED, AgencyStatus.EXPELLED):
        updated = m.moment(m.rng.randint(1, 60))
    return {"created": created, "submitted": submitted, "approved": approved, "updated": updated}


def _reason(m: Members, status: AgencyStatus) -> str | None:
    """Why an agency was rejected, suspended or expelled (None for the other statuses)."""
    pool = data.STATUS_REASONS.get(status.value)
    if pool is None:
        return None
    return m.rng.choice(pool).format(project=m.rng.choice(data.PROJECT_WORDS))
