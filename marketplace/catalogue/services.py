"""Reading the service catalogue."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

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
