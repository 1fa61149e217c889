"""The monthly report (月度运行报告) as generated: one per area and month, its figures frozen as JSON and its PDF."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.common.clock import now
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db


class MonthlyReport(db.Model):
    """Generated once (by the clock on the 1st, or `flask reports generate`) and never recomputed: what the
    market published for a month stays what it was, even if later corrections change the live figures."""

    __tablename__ = "monthly_report"
    __table_args__ = (UniqueConstraint("area_code", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(
        String(6), index=True
    )  # GB/T 2260: the market area or a city in it
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM, Beijing time
    figures: Mapped[dict] = mapped_column(JSON)  # reports.figures.compute() for the area and month
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)  # None when WeasyPrint could not run
    pdf_problem: Mapped[str | None] = mapped_column(Text)  # why there is no PDF (for the operators)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
