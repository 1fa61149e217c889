"""One prepared market with an object of every kind, for the tests that walk every route (tests/routes.py).

At its centre is a request under sealed bidding with two bids whose prices, plans and bidders are distinctive
enough to be searched for in any page. Around it: a draft, a request under publicity (with a dismissed
objection), and the rival agency's history with the same enterprise — an order accepted, rated, paid offline
(with a voucher) and flagged by the fee audit (its bid was above the agency's own published price, with a
delivered file), an order under way and an order delivered. The two sealed bidders take part in nothing else,
so their names may appear only where agencies are listed as such.

`build()` returns plain ids and strings (no ORM objects), so the tests can read them at any time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from marketplace.agencies import membership
from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.fees.models import FeeFlag
from marketplace.orders import contracts
from marketplace.orders import services as orders
from marketplace.payments import services as payments
from marketplace.ratings import moderation
from marketplace.ratings import services as ratings
from marketplace.requests import objections
from marketplace.requests import services as requests
from tests import factories as f
from tests import timetravel
from tests.ocds import make_all_months

SEALED_PRICE = 17_654_321  # ¥176,543.21
OTHER_SEALED_PRICE = 21_987_653  # ¥219,876.53
PLAN = "秘密方案甲：无人机航测结合人工智能识别，建立三维实景模型后编制报告书。"
OTHER_PLAN = "秘密方案乙：卫星遥感反演结合走航监测，逐日比对污染物浓度。"
SEALED_TITLE = "封标测试：徐圩新区化工园区配套管廊项目环境影响评价"
SEALED_CODE = "2026-320700-26-01-654321"
CONTRACT_CODE = "HT-LYG-2026-0099"
COMPLAINT_PHONE = "13700000000"  # the complainant's private contact: staff and the complainant only
BANK_ACCOUNT = "6216610500001234567"  # the rival's: shown to the owner paying it, nowhere public
CEILING = 30_000_000


@dataclass(frozen=True)
class Agency:
    user_id: int
    email: str
    agency_id: int
    name: str
    uscc: str
    qualification_id: int


@dataclass(frozen=True)
class Market:
    admin_email: str
    owner_email: str
    bidder: Agency  # the sealed bid at SEALED_PRICE with PLAN
    co_bidder: Agency  # the other sealed bid at OTHER_SEALED_PRICE with OTHER_PLAN
    rival: Agency  # "another agency": bids on nothing open, but has its own store, orders and history
    category_id: int
    item_id: int  # the sealed request's service item
    guided_item_id: int
    sealed_request_id: int
    sealed_bid_id: int
    other_sealed_bid_id: int
    draft_request_id: int
    publicity_request_id: int
    done_request_id: int
    done_order_id: int  # accepted, rated, paid, flagged; has a delivered file
    running_order_id: int  # in progress, under a contract signed on the platform, an extension asked
    contract_id: int  # the running order's contract (its file: the parties and staff only)
    delivered_order_id: int  # delivered, waiting for acceptance
    delivered_file_key: str
    offer_id: int
    rating_id: int
    payment_id: int
    flag_id: int
    objection_id: int
    practitioner_id: int  # the bidder's (approved) practitioner
    complaint_id: (
        int  # the owner's complaint about the rival: accepted and answered, with files on both sides
    )
    complaint_number: str
    complaint_file_ids: list
    change_id: int  # the rival's change under review
    inspection_id: int  # a random inspection drawn, recorded (one failed item, an evidence file) and closed
    planned_inspection_id: int  # one planned, not drawn
    appeal_id: int  # the rival's pending appeal against a conduct record, with an evidence file
    appeal_file_key: str
    repair_id: int  # the rival's pending credit repair of an older conduct record
    list_entry_id: int  # the objector's black-list entry (its period ends in make_everything_due)
    report_id: int  # last month's monthly report of the market's area (with its PDF)


def _agency(user) -> Agency:
    a = user.agency
    return Agency(user.id, user.email, a.id, a.name, a.uscc, a.qualifications[0].id)


def _won_order(owner, agency, price_fen: int, title: str):
    """A direct pick of `agency`'s bid, through publicity, to an order awaiting confirmation."""
    req = f.published_request(owner, selection_method="direct", title=title)
    bid = f.bid(agency, req, price_fen=price_fen)
    timetravel.past_deadline(req)
    requests.select_winner(owner, req.id, bid.id, "技术方案最优，团队经验丰富")
    timetravel.publicity_over(req)
    order = orders.order_for_request(req.id)
    assert order is not None, "publicity ended but no order was made"
    return req, order


