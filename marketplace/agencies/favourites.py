"""收藏: an enterprise user keeps agencies it may invite to quote later; its desk lists them.

Favourites are personal bookmarks of one user (not of the enterprise's other accounts); adding or removing one
twice is the same as once, so a replayed request changes nothing.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from marketplace.agencies.models import Agency, AgencyStatus, Favourite
from marketplace.auth.models import Role, User
from marketplace.auth.services import require_role
from marketplace.common.errors import NotFound, WrongState
from marketplace.extensions import db

MAX_FAVOURITES = 200  # a desk list, not a database: keeps the desk and the API response small


def _may_keep(actor: User | None) -> bool:
    return bool(
        actor is not None and getattr(actor, "is_authenticated", False) and actor.role == Role.ENTERPRISE
    )


def _find(user_id: int, agency_id: int) -> Favourite | None:
    return db.session.scalar(
        select(Favourite).where(Favourite.user_id == user_id, Favourite.agency_id == agency_id)
    )


def add(actor: User | None, agency_id: int) -> Favourite:
    """Keep an active member's store; an existing favourite is returned as it is."""
    actor = require_role(actor, Role.ENTERPRISE)
    agency = db.session.get(Agency, agency_id)
    if agency is None or agency.status != AgencyStatus.ACTIVE:
        raise NotFound(_l("No such agency."))
    found = _find(actor.id, agency.id)
    if found is not None:
        return found
    if count(actor) >= MAX_FAVOURITES:
        raise WrongState(_l("You keep %(n)d favourites already; remove some first.", n=MAX_FAVOURITES))
    favourite = Favourite(user_id=actor.id, agency_id=agency.id)
    try:
        with db.session.begin_nested():  # a simultaneous add of the same pair: keep the other one
            db.session.add(favourite)
    except IntegrityError:
        return _find(actor.id, agency.id)
    return favourite


def remove(actor: User | None, agency_id: int) -> None:
    """Forget a favourite; forgetting one that is not kept changes nothing."""
    actor = require_role(actor, Role.ENTERPRISE)
    found = _find(actor.id, agency_id)
    if found is not None:
        db.session.delete(found)
        db.session.flush()


def count(actor: User) -> int:
    return len(ids_for(actor))


def ids_for(actor: User | None) -> set[int]:
    """The agencies `actor` keeps (empty for anyone but an enterprise user): for the 收藏 buttons."""
    if not _may_keep(actor):
        return set()
    return set(db.session.scalars(select(Favourite.agency_id).where(Favourite.user_id == actor.id)))


def list_for(actor: User | None) -> list[Favourite]:
    """The caller's favourites, newest first, with their agencies (suspended or expelled ones included, so that
    the desk says what became of them)."""
    actor = require_role(actor, Role.ENTERPRISE)
    stmt = (
        select(Favourite)
        .where(Favourite.user_id == actor.id)
        .options(selectinload(Favourite.agency))
        .order_by(Favourite.created_at.desc(), Favourite.id.desc())
    )
    return list(db.session.scalars(stmt))
