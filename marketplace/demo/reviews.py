"""Announcement review in the demo: every story's request goes public the way the market's rules say — with its
project's approval document where the item serves a project approval, submitted, and approved by the operator
(the demo administrator) — and the demo enterprise has one announcement waiting for review and one returned
with an opinion to fix. With MARKET_REVIEW_ANNOUNCEMENTS=0 requests publish at once and there is nothing to
review."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from marketplace.auth.models import User
from marketplace.common.clock import now
from marketplace.demo.common import ADMIN_EMAIL, ENTERPRISE_EMAIL, put
from marketplace.demo.pdf import ascii_only, certificate_pdf
from marketplace.extensions import db
from marketplace.requests import review
from marketplace.requests import services as requests
from marketplace.requests.models import RequestReview, RequestStatus, ReviewAction, ServiceRequest

OPINION = "资质要求与事项不符，请删除指定品牌的表述；投标截止时间请至少预留5个工作日。"


def approval_document(req: ServiceRequest) -> bytes:
    """A one-page stand-in for the project's scanned approval or filing document."""
    return certificate_pdf(
        [
            "Project approval / filing document (scan)",
            f"Project code: {ascii_only(req.project_code)}",
            f"Region: {req.region_code or '-'}",
            f"Issued: {(req.created_at or now()):%Y-%m-%d}",
        ]
    )


def attach(owner: User, req: ServiceRequest) -> None:
    if req.service_item.needs_project_approval and not req.approval_document:
        review.attach_approval_document(owner, req.id, io.BytesIO(approval_document(req)), "立项批复.pdf")


def publish(owner: User, req: ServiceRequest) -> None:
    """Attach the approval document, publish, and — under review — let the operator approve it."""
    attach(owner, req)
    requests.publish_request(owner, req.id)
    approve_if_waiting(req)


def approve_if_waiting(req: ServiceRequest) -> None:
    if req.status == RequestStatus.REVIEW:
        review.approve(_operator(), req.id)


def stamp(request_id: int, submitted: datetime, approved: datetime) -> None:
    """Date the request's review history like its story: submitted when it was posted, approved when published."""
    rows = db.session.scalars(select(RequestReview).where(RequestReview.request_id == request_id)).all()
    for row in rows:
        put(RequestReview, row.id, at=approved if row.action == ReviewAction.APPROVE else submitted)
    if rows:
        put(ServiceRequest, request_id, submitted_at=submitted)


def _operator() -> User:
    return db.session.scalar(select(User).where(User.email == ADMIN_EMAIL))


def load_reviews() -> dict[str, int]:
    """The demo enterprise's announcement waiting for review and its returned one (only where review is on)."""
    if not current_app.config["MARKET_REVIEW_ANNOUNCEMENTS"]:
        return {}
    owner = db.session.scalar(select(User).where(User.email == ENTERPRISE_EMAIL))
    done = db.session.scalar(
        select(ServiceRequest)
        .where(ServiceRequest.enterprise_id == owner.enterprise.id, ServiceRequest.published_at.is_not(None))
        .order_by(ServiceRequest.id)
    )
    deadline = now() + timedelta(seconds=current_app.config["MARKET_MIN_BIDDING_SECONDS"]) + timedelta(days=6)
    base = {
        "service_item_id": done.service_item_id,
        "ceiling_fen": done.ceiling_fen,
        "required_days": done.required_days,
        "region_code": done.region_code,
        "funding": done.funding.value,
        "selection_method": "lowest_price",
        "bid_deadline": deadline,
    }
    code = done.project_code[:-6]
    waiting = requests.create_request(
        owner,
        base
        | {
            "title": "徐圩新区石化产业园配套液体化工码头二期工程环境影响评价",
            "project_code": f"{code}318204",
            "scope": "编制环境影响报告书，参加技术评估会并按专家意见修改，直至取得环评批复。",
        },
        publish=False,
    )
    attach(owner, waiting)
    requests.publish_request(owner, waiting.id)
    returned = requests.create_request(
        owner,
        base
        | {
            "title": "徐圩新区工业污水处理厂提标改造工程环境影响评价",
            "project_code": f"{code}318377",
            "scope": "编制环境影响报告表；须使用某品牌在线监测设备开展现场监测，编制单位须具有甲级资质。",
            "required_level": "甲级",
        },
        publish=False,
    )
    attach(owner, returned)
    requests.publish_request(owner, returned.id)
    review.return_request(_operator(), returned.id, OPINION)
    day = timedelta(days=1)
    stamp(waiting.id, now() - day, now())
    put(ServiceRequest, waiting.id, created_at=now() - day - timedelta(hours=2))
    rows = db.session.scalars(
        select(RequestReview).where(RequestReview.request_id == returned.id).order_by(RequestReview.id)
    ).all()
    put(RequestReview, rows[0].id, at=now() - 2 * day)
    put(RequestReview, rows[1].id, at=now() - day + timedelta(hours=3))
    put(
        ServiceRequest,
        returned.id,
        created_at=now() - 2 * day - timedelta(hours=1),
        submitted_at=now() - 2 * day,
    )
    return {"requests_in_review": 1, "requests_returned": 1}
