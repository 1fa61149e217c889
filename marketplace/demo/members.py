"""The members' builder: one seeded generator of people, phone numbers, addresses, credit codes and accounts,
shared by the agencies, their stores and the enterprises (the order of its draws makes the data)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from werkzeug.security import generate_password_hash

from marketplace.auth.models import Role, User
from marketplace.catalogue.models import Category, ServiceItem
from marketplace.common import uscc as uscc_rules
from marketplace.common.clock import now
from marketplace.demo import dataset as data
from marketplace.demo.common import DEMO_PASSWORD, Calendar

_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]  # GB 11714


@dataclass
class Members:
    rng: random.Random
    categories: list[Category]
    written: list[Path] = field(default_factory=list)  # uploaded files, removed again when the load fails

    def __post_init__(self) -> None:
        self.by_code = {c.code: c for c in self.categories}
        self.codes = [c.code for c in self.categories]
        midnight = now().replace(hour=0, minute=0, second=0, microsecond=0)
        self.midnight: datetime = midnight
        self.today: date = midnight.date()
        self.calendar = Calendar(self.rng, midnight)
        self.password_hash = generate_password_hash(DEMO_PASSWORD)
        self.names: set[str] = set()  # membership tests only, never iterated
        self.usccs: set[str] = set()
        self.counts = {"users": 0, "agencies": 0, "enterprises": 0, "qualifications": 0, "offers": 0}
        self.city_pool = [city for city in data.CITY_CODES for _ in range(data.CITY_WEIGHTS.get(city, 1))]
        self.brands = [b for b in data.BRANDS if b != data.ACCOUNTS["agency"]["brand"]]

    def remove_files(self) -> None:
        for path in self.written:
            path.unlink(missing_ok=True)

    def moment(self, days_ago: int) -> datetime:
        """A time during Beijing office hours, `days_ago` (>= 1) days before today."""
        return self.calendar.moment(days_ago)

    def person(self) -> str:
        surname = self.rng.choice(data.SURNAMES)
        pool = data.GIVEN_MALE if self.rng.random() < 0.6 else data.GIVEN_FEMALE
        size = 2 if self.rng.random() < 0.7 else 1
        return surname + "".join(self.rng.choice(pool) for _ in range(size))

    def phone(self) -> str:
        prefix = self.rng.choice(data.PHONE_PREFIXES) + str(self.rng.randint(0, 9))
        return prefix + "".join(str(self.rng.randint(0, 9)) for _ in range(8))

    def city(self) -> str:
        return self.rng.choice(self.city_pool)

    def district(self, city: str) -> tuple[str, str]:
        return self.rng.choice(data.DISTRICTS.get(city) or [(data.CITY_CODES[city], "")])

    def division(self, city: str) -> tuple[str, str]:
        """(division code, district) of a new member's seat: its district's code, or often its city's."""
        division, district = self.district(city)
        if self.rng.random() < 0.4:
            division = data.CITY_CODES[city]
        return division, district

    def address(self, city: str, district: str) -> str:
        road = self.rng.choice(data.ROADS)
        building = self.rng.choice(data.BUILDINGS).format(
            b=self.rng.randint(1, 12), f=self.rng.randint(2, 23)
        )
        return data.ADDRESS.format(
            city=city, district=district, road=road, number=self.rng.randint(1, 399), building=building
        )

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

    def items(self, code: str) -> list[ServiceItem]:
        return sorted(self.by_code[code].items, key=lambda i: i.code)


def _org_check(head: str) -> str:
    """The GB 11714 check character of an 8-character organisation code."""
    total = sum(
        (int(ch) if ch.isdigit() else ord(ch) - 55) * w for ch, w in zip(head, _ORG_WEIGHTS, strict=True)
    )
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)
