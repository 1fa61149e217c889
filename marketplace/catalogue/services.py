"""Reading the service catalogue."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.catalogue.models import (
    Category,
    ItemRequirement,
    QualificationKind,
    QualificationLevel,
    ServiceItem,
)
from marketplace.common.errors import NotFound, invalid_fields
from marketplace.extensions import db


def categories_with_items() -> list[Category]:
    stmt = (
        select(Category)
        .options(selectinload(Category.items).selectinload(ServiceItem.requirements))
        .order_by(Category.sort_order, Category.id)
    )
    return list(db.session.scalars(stmt))


def categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.sort_order, Category.id)))


def service_items(category_id: int | None = None) -> list[ServiceItem]:
    stmt = (
        select(ServiceItem)
        .options(selectinload(ServiceItem.requirements).joinedload(ItemRequirement.kind))
        .order_by(ServiceItem.category_id, ServiceItem.sort_order, ServiceItem.id)
    )
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


def qualification_kinds() -> list[QualificationKind]:
    """The register of qualification kinds, in the register's order."""
    stmt = select(QualificationKind).options(selectinload(QualificationKind.category))
    return list(db.session.scalars(stmt.order_by(QualificationKind.sort_order, QualificationKind.id)))


def kinds_by_trade() -> list[tuple[str, list[QualificationKind]]]:
    """The register grouped by trade (its category's name; kinds used across trades last), for select lists."""
    groups: dict[str, list[QualificationKind]] = {}
    for kind in sorted(
        qualification_kinds(),
        key=lambda k: (k.category is None, k.category.sort_order if k.category else 0, k.sort_order),
    ):
        groups.setdefault(kind.category.name if kind.category else "", []).append(kind)
    return list(groups.items())


def replace_requirements(
    item: ServiceItem, needs: list[tuple[str, str]], none_required: bool = False
) -> ServiceItem:
    """Set what an item requires: (kind code, minimum grade) pairs, or that the rules require none.

    For the department's item edits: the caller authorizes (and versions) the change; this checks it against the
    register and flushes."""
    errors: dict[str, list] = {}
    if none_required and needs:
        errors["requirements"] = [_l("An item either requires qualifications or says none are required.")]
    kinds = {k.code: k for k in qualification_kinds()}
    made: dict[int, tuple[QualificationKind, QualificationLevel]] = {}
    for i, (code, level) in enumerate(needs):
        kind = kinds.get(code)
        if kind is None:
            errors.setdefault(f"requirements.{i}.kind_code", []).append(
                _l("Choose a qualification kind from the register.")
            )
        elif level not in kind.levels:
            errors.setdefault(f"requirements.{i}.min_level", []).append(
                _l("%(kind)s is issued as: %(levels)s.", kind=kind.name, levels="、".join(kind.levels))
            )
        else:
            made[kind.id] = (kind, QualificationLevel(level))
    if len({code for code, _ in needs}) != len(needs):
        errors.setdefault("requirements", []).append(_l("Each kind may be required once."))
    if errors:
        raise invalid_fields(errors)
    for old in list(item.requirements):  # kept rows change in place (their key is the item and the kind)
        if old.kind_id in made:
            old.min_level = made.pop(old.kind_id)[1]
        else:
            item.requirements.remove(old)
    for kind, level in made.values():
        item.requirements.append(ItemRequirement(kind=kind, min_level=level))
    item.requires_no_qualification = none_required
    db.session.flush()
    return item
