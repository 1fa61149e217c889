"""Agencies as the market reads them: an account's own agency, stores, the public list, the review desk's lists,
the members of a category and the offers for a service item.

Changing an agency lives beside this module: membership.py (profile, qualifications, applying, the
administrators' decisions), offers.py (the store's offers); validation.py checks what an agency enters."""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import String, and_, cast, func, or_, select, true, tuple_
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.agencies.models import (
    Agency,
    AgencyServiceArea,
    AgencyStatus,
    Offer,
    Qualification,
    QualificationLevel,
    agency_category,
)
from marketplace.auth.models import Role, User
from marketplace.auth.policy import SeesAgencyPrivate, located, reads_in, scope_condition
from marketplace.auth.services import require_reading, require_role
from marketplace.catalogue.models import Category, ServiceItem
from marketplace.common.clock import now
from marketplace.common.errors import NotFound
from marketplace.common.sql import contains
from marketplace.extensions import db
from marketplace.regions import services as regions
from marketplace.stats import figures, listing, summary
from marketplace.stats.figures import NO_DATA_COMPOSITE, PRIOR_MEAN
from marketplace.stats.models import AgencyStats

UPLOAD_KIND = "qualifications"
LEVEL_ORDER = [
    QualificationLevel.A.value,
    QualificationLevel.B.value,
    QualificationLevel.C.value,
    QualificationLevel.NONE.value,
]


# --- reading ---------------------------------------------------------------------------------------


def my_agency(actor: User | None) -> Agency:
    actor = require_role(actor, Role.AGENCY)
    if actor.agency is None:
        raise NotFound(_l("No agency belongs to this account."))
    return actor.agency


def get_agency(agency_id: int) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(_l("No such agency."))
    return agency


def agency_for_review(actor: User | None, agency_id: int) -> Agency:
    """The review page: operators in the agency's registered area, and the supervisor there (read-only)."""
    agency = get_agency(agency_id)
    require_reading(actor, Role.OPERATOR, located(agency.region_code))
    return agency


def in_review_scope(actor: User | None):
    """The agencies whose membership `actor` may review (or, as supervisor, read): by registered region."""
    return scope_condition(actor, Role.OPERATOR, Agency.region_code, read=True)


def can_see_private(actor: User | None, agency: Agency) -> bool:
    """The agency itself and administrators see everything; others only an active member's public store."""
    return SeesAgencyPrivate(actor, agency)


def get_store(agency_id: int, actor: User | None = None) -> Agency:
    """An agency's store as the public (or the owner/admin) may see it; 404 for hidden ones."""
    agency = db.session.get(Agency, agency_id)
    if agency is None or (agency.status != AgencyStatus.ACTIVE and not can_see_private(actor, agency)):
        raise NotFound(_l("No such agency."))
    return agency


@dataclass(frozen=True)
class ListFilter:
    """What the intermediary-services list is narrowed to and sorted by (the page, the API, the reference)."""

    category_id: int | None = None
    region: str | None = None
    q: str | None = None
    service_item_id: int | None = None
    sort: str = "composite"
    level: str | None = None
    price_min_fen: int | None = None
    price_max_fen: int | None = None

    @property
    def band(self) -> bool:
        return self.price_min_fen is not None or self.price_max_fen is not None


