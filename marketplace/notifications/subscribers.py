"""Who is told what: listeners to the market's domain events (docs/architecture.md §4).

They run inside the sender's transaction and only insert rows (notifications, outbox messages); the clock sends
the outbox after the commit. Texts are stored as messages (common/messages.py): each reader sees them in its own
language. The person who caused an event is not told about it (services.notify skips the actor).

The supervision listeners (complaints, credit, inspections) are written against the keyword arguments documented
in events.py and read their senders by duck typing (getattr), so that they work whatever else those objects hold.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import Select, select

from marketplace import events
from marketplace.agencies.models import Agency, AgencyServiceArea, AgencyStatus, agency_category
from marketplace.auth.models import Enterprise
from marketplace.common.clock import local
from marketplace.common.messages import N_, Money, decode, message
from marketplace.extensions import db
from marketplace.notifications.services import notify, notify_selected
from marketplace.regions import services as regions
from marketplace.requests import invitations
from marketplace.requests.bids import Bid, BidStatus
from marketplace.requests.models import RequestExclusion, ServiceRequest

# --- who ------------------------------------------------------------------------------------------------------


def _agency_user(agency_id: int | None) -> int | None:
    if agency_id is None:
        return None
    return db.session.scalar(select(Agency.user_id).where(Agency.id == agency_id))


def _enterprise_user(enterprise_id: int | None) -> int | None:
    if enterprise_id is None:
        return None
    return db.session.scalar(select(Enterprise.user_id).where(Enterprise.id == enterprise_id))


def _owner(req: ServiceRequest) -> int | None:
    return _enterprise_user(req.enterprise_id)


def _bidders(req: ServiceRequest) -> dict[int, int]:
    """bid id → agency user id, for every bid of this request that was not withdrawn."""
    rows = db.session.execute(
        select(Bid.id, Agency.user_id)
        .join(Agency, Agency.id == Bid.agency_id)
        .where(Bid.request_id == req.id, Bid.status != BidStatus.WITHDRAWN)
    )
    return dict(rows.all())


def _winner_user(req: ServiceRequest) -> int | None:
    if req.winner_bid_id is None:
        return None
    return db.session.scalar(
        select(Agency.user_id).join(Bid, Bid.agency_id == Agency.id).where(Bid.id == req.winner_bid_id)
    )


def _parties(order) -> tuple[int | None, int | None]:
    """(enterprise user, agency user) of an order."""
    return _enterprise_user(order.enterprise_id), _agency_user(order.agency_id)


def _when(at) -> str:
    return local(at).strftime("%Y-%m-%d %H:%M") if at else "—"


def _req_link(req) -> str:
    return f"/requests/{req.id}"


def _order_link(order, anchor: str = "") -> str:
    return f"/orders/{order.id}{anchor}"


# --- requests, bidding, selection ------------------------------------------------------------------------------


def matching_agency_users(req: ServiceRequest) -> Select:
    """The user ids of the active members of the request's category whose service area overlaps its location,
    neither excluded from it (回避) nor invited to it (told by _invited instead): a query, for notify_selected."""
    category_id = req.service_item.category_id
    stmt = (
        select(Agency.user_id)
        .join(agency_category, agency_category.c.agency_id == Agency.id)
        .where(
            agency_category.c.category_id == category_id,
            Agency.status == AgencyStatus.ACTIVE,
            Agency.user_id.is_not(None),
            Agency.id.not_in(select(RequestExclusion.agency_id).where(RequestExclusion.request_id == req.id)),
            Agency.id.not_in(
                select(invitations.RequestInvitation.agency_id).where(
                    invitations.RequestInvitation.request_id == req.id
                )
            ),
        )
    )
    if (
        req.region_code
    ):  # the areas that overlap it, in SQL: not every member of the category (tens of thousands)
        areas_here = select(AgencyServiceArea.agency_id).where(
            AgencyServiceArea.agency_id == Agency.id,
            regions.overlapping(AgencyServiceArea.region_code, req.region_code),
        )
        stmt = stmt.where(areas_here.exists())
    return stmt


def _published(req: ServiceRequest, actor=None, **_: Any) -> None:
    notify_selected(
        matching_agency_users(req),
        "new_request",
        message(
            N_("New announcement in your field: “%(title)s” (%(region)s), ceiling %(ceiling)s."),
            title=req.title,
            region=regions.name(req.region_code) or "—",
            ceiling=Money(req.ceiling_fen),
        ),
        _req_link(req),
        actor,
    )


def _invited(invitation, request: ServiceRequest, agency_id: int, actor=None, **_: Any) -> None:
    notify(
        [_agency_user(agency_id)],
        "new_request",
        message(
            N_("%(org)s invites you to quote on “%(title)s” (ceiling %(ceiling)s, bids until %(deadline)s)."),
            org=request.enterprise.name,
            title=request.title,
            ceiling=Money(request.ceiling_fen),
            deadline=_when(request.bid_deadline),
        ),
        _req_link(request),
        actor,
    )


def _returned(req: ServiceRequest, opinion: str = "", actor=None, **_: Any) -> None:
    notify(
        [_owner(req)],
        "bidding",
        message(
            N_("Your announcement “%(title)s” was returned by the operator: %(opinion)s"),
            title=req.title,
            opinion=opinion,
        ),
        f"/enterprise/requests/{req.id}/edit",
        actor,
    )


def _bidding_closed(req: ServiceRequest, actor=None, **_: Any) -> None:
    bidders = _bidders(req)
    notify(
        [_owner(req)],
        "bidding",
        message(
            N_("Bidding on “%(title)s” has closed: %(n)s bids are open for you to compare."),
            title=req.title,
            n=len(bidders),
        ),
        f"/requests/{req.id}/compare",
        actor,
    )
    notify(
        bidders.values(),
        "bidding",
        message(N_("Bidding on “%(title)s” has closed; the bids are open."), title=req.title),
        _req_link(req),
        actor,
    )


def _failed(req: ServiceRequest, actor=None, **_: Any) -> None:
    reason = decode(req.failure_reason) or "—"
    notify(
        [_owner(req), *_bidders(req).values()],
        "bidding",
        message(N_("“%(title)s” failed (流标): %(reason)s"), title=req.title, reason=reason),
        _req_link(req),
        actor,
    )


def _selected(req: ServiceRequest, actor=None, reselected: bool = False, **_: Any) -> None:
    winner = _winner_user(req)
    notify(
        [winner],
        "selection",
        message(
            N_("Your agency was selected for “%(title)s”; the result is now under publicity."),
            title=req.title,
        ),
        _req_link(req),
        actor,
    )
    notify(
        [u for u in _bidders(req).values() if u != winner],
        "selection",
        message(N_("Your bid for “%(title)s” was not selected."), title=req.title),
        _req_link(req),
        actor,
    )
    if reselected:
        notify(
            [_owner(req)],
            "selection",
            message(
                N_("“%(title)s”: the next-ranked bid takes over; the new result is under publicity."),
                title=req.title,
            ),
            _req_link(req),
            actor,
        )


def _publicity_ended(req: ServiceRequest, winner=None, actor=None, **_: Any) -> None:
    notify(
        [_owner(req), _winner_user(req)],
        "selection",
        message(
            N_("Publicity of “%(title)s” is over without a standing objection: the order is placed."),
            title=req.title,
        ),
        _req_link(req),
        actor,
    )


def _objection_lodged(objection, actor=None, **_: Any) -> None:
    req = objection.request
    notify(
        [_owner(req), _winner_user(req)],
        "objection",
        message(
            N_(
                "An objection was lodged against the result of “%(title)s”; the order waits for its decision."
            ),
            title=req.title,
        ),
        _req_link(req) + "#objections",
        actor,
    )


def _objection_decided(objection, upheld: bool = False, actor=None, **_: Any) -> None:
    req = objection.request
    text = (
        N_("The objection to the result of “%(title)s” was upheld: %(outcome)s")
        if upheld
        else N_("The objection to the result of “%(title)s” was dismissed: %(outcome)s")
    )
    notify(
        [objection.user_id, _owner(req), _winner_user(req)],
        "objection",
        message(text, title=req.title, outcome=objection.outcome or "—"),
        _req_link(req) + "#objections",
        actor,
    )


# --- orders and contracts ----------------------------------------------------------------------------------------


def _order_created(order, actor=None, **_: Any) -> None:
    enterprise, agency = _parties(order)
    if current_app.config.get("MARKET_CONTRACT_STEP"):
        text = N_(
            "Order #%(id)s for “%(title)s” is placed: upload the signed contract for the other party to confirm."
        )
        who = [enterprise, agency]
    else:
        text = N_("Order #%(id)s for “%(title)s” is placed: confirm it to start the service clock.")
        who = [agency]
    notify(who, "contract", message(text, id=order.id, title=order.request.title), _order_link(order), actor)


def _order_started(order, actor=None, **_: Any) -> None:
    notify(
        _parties(order),
        "order",
        message(
            N_("Order #%(id)s has started: %(days)s days to deliver."), id=order.id, days=order.promised_days
        ),
        _order_link(order),
        actor,
    )


def _order_declined(order, reason: str = "", actor=None, **_: Any) -> None:
    notify(
        [_parties(order)[0]],
        "order",
        message(N_("The agency declined order #%(id)s: %(reason)s"), id=order.id, reason=reason),
        _order_link(order),
        actor,
    )


def _light(order, before: str = "", after: str = "", **_: Any) -> None:
    if after == "yellow":
        text = N_("Order #%(id)s: 80 %% of the promised %(days)s days are used (yellow light).")
    elif after == "red":
        text = N_("Order #%(id)s is overdue (red light): the promised %(days)s days have passed.")
    else:
        return
    notify(_parties(order), "order", message(text, id=order.id, days=order.promised_days), _order_link(order))


def _delivered(order, actor=None, **_: Any) -> None:
    days = max(1, round(current_app.config.get("MARKET_ACCEPTANCE_SECONDS", 14 * 86400) / 86400))
    notify(
        [_parties(order)[0]],
        "order",
        message(
            N_(
                "Order #%(id)s was delivered: please accept it or dispute it (silence means acceptance after %(days)s days)."
            ),
            id=order.id,
            days=days,
        ),
        _order_link(order),
        actor,
    )


def _accepted(order, actor=None, automatic: bool = False, **_: Any) -> None:
    enterprise, agency = _parties(order)
    if automatic:
        text, who = (
            N_("Order #%(id)s was accepted automatically: the acceptance window passed."),
            [enterprise, agency],
        )
    else:
        text, who = N_("Order #%(id)s was accepted."), [agency]
    notify(who, "order", message(text, id=order.id), _order_link(order), actor)


def _contract_side(contract, side: str) -> int | None:
    enterprise, agency = _parties(contract.order)
    return enterprise if side == "enterprise" else agency


def _contract_uploaded(contract, actor=None, **_: Any) -> None:
    notify(
        [_contract_side(contract, contract.confirmer_side)],
        "contract",
        message(N_("A signed contract for order #%(id)s waits for your confirmation."), id=contract.order_id),
        _order_link(contract.order, "#contract"),
        actor,
    )


def _contract_confirmed(contract, actor=None, **_: Any) -> None:
    notify(
        [_contract_side(contract, contract.uploaded_by)],
        "contract",
        message(
            N_("The contract for order #%(id)s was confirmed: the service clock has started."),
            id=contract.order_id,
        ),
        _order_link(contract.order, "#contract"),
        actor,
    )


def _contract_rejected(contract, reason: str = "", actor=None, **_: Any) -> None:
    notify(
        [_contract_side(contract, contract.uploaded_by)],
        "contract",
        message(
            N_("The contract for order #%(id)s was returned: %(reason)s"), id=contract.order_id, reason=reason
        ),
        _order_link(contract.order, "#contract"),
        actor,
    )


def _extension_requested(extension, actor=None, **_: Any) -> None:
    order = extension.order
    notify(
        [_parties(order)[0]],
        "order",
        message(
            N_("The agency asks to extend order #%(id)s to %(due)s: %(reason)s"),
            id=order.id,
            due=_when(extension.due_at),
            reason=extension.reason,
        ),
        _order_link(order, "#extensions"),
        actor,
    )


def _extension_decided(extension, approved: bool = False, actor=None, **_: Any) -> None:
    order = extension.order
    text = (
        N_("Your extension of order #%(id)s to %(due)s was approved.")
        if approved
        else N_("Your extension of order #%(id)s to %(due)s was refused.")
    )
    notify(
        [_parties(order)[1]],
        "order",
        message(text, id=order.id, due=_when(extension.due_at)),
        _order_link(order, "#extensions"),
        actor,
    )


# --- money, ratings, membership -----------------------------------------------------------------------------------


def _payment_registered(payment, actor=None, **_: Any) -> None:
    order = payment.order
    notify(
        [_parties(order)[1]],
        "payment",
        message(
            N_(
                "A bank transfer of %(amount)s for order #%(id)s was recorded (reference %(ref)s): confirm it when it arrives."
            ),
            amount=Money(payment.amount_fen),
            id=order.id,
            ref=payment.reference or "—",
        ),
        _order_link(order, "#payments"),
        actor,
    )


def _payment_confirmed(payment, actor=None, **_: Any) -> None:
    order = payment.order
    notify(
        [_parties(order)[0]],
        "payment",
        message(
            N_("The agency confirmed your transfer of %(amount)s for order #%(id)s."),
            amount=Money(payment.amount_fen),
            id=order.id,
        ),
        _order_link(order, "#payments"),
        actor,
    )


def _payment_rejected(payment, reason: str = "", actor=None, **_: Any) -> None:
    order = payment.order
    notify(
        [_parties(order)[0]],
        "payment",
        message(
            N_(
                "The agency reports that your transfer of %(amount)s for order #%(id)s did not arrive: %(reason)s"
            ),
            amount=Money(payment.amount_fen),
            id=order.id,
            reason=reason,
        ),
        _order_link(order, "#payments"),
        actor,
    )


def _money(payment, delta_fen: int = 0, **_: Any) -> None:
    if getattr(payment.method, "value", payment.method) != "stripe" or delta_fen == 0:
        return  # bank transfers are told when confirmed (above)
    order = payment.order
    enterprise, agency = _parties(order)
    if delta_fen > 0:
        text, who = N_("%(amount)s received online for order #%(id)s."), [agency]
    else:
        text, who = N_("%(amount)s refunded online for order #%(id)s."), [enterprise, agency]
    notify(
        who,
        "payment",
        message(text, amount=Money(abs(delta_fen)), id=order.id),
        _order_link(order, "#payments"),
    )


def _rated(rating, actor=None, **_: Any) -> None:
    notify(
        [_agency_user(rating.agency_id)],
        "rating",
        message(N_("Order #%(id)s was rated %(score)s / 5."), id=rating.order_id, score=rating.overall),
        f"/orders/{rating.order_id}#rating",
        actor,
    )


MEMBERSHIP = {
    "active": N_("Your membership was approved: your agency is an active member and may bid."),
    "rejected": N_("Your membership application was not approved: %(reason)s"),
    "suspended": N_("Your membership is suspended: %(reason)s"),
    "expelled": N_("Your agency was expelled from the market: %(reason)s"),
}
REINSTATED = N_("Your membership is reinstated: your agency may bid again.")


def _member(agency, before: str = "", after: str = "", actor=None, **_: Any) -> None:
    text = REINSTATED if (before, after) == ("suspended", "active") else MEMBERSHIP.get(str(after))
    if text is None:
        return
    notify(
        [agency.user_id],
        "membership",
        message(text, reason=decode(agency.status_reason) or "—"),
        "/agency/",
        actor,
    )


# --- supervision: complaints, credit, inspections (duck-typed against events.py) ------------------------------------


def _complaint_people(complaint) -> tuple[int | None, list[int | None]]:
    """(the complainant's user, the respondents' users)."""
    complainant = getattr(complaint, "complainant_id", None)
    respondents = [
        _agency_user(getattr(complaint, "respondent_agency_id", None)),
        _enterprise_user(getattr(complaint, "respondent_enterprise_id", None)),
    ]
    return complainant, respondents


def _complaint_link(complaint) -> str:
    return f"/complaints/{complaint.number}"


def _complaint_filed(complaint, actor=None, **_: Any) -> None:
    complainant, _respondents = _complaint_people(complaint)
    number = getattr(complaint, "number", None) or complaint.id
    notify(
        [complainant],
        "complaint",
        message(N_("Your complaint %(number)s was received."), number=number),
        _complaint_link(complaint),
        actor,
    )
    # The respondents hear of it only once it is accepted (_complaint_status): until then they may not read it,
    # and a refused complaint never reaches them.


def _complaint_status(complaint, before: str = "", after: str = "", actor=None, **_: Any) -> None:
    complainant, respondents = _complaint_people(complaint)
    number = getattr(complaint, "number", None) or complaint.id
    if str(after) in ("accepted", "investigating"):
        notify(
            [complainant, *respondents],
            "complaint",
            message(
                N_("Complaint %(number)s was accepted for handling; the respondent is asked to answer."),
                number=number,
            ),
            _complaint_link(complaint),
            actor,
        )
    elif str(after) == "refused":
        notify(
            [complainant],
            "complaint",
            message(
                N_("Complaint %(number)s was not accepted: %(reason)s"),
                number=number,
                reason=decode(getattr(complaint, "refusal_reason", None)) or "—",
            ),
            _complaint_link(complaint),
            actor,
        )


def _complaint_answered(complaint, actor=None, **_: Any) -> None:
    complainant, _r = _complaint_people(complaint)
    number = getattr(complaint, "number", None) or complaint.id
    notify(
        [complainant],
        "complaint",
        message(N_("The respondent answered complaint %(number)s."), number=number),
        _complaint_link(complaint),
        actor,
    )


def _complaint_decided(complaint, upheld: bool = False, actor=None, **_: Any) -> None:
    complainant, respondents = _complaint_people(complaint)
    number = getattr(complaint, "number", None) or complaint.id
    text = (
        N_("Complaint %(number)s was upheld: %(outcome)s")
        if upheld
        else N_("Complaint %(number)s was dismissed: %(outcome)s")
    )
    notify(
        [complainant, *respondents],
        "complaint",
        message(text, number=number, outcome=decode(getattr(complaint, "outcome", None)) or "—"),
        _complaint_link(complaint),
        actor,
    )


def _credit_link(agency_id: int) -> str:
    return "/agency/credit"  # the agency's own credit page, where it may appeal


def _credit_event(event, actor=None, **_: Any) -> None:
    agency_id = getattr(event, "agency_id", None)
    points = getattr(event, "points", None)
    if agency_id is None or not points:
        return
    text = N_("A credit event was recorded for your agency: %(points)s points.")
    notify(
        [_agency_user(agency_id)],
        "credit",
        message(text, points=f"{points:+d}"),
        _credit_link(agency_id),
        actor,
    )


def _credit_grade(agency_id, before: str = "", after: str = "", **_: Any) -> None:
    notify(
        [_agency_user(agency_id)],
        "credit",
        message(
            N_("Your agency's credit grade changed from %(before)s to %(after)s."), before=before, after=after
        ),
        _credit_link(agency_id),
    )


def _listed(entry, agency_id: int | None = None, kind: str = "", actor=None, **_: Any) -> None:
    agency_id = agency_id if agency_id is not None else getattr(entry, "agency_id", None)
    text = (
        N_("Your agency was put on the red list (守信).")
        if str(kind) == "red"
        else N_("Your agency was put on the black list (失信): %(reason)s")
    )
    notify(
        [_agency_user(agency_id)],
        "credit",
        message(text, reason=decode(getattr(entry, "reason", None)) or "—"),
        _credit_link(agency_id),
        actor,
    )


def _unlisted(
    entry, agency_id: int | None = None, kind: str = "", why: Any = None, actor=None, **_: Any
) -> None:
    agency_id = agency_id if agency_id is not None else getattr(entry, "agency_id", None)
    text = (
        N_("Your agency was taken off the red list: %(why)s")
        if str(kind) == "red"
        else N_("Your agency was taken off the black list: %(why)s")
    )
    notify(
        [_agency_user(agency_id)],
        "credit",
        message(text, why=decode(why) or "—"),
        _credit_link(agency_id),
        actor,
    )


def _appeal_decided(appeal, upheld: bool = False, actor=None, **_: Any) -> None:
    agency_id = getattr(appeal, "agency_id", None)
    text = (
        N_("Your credit appeal was upheld: the event no longer counts.")
        if upheld
        else N_("Your credit appeal was dismissed.")
    )
    notify(
        [_agency_user(agency_id)],
        "credit",
        message(text),
        _credit_link(agency_id) if agency_id else None,
        actor,
    )


def _repair_decided(repair, approved: bool = False, actor=None, **_: Any) -> None:
    agency_id = getattr(repair, "agency_id", None)
    text = N_("Your credit repair was approved.") if approved else N_("Your credit repair was not approved.")
    notify(
        [_agency_user(agency_id)],
        "credit",
        message(text),
        _credit_link(agency_id) if agency_id else None,
        actor,
    )


def _inspected_agency_users(task) -> list[int | None]:
    return [_agency_user(getattr(t, "agency_id", None)) for t in getattr(task, "targets", None) or []]


def _inspection_drawn(task, actor=None, **_: Any) -> None:
    notify(
        _inspected_agency_users(task),
        "inspection",
        message(
            N_("Your agency was drawn for the random inspection “%(title)s”."),
            title=getattr(task, "title", "") or "—",
        ),
        f"/inspections/{task.id}",
        actor,
    )


def _inspection_closed(task, actor=None, **_: Any) -> None:
    notify(
        _inspected_agency_users(task),
        "inspection",
        message(
            N_("The results of the random inspection “%(title)s” are published."),
            title=getattr(task, "title", "") or "—",
        ),
        f"/inspections/{task.id}",
        actor,
    )


# --- wiring ----------------------------------------------------------------------------------------------------------


LISTENERS = [
    (events.request_published, _published),
    (events.request_returned, _returned),
    (events.request_invited, _invited),
    (events.bidding_closed, _bidding_closed),
    (events.request_failed, _failed),
    (events.winner_selected, _selected),
    (events.publicity_ended, _publicity_ended),
    (events.objection_lodged, _objection_lodged),
    (events.objection_decided, _objection_decided),
    (events.order_created, _order_created),
    (events.order_started, _order_started),
    (events.order_declined, _order_declined),
    (events.order_light_changed, _light),
    (events.order_delivered, _delivered),
    (events.order_accepted, _accepted),
    (events.contract_uploaded, _contract_uploaded),
    (events.contract_confirmed, _contract_confirmed),
    (events.contract_rejected, _contract_rejected),
    (events.extension_requested, _extension_requested),
    (events.extension_decided, _extension_decided),
    (events.payment_registered, _payment_registered),
    (events.payment_confirmed, _payment_confirmed),
    (events.payment_rejected, _payment_rejected),
    (events.money_received, _money),
    (events.rating_given, _rated),
    (events.member_status_changed, _member),
    (events.complaint_filed, _complaint_filed),
    (events.complaint_status_changed, _complaint_status),
    (events.complaint_answered, _complaint_answered),
    (events.complaint_decided, _complaint_decided),
    (events.credit_event_recorded, _credit_event),
    (events.credit_grade_changed, _credit_grade),
    (events.credit_listed, _listed),
    (events.credit_unlisted, _unlisted),
    (events.credit_appeal_decided, _appeal_decided),
    (events.credit_repair_decided, _repair_decided),
    (events.inspection_drawn, _inspection_drawn),
    (events.inspection_closed, _inspection_closed),
]


def connect() -> None:
    for signal, listener in LISTENERS:
        signal.connect(listener)