def _signed(owner, agency, order):
    """The order's contract uploaded by the owner and confirmed by the agency, with the contract step on."""
    config = current_app.config
    step, config["MARKET_CONTRACT_STEP"] = config["MARKET_CONTRACT_STEP"], True
    try:
        today = now().date()
        terms = {
            "code": CONTRACT_CODE,
            "amount_fen": order.amount_fen,
            "start_date": today,
            "end_date": today + timedelta(days=90),
        }
        contract = contracts.upload_contract(owner, order.id, terms, (io.BytesIO(f.PDF), "签署合同.pdf"))
        contracts.confirm_contract(agency, order.id)
        contracts.request_extension(
            agency, order.id, today + timedelta(days=200), "业主补充资料滞后，申请顺延工期"
        )
    finally:
        config["MARKET_CONTRACT_STEP"] = step
    return contract


def build() -> Market:
    admin = f.admin()
    owner = f.user("enterprise", org_name="封标业主港口建设集团有限公司")
    bidder = f.active_agency("C03", reviewer=admin, org_name="秘标甲环境科技有限公司")
    co_bidder = f.active_agency("C03", reviewer=admin, org_name="秘标乙生态咨询有限公司")
    rival = f.active_agency("C03", reviewer=admin, org_name="公开丙工程咨询有限公司")
    objector = f.active_agency("C03", reviewer=admin, org_name="连云港市异议人环境咨询有限公司")
    item = f.market_item()
    offer = f.offer(rival, item, price_fen=2_000_000)

    # The rival's history with the owner.
    done_req, done = _won_order(owner, rival, 10_000_000, "连云港港区航道整治工程环境影响评价")
    orders.confirm(rival, done.id)
    orders.deliver(rival, done.id, "提交成果报告", files=[(io.BytesIO(f.PDF), "成果报告.pdf")])
    orders.accept(owner, done.id)
    rating = ratings.rate_order(
        owner,
        done.id,
        {"overall": 4, "quality": 4, "timeliness": 5, "attitude": 4, "fee": 4, "compliance": 4}
        | {"comment": "报告质量较好，沟通及时。"},
    )
    moderation.report_comment(
        rival, rating.id, "评价内容与事实不符"
    )  # waits on the operators' moderation list
    payment = payments.record_offline(
        owner, done.id, reference="HX20261122-0001", voucher=(io.BytesIO(f.PDF), "回单.pdf")
    )
    # Signed on the platform (the contract step): uploaded by the owner, confirmed by the rival; the rival then
    # asks for more time. The rival's bank details are for the owner's transfer form only.
    _, running = _won_order(owner, rival, 9_000_000, "赣榆区海堤加固工程环境影响评价")
    contract = _signed(owner, rival, running)
    membership.update_bank_details(
        rival,
        {"bank_name": "中国银行连云港分行", "account_name": rival.agency.name, "account_no": BANK_ACCOUNT},
    )
    _, delivered = _won_order(owner, rival, 8_000_000, "灌云县污水处理厂扩建工程环境影响评价")
    orders.confirm(rival, delivered.id)
    orders.deliver(rival, delivered.id, "提交报告书送审稿")

    # A result under publicity, with an objection lodged and dismissed.
    pub = f.published_request(owner, selection_method="direct", title="东海县产业园规划环境影响评价")
    pub_bid = f.bid(rival, pub, price_fen=7_000_000)
    f.bid(objector, pub, price_fen=7_500_000)  # only a bidder of the round may object
    timetravel.past_deadline(pub)
    requests.select_winner(owner, pub.id, pub_bid.id, "报价最低，方案可行")
    objection = objections.lodge_objection(
        objector, pub.id, "qualification", "中选机构业绩材料存在疑问，请核查其业绩证明的真实性。"
    )
    objections.resolve_objection(admin, objection.id, False, "经核查材料属实，异议不成立。")

    draft = requests.create_request(
        owner, f.request_data(title="草稿：灌南县化工园区安全评价"), publish=False
    )

    # The sealed request: two bids nobody but their bidders may see before the deadline.
    sealed = f.published_request(owner, title=SEALED_TITLE, project_code=SEALED_CODE, ceiling_fen=CEILING)
    bid = f.bid(bidder, sealed, price_fen=SEALED_PRICE, plan=PLAN)
    other = f.bid(co_bidder, sealed, price_fen=OTHER_SEALED_PRICE, plan=OTHER_PLAN)

    # A complaint by the owner about the rival, accepted, answered by the rival; evidence on both sides.
    from marketplace.complaints import services as complaints

    complaint = complaints.file_complaint(
        owner,
        {
            "target_type": "agency",
            "target_id": rival.agency.id,
            "category": "fee",
            "contact_phone": COMPLAINT_PHONE,
        }
        | {"text": "该机构以加急为由另行收取费用，未在合同中约定，请核查处理。"},
        [(io.BytesIO(f.PDF), "收据.pdf")],
    )
    complaints.accept(admin, complaint.id)
    complaints.answer(
        rival, complaint.id, "加急费用经业主书面同意，附确认单。", [(io.BytesIO(f.PDF), "确认单.pdf")]
    )
    db.session.commit()  # like a boundary: the evidence files take their place

    flag = db.session.scalar(select(FeeFlag).where(FeeFlag.request_id == done_req.id))
    assert flag is not None, "the over-offer bid raised no fee flag"
    key = orders.get_order(owner, done.id).events[1].files[0]["key"]
    from marketplace.agencies import changes

    change = changes.propose_legal_rep(rival, "周新民")
    inspection, planned = _inspections()
    appeal, repair, entry = _credit_records(admin, rival, objector)
    from marketplace.reports import services as reports
    from marketplace.reports.models import MonthlyReport

    area, month = current_app.config["MARKET_AREA_CODE"], reports.last_month()
    # On the first days of a month the clock (run by timetravel above) has made last month's report already.
    report = reports.generate(area, month) or db.session.scalar(
        select(MonthlyReport).where(MonthlyReport.area_code == area, MonthlyReport.month == month)
    )
    db.session.commit()
    make_all_months()  # the open data's monthly packages, as the clock keeps them
    market = Market(
        admin_email=admin.email,
        owner_email=owner.email,
        bidder=_agency(bidder),
        co_bidder=_agency(co_bidder),
        rival=_agency(rival),
        category_id=item.category_id,
        item_id=item.id,
        guided_item_id=f.guided_item().id,
        sealed_request_id=sealed.id,
        sealed_bid_id=bid.id,
        other_sealed_bid_id=other.id,
        draft_request_id=draft.id,
        publicity_request_id=pub.id,
        done_request_id=done_req.id,
        done_order_id=done.id,
        running_order_id=running.id,
        contract_id=contract.id,
        delivered_order_id=delivered.id,
        delivered_file_key=key,
        offer_id=offer.id,
        rating_id=rating.id,
        payment_id=payment.id,
        flag_id=flag.id,
        objection_id=objection.id,
        practitioner_id=bidder.agency.practitioners[0].id,
        change_id=change.id,
        inspection_id=inspection.id,
        planned_inspection_id=planned.id,
        appeal_id=appeal.id,
        appeal_file_key=appeal.evidence[0]["key"],
        repair_id=repair.id,
        list_entry_id=entry.id,
        report_id=report.id,
        complaint_id=complaint.id,
        complaint_number=complaint.number,
        complaint_file_ids=[x.id for x in complaint.files],
    )
    from marketplace.search import backends

    backends.reindex()  # the search answers only once its index is built (never on a request)
    return market


