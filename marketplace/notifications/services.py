"""Telling people: writing notifications (with their mails and SMS into the outbox), reading and marking them, the
users' delivery choices, and agencies' watches on open requests with the clock's closing reminder.

Everything here runs inside the caller's transaction and only inserts or updates rows: nothing is sent from here.
The outbox (outbox.py) is sent by the clock after the commit, so a mail server being down never blocks a request.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, String, Text, case, exists, func, insert, literal, select, update

from marketplace.audit.services import record
from marketplace.auth.models import Role, User
from marketplace.auth.services import require_role, require_user
from marketplace.common.clock import now
from marketplace.common.errors import NotFound, WrongState
from marketplace.common.messages import N_, Message, message, said
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db
from marketplace.notifications.kinds import BY_CODE, KINDS
from marketplace.notifications.models import (
    DeliveryPreference,
    Notification,
    OutboxMessage,
    OutboxStatus,
    RequestWatch,
)
from marketplace.requests.bids import Bid, BidStatus
from marketplace.requests.models import RequestStatus, ServiceRequest

PER_PAGE = 20


# --- writing -----------------------------------------------------------------------------------------------


def mail_on() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def sms_on() -> bool:
    return bool(current_app.config.get("SMS_SENDER"))


def notify(
    user_ids: Iterable[int | None], kind: str, text: Message, link: str | None = None, actor: Any = None
) -> int:
    """Tell these users (not the actor who caused it: people are not told what they did themselves). One bulk
    insert; mails and SMS for those who want this kind go into the outbox. Returns how many were told."""
    skip = getattr(actor, "id", None)
    ids = [i for i in dict.fromkeys(user_ids) if i is not None and i != skip]
    if not ids:
        return 0
    stored, at = text.encode(), now()
    db.session.execute(
        insert(Notification),
        [{"user_id": i, "kind": kind, "text": stored, "link": link, "created_at": at} for i in ids],
    )
    if mail_on() or sms_on():
        _enqueue(ids, kind, text, link)
    return len(ids)


def notify_selected(
    users: Select, kind: str, text: Message, link: str | None = None, actor: Any = None
) -> int:
    """`notify` for the users a query of user ids selects: one INSERT … SELECT in the database, so that telling
    the thousands of members of a category costs one statement, not their ids through Python and a row each.
    Returns how many were told."""
    skip = getattr(actor, "id", None)
    chosen = users.subquery()
    user_id = chosen.c[0]
    rows = select(
        user_id,
        literal(kind, String(30)),
        literal(text.encode(), Text()),
        literal(link, String(300)),
        literal(now(), UTCDateTime()),
    ).distinct()
    if skip is not None:
        rows = rows.where(user_id != skip)
    stmt = insert(Notification).from_select(["user_id", "kind", "text", "link", "created_at"], rows)
    if mail_on() or sms_on():
        ids = list(db.session.scalars(stmt.returning(Notification.user_id)))
        if ids:
            _enqueue(ids, kind, text, link)
        return len(ids)
    return db.session.execute(stmt).rowcount or 0


def _choices(user_ids: list[int], kind: str) -> dict[int, tuple[bool, bool]]:
    default = BY_CODE.get(kind)
    chosen = {
        p.user_id: (p.by_mail, p.by_sms)
        for p in db.session.scalars(
            select(DeliveryPreference).where(
                DeliveryPreference.user_id.in_(user_ids), DeliveryPreference.kind == kind
            )
        )
    }
    fallback = (default.mail, default.sms) if default else (False, False)
    return {i: chosen.get(i, fallback) for i in user_ids}


def _phone(user: User) -> str | None:
    """The user's own phone, else its organisation's contact phone."""
    agency = user.agency
    return user.phone or (agency.contact_phone if agency is not None else None) or None


def site_url(path: str | None) -> str:
    base = (current_app.config.get("NOTIFY_SITE_URL") or "").rstrip("/")
    return f"{base}{path or '/'}"


def compose(text: Message, link: str | None) -> tuple[str, str]:
    """Subject and body of the mail, in the market's language (the default locale)."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans")):
        line = said(text)
        subject = f"【{_l('Intermediary Marketplace')}】{line}"[:200]
        parts = [line, ""]
        if link:
            parts += [str(_l("Open: %(url)s", url=site_url(link))), ""]
        parts += [
            "—",
            str(_l("Choose which notices come by mail: %(url)s", url=site_url("/notifications/preferences"))),
        ]
        return subject, "\n".join(parts)


