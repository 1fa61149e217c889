"""The demo's contracts (合同): every started order signed on the platform (with the contract step on), a
contract waiting for the owner's confirmation, one rejected and uploaded again, extensions approved and refused,
and every agency's bank details (开户行 / 户名 / 账号).

Played through the services (orders/contracts.py, agencies/membership.py), then dated where the story puts them.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from marketplace.agencies import membership
from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.auth.models import User
from marketplace.common.clock import LOCAL_TZ, now
from marketplace.demo.common import ENTERPRISE_EMAIL, put, step
from marketplace.demo.pdf import certificate_pdf
from marketplace.extensions import db
from marketplace.orders import contracts
from marketplace.orders import services as orders
from marketplace.orders.models import Contract, Extension, Order, OrderEvent, OrderStatus

BANKS = (
    "中国工商银行{city}分行营业部",
    "中国建设银行{city}城南支行",
    "中国银行{city}开发区支行",
    "中国农业银行{city}新城支行",
    "交通银行{city}分行",
    "江苏银行{city}科技支行",
)
REJECT_REASONS = (
    "合同第三条付款节点与采购公告不一致，请按公告约定修改后重新上传。",
    "上传的扫描件缺少乙方骑缝章，请补盖后重新上传。",
)
EXTENSION_REASONS = (
    "项目业主补充提供的地质勘察资料晚于约定时间，需顺延编制工期。",
    "专家评审会因疫情防控安排推迟召开，申请相应顺延交付时间。",
    "项目建设方案调整，需补充现场踏勘与监测数据。",
)


class _Stream:
    """What an uploaded file offers the services: read(limit)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, limit: int = -1) -> bytes:
        return self.data if limit < 0 else self.data[:limit]


def _pdf(order: Order, code: str) -> tuple[_Stream, str]:
    lines = [f"Service contract {code}", f"Order {order.id}", f"Amount CNY {order.amount_fen / 100:,.2f}"]
    return _Stream(certificate_pdf(lines)), f"{code}.pdf"


def _code(order: Order, version: int = 1) -> str:
    year = (order.created_at or now()).astimezone(LOCAL_TZ).year
    return f"HT-{year}-{order.id:04d}" + (f"-{version}" if version > 1 else "")


def _terms(order: Order, code: str) -> dict:
    today = now().astimezone(LOCAL_TZ).date()
    return {
        "code": code,
        "amount_fen": order.amount_fen,
        "start_date": today,
        "end_date": today + timedelta(days=order.promised_days + 30),
    }


def sign(order: Order, owner: User, agency_user: User) -> None:
    """The order's contract uploaded by one party (mostly the agency) and confirmed by the other: it starts.
    (Its own random numbers, so that the rest of the history is the same with the contract step on or off.)"""
    rng = random.Random(order.id)
    uploader, confirmer = (agency_user, owner) if rng.random() < 0.75 else (owner, agency_user)
    code = _code(order)
    contracts.upload_contract(uploader, order.id, _terms(order, code), _pdf(order, code))
    contracts.confirm_contract(confirmer, order.id)


def stamp(order_id: int, started: datetime | None) -> None:
    """Date the order's contracts and their history lines before its start, as the story has it."""
    if started is None:
        return
    order = db.session.get(Order, order_id)
    for contract in order.contracts:
        uploaded = started - timedelta(hours=20)
        start_day = started.astimezone(LOCAL_TZ).date()
        put(
            Contract,
            contract.id,
            created_at=uploaded,
            updated_at=started,
            decided_at=started if contract.decided_at else None,
            start_date=start_day,
            end_date=start_day + timedelta(days=order.promised_days + 30),
        )
    for event in order.events:
        if event.kind == "contract":
            put(OrderEvent, event.id, at=started - timedelta(hours=20))


def _bank_details(rng: random.Random) -> int:
    n = 0
    members = select(Agency).where(Agency.status != AgencyStatus.EXPELLED).order_by(Agency.id)
    for agency in db.session.scalars(members):
        city = (agency.region or "南京市").removesuffix("市")
        number = "".join(str(rng.randint(0, 9)) for _ in range(19))
        data = {"bank_name": rng.choice(BANKS).format(city=city), "account_name": agency.name}
        membership.update_bank_details(agency.user, data | {"account_no": "6" + number[1:]})
        n += 1
    return n


def _awaiting(fixed: User | None) -> list[Order]:
    """Orders waiting for their contract, the demo enterprise's first."""
    stmt = select(Order).where(Order.status == OrderStatus.AWAITING).order_by(Order.id)
    found = list(db.session.scalars(stmt))
    mine = fixed.enterprise.id if fixed is not None and fixed.enterprise else None
    return sorted(found, key=lambda o: (o.enterprise_id != mine, o.id))


def _working(rng: random.Random) -> list[Order]:
    stmt = (
        select(Order).where(Order.status == OrderStatus.IN_PROGRESS, Order.due_at > now()).order_by(Order.id)
    )
    found = list(db.session.scalars(stmt))
    rng.shuffle(found)
    return found


def _party(user_id: int) -> User:
    return db.session.get(User, user_id)


def load_contract_cases(rng: random.Random) -> dict[str, int]:
    """Bank details for every agency; a contract pending confirmation, one rejected and uploaded again, an
    approved and a refused extension. Each case is one step (one commit)."""
    counts = {"bank_details": 0, "contracts_pending": 0, "contracts_rejected": 0, "extensions": 0}
    with step():
        counts["bank_details"] = _bank_details(rng)
    if not orders.contract_step():
        return counts
    fixed = db.session.scalar(select(User).where(User.email == ENTERPRISE_EMAIL))
    waiting = _awaiting(fixed)
    if waiting:  # the agency uploaded; the owner (the demo enterprise, where it has one) has to confirm
        order = waiting[0]
        with step():
            code = _code(order)
            contract = contracts.upload_contract(
                _party(order.agency.user_id), order.id, _terms(order, code), _pdf(order, code)
            )
            put(Contract, contract.id, created_at=now() - timedelta(hours=rng.randint(3, 30)))
        counts["contracts_pending"] += 1
    if len(waiting) > 1:  # the owner uploaded a contract, the agency rejected it, the owner uploaded it again
        order = waiting[1]
        owner, agency_user = _party(order.enterprise.user_id), _party(order.agency.user_id)
        with step():
            first = contracts.upload_contract(
                owner, order.id, _terms(order, _code(order)), _pdf(order, _code(order))
            )
            contracts.reject_contract(agency_user, order.id, rng.choice(REJECT_REASONS))
            put(
                Contract, first.id, created_at=now() - timedelta(days=2), decided_at=now() - timedelta(days=1)
            )
            code = _code(order, 2)
            contracts.upload_contract(owner, order.id, _terms(order, code), _pdf(order, code))
        counts["contracts_rejected"] += 1
    for order, approve in zip(_working(rng), (True, True, False), strict=False):
        owner, agency_user = _party(order.enterprise.user_id), _party(order.agency.user_id)
        due = order.due_at.astimezone(LOCAL_TZ).date() + timedelta(days=rng.randint(7, 20))
        with step():
            extension = contracts.request_extension(agency_user, order.id, due, rng.choice(EXTENSION_REASONS))
            if approve:
                contracts.approve_extension(owner, order.id, extension.id)
            else:
                contracts.reject_extension(
                    owner, order.id, extension.id, "工期为采购公告的实质性要求，不同意延期。"
                )
            put(Extension, extension.id, created_at=now() - timedelta(days=2))
        counts["extensions"] += 1
    return counts