def _inspections():
    """A random inspection of the C03 members, closed with one failed item, and one only planned."""
    from marketplace.inspections import register
    from marketplace.inspections import services as inspections

    supervisor = f.staff("supervisor")
    for n, name in enumerate(("钱卫东", "孙丽华")):
        register.add_inspector(
            supervisor, {"name": name, "department": "市生态环境局", "certificate_no": f"3207001{n:04d}"}
        )
    plan = {"title": "环评机构双随机抽查", "category_id": f.category("C03").id, "agency_count": 2}
    task = inspections.create_task(
        supervisor, plan | {"inspectors_per_agency": 1, "checklist": ["资质有效", "收费合规"]}
    )
    inspections.draw_task(supervisor, task.id)
    for n, target in enumerate(task.targets):
        results = [{"passed": True}, {"passed": n > 0, "notes": None if n else "收费高于公示价"}]
        inspections.record_findings(supervisor, task.id, target.agency_id, {"results": results})
        inspections.add_evidence(supervisor, task.id, target.agency_id, io.BytesIO(f.PDF), "检查记录.pdf")
    inspections.close_task(supervisor, task.id)
    planned = inspections.create_task(supervisor, plan | {"inspectors_per_agency": 2, "title": "第二批抽查"})
    return task, planned


def _credit_records(admin, rival, objector):
    """Credit: the rival appeals a conduct record and asks to repair an older one (100 days back); the objector
    is blacklisted by a supervisor for a month."""
    from marketplace.credit import appeals, services
    from marketplace.credit.models import CreditEvent

    found = {"agency_id": rival.agency.id, "rule": "misconduct", "evidence": f"/agencies/{rival.agency.id}"}
    recent = services.record_conduct(admin, found | {"note": "业绩材料与备案信息不一致。"})
    older = services.record_conduct(admin, found | {"note": "未按规定公示收费标准。"})
    db.session.execute(
        update(CreditEvent).where(CreditEvent.id == older.id).values(at=older.at - timedelta(days=100))
    )
    db.session.expire_all()
    appeal = appeals.file_appeal(
        rival, recent.id, "业绩材料已补正，附主管部门出具的说明。", [(io.BytesIO(f.PDF), "说明.pdf")]
    )
    repair = appeals.apply_repair(
        rival,
        {"event_id": older.id, "statement": "已在门户公示收费标准并整改内部制度。"},
        (io.BytesIO(f.PDF), "信用修复承诺书.pdf"),
    )
    until = (now() + timedelta(days=30)).date()
    entry = services.list_agency(
        admin,
        {
            "agency_id": objector.agency.id,
            "list": "black",
            "reason": "提供虚假业绩材料",
            "basis": "平台管理办法第二十条",
            "until": until,
        },
    )
    db.session.commit()
    return appeal, repair, entry


