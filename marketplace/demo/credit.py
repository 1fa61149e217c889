"""Demo credit: the market's history already produced its credit events (the listeners heard every order, light,
decline and fee review). This step counts the ratings the demo inserted directly, dates every event when its
cause happened, and plays the supervisors' part through the real services so that every grade A–E shows: an
exemplary agency rated by its department and put on the red list, an agency found with a forged certificate
(capped at D and blacklisted for a year), one found colluding twice and lying (grade E, blacklisted by the
thresholds), and appeals — one upheld, one waiting for the operator. `flask credit rebuild` agrees afterwards."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import exists, select

from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.auth.models import User
from marketplace.common.clock import now
from marketplace.credit import appeals, scores, services
from marketplace.credit.models import AgencyCredit, CreditEvent
from marketplace.demo.common import AGENCY_EMAIL, put
from marketplace.extensions import db
from marketplace.fees.models import FeeFlag
from marketplace.orders.models import Order, OrderStatus
from marketplace.ratings.models import DepartmentRating, Rating
from marketplace.requests.bids import Bid
from marketplace.requests.models import RequestStatus, ServiceRequest

SUPERVISOR, OPERATOR = "jianguan@demo.cn", "yunying@demo.cn"
BASIS = "《市中介服务网上交易平台信用评价管理办法》第十八条"
# A department's commendations (3 points each, the departments' source): six bring any agency with a few good
# ratings and orders to grade A (the source's sub-score is capped at 100)
COMMENDATIONS = (
    "获评市级守信示范中介机构",
    "行业主管部门通报表扬：服务规范、收费透明",
    "参与重大项目审批服务表现突出",
    "年度行业协会评定为优秀会员单位",
    "在工程建设项目审批制度改革中配合审查成效显著",
    "连续两年无投诉、无超期服务记录，获主管部门书面表扬",
)


def load_credit() -> dict[str, int]:
    counts = {"credit_rating_events": _count_ratings()}
    _date_events()
    supervisor = _user(SUPERVISOR)
    operator = _user(OPERATOR)
    if supervisor is None or operator is None:
        return counts
    calm = _calm_agencies()
    top = _exemplary(supervisor, calm)
    d_agency, e_agency, upheld = calm[0], calm[1], calm[2]
    _forged(supervisor, d_agency)
    _colluding(supervisor, e_agency)
    _appeals(supervisor, operator, upheld)
    counts |= {
        "credit_events": db.session.scalar(select(db.func.count(CreditEvent.id))),
        "credit_grades": len(set(db.session.scalars(select(AgencyCredit.grade)))),
        "credit_red_agency": top,
    }
    return counts


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _count_ratings() -> int:
    """The demo inserted its ratings directly (their rating window had closed): count them as the listeners do."""
    n = 0
    for r in db.session.scalars(select(Rating).order_by(Rating.id)):
        n += scores.record_event(
            r.agency_id, "rating", "rating", r.id, points=_stars(r.overall), evidence=f"/agencies/{r.agency_id}",
            at=r.created_at,
        ) is not None  # fmt: skip
    for r in db.session.scalars(select(DepartmentRating).order_by(DepartmentRating.id)):
        n += _department_event(r) is not None
    return n


def _stars(n: int) -> int:
    from marketplace.credit.rules import star_points

    return star_points(n)


def _department_event(r: DepartmentRating):
    return scores.record_event(
        r.agency_id,
        "department_rating",
        "department_rating",
        r.id,
        points=_stars(round((r.quality + r.timeliness) / 2 + 0.01)),
        evidence=f"/orders/{r.order_id}",
        at=r.created_at,
    )


def _date_events() -> None:
    """Each event of the history at the moment its cause happened (all inside the window: sums unchanged)."""
    orders = {o.id: o for o in db.session.scalars(select(Order))}
    flags = {f.id: f for f in db.session.scalars(select(FeeFlag))}
    for e in db.session.scalars(select(CreditEvent)).all():
        at = None
        if e.subject_type == "order" and e.subject_id in orders:
            o = orders[e.subject_id]
            at = {
                "order_completed": o.accepted_at,
                "on_time": o.accepted_at,
                "late": o.accepted_at,
                "order_red": o.due_at,
                "declined": o.updated_at,
                "winner_removed": o.updated_at,
            }.get(e.rule)
        elif e.subject_type == "fee_flag" and e.subject_id in flags:
            at = flags[e.subject_id].reviewed_at
        if at is not None and at < now():
            put(CreditEvent, e.id, at=at)


def _calm_agencies() -> list[int]:
    """Active agencies with no win under publicity and no order waiting to start (the supervisors' findings
    below would pass those on), grade B, not the demo's own agency; in id order."""
    fixed = db.session.scalar(select(User.id).where(User.email == AGENCY_EMAIL))
    publicity = exists().where(
        ServiceRequest.status == RequestStatus.PUBLICITY,
        ServiceRequest.winner_bid_id == Bid.id,
        Bid.agency_id == Agency.id,
    )
    waiting = exists().where(Order.agency_id == Agency.id, Order.status == OrderStatus.AWAITING)
    stmt = (
        select(Agency.id)
        .join(AgencyCredit, AgencyCredit.agency_id == Agency.id)
        .where(Agency.status == AgencyStatus.ACTIVE, Agency.user_id != fixed, ~publicity, ~waiting)
        .where(AgencyCredit.grade == "B", AgencyCredit.negative_count == 0)
        .order_by(Agency.id)
    )
    return list(db.session.scalars(stmt.limit(6)))


