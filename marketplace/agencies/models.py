"""Member agencies (中介机构), their qualifications (资质) and their store offers."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.auth.models import User

# The grades live with the catalogue (items require a minimum one); named here too for the agencies' code.
from marketplace.catalogue.models import LEVEL_RANK as LEVEL_RANK
from marketplace.catalogue.models import Category, QualificationKind, QualificationLevel, ServiceItem
from marketplace.common import areas
from marketplace.common.clock import now
from marketplace.common.models import TimestampMixin, enum_column
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db
from marketplace.regions import services as regions

if TYPE_CHECKING:
    from marketplace.agencies.roster import Practitioner


class AgencyStatus(enum.StrEnum):
    DRAFT = "draft"  # registered, has not applied yet
    PENDING = "pending"  # application waiting for review
    ACTIVE = "active"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    EXPELLED = "expelled"  # 清退


STATUS_LABELS = {
    AgencyStatus.DRAFT: _l("Not yet applied"),
    AgencyStatus.PENDING: _l("Under review"),
    AgencyStatus.ACTIVE: _l("Active member"),
    AgencyStatus.REJECTED: _l("Rejected"),
    AgencyStatus.SUSPENDED: _l("Suspended"),
    AgencyStatus.EXPELLED: _l("Expelled"),
}


# The membership state machine: action -> (allowed from, to).
TRANSITIONS: dict[str, tuple[frozenset[AgencyStatus], AgencyStatus]] = {
    "apply": (frozenset({AgencyStatus.DRAFT, AgencyStatus.REJECTED}), AgencyStatus.PENDING),
    "approve": (frozenset({AgencyStatus.PENDING}), AgencyStatus.ACTIVE),
    "reject": (frozenset({AgencyStatus.PENDING}), AgencyStatus.REJECTED),
    "suspend": (frozenset({AgencyStatus.ACTIVE}), AgencyStatus.SUSPENDED),
    "reinstate": (frozenset({AgencyStatus.SUSPENDED}), AgencyStatus.ACTIVE),
    "expel": (frozenset({AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED}), AgencyStatus.EXPELLED),
}


class PriceMode(enum.StrEnum):
    FIXED = "fixed"
    RANGE = "range"
    DISCOUNT = "discount"  # a percentage of the item's guide price


agency_category = Table(
    "agency_category",
    db.metadata,
    Column("agency_id", ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("category.id"), primary_key=True),
    # The list's category filter reads a category's members from this index alone (an index-only scan).
    Index("ix_agency_category_category_id_agency_id", "category_id", "agency_id"),
)


class AgencyServiceArea(db.Model):
    __tablename__ = "agency_service_area"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6), primary_key=True, index=True)


class Agency(TimestampMixin, db.Model):
    __tablename__ = "agency"
    # 入驻公示: the members admitted lately, newest first, one page at a time (read along it, not sorted)
    __table_args__ = (Index("ix_agency_status_approved", "status", "approved_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    status: Mapped[AgencyStatus] = enum_column(AgencyStatus, default=AgencyStatus.DRAFT, index=True)
    legal_rep: Mapped[str | None] = mapped_column(String(50))
    # Where the agency is registered (GB/T 2260, anywhere in China).
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    intro: Mapped[str | None] = mapped_column(Text)
    # Where the owners pay (收款账户: 开户行 / 户名 / 账号): shown to the paying enterprise only, never in public.
    bank_name: Mapped[str | None] = mapped_column(String(100))
    account_name: Mapped[str | None] = mapped_column(String(100))
    account_no: Mapped[str | None] = mapped_column(String(30))
    status_reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Entry evidence: the signed pledge (承诺书) and the authorised person (被授权人) with the power of
    # attorney (授权委托书); files live under UPLOAD_DIR like qualification scans. The ID number is shown masked
    # to everyone but staff.
    pledge_file_key: Mapped[str | None] = mapped_column(String(80))
    pledge_file_name: Mapped[str | None] = mapped_column(String(200))
    pledge_file_mime: Mapped[str | None] = mapped_column(String(50))
    authorised_name: Mapped[str | None] = mapped_column(String(50))
    authorised_id_number: Mapped[str | None] = mapped_column(String(18))
    authorised_phone: Mapped[str | None] = mapped_column(String(30))
    authorisation_file_key: Mapped[str | None] = mapped_column(String(80))
    authorisation_file_name: Mapped[str | None] = mapped_column(String(200))
    authorisation_file_mime: Mapped[str | None] = mapped_column(String(50))
    # When the operator must have decided the application (MARKET_REVIEW_WORKING_DAYS working days).
    review_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="agency")
    categories: Mapped[list[Category]] = relationship(secondary=agency_category, order_by=Category.sort_order)
    qualifications: Mapped[list[Qualification]] = relationship(
        back_populates="agency", cascade="all, delete-orphan", order_by="Qualification.id"
    )
    offers: Mapped[list[Offer]] = relationship(back_populates="agency", cascade="all, delete-orphan")
    # agencies/roster.py: every practitioner entered, whatever its status (bids name approved ones only).
    practitioners: Mapped[list[Practitioner]] = relationship(
        "Practitioner", viewonly=True, order_by="Practitioner.id"
    )
    # Where it offers its services (any level, anywhere); it may bid only on projects inside one of them.
    service_areas: Mapped[list[AgencyServiceArea]] = relationship(
        cascade="all, delete-orphan", order_by="AgencyServiceArea.region_code"
    )

    @property
    def region(self) -> str | None:
        """The registered region's name (the column of names went in 0012; kept for display and old callers)."""
        return regions.name(self.region_code)

    @property
    def service_area_codes(self) -> list[str]:
        return [a.region_code for a in self.service_areas]

    @service_area_codes.setter
    def service_area_codes(self, codes: list[str]) -> None:
        keep = {a.region_code: a for a in self.service_areas}
        self.service_areas = [keep.get(c) or AgencyServiceArea(region_code=c) for c in dict.fromkeys(codes)]

    def serves(self, code: str | None) -> bool:
        """Does one of its service areas contain `code`, or lie inside it?"""
        return bool(code) and any(areas.overlaps(a.region_code, code) for a in self.service_areas)

    @property
    def is_active(self) -> bool:
        return self.status == AgencyStatus.ACTIVE

    @property
    def offer_summary(self) -> OfferSummary:
        live = [o for o in self.offers if o.active]
        prices = [fen for fen in (o.low_fen for o in live) if fen is not None]
        return OfferSummary(
            len(live), min(prices, default=None), min((o.promised_days for o in live), default=None)
        )


