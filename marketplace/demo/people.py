"""Demo membership evidence: every member's signed pledge, authorised person and practitioners (执业人员, with
valid-looking ID numbers and certificate scans), review deadlines for the pending applications, and a few
membership changes — under review (one of them overdue), and one rejected."""

from __future__ import annotations

import random
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.agencies.roster import (
    ChangeKind,
    ChangeStatus,
    MembershipChange,
    Practitioner,
    PractitionerStatus,
)
from marketplace.agencies.services import UPLOAD_KIND
from marketplace.agencies.validation import id_check_digit
from marketplace.auth.models import Role, User
from marketplace.common import uploads
from marketplace.common.clock import now
from marketplace.common.workdays import due_after
from marketplace.demo import dataset as data
from marketplace.demo.common import AGENCY_EMAIL, Calendar
from marketplace.demo.pdf import certificate_pdf
from marketplace.extensions import db

# The registrations each trade's practitioners hold; the first of a category is the one its items require
# where they require any (migration 0017 seeds which items do).
REGISTRATIONS = {
    "C01": ["注册咨询工程师（投资）"],
    "C02": ["注册咨询工程师（投资）"],
    "C03": ["环境影响评价工程师"],
    "C04": ["注册安全工程师"],
    "C05": ["职业卫生评价师"],
    "C06": ["注册土木工程师（水利水电工程）"],
    "C07": ["注册土木工程师（岩土）"],
    "C08": ["注册测绘师"],
    "C09": ["注册城乡规划师"],
    "C10": ["注册土木工程师（岩土）", "一级注册结构工程师"],
    "C11": ["注册监理工程师", "一级造价工程师"],
    "C12": ["一级注册结构工程师"],
    "C13": ["一级注册消防工程师"],
    "C14": ["雷电防护装置检测专业技术人员"],
    "C15": ["特种设备检验师"],
    "C16": ["注册房地产估价师", "资产评估师"],
    "C17": ["注册会计师"],
    "C18": ["文物保护工程责任设计师"],
}
PREFIX = {
    "注册安全工程师": "AQ",
    "环境影响评价工程师": "HP",
    "注册监理工程师": "JL",
    "一级造价工程师": "ZJ",
    "注册房地产估价师": "FG",
    "资产评估师": "ZP",
    "注册会计师": "KJ",
}
MEMBER = (AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED, AgencyStatus.EXPELLED)


class People:
    def __init__(self, rng: random.Random, calendar: Calendar) -> None:
        self.rng, self.calendar = rng, calendar
        self.written: list = []
        self.counts = {"practitioners": 0, "membership_changes": 0}
        self.used_ids: set[str] = set()

    def person(self) -> str:
        surname = self.rng.choice(data.SURNAMES)
        pool = data.GIVEN_MALE if self.rng.random() < 0.6 else data.GIVEN_FEMALE
        return surname + "".join(self.rng.choice(pool) for _ in range(2 if self.rng.random() < 0.7 else 1))

    def id_number(self, region: str | None) -> str:
        """A valid-looking resident ID number: division, birth date, serial, GB 11643 check character."""
        division = region if region and len(region) == 6 else "320100"
        while True:
            born = date(1962, 1, 1) + timedelta(days=self.rng.randint(0, 33 * 365))
            first = f"{division}{born:%Y%m%d}{self.rng.randint(1, 999):03d}"
            number = first + id_check_digit(first)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def phone(self) -> str:
        return self.rng.choice(data.PHONE_PREFIXES) + "".join(str(self.rng.randint(0, 9)) for _ in range(9))

    def scan(self, key: str, lines: list[str]) -> tuple[str, int]:
        content = certificate_pdf([*data.DOCUMENTS["certificate"][:1], *lines])
        path = uploads.upload_path(UPLOAD_KIND, key)
        path.write_bytes(content)
        self.written.append(path)
        return key, len(content)

    def certificate_no(self, registration: str) -> str:
        head = PREFIX.get(registration, "ZY")
        return f"{head}{self.rng.randint(2008, 2024)}{self.rng.randint(320000, 329999)}{self.rng.randint(1, 9999):04d}"

    def practitioner(
        self, agency: Agency, registration: str, status: PractitionerStatus, n: int
    ) -> Practitioner:
        number = self.certificate_no(registration)
        key, size = self.scan(f"demo-p{agency.id}-{n}.pdf", [f"Registration certificate {number}"])
        made = Practitioner(
            agency=agency,
            name=self.person(),
            id_number=self.id_number(agency.region_code),
            registration=registration,
            certificate_no=number,
            years=self.rng.randint(3, 25),
            is_lead=n == 1,
            status=status,
            file_key=key,
            file_name="执业资格注册证书.pdf",
            file_mime="application/pdf",
            file_size=size,
        )
        db.session.add(made)
        self.counts["practitioners"] += 1
        return made