def public_agencies_query(flt: ListFilter):
    """The intermediary-services list: active members, filtered and sorted, read from the agencies, offers,
    statistics and credit directly (the reference `listing_page` is checked against, and the front page's
    fallback).

    composite (default: the best credit grade first, then the composite figure), sales and rating sort by the
    running statistics (stats/figures.py explains the formulas); price and speed by the agency's best offer
    (within the service item when one is chosen). A price band keeps agencies with an offer whose lowest price
    lies inside it; a level keeps agencies holding a valid qualification of that level or higher.
    """
    category_id, region, q, service_item_id = flt.category_id, flt.region, flt.q, flt.service_item_id
    sort, level, price_min_fen, price_max_fen = flt.sort, flt.level, flt.price_min_fen, flt.price_max_fen
    stmt = (
        select(Agency)
        .where(Agency.status == AgencyStatus.ACTIVE)
        # the cards show categories and offers (a discount offer's price needs its item's guide price)
        .options(
            selectinload(Agency.categories),
            selectinload(Agency.service_areas),
            selectinload(Agency.offers).joinedload(Offer.service_item),
        )
    )
    if category_id:  # an IN over the category index: far cheaper than a correlated EXISTS per agency
        members = select(agency_category.c.agency_id).where(agency_category.c.category_id == category_id)
        stmt = stmt.where(Agency.id.in_(members))
    code = regions.resolve(region) if region else None
    if code:  # agencies serving it: a service area inside it, or above it (any level)
        serving = select(AgencyServiceArea.agency_id).where(
            regions.overlapping(AgencyServiceArea.region_code, code)
        )
        stmt = stmt.where(Agency.id.in_(serving))
    if q:
        offered = (
            select(Offer.id)
            .join(ServiceItem)
            .where(
                Offer.agency_id == Agency.id,
                Offer.active.is_(True),
                or_(contains(ServiceItem.name, q), contains(cast(ServiceItem.aliases, String), q)),
            )
        )
        stmt = stmt.where(
            or_(
                contains(Agency.name, q),
                contains(Agency.intro, q),
                Agency.categories.any(contains(Category.name, q)),
                offered.exists(),
            )
        )
    if level in LEVEL_ORDER:
        allowed = LEVEL_ORDER[: LEVEL_ORDER.index(level) + 1]
        stmt = stmt.where(
            Agency.qualifications.any(
                and_(Qualification.level.in_(allowed), Qualification.valid_until >= now().date())
            )
        )
    offer_filter = [Offer.active.is_(True)]
    if service_item_id:
        offer_filter.append(Offer.service_item_id == service_item_id)
    low = func.coalesce(Offer.price_fen, Offer.price_min_fen)
    if price_min_fen is not None:
        offer_filter.append(low >= price_min_fen)
    if price_max_fen is not None:
        offer_filter.append(low <= price_max_fen)
    if len(offer_filter) > 1:
        stmt = stmt.where(Agency.offers.any(and_(*offer_filter)))
    if sort in ("price", "speed"):
        column = low if sort == "price" else Offer.promised_days
        best = (
            select(Offer.agency_id, func.min(column).label("best"))
            .where(*offer_filter)
            .group_by(Offer.agency_id)
            .subquery()
        )
        stmt = stmt.outerjoin(best, best.c.agency_id == Agency.id).order_by(
            best.c.best.asc().nulls_last(), Agency.id
        )
        return stmt
    stmt = stmt.outerjoin(AgencyStats, AgencyStats.agency_id == Agency.id)
    key = {
        "sales": func.coalesce(AgencyStats.completed_orders, 0),
        "rating": func.coalesce(AgencyStats.rating_rank, PRIOR_MEAN),
    }.get(sort, func.coalesce(AgencyStats.composite, NO_DATA_COMPOSITE))
    if sort not in ("sales", "rating") and figures.CREDIT is not None:  # the default: top credit grade first
        stmt, grade_rank = figures.CREDIT.grade_order(stmt, Agency.id)
        return stmt.order_by(grade_rank.asc(), key.desc(), Agency.id)
    return stmt.order_by(key.desc(), Agency.id)


def recommended_agency_ids_query(min_ratings: int):
    """The front page's 推荐机构 (their ids; agencies/cards.py reads their cards): active members with at least
    `min_ratings` ratings (a thin record never leads), best composite first — its rating, on-time and savings
    parts are Bayesian averages shrunk toward neutral values (stats/figures.py), so a handful of orders counts
    for little."""
    return (
        select(Agency.id)
        .join(AgencyStats, AgencyStats.agency_id == Agency.id)
        .where(Agency.status == AgencyStatus.ACTIVE, AgencyStats.ratings_count >= max(1, min_ratings))
        .order_by(AgencyStats.composite.desc(), AgencyStats.rating_rank.desc(), Agency.id)
    )


def applications_query(actor: User | None, status: AgencyStatus | None = AgencyStatus.PENDING):
    """Agencies for the review desk (operators, the supervisor read-only), inside the account's area, oldest
    application first."""
    require_reading(actor, Role.OPERATOR)
    stmt = (
        select(Agency)
        .options(selectinload(Agency.categories), selectinload(Agency.qualifications))
        .where(in_review_scope(actor))
    )
    if status is not None:
        stmt = stmt.where(Agency.status == status)
    return stmt.order_by(Agency.submitted_at.asc().nulls_last(), Agency.id)


def count_by_status(actor: User | None) -> dict[AgencyStatus, int]:
    require_reading(actor, Role.OPERATOR)
    rows = db.session.execute(
        select(Agency.status, func.count()).where(in_review_scope(actor)).group_by(Agency.status)
    )
    return {status: n for status, n in rows}


