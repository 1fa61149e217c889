"""Sessions the search uses for its own reads and writes: never the caller's, always on the caller's database."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from marketplace.extensions import db

# Set while the search works in a session of its own: its commits must not start another drain.
draining: contextvars.ContextVar[bool] = contextvars.ContextVar("search_draining", default=False)


def is_external_transaction(bind) -> bool:
    """True when the session joined a transaction it does not own (tests): its 'commit' commits nothing."""
    return isinstance(bind, Connection) and bind.in_transaction()


@contextlib.contextmanager
def work_session(bind=None) -> Iterator[Session]:
    """A session of its own (never the caller's), on the caller's database."""
    bind = bind if bind is not None else db.session.get_bind()
    if isinstance(bind, Connection):
        session = Session(bind=bind, join_transaction_mode="create_savepoint")
    else:
        session = Session(bind=bind)
    # The index's own bookkeeping (its queue of pending documents), not the market's state: allowed even while
    # answering a read (common/uow.py's guard skips sessions marked so).
    session.info["uow_exempt"] = True
    token = draining.set(True)
    try:
        yield session
    finally:
        draining.reset(token)
        session.close()
