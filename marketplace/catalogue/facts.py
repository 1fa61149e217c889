"""The catalogue's public facts — each category with its items' legal basis, approval, fee regime, guide range and
standard days — for the pages that list the whole catalogue (the catalogue's index, the fee page).

Those pages loaded every category and item as ORM objects on every request (three statements and a hundred rows
mapped with all their columns, model contracts included). The facts change only when a department edits an item,
so they are a per-process copy (common/cache.py `TableCopy`, like the outline in catalogue/outline.py): reloaded
after any committed write to `category` or `service_item`. Plain frozen rows: nothing of one request's session
leaks into another's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from marketplace.catalogue.models import Category, FeeRegime, ServiceItem
from marketplace.common.cache import TableCopy
from marketplace.extensions import db


@dataclass(frozen=True, slots=True)
class ItemFacts:
    id: int
    category_id: int
    code: str
    name: str
    name_en: str | None
    legal_basis: str | None
    approval: str | None
    department: str | None
    fee_regime: FeeRegime
    guide_min_fen: int | None
    guide_max_fen: int | None
    standard_days: int

    @property
    def is_guided(self) -> bool:
        return self.fee_regime == FeeRegime.GUIDED


@dataclass(frozen=True, slots=True)
class CategoryFacts:
    id: int
    code: str
    name: str
    name_en: str | None
    description: str | None
    items: tuple[ItemFacts, ...]

    def __getitem__(self, key: str):  # templates write c['items'] (as with catalogue/outline.py's rows)
        return getattr(self, key)


def _load() -> tuple[CategoryFacts, ...]:
    items: dict[int, list[ItemFacts]] = {}
    for row in db.session.execute(
        select(
            ServiceItem.id,
            ServiceItem.category_id,
            ServiceItem.code,
            ServiceItem.name,
            ServiceItem.name_en,
            ServiceItem.legal_basis,
            ServiceItem.approval,
            ServiceItem.department,
            ServiceItem.fee_regime,
            ServiceItem.guide_min_fen,
            ServiceItem.guide_max_fen,
            ServiceItem.standard_days,
        ).order_by(ServiceItem.sort_order, ServiceItem.id)  # Category.items' order
    ):
        items.setdefault(row.category_id, []).append(ItemFacts(*row))
    return tuple(
        CategoryFacts(row.id, row.code, row.name, row.name_en, row.description, tuple(items.get(row.id, ())))
        for row in db.session.execute(
            select(
                Category.id, Category.code, Category.name, Category.name_en, Category.description
            ).order_by(Category.sort_order, Category.id)
        )
    )


_COPY = TableCopy("catalogue-facts", {"category", "service_item"}, _load)


def categories() -> tuple[CategoryFacts, ...]:
    """The categories in catalogue order, each with its items in catalogue order."""
    return _COPY.get()
