"""An invitation to quote (邀请报价) for the demo agency: the demo enterprise found zhongjie@demo.cn's store and
invited it to an open announcement of its own, so the agency's inbox shows the 邀请 mark and its bell the
invitation. Played through the invitation service like a real one (the request stays open to all)."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.auth.models import User
from marketplace.common.clock import now
from marketplace.demo.common import AGENCY_EMAIL, ENTERPRISE_EMAIL, step
from marketplace.extensions import db
from marketplace.requests import invitations, queries
from marketplace.requests.bids import Bid
from marketplace.requests.invitations import RequestInvitation
from marketplace.requests.models import ServiceRequest


def load_invitations() -> dict[str, int]:
    with step():
        owner = db.session.scalar(select(User).where(User.email == ENTERPRISE_EMAIL))
        agency = db.session.scalar(select(User).where(User.email == AGENCY_EMAIL))
        if owner is None or agency is None or owner.enterprise is None or agency.agency is None:
            return {"invitations": 0}
        bid_on = select(Bid.request_id).where(Bid.agency_id == agency.agency.id)
        open_to_agency = queries.inbox_query(agency).where(ServiceRequest.id.not_in(bid_on))
        mine = db.session.scalars(
            open_to_agency.where(ServiceRequest.enterprise_id == owner.enterprise.id)
        ).first()
        req = mine or db.session.scalars(open_to_agency).first()
        if req is None or req.bid_deadline <= now():
            return {"invitations": 0}
        db.session.add(RequestInvitation(request_id=req.id, agency_id=agency.agency.id))
        db.session.flush()
        told = invitations.announce(req, None)
    return {"invitations": told}
