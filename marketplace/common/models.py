"""Small column helpers shared by the feature models."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.common.clock import now
from marketplace.common.types import UTCDateTime


def enum_column(enum_cls: type[enum.Enum], **kw):
    """Store an enum by value as a short string with a CHECK constraint (portable across databases)."""
    return mapped_column(
        Enum(
            enum_cls,
            native_enum=False,
            create_constraint=True,
            length=20,
            values_callable=lambda e: [m.value for m in e],
            name=enum_cls.__name__.lower(),
            validate_strings=True,
        ),
        **kw,
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, onupdate=now, nullable=False)