def qualification_for_download(actor: User | None, qualification_id: int) -> Qualification:
    """Scans are private: only their agency, administrators and the staff who review the agency's membership
    (the operators of its area, the supervisors reading their desk) may fetch them (404 for everyone else)."""
    qual = db.session.get(Qualification, qualification_id)
    if (
        qual is None
        or qual.file_key is None
        or not (
            can_see_private(actor, qual.agency)
            or reads_in(actor, Role.OPERATOR, located(qual.agency.region_code))
        )
    ):
        raise NotFound(_l("No such file."))
    return qual


def admitted_query(days: int = 30):
    """入驻公示: the members admitted in the last `days` days that are still active, newest first (a query to
    paginate: read along ix_agency_status_approved)."""
    since = now() - timedelta(days=days)
    return (
        select(Agency)
        .where(Agency.status == AgencyStatus.ACTIVE, Agency.approved_at >= since)
        .options(selectinload(Agency.categories))
        .order_by(Agency.approved_at.desc(), Agency.id.desc())
    )


# --- the catalogue's view of the members -------------------------------------------------------------


def member_counts() -> dict[int, int]:
    """Active member agencies per category: the kept counts (stats/summary.py `market_count`), not a count."""
    return summary.category_member_counts()


def offers_for_item(item_id: int, limit: int | None = None) -> list[Offer]:
    """Active members' offers of one item, fastest first (the first `limit`: read along an index, not sorted)."""
    stmt = (
        select(Offer)
        .join(Agency)
        .where(Offer.service_item_id == item_id, Offer.active.is_(True), Agency.status == AgencyStatus.ACTIVE)
        .options(selectinload(Offer.agency).selectinload(Agency.qualifications))  # the page checks them
        .order_by(Offer.promised_days, Offer.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


# --- the list from its kept rows (stats/listing.py) ---------------------------------------------------------------

LIST_COUNT_CAP = 200  # with a filter that has no kept count, counting stops here ("more than 200")


class ListingPage(Pagination):
    """One page of the list: flask-sqlalchemy's pager (page numbers for the templates) plus `next_cursor` (the
    keyset of the page's last row, to seek the next page without OFFSET) and `total_exact` (False when the total
    was counted only up to LIST_COUNT_CAP)."""

    def _query_items(self) -> list:
        return self._query_args["items"]

    def _query_count(self) -> int:
        return self._query_args["total"]

    def __init__(self, *, items, total, page, per_page, more: bool, cursor: str | None, exact: bool) -> None:
        super().__init__(
            page=page, per_page=per_page, max_per_page=None, error_out=False, items=items, total=total
        )
        self.more, self.next_cursor, self.total_exact = more, cursor, exact

    @property
    def has_next(self) -> bool:
        return self.more

    @property
    def pages(self) -> int:
        if self.total_exact:
            return super().pages
        return max(super().pages, self.page + 1 if self.more else self.page)  # counted only so far


def encode_cursor(sort: str, keys: tuple) -> str:
    raw = json.dumps([sort, *keys], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: str, cursor: str) -> tuple | None:
    """The keyset a cursor carries (or ("page", n) for a list read by page), or None when it is not one of ours
    for this sort."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    if not isinstance(raw, list) or len(raw) < 2 or raw[0] != sort:
        return None
    if len(raw) == 3 and raw[1] == "page":
        return (
            ("page", raw[2])
            if isinstance(raw[2], int) and not isinstance(raw[2], bool) and raw[2] > 1
            else None
        )
    keys = raw[1:]
    if len(keys) != len(listing.SORT_KEYS[sort]) + 1 or not isinstance(keys[-1], int):
        return None
    if not all(isinstance(k, int | float) and not isinstance(k, bool) and math.isfinite(k) for k in keys):
        return None
    if not all(abs(k) <= 2**63 - 1 for k in keys):
        return None
    return tuple(keys)


def listing_page(
    flt: ListFilter, *, page: int = 1, per_page: int = 20, after: tuple | None = None, load=None
) -> ListingPage:
    """The intermediary-services list, as `public_agencies_query` orders and filters it, read from the kept rows:
    the scope (all, a category, an item, an item among its category's members) picks the rows, the sort its
    covering index; the other filters are checked row by row along the index. `after` (a decoded cursor) seeks
    past a row instead of skipping `page − 1` pages. A price band with the price or speed sort ranks by the
    band's offers only, which the kept keys do not hold: that combination walks the offers in the band along
    their price (or promised-days) index instead (`_band_walk`). `load(ids)` gives the rows' objects by id
    (default: the agencies with their categories, areas and offers; the HTML page: agencies/cards.py)."""
    load = load or _cards_by_id
    sort = flt.sort if flt.sort in listing.SORT_KEYS else "composite"
    category_id, region, q, service_item_id = flt.category_id, flt.region, flt.q, flt.service_item_id
    level, price_min_fen = flt.level, flt.price_min_fen
    if after is not None and after[0] == "page":  # a cursor of the offers' walk below: a page number
        page, after = after[1], None
    band = flt.band
    L = listing.AgencyListing
    checks = []
    if service_item_id:
        item = db.session.get(ServiceItem, service_item_id)
        if item is not None and category_id == item.category_id:
            kind, ref = listing.ITEM_IN_CATEGORY, service_item_id
        else:
            kind, ref = listing.ITEM, service_item_id
            if category_id:
                checks.append(
                    select(agency_category.c.agency_id)
                    .where(
                        agency_category.c.agency_id == L.agency_id,
                        agency_category.c.category_id == category_id,
                    )
                    .exists()
                )
    elif category_id:
        kind, ref = listing.CATEGORY, category_id
    else:
        kind, ref = listing.ALL, 0
    code = regions.resolve(region) if region else None
    if code:
        checks.append(
            select(AgencyServiceArea.agency_id)
            .where(
                AgencyServiceArea.agency_id == L.agency_id,
                regions.overlapping(AgencyServiceArea.region_code, code),
            )
            .exists()
        )
    if q:  # the kept words (name, intro, categories, offered items): their two-character pieces' index first
        checks.append(listing.matching(q, db.session.get_bind().dialect.name, L.agency_id))
    if level in LEVEL_ORDER:
        allowed = LEVEL_ORDER[: LEVEL_ORDER.index(level) + 1]
        checks.append(
            select(Qualification.id)
            .where(
                Qualification.agency_id == L.agency_id,
                Qualification.level.in_(allowed),
                Qualification.valid_until >= now().date(),
            )
            .exists()
        )
    if band and (sort == "speed" or (sort == "price" and price_min_fen is not None)):
        return _band_walk(flt, sort, kind, ref, checks, max(1, page), per_page, load)
    if band:  # other sorts keep their keys; a band with no floor keeps the price sort's (the scope's lowest)
        checks.append(_in_band(flt, L.agency_id))
    keys = [getattr(L, name) for name in listing.SORT_KEYS[sort]] + [L.agency_id]
    scoped = select(*keys).where(L.kind == kind, L.ref == ref, *checks)
    if checks:
        capped = db.session.scalar(
            select(func.count()).select_from(scoped.limit(LIST_COUNT_CAP + 1).subquery())
        )
        total, exact = min(capped, LIST_COUNT_CAP), capped <= LIST_COUNT_CAP
    else:
        total = (
            db.session.scalar(
                select(listing.AgencyListingCount.agencies).where(
                    listing.AgencyListingCount.kind == kind, listing.AgencyListingCount.ref == ref
                )
            )
            or 0
        )
        exact = True
    page = max(1, page)
    start = (page - 1) * per_page
    if after is not None:
        rows = db.session.execute(
            scoped.where(tuple_(*keys) > tuple_(*after)).order_by(*keys).limit(per_page + 1)
        ).all()
        more = len(rows) > per_page
    elif exact and not checks and total // 2 < start < total:
        # the far end of a long list: read it backwards from the last row (a short skip, not a long one)
        size = max(0, min(per_page, total - start))
        backwards = scoped.order_by(*(k.desc() for k in keys))
        rows = db.session.execute(backwards.offset(total - start - size).limit(size)).all()[::-1]
        more = start + size < total
    else:
        rows = db.session.execute(scoped.order_by(*keys).offset(start).limit(per_page + 1)).all()
        more = len(rows) > per_page
    rows = rows[:per_page]
    ids = [r[-1] for r in rows]
    found = load(ids)
    items = [found[i] for i in ids if i in found]
    cursor = encode_cursor(sort, tuple(rows[-1])) if more and rows else None
    if after is not None and not exact:
        total = max(total, (page - 1) * per_page + len(items))
    return ListingPage(
        items=items, total=total, page=page, per_page=per_page, more=more, cursor=cursor, exact=exact
    )


def _band_offers(flt: ListFilter, low=None) -> list:
    """The offers a price band looks at: active, of the chosen item if any, lowest price (`low`) inside it."""
    low = func.coalesce(Offer.price_fen, Offer.price_min_fen) if low is None else low
    out = [Offer.active == true()]  # `= true`, not `IS true`: PostgreSQL walks (active, …) indexes only so
    if flt.service_item_id:
        out.append(Offer.service_item_id == flt.service_item_id)
    if flt.price_min_fen is not None:
        out.append(low >= flt.price_min_fen)
    if flt.price_max_fen is not None:
        out.append(low <= flt.price_max_fen)
    return out


FEW_OFFERS = 4000  # SQLite: a band holding at most this many offers lists their agencies (see `_in_band`)


def _in_band(flt: ListFilter, agency_id):
    """A condition on `agency_id`: the agency has an offer in the band. Asked per listed row along
    ix_offer_agency_low — but on SQLite (no statistics, so no choice of its own) a band of few offers, found by one
    short probe along ix_offer_low / ix_offer_item_low, is read once as the list of its agencies instead (each
    listed row then costs a lookup in that list, not an index descent into the offers)."""
    offers = _band_offers(flt)
    if db.session.get_bind().dialect.name == "sqlite":
        probe = select(Offer.id).where(*offers).limit(1).offset(FEW_OFFERS)
        if db.session.execute(probe).first() is None:
            return agency_id.in_(select(Offer.agency_id).where(*offers))
    return select(Offer.id).where(Offer.agency_id == agency_id, *offers).exists()


def _band_walk(
    flt: ListFilter, sort: str, kind: int, ref: int, checks: list, page: int, per_page: int, load=None
):
    """A price band sorted by price or speed: each agency ranks by its best offer inside the band. The offers in
    the band are read in that order along an index of the offer (ix_offer_low, ix_offer_item_low, ix_offer_days,
    ix_offer_item_active_days), joined to the scope's kept rows (active members of it) and the other filters; an
    agency's first offer met is its best, so the walk stops once it has met the page's agencies and one more
    (at least LIST_COUNT_CAP + 1, to count the total as the other filtered lists do)."""
    L = listing.AgencyListing
    low = func.coalesce(Offer.price_fen, Offer.price_min_fen)
    if sort == "price":
        key, band = low, _band_offers(flt)
    else:  # `low + 0`: the band is checked on each offer met, so that the walk follows the days' index
        key, band = Offer.promised_days, _band_offers(flt, low + 0)
    stmt = (
        select(Offer.agency_id)
        .join(L, and_(L.agency_id == Offer.agency_id, L.kind == kind, L.ref == ref))
        .where(*band, *checks)
        .order_by(key, Offer.agency_id)
    )
    start = (page - 1) * per_page
    need = max(start + per_page + 1, LIST_COUNT_CAP + 1)
    limit = need * 4  # offers read: a LIMIT makes both databases walk the index in order
    while True:
        rows = db.session.scalars(stmt.limit(limit)).all()
        met = dict.fromkeys(rows)  # the agencies in the order met: each one's first offer is its best
        if len(met) >= need or len(rows) < limit:
            break
        limit *= 4
    order = list(met)
    exact = len(order) <= LIST_COUNT_CAP
    total = len(order) if exact else max(LIST_COUNT_CAP, min(len(order), start + per_page))
    ids = order[start : start + per_page]
    more = len(order) > start + per_page
    found = (load or _cards_by_id)(ids)
    return ListingPage(
        items=[found[i] for i in ids if i in found], total=total, page=page, per_page=per_page, more=more,
        cursor=encode_cursor(sort, ("page", page + 1)) if more else None, exact=exact,
    )  # fmt: skip


def _cards(ids: list[int]) -> list[Agency]:
    """The listed agencies with what their cards show — categories, service areas and offers (an item only for
    a discount offer: its price is a share of the item's guide price) — in a few queries into the identity map."""
    agencies = list(
        db.session.scalars(
            select(Agency)
            .where(Agency.id.in_(ids))
            .options(
                selectinload(Agency.categories),
                selectinload(Agency.service_areas),
                selectinload(Agency.offers),
            )
        )
    )
    discounted = [o for a in agencies for o in a.offers if o.discount_pct is not None]
    if discounted:  # set on the offers: the identity map holds them only weakly (a lazy load each otherwise)
        wanted = {o.service_item_id for o in discounted}
        items = {i.id: i for i in db.session.scalars(select(ServiceItem).where(ServiceItem.id.in_(wanted)))}
        for offer in discounted:
            set_committed_value(offer, "service_item", items.get(offer.service_item_id))
    return agencies


def _cards_by_id(ids: list[int]) -> dict[int, Agency]:
    return {a.id: a for a in _cards(ids)}
