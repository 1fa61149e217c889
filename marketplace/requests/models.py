"""Service requests (采购公告), their exclusions (回避) and objections (异议) during publicity."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.agencies.models import Agency, QualificationLevel
from marketplace.auth.models import Enterprise, User
from marketplace.catalogue.models import ServiceItem, ServiceItemVersion
from marketplace.common.clock import now
from marketplace.common.models import TimestampMixin, enum_column
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db
from marketplace.regions import services as regions


class RequestStatus(enum.StrEnum):
    DRAFT = "draft"
    REVIEW = "review"  # submitted: waits for the operator's review before it goes public (审核中)
    RETURNED = (
        "returned"  # sent back by the operator with an opinion; the enterprise fixes and resubmits (已退回)
    )
    BIDDING = "bidding"  # published: an open announcement taking sealed bids
    EVALUATING = "evaluating"  # deadline passed: bids opened, waiting for the selection
    PUBLICITY = "publicity"  # result public (公示), objections possible
    AWARDED = "awarded"  # publicity over: an order exists
    FAILED = "failed"  # 流标
    CANCELLED = "cancelled"


# Never public: only the enterprise and staff see these (a request becomes an announcement when it is published).
UNPUBLISHED = frozenset({RequestStatus.DRAFT, RequestStatus.REVIEW, RequestStatus.RETURNED})
# The enterprise may edit its request in these.
EDITABLE_STATUSES = frozenset({RequestStatus.DRAFT, RequestStatus.RETURNED})

# action -> (allowed from, to). The one table every status change is checked against.
TRANSITIONS: dict[str, tuple[frozenset[RequestStatus], RequestStatus]] = {
    "publish": (EDITABLE_STATUSES, RequestStatus.BIDDING),  # announcement review off: public at once
    "submit": (EDITABLE_STATUSES, RequestStatus.REVIEW),  # review on: to the operator first
    "approve": (frozenset({RequestStatus.REVIEW}), RequestStatus.BIDDING),
    "return": (frozenset({RequestStatus.REVIEW}), RequestStatus.RETURNED),
    "close": (frozenset({RequestStatus.BIDDING}), RequestStatus.EVALUATING),
    "select": (frozenset({RequestStatus.EVALUATING}), RequestStatus.PUBLICITY),
    "award": (frozenset({RequestStatus.PUBLICITY}), RequestStatus.AWARDED),
    "reselect": (frozenset({RequestStatus.PUBLICITY, RequestStatus.AWARDED}), RequestStatus.PUBLICITY),
    "reopen_selection": (
        frozenset({RequestStatus.PUBLICITY, RequestStatus.AWARDED}),
        RequestStatus.EVALUATING,
    ),
    "fail": (
        frozenset(
            {RequestStatus.BIDDING, RequestStatus.EVALUATING, RequestStatus.PUBLICITY, RequestStatus.AWARDED}
        ),
        RequestStatus.FAILED,
    ),
    "cancel": (UNPUBLISHED | {RequestStatus.BIDDING}, RequestStatus.CANCELLED),
}


class Funding(enum.StrEnum):
    FISCAL = "fiscal"  # 财政资金
    SOCIAL = "social"  # 社会资金


class SelectionMethod(enum.StrEnum):
    DIRECT = "direct"  # 直接选取
    LOWEST_PRICE = "lowest_price"  # 竞价选取
    RANDOM = "random"  # 随机抽取
    COMPOSITE = "composite"  # 综合评价
    AVERAGE_PRICE = "average_price"  # 均价法
    CREDIT_SHORTLIST = "credit_shortlist"  # 信用择优


class ServiceRequest(TimestampMixin, db.Model):
    __tablename__ = "service_request"
    __table_args__ = (
        CheckConstraint("ceiling_fen > 0", name="ceiling_positive"),
        CheckConstraint(
            "floor_fen IS NULL OR (floor_fen > 0 AND floor_fen <= ceiling_fen)", name="floor_below_ceiling"
        ),
        CheckConstraint("required_days > 0", name="required_days_positive"),
        # the public announcements, newest first: the whole list, one status, one service item (LIMIT, no sort)
        Index("ix_service_request_published", "published_at", "id"),
        Index("ix_service_request_status_published", "status", "published_at", "id"),
        Index("ix_service_request_item_published", "service_item_id", "published_at", "id"),
        # the announcements still bidding by status whose deadline has passed (the clock has not closed them
        # yet): a few, counted beside the kept counts (requests/counts.py `overdue_bidding`); on PostgreSQL
        # with the other columns that count reads, so that it reads the index alone (the planner takes the
        # deadline as no filter at all: nearly every request's is past, but not the open ones')
        Index(
            "ix_service_request_status_deadline",
            "status",
            "bid_deadline",
            postgresql_include=["published_at", "service_item_id"],
        ),
        # an item's announcements still bidding (an agency's list of what it may bid on,
        # `/api/v1/requests?status=bidding&service_item_id=…`): the open ones only, by item and deadline
        Index(
            "ix_service_request_bidding_item",
            "service_item_id",
            "bid_deadline",
            postgresql_where=text("status = 'bidding'"),
            sqlite_where=text("status = 'bidding'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    title: Mapped[str] = mapped_column(String(200))
    project_code: Mapped[str] = mapped_column(String(60))
    service_item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"), index=True)
    # The item's rules as they stood when the request was posted (guide range, standard days, legal basis).
    service_item_version_id: Mapped[int | None] = mapped_column(ForeignKey("service_item_version.id"))
    scope: Mapped[str] = mapped_column(Text)
    ceiling_fen: Mapped[int]
    floor_fen: Mapped[int | None]
    required_level: Mapped[QualificationLevel | None] = enum_column(QualificationLevel, nullable=True)
    # The project's location (GB/T 2260), inside MARKET_AREA_CODE; staff scopes are checked against it.
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    required_days: Mapped[int]
    funding: Mapped[Funding] = enum_column(Funding)
    selection_method: Mapped[SelectionMethod] = enum_column(SelectionMethod)
    weights: Mapped[dict | None] = mapped_column(JSON)
    shortlist_size: Mapped[int | None]
    bid_deadline: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[RequestStatus] = enum_column(RequestStatus, default=RequestStatus.DRAFT, index=True)
    round: Mapped[int] = mapped_column(default=1)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("service_request.id"), index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When it last went to the operator's review (the review desk shows how long it has waited).
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The project's approval/filing document (立项/核准/备案文件), a private upload: {key, name, mime, size}.
    approval_document: Mapped[dict | None] = mapped_column(JSON)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The draw: the seed stays secret until the selection; its SHA-256 is public from publishing on.
    draw_seed: Mapped[str | None] = mapped_column(String(64))
    draw_commitment: Mapped[str | None] = mapped_column(String(64))
    seed_revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    draw_details: Mapped[dict | None] = mapped_column(JSON)
    ranking: Mapped[list | None] = mapped_column(JSON)  # bid ids in the method's order; the fallback line
    winner_bid_id: Mapped[int | None] = mapped_column(ForeignKey("bid.id", use_alter=True))
    selected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    selection_reason: Mapped[str | None] = mapped_column(Text)
    publicity_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    # When it failed (流标) or was cancelled: the open data's tenderCancellation is dated by it (never updated_at).
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    enterprise: Mapped[Enterprise] = relationship()
    service_item: Mapped[ServiceItem] = relationship()
    service_item_version: Mapped[ServiceItemVersion | None] = relationship()
    exclusions: Mapped[list[RequestExclusion]] = relationship(
        back_populates="request", cascade="all, delete-orphan"
    )
    objections: Mapped[list[Objection]] = relationship(back_populates="request", order_by="Objection.id")
    reviews: Mapped[list[RequestReview]] = relationship(
        back_populates="request", order_by="RequestReview.id", cascade="all, delete-orphan"
    )

    @property
    def region(self) -> str | None:
        """The location's name (derived from `region_code` since 0012; kept for display and old callers)."""
        return regions.name(self.region_code)

    @property
    def rules(self) -> ServiceItem | ServiceItemVersion:
        """The item's rules this request was posted under (its kept version; the item itself for a request
        older than versions)."""
        return self.service_item_version or self.service_item

    @property
    def phase(self) -> RequestStatus:
        """The status as time has made it, whether or not the clock has recorded it yet: bidding ends the
        instant the deadline passes (reads compute this; only the clock and write paths record it)."""
        if self.status == RequestStatus.BIDDING and now() >= self.bid_deadline:
            return RequestStatus.EVALUATING
        return self.status

    @property
    def is_public(self) -> bool:
        """An announcement anyone may read: published once (approved, where announcements are reviewed)."""
        return self.published_at is not None and self.status not in UNPUBLISHED

    @property
    def last_return(self) -> RequestReview | None:
        """The operator's latest return (its opinion is what the enterprise must fix)."""
        returns = [r for r in self.reviews if r.action == ReviewAction.RETURN]
        return returns[-1] if returns else None


