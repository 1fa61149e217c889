"""Browser sessions kept on the server, so that logging out really ends them.

The signed session cookie carries a random session id (`SESSION_KEY`); the database keeps only its SHA-256
(`UserSession.id_hash`). Each request finds its row by that key with one primary-key lookup (the user comes in
the same query) and writes nothing: a row that is ended, or older than the cookie's own lifetime, logs nobody
in, whichever copy of the cookie presents it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import joinedload

from marketplace.auth.models import User, UserSession
from marketplace.common.clock import now
from marketplace.extensions import db

SESSION_KEY = "sid"


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def current_hash(session_id: str | None) -> str | None:
    return _hash(session_id) if session_id else None


def _max_age() -> timedelta:
    """As long as Flask accepts the signed cookie at all (PERMANENT_SESSION_LIFETIME, 31 days by default)."""
    return current_app.permanent_session_lifetime


def with_user_and_org(attribute):
    """Load a row's user, and the user's agency or enterprise, in the row's own statement."""
    return joinedload(attribute, innerjoin=True).options(joinedload(User.agency), joinedload(User.enterprise))


def start(user: User, ip: str | None, user_agent: str | None) -> str:
    """Record a new log-in and return the session id to put in the cookie."""
    session_id = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            id_hash=_hash(session_id),
            user_id=user.id,
            created_at=now(),
            ip=(ip or "")[:45] or None,
            user_agent=(user_agent or "")[:255] or None,
        )
    )
    return session_id


def user_for(user_id: str, session_id: str | None) -> User | None:
    """The user a request's cookie logs in, or None: one primary-key lookup, and no writes. The user's
    organisation comes in the same statement (every page's header names it)."""
    if not session_id or not user_id.isdigit():
        return None
    row = db.session.get(UserSession, _hash(session_id), options=[with_user_and_org(UserSession.user)])
    if row is None or row.ended_at is not None or row.user_id != int(user_id):
        return None
    if row.created_at <= now() - _max_age() or not row.user.active:
        return None
    return row.user


def end(session_id: str | None) -> None:
    """Log out one session: every copy of its cookie stops working."""
    if not session_id:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.id_hash == _hash(session_id), UserSession.ended_at.is_(None))
        .values(ended_at=now())
        .execution_options(synchronize_session=False)
    )


def end_all(user: User, keep: str | None = None) -> int:
    """End every session of the user but `keep` (a session id), if given; the caller commits."""
    stmt = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep:
        stmt = stmt.where(UserSession.id_hash != _hash(keep))
    result = db.session.execute(stmt.values(ended_at=now()).execution_options(synchronize_session=False))
    return result.rowcount or 0


def active(user: User) -> list[UserSession]:
    """The user's sessions that still log in, newest first."""
    stmt = (
        select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
            UserSession.created_at > now() - _max_age(),
        )
        .order_by(UserSession.created_at.desc())
    )
    return list(db.session.scalars(stmt))


def purge_stale() -> int:
    """Forget sessions that ended, or stopped counting, more than 30 days ago."""
    cutoff = now() - timedelta(days=30)
    result = db.session.execute(
        delete(UserSession).where(
            or_(UserSession.ended_at < cutoff, UserSession.created_at < cutoff - _max_age())
        )
    )
    return result.rowcount or 0


# --- what the account page shows of a session's User-Agent ------------------------------------------------

_BROWSERS = (  # order matters: Edge and WeChat also say Chrome/Safari, Chrome also says Safari
    ("MicroMessenger", _l("WeChat")),
    ("Edg", "Edge"),
    ("OPR", "Opera"),
    ("HeadlessChrome", "Headless Chrome"),
    ("Firefox", "Firefox"),
    ("Chrome", "Chrome"),
    ("Chromium", "Chromium"),
    ("Safari", "Safari"),
)
_SYSTEMS = (
    ("HarmonyOS", "HarmonyOS"),
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def describe_agent(user_agent: str | None) -> str:
    """'Chrome · Windows' for people; the raw string only when we recognise nothing in it."""
    agent = user_agent or ""
    browser = next((name for token, name in _BROWSERS if re.search(rf"\b{token}/", agent)), None)
    system = next((name for token, name in _SYSTEMS if token in agent), None)
    parts = [str(p) for p in (browser, system) if p]
    if parts:
        return " · ".join(parts)
    return agent[:60] or str(_l("Unknown browser"))
