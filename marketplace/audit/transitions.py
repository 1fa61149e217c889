"""Compare-and-set status changes: the one way a status moves, safe against concurrent actors."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from marketplace.audit.services import record
from marketplace.common.errors import WrongState
from marketplace.extensions import db


def move(
    obj: Any, transitions: dict, action: str, actor, *, audit_prefix: str, message=None, **values
) -> None:
    """Move `obj` by `action` if the transition table allows it from the status it has *in the database*.

    The UPDATE is conditional on the status we read, so of two concurrent actors exactly one succeeds; the
    other gets WrongState and its unit of work is rolled back.
    """
    allowed, target = transitions[action]
    current = obj.status
    if current not in allowed:
        raise WrongState(message or _l("This cannot be done in the current state."))
    model = type(obj)
    result = db.session.execute(
        update(model)
        .where(model.id == obj.id, model.status == current)
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # the boundary rolls back whatever this unit of work did before
        raise WrongState(_l("Someone else changed this at the same moment; please reload and try again."))
    before = {"status": current.value} | {k: getattr(obj, k) for k in values}
    db.session.refresh(obj)
    record(actor, f"{audit_prefix}.{action}", obj, before=before, after={"status": target.value} | values)