def _enqueue(user_ids: list[int], kind: str, text: Message, link: str | None) -> None:
    choices = _choices(user_ids, kind)
    wanted = [i for i, (mail, sms) in choices.items() if (mail and mail_on()) or (sms and sms_on())]
    if not wanted:
        return
    subject, body = compose(text, link)
    sms_text = subject
    rows = []
    for user in db.session.scalars(select(User).where(User.id.in_(wanted), User.active.is_(True))):
        mail, sms = choices[user.id]
        if mail and mail_on() and user.email:
            rows.append(
                {
                    "user_id": user.id,
                    "channel": "mail",
                    "recipient": user.email,
                    "subject": subject,
                    "body": body,
                }
            )
        phone = _phone(user) if sms and sms_on() else None
        if phone:
            rows.append(
                {
                    "user_id": user.id,
                    "channel": "sms",
                    "recipient": phone,
                    "subject": sms_text,
                    "body": sms_text,
                }
            )
    at = now()
    if rows:
        db.session.execute(
            insert(OutboxMessage),
            [
                r | {"status": OutboxStatus.PENDING, "attempts": 0, "next_attempt_at": at, "created_at": at}
                for r in rows
            ],
        )


# --- reading and marking -------------------------------------------------------------------------------------


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def listing(actor: User | None, page: int = 1, per_page: int = PER_PAGE):
    """The actor's notifications, unread first, then newest first (a Flask-SQLAlchemy pagination)."""
    actor = require_user(actor)
    return db.paginate(
        select(Notification)
        .where(Notification.user_id == actor.id)
        .order_by(
            case((Notification.read_at.is_(None), 0), else_=1),
            Notification.created_at.desc(),
            Notification.id.desc(),
        ),
        page=max(1, int(page or 1)),
        per_page=min(100, max(1, int(per_page or PER_PAGE))),
        error_out=False,
        count=True,
    )


def own(actor: User | None, notification_id: int) -> Notification:
    """One of the actor's notifications; anybody else's does not exist for them (404)."""
    actor = require_user(actor)
    found = db.session.get(Notification, notification_id)
    if found is None or found.user_id != actor.id:
        raise NotFound(_l("No such notification."))
    return found


def mark_read(actor: User | None, notification_id: int) -> Notification:
    found = own(actor, notification_id)
    if found.read_at is None:
        found.read_at = now()
        db.session.flush()
    return found


