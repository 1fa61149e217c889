"""Cases for the demo accounts' to-do lists (home/todo.py), added only where the market's history left a kind
empty: a fresh award waiting for its signed contract (qiye@demo.cn and zhongjie@demo.cn both see "contracts to
sign"), an extension the demo enterprise has to decide, and an announcement for the demo agency closing in two
days that it has not bid on yet. Played through the services like the rest of the demo."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from marketplace.auth.models import User
from marketplace.common.clock import LOCAL_TZ, now
from marketplace.demo import reviews
from marketplace.demo.common import AGENCY_EMAIL, ENTERPRISE_EMAIL, put, step
from marketplace.extensions import db
from marketplace.orders import contracts
from marketplace.orders import services as orders
from marketplace.orders.models import Extension, ExtensionStatus, Order, OrderStatus
from marketplace.requests import bidding
from marketplace.requests import services as requests
from marketplace.requests.models import RequestStatus, ServiceRequest

PLAN = "组建环评项目组，现场踏勘与环境现状监测同步开展，四十日内提交报告书送审稿。"
EXTENSION_REASON = "项目业主补充提供的水文监测资料晚于约定时间，申请顺延交付时间十个工作日。"


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _template(owner: User, agency: User) -> Order | None:
    """An order of the demo pair whose item needs no named practitioners: its request is the model."""
    stmt = (
        select(Order)
        .where(Order.enterprise_id == owner.enterprise.id, Order.agency_id == agency.agency.id)
        .order_by(Order.id.desc())
    )
    for order in db.session.scalars(stmt):
        if not order.request.service_item.required_practitioners:
            return order
    return None


def _request(owner: User, model: ServiceRequest, title: str, code: str, days: int) -> ServiceRequest:
    deadline = (
        now() + timedelta(seconds=current_app.config["MARKET_MIN_BIDDING_SECONDS"]) + timedelta(days=days)
    )
    data = {
        "title": title,
        "project_code": model.project_code[:-6] + code,
        "service_item_id": model.service_item_id,
        "scope": model.scope,
        "ceiling_fen": model.ceiling_fen,
        "required_days": model.required_days,
        "region_code": model.region_code,
        "funding": "social",
        "selection_method": "direct",
        "bid_deadline": deadline,
    }
    req = requests.create_request(owner, data, publish=False)
    reviews.publish(owner, req)
    if (
        req.published_at is not None
    ):  # the review history dated as the other stories' (approved on publishing)
        reviews.stamp(req.id, req.published_at - timedelta(hours=3), req.published_at)
    return req


def _awarded_to(owner: User, agency: User, model: Order) -> bool:
    """A request of the demo enterprise won by the demo agency, publicity just over: the order waits."""
    req = _request(owner, model.request, "灌云县临港产业区集中供热管网工程环境影响评价", "410517", 1)
    terms = {"price_fen": min(model.amount_fen, req.ceiling_fen), "promised_days": model.promised_days}
    bid = bidding.submit_bid(agency, req.id, terms | {"plan": PLAN})
    put(ServiceRequest, req.id, bid_deadline=now() - requests.close_grace() - timedelta(seconds=1))
    requests.advance(db.session.get(ServiceRequest, req.id))
    requests.select_winner(owner, req.id, bid.id, "技术方案完整，项目组成员具备同类港区项目经验")
    put(ServiceRequest, req.id, publicity_ends_at=now() - timedelta(minutes=5))
    requests.end_publicity(db.session.get(ServiceRequest, req.id))
    return db.session.get(ServiceRequest, req.id).status == RequestStatus.AWARDED


def _open_for_agency(owner: User, model: Order) -> None:
    """An announcement in the demo agency's trade and area, closing in two days, not bid on yet."""
    _request(owner, model.request, "连云港港徐圩港区公共管廊三期工程环境影响评价", "410688", 1)


def _extension(owner: User) -> bool:
    """An extension asked on one of the demo enterprise's orders at work, left for the enterprise to decide."""
    stmt = (
        select(Order)
        .where(
            Order.enterprise_id == owner.enterprise.id,
            Order.status == OrderStatus.IN_PROGRESS,
            Order.due_at > now(),
            ~Order.extensions.any(Extension.status == ExtensionStatus.PENDING),
        )
        .order_by(Order.due_at)
    )
    order = db.session.scalars(stmt).first()
    if order is None:
        return False
    due = order.due_at.astimezone(LOCAL_TZ).date() + timedelta(days=14)
    extension = contracts.request_extension(order.agency.user, order.id, due, EXTENSION_REASON)
    put(Extension, extension.id, created_at=now() - timedelta(hours=6))
    return True


def load_todo_cases() -> dict[str, int]:
    """Each case in its own step (one commit); a case the market cannot hold (no model order) is left out."""
    counts = {"todo_awaiting_contract": 0, "todo_extensions": 0, "todo_closing_soon": 0}
    owner, agency = _user(ENTERPRISE_EMAIL), _user(AGENCY_EMAIL)
    if owner is None or agency is None or owner.enterprise is None or agency.agency is None:
        return counts
    model = _template(owner, agency)
    if model is None:
        return counts
    if orders.contract_step():
        with step():
            counts["todo_awaiting_contract"] = int(_awarded_to(owner, agency, model))
    with step():
        counts["todo_extensions"] = int(_extension(owner))
    with step():
        _open_for_agency(owner, model)
        counts["todo_closing_soon"] = 1
    return counts
