"""Imports every model so that Alembic and `db.metadata` see the whole schema."""

from marketplace.agencies.models import Agency, Offer, Qualification, agency_category  # noqa: F401
from marketplace.audit.models import AuditEntry  # noqa: F401
from marketplace.auth.models import ApiToken, Enterprise, User  # noqa: F401
from marketplace.catalogue.models import Category, ServiceItem  # noqa: F401
