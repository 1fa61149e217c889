"""Demo complaints (投诉) and reports (举报), filed and decided through the services after the market's history:
one upheld with a credit deduction, one dismissed, one refused, one under investigation with the agency's answer,
one received and past its acceptance deadline (red on the supervisor's board), and an anonymous report.

Their dates are moved back afterwards so that the desk shows a believable past (the audit log keeps the moment
the demo was loaded)."""

from __future__ import annotations

import random
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.auth.models import Role, User
from marketplace.common.clock import now
from marketplace.common.workdays import due_after
from marketplace.complaints import services
from marketplace.complaints.models import Complaint
from marketplace.demo.common import ENTERPRISE_EMAIL
from marketplace.extensions import db
from marketplace.orders.models import Order, OrderStatus
from marketplace.requests.models import RequestStatus, ServiceRequest

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _supervisor() -> User:
    return db.session.scalar(
        select(User).where(User.role == Role.SUPERVISOR).order_by(User.id)
    ) or db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))


def _backdate(c: Complaint, filed_days: int, accepted_days: int | None = None, answered_days: int | None = None,
              decided_days: int | None = None) -> None:  # fmt: skip
    t = now()
    cfg = current_app.config
    c.filed_at = t - timedelta(days=filed_days)
    c.accept_due_at = due_after(c.filed_at, cfg["COMPLAINT_ACCEPT_WORKING_DAYS"])
    if accepted_days is not None:
        c.accepted_at = t - timedelta(days=accepted_days)
        c.close_due_at = due_after(c.accepted_at, cfg["COMPLAINT_CLOSE_WORKING_DAYS"])
    if answered_days is not None and c.answered_at is not None:
        c.answered_at = t - timedelta(days=answered_days)
    if decided_days is not None:
        c.decided_at = t - timedelta(days=decided_days)
    for f in c.files:
        f.at = c.answered_at if f.role == "answer" and c.answered_at else c.filed_at


def _evidence(name: str) -> list:
    import io

    return [(io.BytesIO(PDF), name)]


