"""The demo agencies' licences (资质): which ones an agency lists, their grades, numbers and issuers, and a
stand-in PDF scan of each."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from marketplace.agencies.models import Agency, Qualification, QualificationLevel
from marketplace.agencies.services import UPLOAD_KIND
from marketplace.catalogue.models import QualificationKind
from marketplace.common import uploads
from marketplace.demo import dataset as data
from marketplace.demo.members import Members
from marketplace.demo.pdf import ascii_only, certificate_pdf
from marketplace.extensions import db


def choices(m: Members, codes: list[str]) -> list[tuple[str | None, dict]]:
    """Licences in the order an agency of these categories would list them."""
    found: list[tuple[str | None, dict]] = []
    seen: list[str] = []

    def add(code: str | None, template: dict) -> None:
        if template["name"] not in seen:
            seen.append(template["name"])
            found.append((code, template))

    primary_templates = list(data.QUALIFICATIONS.get(codes[0], []))
    m.rng.shuffle(primary_templates)
    # An agency's main licence is one its category's items require (the others are extras).
    required = {r.kind.code for item in m.items(codes[0]) for r in item.requirements}
    primary_templates.sort(key=lambda t: t.get("kind") not in required)
    if primary_templates:
        add(codes[0], primary_templates[0])
    for code in codes[1:]:
        templates = data.QUALIFICATIONS.get(code, [])
        if templates:
            add(code, m.rng.choice(templates))
    add(None, data.BUSINESS_LICENCE)
    for template in primary_templates[1:]:
        add(codes[0], template)
    return found


def qualification(
    m: Members, agency: Agency, index: int, n: int, code: str | None, template: dict, expired: bool = False
) -> Qualification:
    """The agency's `n`th licence from `template` (code None: the business licence), with its scan."""
    if code is None:  # the business licence
        level = QualificationLevel.NONE
        number = agency.uscc
        issuer = template["issuer"].format(region=agency.region)
        valid_until = m.today + timedelta(days=m.rng.randint(10, 30) * 365)
    else:
        level = QualificationLevel(m.rng.choice(template["levels"]))
        issuer = template["issuer"]
        if isinstance(issuer, dict):
            issuer = issuer.get(level.value, issuer["*"])
        issued = m.today.year - m.rng.randint(0, 4)
        number = _number(m, template["number"], issued, level)
        if expired:
            valid_until = m.today - timedelta(days=m.rng.randint(5, 120))
        else:
            valid_until = m.today + timedelta(days=m.rng.randint(300, 4 * 365))
    key = f"demo-{index}-{n}.pdf"
    lines = data.DOCUMENTS["certificate"]
    content = certificate_pdf(
        [
            line.format(
                uscc=agency.uscc, number=ascii_only(number) or "-", valid_until=valid_until.isoformat()
            )
            for line in lines
        ]
    )
    path = uploads.upload_path(UPLOAD_KIND, key)
    path.write_bytes(content)
    m.written.append(path)
    qual = Qualification(
        agency=agency,
        category=m.by_code[code] if code else None,
        kind=kind(template.get("kind")),
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
    m.counts["qualifications"] += 1
    return qual


def kind(code: str | None) -> QualificationKind | None:
    """The register's kind of a licence template ("kind" in qualifications.json; none for e.g. 营业执照)."""
    if code is None:
        return None
    return db.session.scalar(select(QualificationKind).where(QualificationKind.code == code))


def _number(m: Members, pattern: str, year: int, level: QualificationLevel) -> str:
    """A certificate number: "#" a random digit, "{y}" the year of issue, "{L}" the grade's first character."""
    text = pattern.replace("{y}", str(year)).replace("{L}", level.value[0])
    return "".join(str(m.rng.randint(0, 9)) if ch == "#" else ch for ch in text)
