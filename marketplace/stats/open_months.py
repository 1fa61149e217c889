"""`ocds_month`: the months (YYYY-MM, Beijing time) that have an open-data release package — any request
published, awarded, made final or ended, order made, started, delivered or accepted, or payment received in them —
and each month's kept package (opendata/kept.py): the clock writes the file to the storage path and its
description here. Kept by the tally (marketplace/tally/ocds_months.py) as the records are written — a write dated
in a month marks it `dirty`, for the clock to make again — and rebuilt by `flask stats rebuild`, so /opendata/ and
/api/v1/ocds/months read a few rows instead of every order's timestamps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, select, true
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.common.types import UTCDateTime
from marketplace.extensions import db


class OcdsMonth(db.Model):
    __tablename__ = "ocds_month"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    # something dated in the month was written since its package was made (or it was never made)
    dirty: Mapped[bool] = mapped_column(default=True, server_default=true())
    generated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    releases: Mapped[int] = mapped_column(default=0, server_default="0")
    bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    sha256: Mapped[str | None] = mapped_column(String(64))
    file_key: Mapped[str | None] = mapped_column(String(80))  # in UPLOAD_DIR/opendata/


def months_until(last: str) -> list[str]:
    """The kept months up to `last` (YYYY-MM) included, newest first."""
    return [row.month for row in rows_until(last)]


def rows_until(last: str) -> list[OcdsMonth]:
    """The kept months' rows up to `last` (YYYY-MM) included, newest first — without those made, found to hold
    no release and not changed since (a month whose only stamp moved away)."""
    return list(
        db.session.scalars(
            select(OcdsMonth).where(OcdsMonth.month <= last, ~empty()).order_by(OcdsMonth.month.desc())
        )
    )


def empty():
    """A month made and found to hold no release, with no change since."""
    return OcdsMonth.generated_at.is_not(None) & (OcdsMonth.releases == 0) & ~OcdsMonth.dirty