def load_complaints(rng: random.Random) -> dict[str, int]:
    supervisor = _supervisor()
    owner = _user(ENTERPRISE_EMAIL)
    orders = list(
        db.session.scalars(
            select(Order)
            .where(Order.enterprise_id == owner.enterprise.id, Order.status == OrderStatus.ACCEPTED)
            .order_by(Order.id)
        )
    )
    by_agency = {o.agency_id: o for o in orders if o.agency.status == AgencyStatus.ACTIVE}
    picked = list(by_agency.values())[:2]
    others = list(
        db.session.scalars(
            select(Agency)
            .where(Agency.status == AgencyStatus.ACTIVE, Agency.id.not_in([o.agency_id for o in picked]))
            .order_by(Agency.id)
        )
    )
    rng.shuffle(others)
    if len(picked) < 2 or len(others) < 3:
        return {"complaints": 0}
    made = []

    # 1. Upheld, with a credit deduction: an extra "expedite fee" outside the contract.
    fee_order = picked[0]
    c = services.file_complaint(
        owner,
        {
            "target_type": "agency",
            "target_id": fee_order.agency_id,
            "category": "fee",
            "text": (
                f"我单位委托该机构承担“{fee_order.request.title}”，合同价已包含全部服务费用。报告送审前，该机构项目负责人"
                "以“加急出具报告”为由要求另行支付加急费2万元，否则延后提交，我单位被迫转账支付。该费用未在合同中约定，"
                "也未开具发票，请依法核查处理。"
            ),
            "contact_name": "刘建华",
            "contact_phone": "02586630125",
            "contact_email": "liujh@example.cn",
        },
        _evidence("加急费转账回单.pdf"),
    )
    services.accept(supervisor, c.id)
    services.answer(
        fee_order.agency.user,
        c.id,
        "该笔费用系项目组为压缩工期增加人员加班产生，事先已与业主经办人口头沟通。我机构已认识到未签订补充协议的问题，"
        "愿意退还该笔费用并整改收费流程。",
        _evidence("情况说明.pdf"),
    )
    services.uphold(
        supervisor,
        c.id,
        "经调取合同、转账记录并约谈双方，该机构在合同价款之外以加急为由收取费用2万元，无补充协议、未开具发票，"
        "违反中介服务收费管理规定。责令其7日内全额退还，并扣减信用分10分。",
        ["credit"],
        10,
    )
    _backdate(c, 41, accepted_days=39, answered_days=33, decided_days=12)
    made.append(c)

    # 2. Dismissed: the owner thought the report late, but the clock had stopped for its own missing data.
    late_order = picked[1]
    c = services.file_complaint(
        owner,
        {
            "target_type": "order",
            "target_id": late_order.id,
            "category": "overdue",
            "text": (
                f"“{late_order.request.title}”约定服务时限内未提交成果，我单位多次催促，机构以资料不全为由拖延，"
                "影响项目审批进度，请督促处理。"
            ),
            "contact_name": "刘建华",
            "contact_phone": "02586630125",
        },
    )
    services.accept(supervisor, c.id)
    services.answer(
        late_order.agency.user,
        c.id,
        "业主单位补充的地勘资料于合同约定日期后两周才提供，期间服务时限依约顺延，往来函件附后。资料到齐后我机构"
        "按期提交了成果。",
        _evidence("资料交接函件.pdf"),
    )
    services.dismiss(
        supervisor,
        c.id,
        "经核查往来函件，服务时限因业主补充资料延迟依约顺延，机构在顺延后的期限内提交了成果，投诉事项不成立。"
        "建议双方今后以书面方式确认资料交接时间。",
    )
    _backdate(c, 30, accepted_days=28, answered_days=24, decided_days=6)
    made.append(c)

    # 3. Refused: an agency complaining about an announcement, but about a matter already before a court.
    complainant = others[0]
    req = db.session.scalar(
        select(ServiceRequest)
        .where(ServiceRequest.status.in_([RequestStatus.AWARDED, RequestStatus.FAILED]))
        .order_by(ServiceRequest.id.desc())
    )
    if req is not None:
        c = services.file_complaint(
            complainant.user,
            {
                "target_type": "request",
                "target_id": req.id,
                "category": "tailored",
                "text": (
                    "该公告要求“近三年在本市完成同类项目不少于5个且单个合同额不低于50万元”，明显高于项目实际需要，"
                    "符合条件的机构仅有一两家，涉嫌量身定制资格条件，排斥潜在竞争者。"
                ),
            },
        )
        services.refuse(
            supervisor,
            c.id,
            "经核实，投诉人已就同一事项向人民法院提起诉讼并已立案，根据有关规定本机关不予受理，请以法院裁判为准。",
        )
        _backdate(c, 20, decided_days=17)
        made.append(c)

    # 4. Under investigation, the agency's answer given: poor quality of a report.
    c = services.file_complaint(
        owner,
        {
            "target_type": "agency",
            "target_id": others[1].id,
            "category": "quality",
            "text": (
                "该机构提交的评估报告存在多处数据前后矛盾，引用的监测数据已过有效期，经专家评审两次退回修改，"
                "严重影响我单位项目报批，请监管部门核查其执业质量。"
            ),
            "contact_name": "王丽",
            "contact_phone": "13905171234",
        },
        _evidence("专家评审意见.pdf"),
    )
    services.accept(supervisor, c.id)
    _backdate(c, 9, accepted_days=7)
    made.append(c)

    # 5. Received and not yet accepted, past its acceptance deadline: red on the supervisor's board.
    c = services.file_complaint(
        others[2].user,
        {
            "target_type": "agency",
            "target_id": others[1].id,
            "category": "misconduct",
            "text": (
                "该机构在比选中提交的项目负责人注册证书编号与我机构在职人员证书编号一致，疑似冒用他人执业资格，"
                "请核查其投标材料的真实性。"
            ),
            "contact_name": "周强",
            "contact_phone": "13813981234",
        },
        _evidence("证书查询截图.pdf"),
    )
    _backdate(c, 12)
    made.append(c)

    # 6. An anonymous report (举报): contact details for the supervisor only.
    c = services.file_report(
        None,
        {
            "target_type": "agency",
            "target_id": others[0].id,
            "category": "misconduct",
            "text": (
                "该机构长期将资质出借给无资质的个人团队承接业务，报告上签字的注册人员从未到过项目现场，"
                "实际编制人员不在该机构缴纳社保。知情人举报，请调查。"
            ),
            "contact_phone": "13700001111",
        },
    )
    _backdate(c, 2)
    made.append(c)
    db.session.flush()
    return {"complaints": sum(1 for x in made if x.kind.value == "complaint"), "reports": 1}