def _exemplary(supervisor: User, calm: list[int]) -> int:
    """The agency with the best market and rating record: its department rates its accepted orders (双评价),
    it is commended, and the supervisor puts it on the red list."""
    best = db.session.scalar(
        select(AgencyCredit.agency_id)
        .join(Agency, Agency.id == AgencyCredit.agency_id)
        .where(Agency.status == AgencyStatus.ACTIVE, AgencyCredit.agency_id.not_in(calm[:3] or [0]))
        .order_by(
            (AgencyCredit.enterprise_points + AgencyCredit.market_points).desc(), AgencyCredit.agency_id
        )
        .limit(1)
    )
    admin_id = supervisor.id
    rated = select(DepartmentRating.order_id)
    for order in db.session.scalars(
        select(Order)
        .where(Order.agency_id == best, Order.status == OrderStatus.ACCEPTED, Order.id.not_in(rated))
        .order_by(Order.id)
    ).all():
        rating = DepartmentRating(
            order_id=order.id,
            agency_id=best,
            author_id=admin_id,
            quality=5,
            timeliness=5,
            comment="成果质量高，按期完成，审查一次通过。",
            created_at=(order.accepted_at or now()) + timedelta(days=3),
        )
        db.session.add(rating)
        db.session.flush()
        _department_event(rating)
    row = db.session.get(AgencyCredit, best)
    # commended until its score reaches grade A: how far it has to go depends on the day the demo is loaded (the
    # history is laid out back from today), and three commendations were once not enough
    for note in COMMENDATIONS:
        if row.score >= 90:
            break
        services.record_conduct(
            supervisor,
            {"agency_id": best, "rule": "commendation", "evidence": f"/agencies/{best}", "note": note},
        )
        db.session.refresh(row)
    services.list_agency(
        supervisor,
        {
            "agency_id": best,
            "list": "red",
            "reason": "信用评价优秀，近两年无不良信用记录，服务质量和时效评价名列前茅",
            "basis": BASIS,
            "until": (now() + timedelta(days=365)).date(),
        },
    )
    return best


def _forged(supervisor: User, agency_id: int) -> None:
    services.record_conduct(
        supervisor,
        {
            "agency_id": agency_id,
            "rule": "forged_certificate",
            "evidence": f"/agencies/{agency_id}",
            "note": "入驻材料中的资质证书经发证机关核查系伪造。",
        },
    )
    services.list_agency(
        supervisor,
        {
            "agency_id": agency_id,
            "list": "black",
            "reason": "伪造资质证书骗取入驻，列入失信名单",
            "basis": BASIS + "、《中华人民共和国行政许可法》第七十八条",
            "until": (now() + timedelta(days=365)).date(),
        },
    )


def _colluding(supervisor: User, agency_id: int) -> None:
    findings = [
        ("collusion", "与另一机构在两个项目中报价呈规律性差异，经调查认定串通投标。"),
        ("collusion", "在第二个项目中与同一机构相互约定报价，认定串通投标。"),
        ("false_statement", "投标文件中业绩证明材料虚假。"),
        ("forged_certificate", "项目负责人执业资格证书系伪造。"),
    ] + [("misconduct", "拒不配合监督检查。")] * 6
    row = db.session.get(AgencyCredit, agency_id)
    for rule, note in findings:
        if row.grade == "E":
            break
        services.record_conduct(
            supervisor,
            {"agency_id": agency_id, "rule": rule, "evidence": f"/agencies/{agency_id}", "note": note},
        )
        db.session.refresh(row)


def _appeals(supervisor: User, operator: User, upheld_id: int) -> None:
    """One agency appeals a record the operator then reverses; the demo's own agency has one waiting."""
    fixed = db.session.scalar(select(User).where(User.email == AGENCY_EMAIL))
    first = services.record_conduct(
        supervisor,
        {
            "agency_id": upheld_id,
            "rule": "misconduct",
            "evidence": f"/agencies/{upheld_id}",
            "note": "门户未公示收费标准。",
        },
    )
    agency_user = db.session.get(Agency, upheld_id).user
    appeal = appeals.file_appeal(agency_user, first.id, "收费标准已于店铺首页公示，附截图及公示日期证明。")
    appeals.decide_appeal(
        operator, appeal.id, True, "经核查，该机构已按规定公示收费标准，异议成立，撤销该记录。"
    )
    if fixed is None or fixed.agency is None:
        return
    second = services.record_conduct(
        supervisor,
        {
            "agency_id": fixed.agency.id,
            "rule": "misconduct",
            "evidence": f"/agencies/{fixed.agency.id}",
            "note": "项目负责人与投标文件所列人员不一致。",
        },
    )
    appeals.file_appeal(fixed, second.id, "项目负责人因病更换，已按规定向业主报备并取得书面同意，附报备函。")