def mark_all_read(actor: User | None) -> int:
    actor = require_user(actor)
    marked = db.session.execute(
        update(Notification)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire_all()
    return marked


def text_of(notification: Notification) -> str:
    return said(notification.text)


# --- delivery choices ------------------------------------------------------------------------------------------


def preferences(actor: User | None) -> list[dict[str, Any]]:
    """Every kind with the actor's choice (or the kind's default)."""
    actor = require_user(actor)
    chosen = {
        p.kind: p
        for p in db.session.scalars(select(DeliveryPreference).where(DeliveryPreference.user_id == actor.id))
    }
    out = []
    for kind in KINDS:
        p = chosen.get(kind.code)
        out.append(
            {
                "kind": kind.code,
                "label": kind.label,
                "hint": kind.hint,
                "mail": p.by_mail if p else kind.mail,
                "sms": p.by_sms if p else kind.sms,
            }
        )
    return out


def set_preferences(actor: User | None, mail_kinds: Iterable[str], sms_kinds: Iterable[str]) -> None:
    """The kinds named come by mail (by SMS); the others only in the bell. Unknown kinds are ignored."""
    actor = require_user(actor)
    mail, sms = set(mail_kinds), set(sms_kinds)
    before = {p["kind"]: (p["mail"], p["sms"]) for p in preferences(actor)}
    for kind in KINDS:
        row = db.session.get(DeliveryPreference, (actor.id, kind.code))
        if row is None:
            row = DeliveryPreference(user_id=actor.id, kind=kind.code)
            db.session.add(row)
        row.by_mail, row.by_sms = kind.code in mail, kind.code in sms
    db.session.flush()
    after = {k.code: (k.code in mail, k.code in sms) for k in KINDS}
    if after != before:
        record(
            actor,
            "notification.preferences",
            object_type="user",
            object_id=actor.id,
            before={k: list(v) for k, v in before.items()},
            after={k: list(v) for k, v in after.items()},
        )


# --- watching an open request (关注 / 提醒我) and the closing reminder ------------------------------------------


def watching(actor: User | None, request_id: int) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return db.session.scalar(
        select(exists().where(RequestWatch.request_id == request_id, RequestWatch.user_id == actor.id))
    )


def watch(actor: User | None, request_id: int) -> RequestWatch:
    """An agency asks to be reminded before the bidding of an open request closes."""
    actor = require_role(actor, Role.AGENCY)
    req = db.session.get(ServiceRequest, request_id)
    if req is None or not req.is_public:
        raise NotFound(_l("No such request."))
    if req.phase != RequestStatus.BIDDING:
        raise WrongState(_l("Bidding on this request has closed."))
    found = db.session.scalar(
        select(RequestWatch).where(RequestWatch.request_id == req.id, RequestWatch.user_id == actor.id)
    )
    if found is None:
        found = RequestWatch(request_id=req.id, user_id=actor.id)
        db.session.add(found)
        db.session.flush()
    return found


def unwatch(actor: User | None, request_id: int) -> None:
    actor = require_role(actor, Role.AGENCY)
    found = db.session.scalar(
        select(RequestWatch).where(RequestWatch.request_id == request_id, RequestWatch.user_id == actor.id)
    )
    if found is not None:
        db.session.delete(found)
        db.session.flush()


def _reminder_window() -> timedelta:
    return timedelta(seconds=current_app.config.get("NOTIFY_REMINDER_SECONDS", 24 * 3600))


def _has_bid(user_id: int, request_id: int):
    from marketplace.agencies.models import Agency

    return exists().where(
        Bid.request_id == request_id,
        Bid.status == BidStatus.ACTIVE,
        Bid.agency_id == Agency.id,
        Agency.user_id == user_id,
    )


def reminder_ids() -> list[int]:
    """Watches due for their reminder: bidding closes within the window, not reminded yet (the clock's step)."""
    t = now()
    return list(
        db.session.scalars(
            select(RequestWatch.id)
            .join(ServiceRequest, ServiceRequest.id == RequestWatch.request_id)
            .where(
                RequestWatch.reminded_at.is_(None),
                ServiceRequest.status == RequestStatus.BIDDING,
                ServiceRequest.bid_deadline > t,
                ServiceRequest.bid_deadline <= t + _reminder_window(),
            )
            .order_by(RequestWatch.id)
        )
    )


def remind(watch_id: int) -> bool:
    """Send one watch's closing reminder (once; not when the agency has bid meanwhile). The caller commits."""
    found = db.session.scalar(select(RequestWatch).where(RequestWatch.id == watch_id).with_for_update())
    if found is None or found.reminded_at is not None:
        return False
    req = db.session.get(ServiceRequest, found.request_id)
    t = now()
    if req.status != RequestStatus.BIDDING or not (t < req.bid_deadline <= t + _reminder_window()):
        return False
    found.reminded_at = t
    if db.session.scalar(select(_has_bid(found.user_id, req.id))):
        return False
    hours = max(1, round((req.bid_deadline - t).total_seconds() / 3600))
    notify(
        [found.user_id],
        "reminder",
        message(
            N_("Bidding on “%(title)s” closes in about %(hours)s hours; you have not bid yet."),
            title=req.title,
            hours=hours,
        ),
        f"/requests/{req.id}",
    )
    return True
