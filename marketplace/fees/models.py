"""Fee flags: findings of the fee audit (涉企收费审计), one per rule and priced thing, reviewed by an administrator."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.common.clock import now
from marketplace.common.models import enum_column
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db


class FlagRule(enum.StrEnum):
    OVER_CEILING = "over_ceiling"  # a bid or contract above the request's ceiling (最高限价)
    OUTSIDE_GUIDE = "outside_guide"  # a government-guided item priced outside its guide range
    OVER_OFFER = "over_offer"  # a bid above the agency's own published price for the item
    CONTRACT_MISMATCH = "contract_mismatch"  # the contract amount differs from the winning bid
    OVER_CONTRACT = "over_contract"  # payments received beyond the contract amount
    ABNORMALLY_LOW = "abnormally_low"  # a low-price race (Prozorro's rule, or under half the median)
    IDENTICAL_PRICES = "identical_prices"  # different agencies bidding the same price (collusion)
    PRICE_RISE = "price_rise"  # an agency's prices rising sharply after it won


class Severity(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class FlagStatus(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"  # a confirmed violation: it lowers the agency's credit
    DISMISSED = "dismissed"


RULE_LABELS = {
    FlagRule.OVER_CEILING: _l("Above the ceiling price"),
    FlagRule.OUTSIDE_GUIDE: _l("Outside the guide price range"),
    FlagRule.OVER_OFFER: _l("Above the agency's own published price"),
    FlagRule.CONTRACT_MISMATCH: _l("Contract differs from the winning bid"),
    FlagRule.OVER_CONTRACT: _l("Paid more than the contract"),
    FlagRule.ABNORMALLY_LOW: _l("Abnormally low price"),
    FlagRule.IDENTICAL_PRICES: _l("Identical prices from different agencies"),
    FlagRule.PRICE_RISE: _l("Price rise after winning"),
}
SEVERITY_LABELS = {Severity.HIGH: _l("High"), Severity.MEDIUM: _l("Medium"), Severity.LOW: _l("Low")}
STATUS_LABELS = {
    FlagStatus.OPEN: _l("Open"),
    FlagStatus.CONFIRMED: _l("Confirmed violation"),
    FlagStatus.DISMISSED: _l("Dismissed"),
}


TRANSITIONS: dict[str, tuple[frozenset[FlagStatus], FlagStatus]] = {
    "confirm": (frozenset({FlagStatus.OPEN, FlagStatus.DISMISSED}), FlagStatus.CONFIRMED),
    "dismiss": (frozenset({FlagStatus.OPEN, FlagStatus.CONFIRMED}), FlagStatus.DISMISSED),
    "reopen": (frozenset({FlagStatus.CONFIRMED, FlagStatus.DISMISSED}), FlagStatus.OPEN),
}


class FeeFlag(db.Model):
    __tablename__ = "fee_flag"
    __table_args__ = (
        Index("ix_fee_flag_status_occurred", "status", "occurred_at"),
        Index("ix_fee_flag_item_occurred", "service_item_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # rule:thing:id[:agency] — running the audit twice finds the same flag instead of a second one
    subject_key: Mapped[str] = mapped_column(String(120), unique=True)
    rule: Mapped[FlagRule] = enum_column(FlagRule, index=True)
    severity: Mapped[Severity] = enum_column(Severity)
    status: Mapped[FlagStatus] = enum_column(FlagStatus, default=FlagStatus.OPEN)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    service_item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("service_request.id"), index=True)
    bid_id: Mapped[int | None] = mapped_column(ForeignKey("bid.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("service_order.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"))
    figures: Mapped[dict] = mapped_column(JSON)  # the numbers that triggered the rule
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when the priced thing happened
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    note: Mapped[str | None] = mapped_column(Text)  # the administrator's note
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    agency = relationship("Agency")
    service_item = relationship("ServiceItem")
    request = relationship("ServiceRequest")
