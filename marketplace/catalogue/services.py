"""Reading the service catalogue; a department editing its trade's items, each change a new version."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace import events
from marketplace.audit.services import record, snapshot
from marketplace.auth.models import Role, User
from marketplace.auth.policy import acts_in
from marketplace.auth.services import require_user
from marketplace.catalogue.models import (
    VERSIONED,
    Category,
    FeeRegime,
    ItemRequirement,
    QualificationKind,
    QualificationLevel,
    ServiceItem,
    ServiceItemVersion,
)
from marketplace.common.clock import now
from marketplace.common.errors import Invalid, NotAllowed, NotFound, invalid_fields
from marketplace.common.money import MAX_FEN
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


# --- versions: a department edits its trade's items ---------------------------------------------------------


def versions(item_id: int) -> list[ServiceItemVersion]:
    """An item's versions, the newest first (404 for an unknown item)."""
    get_item(item_id)
    stmt = (
        select(ServiceItemVersion)
        .where(ServiceItemVersion.service_item_id == item_id)
        .options(selectinload(ServiceItemVersion.author))
        .order_by(ServiceItemVersion.version.desc())
    )
    return list(db.session.scalars(stmt))


def current_version(item_id: int) -> ServiceItemVersion | None:
    """The version in force: the one a request posted now keeps."""
    return db.session.scalar(
        select(ServiceItemVersion)
        .where(ServiceItemVersion.service_item_id == item_id)
        .order_by(ServiceItemVersion.version.desc())
        .limit(1)
    )


def may_edit(actor: User | None, item: ServiceItem) -> bool:
    """The department of the item's trade (and the administrator)."""
    return acts_in(actor, Role.DEPARTMENT, None, item.department or "")


def staff_items(actor: User | None) -> list[ServiceItem]:
    """The catalogue desk: a department sees its trade's items; the supervisor and the administrator all
    (read-only for the supervisor)."""
    actor = require_user(actor)
    stmt = select(ServiceItem).options(selectinload(ServiceItem.category))
    if actor.role == Role.DEPARTMENT:
        stmt = stmt.where(ServiceItem.department == actor.department)
    elif not (actor.holds(Role.SUPERVISOR) or actor.holds(Role.DEPARTMENT)):
        raise NotAllowed(_l("Your account is not allowed to do this."))
    return list(db.session.scalars(stmt.order_by(ServiceItem.category_id, ServiceItem.sort_order)))


def _text(data: dict, name: str, limit: int, errors: dict, required: bool = False) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        errors[name] = [_l("Not a valid text.")]
        return None
    value = (value or "").strip()
    if required and not value:
        errors[name] = [_l("This field is required.")]
    elif len(value) > limit:
        errors[name] = [_l("At most %(n)d characters.", n=limit)]
    return value or None


def _whole(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def clean_item(data: dict[str, Any]) -> dict[str, Any]:
    """The versioned fields of an item, checked together (a guided price needs a range, min ≤ max)."""
    errors: dict[str, list] = {}
    clean: dict[str, Any] = {
        "legal_basis": _text(data, "legal_basis", 2000, errors, required=True),
        "approval": _text(data, "approval", 200, errors),
        "fee_basis": _text(data, "fee_basis", 200, errors),
        "qualification": _text(data, "qualification", 100, errors),
        "model_contract": _text(data, "model_contract", 20000, errors),
    }
    regime = data.get("fee_regime")
    if regime not in set(FeeRegime):
        errors["fee_regime"] = [_l("Not one of the allowed values.")]
    clean["fee_regime"] = FeeRegime(regime) if regime in set(FeeRegime) else None
    days = _whole(data.get("standard_days"), 1, 3650)
    if days is None:
        errors["standard_days"] = [_l("A whole number of days from 1 to 3650.")]
    clean["standard_days"] = days
    low, high = data.get("guide_min_fen"), data.get("guide_max_fen")
    if clean["fee_regime"] == FeeRegime.GUIDED:
        for name, value in (("guide_min_fen", low), ("guide_max_fen", high)):
            if _whole(value, 0, MAX_FEN) is None:
                errors[name] = [_l("A government guide price needs its range (an amount from 0).")]
        if "guide_min_fen" not in errors and "guide_max_fen" not in errors and low > high:
            errors["guide_max_fen"] = [_l("The upper end of the range must not be below the lower end.")]
        clean["guide_min_fen"], clean["guide_max_fen"] = low, high
    else:  # a market price has no guide range
        clean["guide_min_fen"] = clean["guide_max_fen"] = None
    if errors:
        raise invalid_fields(errors)
    return clean


def _same(new: Any, old: Any) -> bool:
    """Unchanged, reading texts as the form cleans them (surrounding blanks are not a change)."""
    if isinstance(old, str):
        old = old.strip() or None
    return new == old


def edit_item(actor: User | None, item_id: int, data: dict[str, Any]) -> ServiceItemVersion:
    """The department of the item's trade changes its rules: a new version (with who, when and a note) and the
    item updated. Requests already posted keep the version they used. `data` may name only what changes."""
    actor = require_user(actor)
    item = db.session.scalar(select(ServiceItem).where(ServiceItem.id == item_id).with_for_update())
    if item is None:
        raise NotFound(_l("No such service item."))
    if not may_edit(actor, item):
        raise NotAllowed(_l("Only the department of this item's trade may change it."))
    merged = {f: getattr(item, f) for f in VERSIONED}
    merged["fee_regime"] = item.fee_regime.value
    merged.update({k: v for k, v in data.items() if k in VERSIONED})
    errors: dict[str, list] = {}
    note = _text(data, "note", 500, errors, required=True)
    try:
        clean = clean_item(merged)
    except Invalid as exc:
        errors = {**exc.errors, **errors}
    if errors:
        raise invalid_fields(errors)
    if all(_same(clean[f], getattr(item, f)) for f in VERSIONED):
        message = _l("Nothing changed: edit at least one field.")
        raise Invalid(message, {"note": [message]})
    before = snapshot(item, VERSIONED)
    for name, value in clean.items():
        setattr(item, name, value)
    latest = current_version(item.id)
    version = ServiceItemVersion(
        service_item_id=item.id,
        version=(latest.version if latest else 0) + 1,
        author_id=actor.id,
        created_at=now(),
        note=note,
        **clean,
    )
    db.session.add(version)
    db.session.flush()
    record(actor, "service_item.edit", item, before=before, after={**snapshot(item, VERSIONED), "note": note})
    events.service_item_edited.send(item, before=before, actor=actor)
    return version


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
