"""The demo enterprises (project owners): the fixed enterprise account and 30 generated ones."""

from __future__ import annotations

from marketplace.auth.models import Enterprise, Role
from marketplace.demo import dataset as data
from marketplace.demo.common import ENTERPRISE_EMAIL
from marketplace.demo.members import Members
from marketplace.extensions import db

N_ENTERPRISES = 30  # besides the fixed enterprise account


def fixed_enterprise(m: Members) -> Enterprise:
    """qiye@demo.cn, registered 90 days ago."""
    spec = data.ACCOUNTS["enterprise"]
    m.names.add(spec["name"])
    user = m.user(ENTERPRISE_EMAIL, Role.ENTERPRISE, spec["contact_name"], spec["phone"], m.moment(90))
    made = Enterprise(
        user=user,
        name=spec["name"],
        uscc=m.uscc(spec["division"]),
        region_code=spec["division"],
        created_at=user.created_at,
        updated_at=user.created_at,
    )
    db.session.add(made)
    m.counts["enterprises"] += 1
    return made


def enterprise(m: Members, index: int) -> Enterprise:
    """A generated enterprise somewhere in the province, registered within the past 300 days."""
    city = m.city()
    division, _district = m.division(city)
    created = m.moment(m.rng.randint(1, 300))
    email = data.ACCOUNTS["numbered"]["enterprise"].format(index=index)
    user = m.user(email, Role.ENTERPRISE, m.person(), m.phone(), created)
    made = Enterprise(
        user=user,
        name=_name(m, city),
        uscc=m.uscc(division),
        region_code=division,
        created_at=created,
        updated_at=created,
    )
    db.session.add(made)
    m.counts["enterprises"] += 1
    return made


def _name(m: Members, city: str) -> str:
    short = city.removesuffix("市")
    while True:
        roll = m.rng.random()
        if roll < 0.5:
            area = m.rng.choice(data.ENTERPRISE_AREAS.get(city, [""]))
            form = data.ENTERPRISE_GROUP_FORM if m.rng.random() < 0.2 else data.ENTERPRISE_FORM
            name = f"{short}{area}{m.rng.choice(data.ENTERPRISE_BUSINESS)}{form}"
        else:
            place = data.PROVINCE if roll < 0.75 else short
            brand = m.rng.choice(data.ENTERPRISE_BRANDS)
            name = f"{place}{brand}{m.rng.choice(data.ENTERPRISE_INDUSTRIES)}{data.ENTERPRISE_FORM}"
        if name not in m.names:
            m.names.add(name)
            return name
