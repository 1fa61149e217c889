"""Running totals per agency and per agency × service item, updated as orders are accepted and rated.

Sums, not averages, are stored so that each event adds to them (no rescans); the tally (marketplace/tally/) keeps
them, stats/figures.py derives the figures buyers compare from them, and `composite` is kept as a column so the
list can sort by it with an index.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.extensions import db


class _Totals:
    completed_orders: Mapped[int] = mapped_column(default=0)
    amount_sum_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    ceiling_sum_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    guide_orders: Mapped[int] = mapped_column(default=0)  # completed orders of guided items
    guide_amount_sum_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    guide_mid_sum_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    actual_seconds_sum: Mapped[int] = mapped_column(BigInteger, default=0)  # start → delivery
    promised_days_sum: Mapped[int] = mapped_column(default=0)
    standard_days_sum: Mapped[int] = mapped_column(default=0)
    on_time_count: Mapped[int] = mapped_column(default=0)
    ratings_count: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)
    good_count: Mapped[int] = mapped_column(default=0)  # overall ≥ 4
    overdue_orders: Mapped[int] = mapped_column(default=0)  # started, red (overdue) and not yet accepted
    violations: Mapped[int] = mapped_column(default=0)  # fee flags confirmed as violations
    paid_sum_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # received, net of refunds


class AgencyStats(_Totals, db.Model):
    __tablename__ = "agency_stats"
    __table_args__ = (
        Index("ix_agency_stats_composite", "composite"),
        Index("ix_agency_stats_completed_orders", "completed_orders"),
        Index("ix_agency_stats_rating_rank", "rating_rank"),
    )

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True)
    composite: Mapped[float] = mapped_column(Float, default=0.0)
    rating_rank: Mapped[float] = mapped_column(Float, default=0.0)  # the shrunk (Bayesian) rating


class AgencyItemStats(_Totals, db.Model):
    __tablename__ = "agency_item_stats"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True)
    service_item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"), primary_key=True, index=True)
