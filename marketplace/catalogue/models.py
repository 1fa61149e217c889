"""The service catalogue: categories (大类) and the service items (事项) approvals require."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.common.clock import now
from marketplace.common.models import enum_column
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db


class FeeRegime(enum.StrEnum):
    GUIDED = "guided"  # 政府指导价
    MARKET = "market"  # 市场调节价


class QualificationLevel(enum.StrEnum):
    """A licence's grade; 不分级 for licences without grades (also the lowest, "any level")."""

    A = "甲级"
    B = "乙级"
    C = "丙级"
    NONE = "不分级"


# For people: the grade in the viewer's language (甲级 / Grade A); the stored value stays the Chinese one.
LEVEL_LABELS = {
    QualificationLevel.A: _l("Grade A"),
    QualificationLevel.B: _l("Grade B"),
    QualificationLevel.C: _l("Grade C"),
    QualificationLevel.NONE: _l("Ungraded"),
}


def level_name(level: QualificationLevel | str | None) -> str:
    """`{{ q.level|level_name }}`."""
    if level is None or level == "":
        return ""
    try:
        return str(LEVEL_LABELS[QualificationLevel(level)])
    except ValueError:
        return str(level)


LEVEL_RANK = {
    QualificationLevel.A: 3,
    QualificationLevel.B: 2,
    QualificationLevel.C: 1,
    QualificationLevel.NONE: 0,
}


class Category(db.Model):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(200))  # shown in the English UI (see `named`)
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
    name_en: Mapped[str | None] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    approval: Mapped[str | None] = mapped_column(String(200))
    # The item serves the approval of an investment project (立项审批/核准/备案 and the permits that follow):
    # a request for it carries the project's code and its approval or filing document.
    needs_project_approval: Mapped[bool] = mapped_column(default=False, server_default=false())
    department: Mapped[str | None] = mapped_column(String(100))
    fee_regime: Mapped[FeeRegime] = enum_column(FeeRegime)
    guide_min_fen: Mapped[int | None]
    guide_max_fen: Mapped[int | None]
    fee_basis: Mapped[str | None] = mapped_column(String(200))
    standard_days: Mapped[int]
    # The rules' wording, for people; what bidding checks is `requirements` / `requires_no_qualification`.
    qualification: Mapped[str | None] = mapped_column(String(100))
    # How many named practitioners (执业人员) of which registration a bid must carry (0: none).
    required_practitioners: Mapped[int] = mapped_column(default=0, server_default="0")
    practitioner_registration: Mapped[str | None] = mapped_column(String(50))
    # The department's model contract (合同示范文本) for this item; None: the generic text (catalogue/contracts.py).
    model_contract: Mapped[str | None] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(default=0)
    # The rules require no licence for this item (e.g. 节能评估 since 2016): every member of the category may bid.
    requires_no_qualification: Mapped[bool] = mapped_column(default=False, server_default=false())

    category: Mapped[Category] = relationship(back_populates="items")
    requirements: Mapped[list[ItemRequirement]] = relationship(
        back_populates="service_item", cascade="all, delete-orphan", order_by="ItemRequirement.kind_id"
    )

    @property
    def is_guided(self) -> bool:
        return self.fee_regime == FeeRegime.GUIDED


# The fields a department edits; each edit is kept as a numbered version, and a request keeps the one it used.
VERSIONED = (
    "legal_basis",
    "approval",
    "fee_regime",
    "guide_min_fen",
    "guide_max_fen",
    "fee_basis",
    "standard_days",
    "qualification",
    "model_contract",
)


class ServiceItemVersion(db.Model):
    """One state of a service item's rules (version 1: as shipped). The item itself holds the newest."""

    __tablename__ = "service_item_version"
    __table_args__ = (UniqueConstraint("service_item_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"), index=True)
    version: Mapped[int]
    legal_basis: Mapped[str | None] = mapped_column(Text)
    approval: Mapped[str | None] = mapped_column(String(200))
    fee_regime: Mapped[FeeRegime] = enum_column(FeeRegime)
    guide_min_fen: Mapped[int | None]
    guide_max_fen: Mapped[int | None]
    fee_basis: Mapped[str | None] = mapped_column(String(200))
    standard_days: Mapped[int]
    qualification: Mapped[str | None] = mapped_column(String(100))
    model_contract: Mapped[str | None] = mapped_column(Text)  # 合同示范文本; None: the generic one
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: shipped with the catalogue
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    note: Mapped[str | None] = mapped_column(Text)

    service_item: Mapped[ServiceItem] = relationship()
    author = relationship("User")

    @property
    def is_guided(self) -> bool:
        return self.fee_regime == FeeRegime.GUIDED


class QualificationKind(db.Model):
    """One entry of the register of qualification kinds (资质类别): what a licence or filing is, who issues it,
    under which rule, and which grades it has."""

    __tablename__ = "qualification_kind"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(200))
    # The trade it belongs to; None for kinds used across trades (e.g. CMA).
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    department: Mapped[str | None] = mapped_column(String(100))
    # QualificationLevel values this kind is issued in, highest first (["不分级"] for ungraded ones).
    levels: Mapped[list[str]] = mapped_column(JSON, default=list)
    issuer: Mapped[str | None] = mapped_column(String(200))
    legal_basis: Mapped[str | None] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(default=0)

    category: Mapped[Category | None] = relationship()

    @property
    def allowed_levels(self) -> list[QualificationLevel]:
        return [QualificationLevel(v) for v in self.levels]

    @property
    def graded(self) -> bool:
        return any(v != QualificationLevel.NONE.value for v in self.levels)


class ItemRequirement(db.Model):
    """A service item requires a qualification of this kind at this level or higher."""

    __tablename__ = "service_item_requirement"

    service_item_id: Mapped[int] = mapped_column(
        ForeignKey("service_item.id", ondelete="CASCADE"), primary_key=True
    )
    kind_id: Mapped[int] = mapped_column(ForeignKey("qualification_kind.id"), primary_key=True, index=True)
    min_level: Mapped[QualificationLevel] = enum_column(QualificationLevel, default=QualificationLevel.NONE)

    service_item: Mapped[ServiceItem] = relationship(back_populates="requirements")
    kind: Mapped[QualificationKind] = relationship(lazy="joined")
