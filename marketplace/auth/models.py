"""Accounts: a user is a person logging in for an enterprise, an agency, or the administration."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.common.models import TimestampMixin, enum_column
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db
from marketplace.regions import services as regions

if TYPE_CHECKING:
    from marketplace.agencies.models import Agency


class Role(enum.StrEnum):
    ENTERPRISE = "enterprise"
    AGENCY = "agency"
    ADMIN = "admin"  # the platform's administrator: holds every staff role over the whole market area
    OPERATOR = "operator"  # 运营机构: memberships, announcements, complaints, comments
    DEPARTMENT = "department"  # 行业主管部门: its trade's service items, the department rating, inspections
    SUPERVISOR = "supervisor"  # 管理部门: rules and settings, fee audit, red/black lists; reads everything


STAFF_ROLES = frozenset({Role.ADMIN, Role.OPERATOR, Role.DEPARTMENT, Role.SUPERVISOR})

ROLE_LABELS = {
    Role.ENTERPRISE: _l("Enterprise"),
    Role.AGENCY: _l("Agency"),
    Role.ADMIN: _l("Administrator"),
    Role.OPERATOR: _l("Market operator"),
    Role.DEPARTMENT: _l("Industry department"),
    Role.SUPERVISOR: _l("Supervising authority"),
}


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "user"
    # Log-in, the API token and registration look an account up by lower(email): without this index each was a
    # scan of every account (~100 ms at 100,000 agencies). Unique, too: one account per address, whatever its case.
    __table_args__ = (Index("uq_user_email_lower", func.lower("email"), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = enum_column(Role)
    contact_name: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Staff only: the GB/T 2260 area the account acts in (None = the whole market area) and, for a
    # department, the trade it governs (matches ServiceItem.department).
    region_code: Mapped[str | None] = mapped_column(String(6))
    department: Mapped[str | None] = mapped_column(String(100))

    agency: Mapped[Agency | None] = relationship(back_populates="user", uselist=False)
    enterprise: Mapped[Enterprise | None] = relationship(back_populates="user", uselist=False)

    @property
    def is_active(self) -> bool:  # Flask-Login: a disabled account cannot log in
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def holds(self, role: Role) -> bool:
        """Does this account act as `role`? The administrator holds every staff role."""
        return self.role == role or (self.role == Role.ADMIN and role in STAFF_ROLES)

    @property
    def org(self):
        return self.agency if self.role == Role.AGENCY else self.enterprise

    @property
    def org_name(self) -> str:
        org = self.org
        if org is not None:
            return org.name
        if self.role == Role.DEPARTMENT and self.department:  # staff belong to no organisation
            return self.department
        return _l("Supervising authority") if self.role == Role.ADMIN else ROLE_LABELS[self.role]

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class Enterprise(TimestampMixin, db.Model):
    """项目业主: the organisation behind an enterprise account."""

    __tablename__ = "enterprise"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    region_code: Mapped[str | None] = mapped_column(String(6))

    user: Mapped[User] = relationship(back_populates="enterprise")

    @property
    def region(self) -> str | None:
        """The region's name (derived from the code since 0012)."""
        return regions.name(self.region_code)


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """One browser log-in. The cookie carries a random id; only its SHA-256 is stored, as the key.

    Every request looks its row up by that key: logging out (here or everywhere) ends the row, and with it
    every copy of the cookie.
    """

    __tablename__ = "user_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class LoginThrottle(db.Model):
    """Failed log-ins counted per e-mail address (by its SHA-256, whether or not such an account exists)."""

    __tablename__ = "login_throttle"

    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