class ReviewAction(enum.StrEnum):
    SUBMIT = "submit"  # the enterprise sent it to review (again)
    APPROVE = "approve"  # the operator let it go public
    RETURN = "return"  # the operator sent it back with an opinion


class RequestReview(db.Model):
    """The announcement review's history (公告审核记录): every submission, approval and return, with who and when."""

    __tablename__ = "request_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"), index=True)
    action: Mapped[ReviewAction] = enum_column(ReviewAction)
    opinion: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    request: Mapped[ServiceRequest] = relationship(back_populates="reviews")
    actor: Mapped[User | None] = relationship()


class RequestExclusion(db.Model):
    """An agency the enterprise must not deal with on this request (回避), with the reason."""

    __tablename__ = "request_exclusion"
    __table_args__ = (UniqueConstraint("request_id", "agency_id", name="uq_request_exclusion_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    reason: Mapped[str] = mapped_column(String(200))

    request: Mapped[ServiceRequest] = relationship(back_populates="exclusions")
    agency: Mapped[Agency] = relationship()


class ObjectionStatus(enum.StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class ObjectionGround(enum.StrEnum):
    """What an objection says is wrong with the result (one ground per objection)."""

    RULES = "rules"  # 中选结果不符合比选规则
    QUALIFICATION = "qualification"  # 中选机构资格条件不符
    CALCULATION = "calculation"  # 报价或评分计算有误
    PROCEDURE = "procedure"  # 比选程序违规
    OTHER = "other"  # 其他


class Objection(TimestampMixin, db.Model):
    """异议: lodged during publicity by an interested party (an agency that bid in this round), once per round;
    an administrator upholds (selection redone or failed) or dismisses it, due by `decide_by`."""

    __tablename__ = "objection"
    __table_args__ = (UniqueConstraint("request_id", "agency_id", name="uq_objection_request_agency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # The objecting party. Null only on objections lodged before only bidders could object.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    ground: Mapped[ObjectionGround] = enum_column(ObjectionGround)
    facts: Mapped[str] = mapped_column(Text)  # private: the objector and administrators only
    evidence: Mapped[list | None] = mapped_column(JSON)  # [{key, name, mime, size}], stored privately
    status: Mapped[ObjectionStatus] = enum_column(ObjectionStatus, default=ObjectionStatus.OPEN, index=True)
    decide_by: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    outcome: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    request: Mapped[ServiceRequest] = relationship(back_populates="objections")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    agency: Mapped[Agency | None] = relationship()

    @property
    def overdue(self) -> bool:
        """Undecided past its decide-by time: computed from the clock, never stored."""
        return self.status == ObjectionStatus.OPEN and now() >= self.decide_by


class RequestCount(db.Model):
    """Public announcements per service item and status, kept by `move_request` (requests/counts.py)."""

    __tablename__ = "request_count"

    service_item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
