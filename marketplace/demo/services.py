"""Deterministic demo data: agencies with stores, enterprises, and three accounts to try the market with.

`load_demo(seed)` always produces the same names, credit codes and prices for the same seed (only the
dates move with today's date), then a year of market history on top (see `marketplace.demo.history`).
Every demo account's password is DEMO_PASSWORD.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.security import generate_password_hash

from marketplace.agencies.models import (
    Agency,
    AgencyStatus,
    Offer,
    PriceMode,
    Qualification,
    QualificationLevel,
)
from marketplace.agencies.services import UPLOAD_KIND
from marketplace.audit.services import record
from marketplace.auth.models import Enterprise, Role, User
from marketplace.catalogue.models import Category, ServiceItem
from marketplace.common import uploads
from marketplace.common import uscc as uscc_rules
from marketplace.common.clock import now
from marketplace.common.regions import REGIONS
from marketplace.demo import data, history
from marketplace.demo.fees import load_fee_cases
from marketplace.demo.payments import load_payments
from marketplace.demo.ratings import load_ratings
from marketplace.extensions import db

DEMO_PASSWORD = "Demo12345"
ADMIN_EMAIL = "admin@demo.cn"
ENTERPRISE_EMAIL = "qiye@demo.cn"
AGENCY_EMAIL = "zhongjie@demo.cn"

N_AGENCIES = 120  # besides the fixed agency account
N_ENTERPRISES = 30  # besides the fixed enterprise account
STATUS_MIX = [
    (AgencyStatus.ACTIVE, 100),
    (AgencyStatus.PENDING, 8),
    (AgencyStatus.REJECTED, 4),
    (AgencyStatus.SUSPENDED, 3),
    (AgencyStatus.DRAFT, 3),
    (AgencyStatus.EXPELLED, 2),
]
MIN_ACTIVE_PER_CATEGORY = 4
EXPIRED_QUALIFICATIONS = 5  # active members whose main licence has lapsed

FIXED_AGENCY = {
    "name": "江苏苏环环境科技有限公司",
    "brand": "苏环",
    "categories": ["C03", "C06"],
    "region": "南京市",
    "division": "320105",
    "address": "南京市建邺区创业大道66号科技大厦12楼",
    "legal_rep": "周建国",
    "contact_name": "李敏",
    "contact_phone": "13851760218",
    "intro": (
        "专业从事建设项目环境影响评价、竣工环境保护验收、环境监测和水土保持方案编制，拥有自有CMA实验室。"
        "现有环境影响评价工程师18名，近三年完成环评及水保项目300余项。"
    ),
    # (category code, qualification name) in the order they were added
    "qualifications": [
        ("C03", "环境影响评价编制单位信用平台登记"),
        ("C03", "检验检测机构资质认定证书（CMA）"),
        ("C06", "水土保持方案编制单位水平评价证书"),
    ],
}
FIXED_ENTERPRISE = {
    "name": "连云港徐圩港口投资集团有限公司",
    "region": "连云港市",
    "division": "320703",
    "contact_name": "王海涛",
    "phone": "13961301528",
}


def has_data() -> bool:
    """True once any agency or enterprise exists (the demo loader then stays away)."""
    return (
        db.session.scalar(select(Agency.id).limit(1)) is not None
        or db.session.scalar(select(Enterprise.id).limit(1)) is not None
    )


def load_demo(seed: int = 2026) -> dict[str, int]:
    """Load the demo data set (the catalogue must already be seeded); returns what was created."""
    categories = list(
        db.session.scalars(select(Category).options(selectinload(Category.items)).order_by(Category.code))
    )
    if not categories:
        raise RuntimeError("the service catalogue is empty; run the migrations first")
    demo_emails = [ADMIN_EMAIL, ENTERPRISE_EMAIL, AGENCY_EMAIL]
    taken = list(db.session.scalars(select(User.email).where(func.lower(User.email).in_(demo_emails))))
    if taken:
        raise RuntimeError(f"demo accounts already exist ({', '.join(sorted(taken))}); demo data is loaded")

    builder = _Builder(random.Random(seed), categories)
    try:
        counts = builder.build()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for path in builder.written:
            path.unlink(missing_ok=True)
        raise
    # The market's past year is played through the services, which commit as they go.
    counts |= history.load_history(random.Random(seed + 1), builder.midnight)
    counts |= load_ratings(random.Random(seed + 2))
    counts |= load_payments(random.Random(seed + 3), ENTERPRISE_EMAIL, AGENCY_EMAIL)
    counts |= load_fee_cases(random.Random(seed + 4), ADMIN_EMAIL)
    record(None, "demo.load", object_type="demo", after=counts)
    db.session.commit()
    return counts


# --- the builder -------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """What one generated agency will be, decided before any row is made."""

    index: int
    status: AgencyStatus
    codes: list[str]
    expired: bool = False


@dataclass
class _Builder:
    rng: random.Random
    categories: list[Category]
    written: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_code = {c.code: c for c in self.categories}
        self.codes = [c.code for c in self.categories]
        midnight = now().replace(hour=0, minute=0, second=0, microsecond=0)
        self.midnight: datetime = midnight
        self.today: date = midnight.date()
        self.password_hash = generate_password_hash(DEMO_PASSWORD)
        self.names: set[str] = set()  # membership tests only, never iterated
        self.usccs: set[str] = set()
        self.counts = {"users": 0, "agencies": 0, "enterprises": 0, "qualifications": 0, "offers": 0}
        self.city_pool = [city for city in REGIONS for _ in range(data.CITY_WEIGHTS.get(city, 1))]
        self.brands = [b for b in data.BRANDS if b != FIXED_AGENCY["brand"]]

    # -- small helpers --------------------------------------------------------------------------------

    def moment(self, days_ago: int) -> datetime:
        """A time during Beijing office hours, `days_ago` (>= 1) days before today."""
        hours = self.rng.randint(1, 9)  # 09:00-17:59 in Beijing is 01:00-09:59 UTC
        return (
            self.midnight
            - timedelta(days=max(days_ago, 1))
            + timedelta(hours=hours, minutes=self.rng.randint(0, 59))
        )

    def person(self) -> str:
        surname = self.rng.choice(data.SURNAMES)
        pool = data.GIVEN_MALE if self.rng.random() < 0.6 else data.GIVEN_FEMALE
        size = 2 if self.rng.random() < 0.7 else 1
        return surname + "".join(self.rng.choice(pool) for _ in range(size))

    def phone(self) -> str:
        prefix = self.rng.choice(["13", "15", "18"]) + str(self.rng.randint(0, 9))
        return prefix + "".join(str(self.rng.randint(0, 9)) for _ in range(8))

    def city(self) -> str:
        return self.rng.choice(self.city_pool)

    def district(self, city: str) -> tuple[str, str]:
        return self.rng.choice(data.DISTRICTS.get(city) or [(data.CITY_CODES[city], "")])

    def address(self, city: str, district: str) -> str:
        road = self.rng.choice(data.ROADS)
        building = self.rng.choice(data.BUILDINGS).format(
            b=self.rng.randint(1, 12), f=self.rng.randint(2, 23)
        )
        return f"{city}{district}{road}{self.rng.randint(1, 399)}号{building}"

    def uscc(self, division: str) -> str:
        """A valid, unused credit code: "91" + division + a GB 11714 organisation code + check digit."""
        while True:
            if self.rng.random() < 0.6:
                head = (
                    "MA"
                    + self.rng.choice("1234")
                    + "".join(self.rng.choice(uscc_rules.ALPHABET) for _ in range(5))
                )
            else:
                head = self.rng.choice("0567") + "".join(self.rng.choice("0123456789") for _ in range(7))
            code = uscc_rules.make("91", division, head + _org_check(head))
            if code not in self.usccs:
                self.usccs.add(code)
                return code

    def user(self, email: str, role: Role, contact: str | None, phone: str | None, created: datetime) -> User:
        self.counts["users"] += 1
        return User(
            email=email,
            password_hash=self.password_hash,
            role=role,
            contact_name=contact,
            phone=phone,
            active=True,
            created_at=created,
            updated_at=created,
        )

    # -- the whole data set ---------------------------------------------------------------------------

    def build(self) -> dict[str, int]:
        admin = self.user(ADMIN_EMAIL, Role.ADMIN, "系统管理员", None, self.moment(400))
        db.session.add(admin)
        self.fixed_agency()
        for plan in self.plans():
            self.agency(plan)
        self.fixed_enterprise()
        for i in range(1, N_ENTERPRISES + 1):
            self.enterprise(i)
        db.session.flush()
        return dict(self.counts)

    def plans(self) -> list[_Plan]:
        """Statuses and categories for the generated agencies: every category gets enough active members."""
        statuses = [status for status, n in STATUS_MIX for _ in range(n)]
        self.rng.shuffle(statuses)
        weighted = [code for code in self.codes for _ in range(data.CATEGORY_WEIGHTS.get(code, 1))]
        active_total = statuses.count(AgencyStatus.ACTIVE)
        per_category = min(MIN_ACTIVE_PER_CATEGORY, active_total // len(self.codes))
        active_primaries = [code for code in self.codes for _ in range(per_category)]
        active_primaries += [self.rng.choice(weighted) for _ in range(active_total - len(active_primaries))]
        self.rng.shuffle(active_primaries)

        plans = []
        for index, status in enumerate(statuses, start=1):
            primary = active_primaries.pop() if status == AgencyStatus.ACTIVE else self.rng.choice(weighted)
            plans.append(_Plan(index, status, self.category_codes(primary)))
        active = [p for p in plans if p.status == AgencyStatus.ACTIVE]
        for plan in self.rng.sample(active, min(EXPIRED_QUALIFICATIONS, len(active))):
            plan.expired = True
        return plans

    def category_codes(self, primary: str) -> list[str]:
        roll = self.rng.random()
        extra = 0 if roll < 0.45 else 1 if roll < 0.85 else 2
        related = [c for c in data.RELATED.get(primary, []) if c in self.by_code]
        return [primary] + self.rng.sample(related, min(extra, len(related)))

    # -- agencies -------------------------------------------------------------------------------------

    def agency_name(self, code: str, city: str) -> str:
        trades = data.TRADES.get(code, data.DEFAULT_TRADES)
        forms = data.FORMS_BY_CATEGORY.get(code, data.FORMS)
        while True:
            roll = self.rng.random()
            place = "江苏" if roll < 0.3 else "江苏省" if roll < 0.35 else city.removesuffix("市")
            brand = self.rng.choice(self.brands + data.LOCAL_BRANDS.get(city, []))
            name = f"{place}{brand}{self.rng.choice(trades)}{self.rng.choice(forms)}"
            if name not in self.names:
                self.names.add(name)
                return name

    def intro(self, code: str, city: str, founded: int) -> str:
        first = self.rng.choice(data.INTROS.get(code, data.DEFAULT_INTROS))
        if code not in data.STAFF or self.rng.random() < 0.25:
            return first
        second = self.rng.choice(data.INTRO_SECOND).format(
            year=founded,
            staff=data.STAFF[code],
            n=self.rng.randint(4, 40),
            m=self.rng.choice([50, 80, 100, 150, 200, 300, 500]),
            city=city,
        )
        return first + second

    def dates(self, status: AgencyStatus) -> dict[str, datetime | None]:
        """created / submitted / approved times that fit the membership status."""
        submitted = approved = None
        if status == AgencyStatus.DRAFT:
            created = self.moment(self.rng.randint(1, 30))
        elif status == AgencyStatus.PENDING:
            days = self.rng.randint(1, 6)
            submitted = self.moment(days)
            created = self.moment(days + self.rng.randint(0, 20))
        elif status == AgencyStatus.REJECTED:
            days = self.rng.randint(10, 60)
            submitted = self.moment(days)
            created = self.moment(days + self.rng.randint(1, 20))
        else:  # active, or once active
            oldest = 120 if status in (AgencyStatus.SUSPENDED, AgencyStatus.EXPELLED) else 7
            days = self.rng.randint(oldest, 360)
            approved = self.moment(days)
            submitted = self.moment(days + self.rng.randint(1, 6))
            created = self.moment(days + self.rng.randint(7, 30))
        if created > (submitted or created):
            created = submitted
        updated = approved or submitted or created
        if status in (AgencyStatus.SUSPENDED, AgencyStatus.EXPELLED):
            updated = self.moment(self.rng.randint(1, 60))
        return {"created": created, "submitted": submitted, "approved": approved, "updated": updated}

    def reason(self, status: AgencyStatus) -> str | None:
        pool = {
            AgencyStatus.REJECTED: data.REJECT_REASONS,
            AgencyStatus.SUSPENDED: data.SUSPEND_REASONS,
            AgencyStatus.EXPELLED: data.EXPEL_REASONS,
        }.get(status)
        if pool is None:
            return None
        return self.rng.choice(pool).format(project=self.rng.choice(data.PROJECT_WORDS))

    def agency(self, plan: _Plan) -> Agency:
        primary = plan.codes[0]
        city = self.city()
        division, district = self.district(city)
        if self.rng.random() < 0.4:
            division = data.CITY_CODES[city]
        contact = self.person()
        phone = self.phone()
        when = self.dates(plan.status)
        user = self.user(f"agency{plan.index:03d}@demo.cn", Role.AGENCY, contact, phone, when["created"])
        founded = self.today.year - self.rng.randint(3, 25)
        agency = Agency(
            user=user,
            name=self.agency_name(primary, city),
            uscc=self.uscc(division),
            status=plan.status,
            legal_rep=self.person(),
            region=city,
            address=self.address(city, district),
            contact_name=contact,
            contact_phone=phone,
            intro=self.intro(primary, city, founded),
            status_reason=self.reason(plan.status),
            submitted_at=when["submitted"],
            approved_at=when["approved"],
            created_at=when["created"],
            updated_at=when["updated"],
        )
        agency.categories = [self.by_code[code] for code in plan.codes]
        db.session.add(agency)
        self.counts["agencies"] += 1

        if plan.status == AgencyStatus.DRAFT:
            wanted = self.rng.choice([0, 1, 1, 2])
        else:
            wanted = self.rng.choice([1, 2, 2, 3])
        for n, (code, template) in enumerate(self.qualification_choices(plan.codes)[:wanted], start=1):
            expired = plan.expired and n == 1
            self.qualification(agency, plan.index, n, code, template, expired=expired)
        if plan.status == AgencyStatus.ACTIVE:
            pool = [item for code in plan.codes for item in self.items(code)]
            chosen = self.rng.sample(pool, min(len(pool), self.rng.randint(2, 8)))
            for item in sorted(chosen, key=lambda i: i.code):
                self.offer(agency, item)
        return agency

    def items(self, code: str) -> list[ServiceItem]:
        return sorted(self.by_code[code].items, key=lambda i: i.code)

    def qualification_choices(self, codes: list[str]) -> list[tuple[str | None, dict]]:
        """Licences in the order an agency of these categories would list them."""
        choices: list[tuple[str | None, dict]] = []
        seen: list[str] = []

        def add(code: str | None, template: dict) -> None:
            if template["name"] not in seen:
                seen.append(template["name"])
                choices.append((code, template))

        primary_templates = list(data.QUALIFICATIONS.get(codes[0], []))
        self.rng.shuffle(primary_templates)
        if primary_templates:
            add(codes[0], primary_templates[0])
        for code in codes[1:]:
            templates = data.QUALIFICATIONS.get(code, [])
            if templates:
                add(code, self.rng.choice(templates))
        add(None, data.BUSINESS_LICENCE)
        for template in primary_templates[1:]:
            add(codes[0], template)
        return choices

    def qualification(
        self, agency: Agency, index: int, n: int, code: str | None, template: dict, expired: bool = False
    ) -> Qualification:
        if code is None:  # the business licence
            level = QualificationLevel.NONE
            number = agency.uscc
            issuer = f"{agency.region}市场监督管理局"
            valid_until = self.today + timedelta(days=self.rng.randint(10, 30) * 365)
        else:
            level = QualificationLevel(self.rng.choice(template["levels"]))
            issuer = template["issuer"]
            if isinstance(issuer, dict):
                issuer = issuer.get(level.value, issuer["*"])
            issued = self.today.year - self.rng.randint(0, 4)
            number = self.number(template["number"], issued, level)
            if expired:
                valid_until = self.today - timedelta(days=self.rng.randint(5, 120))
            else:
                valid_until = self.today + timedelta(days=self.rng.randint(300, 4 * 365))
        key = f"demo-{index}-{n}.pdf"
        content = _pdf(
            [
                "DEMO - scanned certificate (not a real document)",
                f"Holder USCC: {agency.uscc}",
                f"Certificate no.: {_ascii(number) or '-'}",
                f"Valid until: {valid_until.isoformat()}",
            ]
        )
        path = uploads.upload_path(UPLOAD_KIND, key)
        path.write_bytes(content)
        self.written.append(path)
        qual = Qualification(
            agency=agency,
            category=self.by_code[code] if code else None,
            name=template["name"],
            level=level,
            number=number,
            issuer=issuer,
            valid_until=valid_until,
            file_key=key,
            file_name=template["file"],
            file_mime="application/pdf",
            file_size=len(content),
        )
        db.session.add(qual)
        self.counts["qualifications"] += 1
        return qual

    def number(self, pattern: str, year: int, level: QualificationLevel) -> str:
        text = pattern.replace("{y}", str(year)).replace("{L}", level.value[0])
        return "".join(str(self.rng.randint(0, 9)) if ch == "#" else ch for ch in text)

    # -- offers ---------------------------------------------------------------------------------------

    def offer(self, agency: Agency, item: ServiceItem, mode: str | None = None) -> Offer:
        code = item.code.split("-")[0]
        offer = Offer(
            agency=agency,
            service_item=item,
            promised_days=max(1, round(item.standard_days * self.rng.uniform(0.6, 1.0))),
            description=self.description(code, item),
            service_regions=self.service_regions(agency.region),
            active=True,
            created_at=agency.approved_at,
            updated_at=agency.approved_at,
        )
        guided = item.is_guided and item.guide_min_fen is not None and item.guide_max_fen is not None
        roll = self.rng.random()
        if guided:
            chosen = mode or ("discount" if roll < 0.2 else "range" if roll < 0.4 else "fixed")
        else:
            chosen = mode or ("range" if roll < 0.2 else "fixed")
        if chosen == "discount" and guided:
            offer.price_mode = PriceMode.DISCOUNT
            offer.discount_pct = self.rng.choice(data.DISCOUNTS)
        elif guided:
            low_fen, high_fen = item.guide_min_fen, item.guide_max_fen
            if chosen == "range":
                start = self.rng.random() * 0.5
                end = min(1.0, start + self.rng.uniform(0.2, 0.5))
                offer.price_mode = PriceMode.RANGE
                offer.price_min_fen = _clamp(
                    _round_fen(_log_point(low_fen, high_fen, start)), low_fen, high_fen
                )
                offer.price_max_fen = _clamp(
                    _round_fen(_log_point(low_fen, high_fen, end)), low_fen, high_fen
                )
            else:
                offer.price_mode = PriceMode.FIXED
                point = _log_point(low_fen, high_fen, self.rng.random() ** 1.6)
                offer.price_fen = _clamp(_round_fen(point), low_fen, high_fen)
        else:
            band = data.PRICE_BANDS.get(item.code) or data.CATEGORY_PRICE_BANDS.get(
                code, data.DEFAULT_PRICE_BAND
            )
            centre = math.sqrt(band[0] * band[1]) * 100 * self.rng.uniform(0.6, 1.4)
            if chosen == "range":
                offer.price_mode = PriceMode.RANGE
                offer.price_min_fen = _round_fen(centre * 0.8)
                offer.price_max_fen = max(
                    _round_fen(centre * self.rng.uniform(1.2, 1.6)), offer.price_min_fen + 10_000
                )
            else:
                offer.price_mode = PriceMode.FIXED
                offer.price_fen = _round_fen(centre)
        db.session.add(offer)
        self.counts["offers"] += 1
        return offer

    def description(self, code: str, item: ServiceItem) -> str:
        includes = data.OFFER_INCLUDES.get(code, data.DEFAULT_INCLUDES)
        picked = sorted(self.rng.sample(range(len(includes)), min(len(includes), self.rng.randint(2, 4))))
        text = f"{item.name}：含" + "、".join(includes[i] for i in picked) + "。"
        if self.rng.random() < 0.7:
            text += self.rng.choice(data.OFFER_PROMISES)
        return text

    def service_regions(self, home: str | None) -> str:
        if home is None or self.rng.random() < 0.4:
            return "全省"
        others = [r for r in REGIONS if r != home]
        return "、".join([home] + self.rng.sample(others, self.rng.randint(1, 3)))

    # -- the fixed accounts -----------------------------------------------------------------------------

    def fixed_agency(self) -> Agency:
        spec = FIXED_AGENCY
        approved = self.moment(200)
        submitted = self.moment(203)
        created = self.moment(210)
        user = self.user(AGENCY_EMAIL, Role.AGENCY, spec["contact_name"], spec["contact_phone"], created)
        self.names.add(spec["name"])
        agency = Agency(
            user=user,
            name=spec["name"],
            uscc=self.uscc(spec["division"]),
            status=AgencyStatus.ACTIVE,
            legal_rep=spec["legal_rep"],
            region=spec["region"],
            address=spec["address"],
            contact_name=spec["contact_name"],
            contact_phone=spec["contact_phone"],
            intro=spec["intro"],
            submitted_at=submitted,
            approved_at=approved,
            created_at=created,
            updated_at=approved,
        )
        codes = [c for c in spec["categories"] if c in self.by_code] or [self.codes[0]]
        agency.categories = [self.by_code[c] for c in codes]
        db.session.add(agency)
        self.counts["agencies"] += 1
        templates = {(code, t["name"]): t for code, ts in data.QUALIFICATIONS.items() for t in ts}
        n = 0
        for code, name in spec["qualifications"]:
            if code is None:
                template = data.BUSINESS_LICENCE
            elif code in self.by_code and (code, name) in templates:
                template = templates[(code, name)]
            else:
                continue
            n += 1
            self.qualification(agency, 0, n, code, template)
        for code in codes:  # a full store: every item of its categories
            for item in self.items(code):
                self.offer(agency, item, mode="range" if item.code.endswith("-01") else "fixed")
        return agency

    def fixed_enterprise(self) -> Enterprise:
        spec = FIXED_ENTERPRISE
        self.names.add(spec["name"])
        user = self.user(
            ENTERPRISE_EMAIL, Role.ENTERPRISE, spec["contact_name"], spec["phone"], self.moment(90)
        )
        enterprise = Enterprise(
            user=user,
            name=spec["name"],
            uscc=self.uscc(spec["division"]),
            region=spec["region"],
            created_at=user.created_at,
            updated_at=user.created_at,
        )
        db.session.add(enterprise)
        self.counts["enterprises"] += 1
        return enterprise

    # -- enterprises ------------------------------------------------------------------------------------

    def enterprise_name(self, city: str) -> str:
        short = city.removesuffix("市")
        while True:
            roll = self.rng.random()
            if roll < 0.5:
                area = self.rng.choice(data.ENTERPRISE_AREAS.get(city, [""]))
                form = "集团有限公司" if self.rng.random() < 0.2 else "有限公司"
                name = f"{short}{area}{self.rng.choice(data.ENTERPRISE_BUSINESS)}{form}"
            else:
                place = "江苏" if roll < 0.75 else short
                brand = self.rng.choice(data.ENTERPRISE_BRANDS)
                name = f"{place}{brand}{self.rng.choice(data.ENTERPRISE_INDUSTRIES)}有限公司"
            if name not in self.names:
                self.names.add(name)
                return name

    def enterprise(self, index: int) -> Enterprise:
        city = self.city()
        division, _district = self.district(city)
        if self.rng.random() < 0.4:
            division = data.CITY_CODES[city]
        created = self.moment(self.rng.randint(1, 300))
        user = self.user(f"qiye{index:03d}@demo.cn", Role.ENTERPRISE, self.person(), self.phone(), created)
        enterprise = Enterprise(
            user=user,
            name=self.enterprise_name(city),
            uscc=self.uscc(division),
            region=city,
            created_at=created,
            updated_at=created,
        )
        db.session.add(enterprise)
        self.counts["enterprises"] += 1
        return enterprise


# --- pure helpers ------------------------------------------------------------------------------------

_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def _org_check(head: str) -> str:
    """The GB 11714 check character of an 8-character organisation code."""
    total = sum(
        (int(ch) if ch.isdigit() else ord(ch) - 55) * w for ch, w in zip(head, _ORG_WEIGHTS, strict=True)
    )
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def _round_fen(fen: float) -> int:
    """Round a price to whole yuan: to ¥1,000 above ¥100k, ¥100 above ¥2,000, else ¥50 or ¥10."""
    yuan = fen / 100
    step = 1000 if yuan >= 100_000 else 100 if yuan >= 2000 else 50 if yuan >= 500 else 10
    return max(step, round(yuan / step) * step) * 100


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _log_point(low: int, high: int, share: float) -> float:
    """The point `share` (0..1) of the way from low to high on a logarithmic scale."""
    return math.exp(math.log(low) + share * (math.log(high) - math.log(low)))


def _ascii(text: str) -> str:
    return "".join(ch for ch in text if " " <= ch <= "~")


def _pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing `lines` (ASCII) — a stand-in for a scanned certificate."""

    def escape(text: str) -> str:
        return _ascii(text).replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ops = ["BT", "/F1 16 Tf", "72 770 Td", f"({escape(lines[0])}) Tj", "/F1 11 Tf"]
    for line in lines[1:]:
        ops += ["0 -22 Td", f"({escape(line)}) Tj"]
    ops.append("ET")
    stream = "\n".join(ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