def load_people(seed: int) -> dict[str, int]:
    """Evidence and practitioners for every agency that applied, then the changes; returns the counts."""
    midnight = now().replace(hour=0, minute=0, second=0, microsecond=0)
    p = People(random.Random(seed), Calendar(random.Random(seed + 1), midnight))
    try:
        agencies = list(db.session.scalars(select(Agency).order_by(Agency.id)))
        for agency in agencies:
            if agency.status == AgencyStatus.DRAFT:
                continue
            _evidence(p, agency)
            status = PractitionerStatus.APPROVED if agency.status in MEMBER else PractitionerStatus.PENDING
            n = 0
            for category in agency.categories:
                regs = REGISTRATIONS.get(category.code, ["注册咨询工程师（投资）"])
                for registration in regs:
                    # two of each: items that require named practitioners require at most two
                    for _ in range(2 if registration in PREFIX else p.rng.randint(1, 2)):
                        n += 1
                        p.practitioner(agency, registration, status, n)
            if agency.status == AgencyStatus.PENDING and agency.submitted_at is not None:
                agency.review_due_at = due_after(
                    agency.submitted_at, current_app.config["MARKET_REVIEW_WORKING_DAYS"]
                )
        db.session.flush()
        _changes(p, [a for a in agencies if a.status == AgencyStatus.ACTIVE])
        db.session.flush()
    except BaseException:
        for path in p.written:
            path.unlink(missing_ok=True)
        raise
    return p.counts


def _evidence(p: People, agency: Agency) -> None:
    for kind, name in (("pledge", "入驻承诺书（签章）.pdf"), ("authorisation", "授权委托书.pdf")):
        key, _size = p.scan(f"demo-{kind}-{agency.id}.pdf", [f"{kind} {agency.uscc}"])
        setattr(agency, f"{kind}_file_key", key)
        setattr(agency, f"{kind}_file_name", name)
        setattr(agency, f"{kind}_file_mime", "application/pdf")
    agency.authorised_name = agency.contact_name or p.person()
    agency.authorised_id_number = p.id_number(agency.region_code)
    agency.authorised_phone = agency.contact_phone or p.phone()


def _change(p: People, agency: Agency, kind: ChangeKind, payload: dict, days_ago: int) -> MembershipChange:
    at = p.calendar.moment(days_ago) if days_ago else now() - timedelta(hours=1)
    change = MembershipChange(
        agency=agency,
        kind=kind,
        payload=payload,
        status=ChangeStatus.PENDING,
        submitted_at=at,
        review_due_at=due_after(at, current_app.config["MARKET_REVIEW_WORKING_DAYS"]),
    )
    db.session.add(change)
    p.counts["membership_changes"] += 1
    return change


def _changes(p: People, active: list[Agency]) -> None:
    """Under review: a practitioner for the demo agency (today), a new legal representative (overdue), a new
    qualification and a practitioner leaving; rejected: the demo agency's legal representative."""
    fixed = db.session.scalar(
        select(Agency).join(User).where(User.email == AGENCY_EMAIL, User.role == Role.AGENCY)
    )
    others = [a for a in active if a is not fixed]
    p.rng.shuffle(others)
    if fixed is not None:
        code = fixed.categories[0].code if fixed.categories else "C03"
        newcomer = p.practitioner(
            fixed, REGISTRATIONS.get(code, ["注册咨询工程师（投资）"])[0], PractitionerStatus.PENDING, 90
        )
        db.session.flush()
        _change(
            p,
            fixed,
            ChangeKind.PRACTITIONER,
            {
                "action": "add",
                "practitioner_id": newcomer.id,
                "name": newcomer.name,
                "certificate_no": newcomer.certificate_no,
            },
            0,
        )
        rejected = _change(
            p,
            fixed,
            ChangeKind.LEGAL_REP,
            {"action": "set", "legal_rep": p.person(), "before": fixed.legal_rep},
            20,
        )
        rejected.status = ChangeStatus.REJECTED
        rejected.reason = "未提交市场监管部门出具的法定代表人变更登记通知书，请补充后重新申请。"
        rejected.decided_at = rejected.submitted_at + timedelta(days=1)
        rejected.decided_by = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
    if len(others) >= 3:
        late = others[0]
        _change(
            p,
            late,
            ChangeKind.LEGAL_REP,
            {"action": "set", "legal_rep": p.person(), "before": late.legal_rep},
            20,  # overdue whatever holidays fall in between
        )
        holder = others[1]
        key, size = p.scan(f"demo-change-q{holder.id}.pdf", ["Qualification certificate (change)"])
        _change(
            p,
            holder,
            ChangeKind.QUALIFICATION,
            {
                "action": "add",
                "qualification": {
                    "name": "工程咨询单位乙级资信",
                    "level": "乙级",
                    "number": f"乙{p.rng.randint(2026, 2026)}{p.rng.randint(100000, 999999)}",
                    "issuer": "江苏省工程咨询协会",
                    "valid_until": (date.today() + timedelta(days=3 * 365)).isoformat(),
                    "category_id": holder.categories[0].id if holder.categories else None,
                },
                "file": {"key": key, "name": "乙级资信证书.pdf", "mime": "application/pdf", "size": size},
            },
            1,
        )
        leaver_agency = others[2]
        leaver = db.session.scalar(
            select(Practitioner)
            .where(
                Practitioner.agency_id == leaver_agency.id, Practitioner.status == PractitionerStatus.APPROVED
            )
            .order_by(Practitioner.id.desc())
        )
        if leaver is not None:
            _change(
                p,
                leaver_agency,
                ChangeKind.PRACTITIONER,
                {
                    "action": "remove",
                    "practitioner_id": leaver.id,
                    "name": leaver.name,
                    "certificate_no": leaver.certificate_no,
                },
                1,
            )
