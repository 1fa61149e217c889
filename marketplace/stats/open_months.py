"""`ocds_month`: the months (YYYY-MM, Beijing time) that have an open-data release package — any request
published or awarded, order made, started, delivered or accepted, or payment received in them. Kept by the
tally (marketplace/tally/ocds_months.py) as the records are written and rebuilt by `flask stats rebuild`, so
/opendata/ and /api/v1/ocds/months read a few rows instead of every order's timestamps."""

from __future__ import annotations

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.extensions import db


class OcdsMonth(db.Model):
    __tablename__ = "ocds_month"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)


def months_until(last: str) -> list[str]:
    """The kept months up to `last` (YYYY-MM) included, newest first."""
    return list(
        db.session.scalars(
            select(OcdsMonth.month).where(OcdsMonth.month <= last).order_by(OcdsMonth.month.desc())
        )
    )
