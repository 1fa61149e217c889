"""Sealed bids and every version of them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.agencies.models import Agency
from marketplace.agencies.roster import Practitioner
from marketplace.common.clock import now
from marketplace.common.models import TimestampMixin, enum_column
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db


class BidStatus(enum.StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    INVALID = "invalid"  # found ineligible when bidding closed (e.g. suspended, qualification expired)


# The practitioners a bid names (when its service item requires them); sealed with the bid.
bid_practitioner = Table(
    "bid_practitioner",
    db.metadata,
    Column("bid_id", ForeignKey("bid.id", ondelete="CASCADE"), primary_key=True),
    Column("practitioner_id", ForeignKey("practitioner.id"), primary_key=True, index=True),
)


class Bid(TimestampMixin, db.Model):
    """One live bid per agency per request; revisions and withdrawals keep the same row and add a version."""

    __tablename__ = "bid"
    __table_args__ = (
        UniqueConstraint("request_id", "agency_id", name="uq_bid_request_agency"),
        CheckConstraint("price_fen > 0", name="price_positive"),
        CheckConstraint("promised_days > 0", name="promised_days_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    price_fen: Mapped[int]
    promised_days: Mapped[int]
    plan: Mapped[str] = mapped_column(Text)
    status: Mapped[BidStatus] = enum_column(BidStatus, default=BidStatus.ACTIVE)
    invalid_reason: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(default=1)

    agency: Mapped[Agency] = relationship()
    practitioners: Mapped[list[Practitioner]] = relationship(
        secondary=bid_practitioner, order_by=Practitioner.id
    )
    revisions: Mapped[list[BidRevision]] = relationship(back_populates="bid", order_by="BidRevision.version")


class BidRevision(db.Model):
    __tablename__ = "bid_revision"
    __table_args__ = (UniqueConstraint("bid_id", "version", name="uq_bid_revision_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id"), index=True)
    version: Mapped[int]
    action: Mapped[str] = mapped_column(String(20))  # submit / revise / withdraw / resubmit
    price_fen: Mapped[int]
    promised_days: Mapped[int]
    plan: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    bid: Mapped[Bid] = relationship(back_populates="revisions")
