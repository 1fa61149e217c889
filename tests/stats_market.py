"""A small market spread over the last three months, for the statistics tests: deals in three cities, a guided
item, an on-time and a late delivery, an overdue order, a declined one, ratings, members in and outside the area.

Orders are played through the services, then their dates are moved into past months (as tests/timetravel.py
does) so that every month and every filter has something different to count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from marketplace.agencies.models import Agency
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.ratings import services as ratings
from marketplace.ratings.models import Rating
from marketplace.requests.models import ServiceRequest
from tests import factories as f

BJ = ZoneInfo("Asia/Shanghai")


def month_text(shift: int) -> str:
    """This month (Beijing) moved by `shift` months, as YYYY-MM."""
    t = datetime.now(BJ)
    i = t.year * 12 + t.month - 1 + shift
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def at(month: str, day: int, hour: int = 10) -> datetime:
    return datetime(int(month[:4]), int(month[5:]), day, hour, tzinfo=BJ).astimezone(UTC)


def _set(model, obj_id: int, **values) -> None:
    db.session.execute(
        update(model).where(model.id == obj_id).values(**values).execution_options(synchronize_session=False)
    )
    db.session.commit()


def deal(agency, item, region: str, price: int, ceiling: int, deliver=True, accept=True):
    enterprise, _, order = f.accepted_order(
        price,
        agency=agency,
        accept=accept,
        deliver=deliver,
        service_item_id=item.id,
        region_code=region,
        ceiling_fen=ceiling,
    )
    return enterprise, order


def place(
    order, month: str, took_days: float | None, due_days: int = 20, delivered=True, accepted=True
) -> None:
    """Move an order's life into `month`: published on the 2nd, ordered on the 3rd, started on the 4th."""
    start = at(month, 4)
    due = start + timedelta(days=due_days)
    _set(ServiceRequest, order.request_id, published_at=at(month, 2), created_at=at(month, 1))
    values = dict(
        created_at=at(month, 3), started_at=start, due_at=due, original_due_at=due, reckoned_due_at=due
    )
    if delivered:
        values["delivered_at"] = start + timedelta(days=took_days)
    elif due < datetime.now(UTC):
        values["deadline_flag"] = "red"  # the clock's light on an order past due
    if accepted:
        values["accepted_at"] = values["delivered_at"] + timedelta(days=1)
    _set(Order, order.id, **values)
    if accepted:  # a rating follows a day after the acceptance
        db.session.execute(
            update(Rating)
            .where(Rating.order_id == order.id)
            .values(created_at=values["accepted_at"] + timedelta(days=1))
        )
        db.session.commit()


def rate(enterprise, order, overall: int) -> None:
    scores = dict.fromkeys(("quality", "timeliness", "attitude", "fee", "compliance"), overall)
    ratings.rate_order(enterprise, order.id, {"overall": overall, **scores, "comment": "服务规范"})
    db.session.commit()


def build() -> dict:
    """The market; returns the months and the agencies' ids."""
    m0, m1, m2 = month_text(-3), month_text(-2), month_text(-1)
    guided = f.guided_item()
    market = f.market_item("C03")
    a = f.active_agency("C03")
    b = f.active_agency(guided.category.code)
    c = f.active_agency("C17")  # seated outside the market's area, admitted this month
    f.pending_agency("C03")  # not a member
    f.offer(a, market)
    _set(Agency, a.agency.id, region_code="320106", approved_at=at(m0, 1) - timedelta(days=30))
    _set(Agency, b.agency.id, region_code="320705", approved_at=at(m1, 10))
    _set(Agency, c.agency.id, region_code="310104", approved_at=datetime.now(UTC) - timedelta(hours=1))

    guide_price = (guided.guide_min_fen + guided.guide_max_fen) // 2
    e1, d1 = deal(a, market, "320703", 20_000_000, 30_000_000)
    rate(e1, d1, 5)
    place(d1, m0, took_days=10)
    e2, d2 = deal(a, market, "320506", 25_000_000, 30_000_000)
    rate(e2, d2, 3)
    place(d2, m1, took_days=25.5)  # late: due after 20 days
    e3, d3 = deal(b, guided, "320703", guide_price - 1_000, guided.guide_max_fen)
    rate(e3, d3, 4)
    place(d3, m1, took_days=5)
    _, d4 = deal(b, guided, "320102", guide_price, guided.guide_max_fen, deliver=False, accept=False)
    place(d4, m2, took_days=None, delivered=False, accepted=False)  # overdue, still in progress
    _, d5 = deal(a, market, "320703", 22_000_000, 30_000_000)
    place(d5, m2, took_days=3)
    _set(Order, d5.id, status="declined")  # void: never a deal
    waiting = f.published_request(selection_method="direct", region_code="320506")
    _set(ServiceRequest, waiting.id, published_at=at(m2, 20))
    _complaints(e1, e3, d1, d3, a, (m0, m1, m2))
    db.session.expire_all()
    return {"months": (m0, m1, m2), "agencies": (a.agency.id, b.agency.id, c.agency.id)}


def _complaints(e1, e3, d1, d3, a, months) -> None:
    """Three complaints about orders: upheld (filed in m1, decided 6 days later), dismissed (m2), still open (m2);
    the orders' projects lie in 320703 (Lianyungang)."""
    from marketplace.complaints import services as complaints
    from marketplace.complaints.models import Complaint

    m0, m1, m2 = months
    supervisor = f.staff("supervisor")
    text = {
        "category": "quality",
        "text": "评估报告内容与现场实际情况明显不符，多处数据引用错误，请主管部门核查处理。",
    }
    upheld = complaints.file_complaint(e1, {"target_type": "order", "target_id": d1.id} | text)
    complaints.accept(supervisor, upheld.id)
    complaints.uphold(supervisor, upheld.id, "经调查，投诉属实，责令整改。")
    dismissed = complaints.file_complaint(e3, {"target_type": "order", "target_id": d3.id} | text)
    complaints.accept(supervisor, dismissed.id)
    complaints.dismiss(supervisor, dismissed.id, "经调查，报告符合规范，投诉不成立。")
    waiting = complaints.file_complaint(e1, {"target_type": "agency", "target_id": a.agency.id} | text)
    db.session.commit()
    _set(Complaint, upheld.id, filed_at=at(m1, 3), decided_at=at(m1, 9))
    _set(Complaint, dismissed.id, filed_at=at(m2, 4), decided_at=at(m2, 5))
    _set(Complaint, waiting.id, filed_at=at(m2, 6))
