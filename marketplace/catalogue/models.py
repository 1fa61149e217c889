"""The service catalogue: categories (大类) and the service items (事项) approvals require."""

from __future__ import annotations

import enum

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.common.models import enum_column
from marketplace.extensions import db


class FeeRegime(enum.StrEnum):
    GUIDED = "guided"  # 政府指导价
    MARKET = "market"  # 市场调节价


class Category(db.Model):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(default=0)

    items: Mapped[list[ServiceItem]] = relationship(
        back_populates="category", order_by="ServiceItem.sort_order"
    )


class ServiceItem(db.Model):
    __tablename__ = "service_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    approval: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(100))
    fee_regime: Mapped[FeeRegime] = enum_column(FeeRegime)
    guide_min_fen: Mapped[int | None]
    guide_max_fen: Mapped[int | None]
    fee_basis: Mapped[str | None] = mapped_column(String(200))
    standard_days: Mapped[int]
    qualification: Mapped[str | None] = mapped_column(String(100))
    # The department's model contract (合同示范文本) for this item; None: the generic text (catalogue/contracts.py).
    model_contract: Mapped[str | None] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(default=0)

    category: Mapped[Category] = relationship(back_populates="items")

    @property
    def is_guided(self) -> bool:
        return self.fee_regime == FeeRegime.GUIDED