def make_everything_due(m: Market) -> None:
    """Move the market to where every clock-driven change is due but none has been applied: the sealed
    request's deadline passed (still `bidding`), the publicity ended (still `publicity`), the delivered order
    waited past the acceptance time (still `delivered`), the running order is past its due date (its red light
    not yet recorded)."""
    from marketplace.orders.models import Order
    from marketplace.requests.models import ServiceRequest

    session = db.session
    timetravel.past_deadline(
        session.get(ServiceRequest, m.sealed_request_id), by=timedelta(hours=1), clock=False
    )
    timetravel.publicity_over(session.get(ServiceRequest, m.publicity_request_id), clock=False)
    acceptance = current_app.config["MARKET_ACCEPTANCE_SECONDS"]
    delivered = session.get(Order, m.delivered_order_id)
    # Started its promised days ago (due now) and delivered in time, more than the acceptance period ago.
    timetravel.order_elapsed(delivered, 1.0, clock=False)
    timetravel.delivered_ago(delivered, acceptance + 3600, clock=False)
    timetravel.order_elapsed(session.get(Order, m.running_order_id), 1.5, clock=False)
    from marketplace.credit.models import CreditListEntry

    timetravel._shift(CreditListEntry, m.list_entry_id, clock=False, until=now() - timedelta(hours=1))
