"""Imports every model so that Alembic and `db.metadata` see the whole schema."""

from marketplace.agencies.models import Agency, Favourite, Offer, Qualification, agency_category  # noqa: F401
from marketplace.agencies.roster import MembershipChange, Practitioner  # noqa: F401
from marketplace.audit.models import AuditEntry, AuditHead  # noqa: F401
from marketplace.auth.models import ApiToken, Enterprise, LoginThrottle, User, UserSession  # noqa: F401
from marketplace.catalogue.models import Category, ServiceItem  # noqa: F401
from marketplace.chronograph.models import ClockLease  # noqa: F401
from marketplace.complaints.models import Complaint, ComplaintFile  # noqa: F401
from marketplace.credit.models import AgencyCredit, CreditAppeal, CreditEvent, CreditListEntry, CreditRepair  # noqa: F401
from marketplace.fees.models import FeeFlag  # noqa: F401
from marketplace.inspections.models import InspectionFinding, InspectionTarget, InspectionTask, Inspector  # noqa: F401
from marketplace.notifications.models import DeliveryPreference, Notification, OutboxMessage, RequestWatch  # noqa: F401
from marketplace.orders.models import Order, OrderEvent  # noqa: F401
from marketplace.payments.models import Payment, StripeEvent  # noqa: F401
from marketplace.ratings.models import DepartmentRating, Rating  # noqa: F401
from marketplace.reports.models import MonthlyReport  # noqa: F401
from marketplace.requests.bids import Bid, BidRevision, bid_practitioner  # noqa: F401
from marketplace.requests.invitations import RequestInvitation  # noqa: F401
from marketplace.requests.models import Objection, RequestExclusion, ServiceRequest  # noqa: F401
from marketplace.search.models import SearchQueue  # noqa: F401
from marketplace.stats.fees import FeeItemSummary  # noqa: F401
from marketplace.stats.listing import AgencyListing, AgencyListingCount  # noqa: F401
from marketplace.stats.models import AgencyItemStats, AgencyStats  # noqa: F401
from marketplace.stats.open_months import OcdsMonth  # noqa: F401
from marketplace.stats.summary import MarketAgencyMonth, MarketCount, MarketMembers, MarketMonth  # noqa: F401
