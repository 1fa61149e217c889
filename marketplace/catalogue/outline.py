"""The catalogue's outline — categories and their items by name — for the menus, filters and the front page.

Every public page with a category or item filter showed it by loading the whole catalogue as ORM objects (three
queries, a hundred rows mapped with all their columns: ~15 ms of a page at any market size). The outline is a
per-process copy (common/cache.py `TableCopy`): reloaded after any committed write to the catalogue's tables,
never older than the page cache may serve a page. Plain frozen rows, so that nothing of one request's session
leaks into another's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from marketplace.catalogue.models import Category, ServiceItem
from marketplace.common.cache import TableCopy
from marketplace.extensions import db


@dataclass(frozen=True, slots=True)
class OutlineItem:
    id: int
    category_id: int
    code: str
    name: str
    name_en: str | None


@dataclass(frozen=True, slots=True)
class OutlineCategory:
    id: int
    code: str
    name: str
    name_en: str | None
    items: tuple[OutlineItem, ...]

    def __getitem__(self, key: str):  # templates write c['items'] (c.items is a dict's method on a dict)
        return getattr(self, key)


def _load() -> tuple[OutlineCategory, ...]:
    items: dict[int, list[OutlineItem]] = {}
    for row in db.session.execute(
        select(
            ServiceItem.id, ServiceItem.category_id, ServiceItem.code, ServiceItem.name, ServiceItem.name_en
        ).order_by(ServiceItem.sort_order, ServiceItem.id)  # Category.items' order
    ):
        items.setdefault(row.category_id, []).append(OutlineItem(*row))
    return tuple(
        OutlineCategory(row.id, row.code, row.name, row.name_en, tuple(items.get(row.id, ())))
        for row in db.session.execute(
            select(Category.id, Category.code, Category.name, Category.name_en).order_by(
                Category.sort_order, Category.id
            )
        )
    )


_COPY = TableCopy("catalogue-outline", {"category", "service_item"}, _load)


def outline() -> tuple[OutlineCategory, ...]:
    """The categories in catalogue order, each with its items (ids, codes and names only)."""
    return _COPY.get()


def items_of(category_id: int | None) -> tuple[OutlineItem, ...]:
    """One category's items (none for an unknown or no category)."""
    for category in outline():
        if category.id == category_id:
            return category.items
    return ()
