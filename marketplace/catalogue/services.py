"""Reading the service catalogue."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace.agencies.models import Agency, AgencyStatus, Offer, agency_category
from marketplace.catalogue.models import Category, ServiceItem
from marketplace.common.errors import NotFound
from marketplace.extensions import db


def categories_with_items() -> list[Category]:
    stmt = select(Category).options(selectinload(Category.items)).order_by(Category.sort_order, Category.id)
    return list(db.session.scalars(stmt))


def categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.sort_order, Category.id)))


def service_items(category_id: int | None = None) -> list[ServiceItem]:
    stmt = select(ServiceItem).order_by(ServiceItem.category_id, ServiceItem.sort_order, ServiceItem.id)
    if category_id:
        stmt = stmt.where(ServiceItem.category_id == category_id)
    return list(db.session.scalars(stmt))


def get_item(item_id: int) -> ServiceItem:
    item = db.session.get(ServiceItem, item_id)
    if item is None:
        raise NotFound(_l("No such service item."))
    return item


def get_category(category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound(_l("No such category."))
    return category


def member_counts() -> dict[int, int]:
    """Active member agencies per category."""
    stmt = (
        select(agency_category.c.category_id, func.count())
        .join(Agency, Agency.id == agency_category.c.agency_id)
        .where(Agency.status == AgencyStatus.ACTIVE)
        .group_by(agency_category.c.category_id)
    )
    return {cid: n for cid, n in db.session.execute(stmt)}


def offers_for_item(item_id: int) -> list[Offer]:
    stmt = (
        select(Offer)
        .join(Agency)
        .where(Offer.service_item_id == item_id, Offer.active.is_(True), Agency.status == AgencyStatus.ACTIVE)
        .options(selectinload(Offer.agency))
        .order_by(Offer.promised_days, Offer.id)
    )
    return list(db.session.scalars(stmt))