@dataclass(frozen=True)
class OfferSummary:
    """What an agency's card says of its store: live offers, the lowest price, the fewest days promised."""

    count: int
    lowest_fen: int | None
    fewest_days: int | None


class Qualification(db.Model):
    __tablename__ = "qualification"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    # The category this licence covers; None for a general one (e.g. a business licence).
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"))
    # Which kind of the register this licence is; None for others (a business licence, an unmatched old one):
    # those never satisfy an item that requires a kind.
    kind_id: Mapped[int | None] = mapped_column(ForeignKey("qualification_kind.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[QualificationLevel] = enum_column(QualificationLevel)
    number: Mapped[str] = mapped_column(String(60))
    issuer: Mapped[str] = mapped_column(String(100))
    valid_until: Mapped[date] = mapped_column(Date)
    # The scanned file lives under UPLOAD_DIR, never under static/; only its key is stored here.
    file_key: Mapped[str | None] = mapped_column(String(80))
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_mime: Mapped[str | None] = mapped_column(String(50))
    file_size: Mapped[int | None]
    # When an operator checked it (已核验): at the membership's approval, or at the approval of the change that
    # added it. None before admission.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    agency: Mapped[Agency] = relationship(back_populates="qualifications")
    category: Mapped[Category | None] = relationship()
    kind: Mapped[QualificationKind | None] = relationship()

    def is_valid_on(self, day: date) -> bool:
        return self.valid_until >= day


class Offer(TimestampMixin, db.Model):
    """A store listing: what the agency charges for one service item and how fast it promises to be."""

    __tablename__ = "offer"
    __table_args__ = (
        UniqueConstraint("agency_id", "service_item_id", name="uq_offer_agency_item"),
        CheckConstraint("promised_days > 0", name="promised_days_positive"),
        Index("ix_offer_item_days", "service_item_id", "promised_days", "id"),  # an item's fastest offers
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    service_item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"), index=True)
    price_mode: Mapped[PriceMode] = enum_column(PriceMode)
    price_fen: Mapped[int | None]  # fixed
    price_min_fen: Mapped[int | None]  # range
    price_max_fen: Mapped[int | None]
    discount_pct: Mapped[int | None]  # discount: percent of the guide price, 1..100
    promised_days: Mapped[int]
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)

    agency: Mapped[Agency] = relationship(back_populates="offers")
    service_item: Mapped[ServiceItem] = relationship()

    @property
    def low_fen(self) -> int | None:
        """The lowest price this offer may mean, for sorting and comparison."""
        if self.price_mode == PriceMode.FIXED:
            return self.price_fen
        if self.price_mode == PriceMode.RANGE:
            return self.price_min_fen
        item = self.service_item
        if item.guide_min_fen is None or self.discount_pct is None:
            return None
        return item.guide_min_fen * self.discount_pct // 100

    @property
    def high_fen(self) -> int | None:
        if self.price_mode == PriceMode.FIXED:
            return self.price_fen
        if self.price_mode == PriceMode.RANGE:
            return self.price_max_fen
        item = self.service_item
        if item.guide_max_fen is None or self.discount_pct is None:
            return None
        return item.guide_max_fen * self.discount_pct // 100


# A price band sorted by price or speed walks the offers in the band in that order (agencies/services.py
# `_band_walk`): the lowest price is COALESCE(price_fen, price_min_fen), as the list compares offers.
_LOW = func.coalesce(Offer.price_fen, Offer.price_min_fen)
Index("ix_offer_low", Offer.active, _LOW, Offer.agency_id)
Index("ix_offer_item_low", Offer.service_item_id, Offer.active, _LOW, Offer.agency_id)
# On SQLite only (migration 0038, not in the metadata): ix_offer_agency_low (agency_id, active, the lowest price), for
# a band with another sort asking each listed agency whether it has an offer in the band (agencies/services.py
# `_in_band`); without it SQLite (no statistics) read ix_offer_low's range of the whole band for every agency.
# PostgreSQL plans that check along ix_offer_agency_id on its own.
Index("ix_offer_days", Offer.active, Offer.promised_days, Offer.agency_id)
Index("ix_offer_item_active_days", Offer.service_item_id, Offer.active, Offer.promised_days, Offer.agency_id)


class Favourite(db.Model):
    """An enterprise user's 收藏: an agency kept on its desk to invite to quote later (agencies/favourites.py)."""

    __tablename__ = "favourite"
    __table_args__ = (UniqueConstraint("user_id", "agency_id", name="uq_favourite_user_agency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    agency: Mapped[Agency] = relationship()
