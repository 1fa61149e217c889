"""A year of market history for the demo: requests, sealed bids, verifiable draws, publicity, objections, orders.

Every story is played through the real services, so each rule is checked, each draw is the real one and each
state change is in the audit log. The services read the clock, so a story is played at today's time (with
deadlines in the future while bids come in, then moved just into the past so that closing, award and
auto-acceptance happen) and afterwards every date of its rows — request, bids and their versions, objections,
orders and their events — is moved to where the story belongs in the past year with plain UPDATEs. Just before
an order is accepted, its start, due date and delivery get the story's spacing (moved to end now), because that
is when the running statistics count its time taken and lateness: they then agree with `flask stats rebuild`.
The audit log is never touched: its entries keep the real loading time.

Draw seeds come from the seeded generator (written over the random one right after publishing, before any
draw), so the same seed gives the same rows; the dates follow today's date.
"""

from __future__ import annotations

import hashlib
import math
import random
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import selectinload

from marketplace.agencies.models import Agency, AgencyStatus, Offer, QualificationLevel
from marketplace.auth.models import Enterprise, User
from marketplace.bidding import services as bidding
from marketplace.bidding.models import Bid, BidRevision
from marketplace.catalogue.models import ServiceItem
from marketplace.common.clock import now
from marketplace.demo import data
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderEvent, OrderStatus
from marketplace.requests import services as requests
from marketplace.requests.models import (
    Objection,
    RequestStatus,
    SelectionMethod,
    ServiceRequest,
)

DAY = timedelta(days=1)

# --- texts -------------------------------------------------------------------------------------------------

# Projects behind the requests; {place} is a development zone or town of the enterprise's city.
PROJECTS = [
    "{place}年产{n}万吨新能源电池材料项目",
    "{place}年产{n}万吨高性能树脂项目",
    "{place}年产{n}万套汽车零部件智能制造项目",
    "{place}年产{n}万台智能装备项目",
    "{place}{mw}MW分布式光伏发电项目",
    "{place}{mw}MW/{mwh}MWh储能电站项目",
    "{place}污水处理厂提标改造工程",
    "{place}工业污水处理厂（一期）工程",
    "{place}标准厂房（{k}期）建设项目",
    "{place}保障性租赁住房项目",
    "{place}安置房（{k}期）建设工程",
    "{place}冷链物流中心项目",
    "{place}港区物流仓储项目",
    "{place}数据中心项目",
    "{place}综合管廊工程",
    "{place}生物医药产业园项目",
    "{place}科创园（{k}期）建设项目",
    "{place}快速路改造工程",
    "{place}主干路新建工程",
    "{place}河道综合整治工程",
    "{place}人民医院新院区建设项目",
    "{place}实验学校新建工程",
    "{place}危险废物综合利用项目",
    "{place}码头泊位工程",
    "{place}农贸市场改造工程",
    "{place}老旧小区改造工程",
    "{place}文体中心建设项目",
    "{place}食品加工产业园项目",
]

SCOPE_REQUIREMENTS = [
    "成果文件须通过主管部门组织的技术审查并取得审批（备案）文件，审查未通过的免费修改至通过。",
    "提交成果文件纸质版6份及电子版1份，服务期内按业主要求参加项目协调会。",
    "服务期限自合同签订之日起计算，业主提供资料的时间不计入服务期限。",
    "成果须符合现行国家和江苏省相关技术规范，并配合业主完成后续审批咨询。",
    "报价包含专家评审、资料打印装订等全部费用，不得另行收取任何费用。",
]

PLAN_TITLES = ["高级工程师", "正高级工程师", "工程师", "项目经理", "技术负责人"]
PLAN_PROMISES = [
    "成果通过审查前免费修改。",
    "项目负责人全程驻场对接，每周报送工作进度。",
    "报价已含专家评审及全部税费，不另行收费。",
    "可根据项目审批节点安排加急。",
    "设内部三级审核，确保一次通过技术审查。",
    "承诺不转包、不分包。",
]

# Progress stages per category, in the order the work goes.
STAGES = {
    "C01": [
        "现场调研完成，已收集项目基础资料",
        "市场分析与建设方案论证完成",
        "投资估算与经济评价测算中",
        "报告初稿编制完成，内部审核中",
        "专家评审会已召开，按评审意见修改完善",
    ],
    "C02": [
        "用能现状调查完成",
        "能耗数据收集与核算完成",
        "节能措施分析与能效评价中",
        "报告初稿完成，内部审核中",
        "已按节能审查意见修改",
    ],
    "C03": [
        "现场踏勘完成，已收集项目设计资料",
        "环境现状监测采样完成，等待检测报告",
        "工程分析完成，报告初稿编制中",
        "公众参与第二次公示已完成",
        "报告初稿完成，内部三级审核中",
        "技术评估专家评审会已召开，按专家意见修改中",
    ],
    "C04": [
        "现场勘查完成",
        "危险有害因素辨识完成",
        "定性定量评价计算中",
        "报告初稿完成，内部审核中",
        "专家评审会已召开，按评审意见修改",
    ],
    "C05": [
        "现场职业卫生调查完成",
        "职业病危害因素检测采样完成",
        "检测数据分析与评价中",
        "报告初稿编制完成",
        "专家评审意见修改中",
    ],
    "C06": [
        "现场查勘完成，已收集水文气象资料",
        "水文分析计算完成",
        "方案（报告）初稿编制中",
        "初稿完成，内部审核中",
        "技术审查会已召开，按审查意见修改",
    ],
    "C07": [
        "资料收集与野外调查完成",
        "地质测绘完成",
        "钻探与室内试验完成",
        "评估报告编制中",
        "专家评审意见修改中",
    ],
    "C08": [
        "控制测量完成",
        "外业调查完成",
        "外业数据采集完成，内业成图中",
        "成果自检完成，已提交质检",
        "质检意见修改完成",
    ],
    "C09": [
        "现状调研与基础资料收集完成",
        "初步方案完成，与业主沟通中",
        "多方案比选完成",
        "成果文件编制中",
        "规划审查意见修改中",
    ],
    "C10": [
        "现场踏勘完成",
        "勘察外业完成，土工试验中",
        "方案设计完成",
        "施工图设计中",
        "审图意见回复修改中",
    ],
    "C11": [
        "资料收集与审核完成",
        "工程量计算完成",
        "计价与清单编制中",
        "初稿完成，内部复核中",
        "与业主及施工单位核对完成",
    ],
    "C12": [
        "检测方案已与业主确认",
        "现场取样与检测完成",
        "实验室检测中",
        "数据分析完成，报告编制中",
    ],
    "C13": [
        "现场检查完成",
        "消防设施功能测试完成",
        "问题清单已反馈业主",
        "报告编制中",
    ],
    "C14": [
        "现场勘察完成",
        "接地电阻等现场测试完成",
        "雷电风险计算分析中",
        "报告编制中",
    ],
    "C15": [
        "资料审查完成",
        "现场检验完成",
        "安全性能试验完成",
        "检验报告编制中",
    ],
    "C16": [
        "现场查勘完成",
        "市场调查与案例收集完成",
        "评定估算中",
        "报告初稿完成，内部审核中",
    ],
    "C17": [
        "审计计划已确定",
        "现场审计完成",
        "账表核对与问题沟通中",
        "审计报告初稿完成，征求意见中",
    ],
    "C18": [
        "资料收集完成",
        "田野调查完成",
        "勘探与记录完成",
        "评估报告编制中",
        "文物部门审查意见修改中",
    ],
}
DEFAULT_STAGES = ["资料收集完成", "外业调查完成", "初稿编制中", "内部审核完成", "专家评审修改"]
REWORK = [
    "已按验收意见补充完善，修改稿复核中",
    "补充调查已完成，正在修改成果文件",
    "已与业主召开沟通会，按意见逐条修改中",
]
DELIVERY_FORMS = ["报批稿", "终稿", "正式报告", "成果文件"]
DISPUTES = [
    "成果文件中的现状数据与项目实际不符，要求补充调查后修改。",
    "报告未按专家评审意见修改到位，请逐条回复并完善。",
    "提交的成果缺少合同约定的附图附件，暂不予验收。",
    "成果文件存在多处引用标准过期，请更新后重新提交。",
]
DECLINES = [
    "项目负责人近期工作饱和，无法按承诺时限完成，申请放弃中选资格。",
    "经复核，本项目需外委的检测内容超出报价范围，无法按报价履约，放弃中选。",
    "因公司承接的其他项目集中交付，人员无法到位，申请放弃。",
]
OBJECTIONS = [
    "中选机构报价明显低于同类项目成本，可能影响服务质量，请核实其报价合理性。",
    "中选机构项目负责人同时承担多个在建项目，请核实其能否按承诺时限完成。",
    "中选机构的资质证书在报价截止前是否有效存疑，请核实。",
    "中选机构与项目业主存在关联关系，请核实是否应当回避。",
]
OBJECTION_DISMISSED = [
    "经核查，中选机构资质有效、报价在限价范围内且不低于成本，异议不成立，维持原结果。",
    "经核查，中选机构与业主不存在关联关系，异议不成立。",
]
OBJECTION_UPHELD = [
    "经核查，中选机构拟派项目负责人同期承担项目超过规定数量，异议成立，由排名下一位递补。",
    "经核查，中选机构与项目业主存在投资关联，应当回避，异议成立，由排名下一位递补。",
]
OPEN_OBJECTION = "中选机构的承诺服务天数明显短于同类项目通常周期，请核实其工作安排是否可行。"
CANCELS = [
    "项目规划调整，暂缓实施，取消本次采购。",
    "项目选址变更，服务范围需重新确定，取消后另行发布。",
    "上级部门统一组织该事项，本次采购取消。",
]
DIRECT_REASONS = [
    "该机构承担过本项目前期咨询工作，熟悉项目情况；报价为最高限价的{pct}%，承诺{days}天完成。",
    "该机构近三年在本地完成同类项目较多，熟悉审批要求；报价为最高限价的{pct}%，承诺{days}天完成。",
    "社会资金项目，经业主内部比选，该机构方案最完整，报价为最高限价的{pct}%，承诺{days}天完成。",
]
EXCLUSIONS = [
    "该机构曾为本项目编制前期技术文件，存在利益冲突，依规回避。",
    "该机构法定代表人与本单位存在近亲属关系，依规回避。",
    "该机构与本项目施工单位存在股权关联，依规回避。",
    "该机构正在接受本单位投诉调查，调查期间回避。",
]
COMPOSITE_WEIGHTS = [
    {"price": 50, "rating": 20, "on_time": 15, "credit": 15},
    {"price": 40, "rating": 25, "on_time": 20, "credit": 15},
    {"price": 60, "rating": 15, "on_time": 10, "credit": 15},
    {"price": 30, "rating": 30, "on_time": 20, "credit": 20},
]
METHOD_WEIGHTS = [
    (SelectionMethod.LOWEST_PRICE, 26),
    (SelectionMethod.RANDOM, 18),
    (SelectionMethod.COMPOSITE, 20),
    (SelectionMethod.AVERAGE_PRICE, 14),
    (SelectionMethod.CREDIT_SHORTLIST, 12),
    (SelectionMethod.DIRECT, 10),
]

# --- what happens: the mix of stories ---------------------------------------------------------------------
# A generic story is (request outcome, order kind); order kinds: awaiting (the agency has not confirmed),
# ok / yellow / red (in progress, by the share of the promised time used), delivered (awaiting acceptance),
# disputed, accepted, late (accepted, delivered after the due date), auto (accepted by silence), redone
# (disputed once, delivered again and accepted).
GENERIC = [
    (("awarded", "accepted"), 72),
    (("awarded", "auto"), 13),
    (("awarded", "late"), 10),
    (("awarded", "redone"), 2),
    (("awarded", "awaiting"), 3),
    (("awarded", "ok"), 9),
    (("awarded", "yellow"), 5),
    (("awarded", "red"), 5),
    (("awarded", "delivered"), 6),
    (("awarded", "disputed"), 3),
    (("failed", None), 15),
    (("evaluating", None), 6),
    (("publicity", None), 6),
    (("bidding", None), 8),
    (("cancelled", None), 1),
    (("cancelled_draft", None), 1),
    (("draft", None), 3),
]
# Failed requests published again (流标后重新发布): the outcome of round 2.
REPUBLISHED = [
    ("awarded", "accepted"),
    ("awarded", "accepted"),
    ("awarded", "late"),
    ("awarded", "auto"),
    ("awarded", "ok"),
    ("failed", None),
    ("bidding", None),
]
DECLINED_STORIES = 2
OBJECTION_STORIES = {"dismissed": 3, "upheld": 2}
LIVE_KINDS = ("awaiting", "ok", "yellow", "red", "delivered", "disputed")
DONE_KINDS = ("accepted", "late", "auto", "redone")

# The fixed accounts' stories. who: "Q" — the fixed enterprise posts it; "Z" — the fixed agency bids;
# "Zwin" — the fixed agency bids and is chosen.
FIXED = [
    # qiye@demo.cn
    dict(who="Q", item="C03-02", outcome="evaluating", method="composite", funding="fiscal", n=5, z="bid"),
    dict(who="Q", item="C06-02", outcome="publicity", method="lowest_price", funding="social", n=4),
    dict(who="Q", item="C03-01", outcome="awarded", kind="ok", method="lowest_price", funding="fiscal", n=5,
         z="win"),
    dict(who="Q", item="C08-01", outcome="awarded", kind="accepted", method="random", funding="fiscal", n=4),
    dict(who="Q", item="C10-01", outcome="awarded", kind="late", method="average_price", funding="fiscal", n=5),
    dict(who="Q", item="C04-01", outcome="awarded", kind="delivered", method="credit_shortlist",
         funding="social", n=4),
    dict(who="Q", item="C05-01", outcome="awarded", kind="auto", method="composite", funding="fiscal", n=4),
    dict(who="Q", item="C13-05", outcome="awarded", kind="accepted", method="lowest_price", funding="social",
         n=3),
    dict(who="Q", item="C09-05", outcome="bidding", method="lowest_price", funding="fiscal", n=2),
    dict(who="Q", item="C07-01", outcome="draft", method="random", funding="fiscal", n=0),
    dict(who="Q", item="C14-02", outcome="failed", method="random", funding="fiscal", n=2,
         then=("bidding", None)),
    dict(who="Q", item="C01-06", outcome="cancelled", method="composite", funding="fiscal", n=1),
    # zhongjie@demo.cn
    dict(who="Z", item="C03-02", outcome="awarded", kind="awaiting", method="direct", funding="social", n=3,
         z="win"),
    dict(who="Z", item="C06-01", outcome="awarded", kind="yellow", method="lowest_price", funding="fiscal",
         n=4, z="win"),
    dict(who="Z", item="C03-03", outcome="awarded", kind="accepted", method="lowest_price", funding="fiscal",
         n=4, z="win"),
    dict(who="Z", item="C03-07", outcome="awarded", kind="auto", method="lowest_price", funding="social", n=3,
         z="win"),
    dict(who="Z", item="C06-02", outcome="awarded", kind="late", method="lowest_price", funding="fiscal", n=3,
         z="win"),
    dict(who="Z", item="C03-08", outcome="awarded", kind="accepted", method="direct", funding="social", n=2,
         z="win"),
    dict(who="Z", item="C06-05", outcome="awarded", kind="accepted", method="random", funding="fiscal", n=4,
         z="bid"),
    dict(who="Z", item="C03-01", outcome="awarded", kind="ok", method="composite", funding="fiscal", n=5,
         z="bid"),
    dict(who="Z", item="C03-04", outcome="bidding", method="lowest_price", funding="social", n=3, z="bid"),
    dict(who="Z", item="C06-03", outcome="evaluating", method="average_price", funding="fiscal", n=4, z="bid"),
    dict(who="Z", item="C03-05", outcome="failed", method="lowest_price", funding="fiscal", n=2, z="bid"),
    dict(who="Z", item="C03-06", outcome="publicity", method="random", funding="fiscal", n=3, z="bid"),
]  # fmt: skip


# --- the stories ------------------------------------------------------------------------------------------


@dataclass
class Bidder:
    agency: Agency
    price_fen: int
    days: int
    plan: str
    revise_to: int | None = None  # a lower price submitted later (a new version)
    withdraw: bool = False
    # filled while playing
    bid_id: int | None = None
    revisions: list[int] = field(default_factory=list)

    @property
    def final_price(self) -> int:
        return self.revise_to or self.price_fen


@dataclass
class Story:
    enterprise: Enterprise
    item: ServiceItem
    outcome: str
    kind: str | None
    funding: str
    method: SelectionMethod
    title: str
    project: str
    project_code: str
    scope: str
    ceiling_fen: int
    floor_fen: int | None
    required_days: int
    level: QualificationLevel | None = None
    weights: dict | None = None
    shortlist: int | None = None
    exclusions: list[tuple[Agency, str]] = field(default_factory=list)
    bidders: list[Bidder] = field(default_factory=list)
    forced_winner: Agency | None = None
    declined: bool = False
    objection: str | None = None  # dismissed / upheld / open
    previous: Story | None = None  # round 1 of a republished request
    successor: Story | None = None
    start_day: int = 0  # planned publishing day (days from today, negative), for the order of play
    # filled while playing
    request_id: int | None = None
    objection_id: int | None = None
    declined_order_id: int | None = None
    order_id: int | None = None
    times: dict = field(default_factory=dict)


class History:
    def __init__(self, rng: random.Random, midnight: datetime) -> None:
        self.rng = rng
        self.midnight = midnight
        self.publicity = timedelta(seconds=current_app.config["MARKET_PUBLICITY_SECONDS"])
        self.acceptance = timedelta(seconds=current_app.config["MARKET_ACCEPTANCE_SECONDS"])
        self.min_bids = current_app.config["MARKET_MIN_BIDS"]
        self.counts = {"requests": 0, "bids": 0, "orders": 0, "objections": 0}
        from marketplace.demo.services import ADMIN_EMAIL, AGENCY_EMAIL, ENTERPRISE_EMAIL

        self.admin = db.session.scalar(select(User).where(User.email == ADMIN_EMAIL))
        self.agencies = list(
            db.session.scalars(
                select(Agency)
                .where(Agency.status == AgencyStatus.ACTIVE)
                .options(
                    selectinload(Agency.categories),
                    selectinload(Agency.qualifications),
                    selectinload(Agency.user),
                )
                .order_by(Agency.id)
            )
        )
        self.fixed_agency = next(a for a in self.agencies if a.user.email == AGENCY_EMAIL)
        enterprises = list(
            db.session.scalars(
                select(Enterprise).options(selectinload(Enterprise.user)).order_by(Enterprise.id)
            )
        )
        self.fixed_enterprise = next(e for e in enterprises if e.user.email == ENTERPRISE_EMAIL)
        self.enterprises = [e for e in enterprises if e is not self.fixed_enterprise]
        self.items = list(
            db.session.scalars(
                select(ServiceItem).options(selectinload(ServiceItem.category)).order_by(ServiceItem.code)
            )
        )
        self.item_by_code = {i.code: i for i in self.items}
        self.offers = {(a, i) for a, i in db.session.execute(select(Offer.agency_id, Offer.service_item_id))}
        # What each agency publishes as its highest price per item: its bids stay within it (the fee audit
        # flags a bid above an agency's own published price).
        self.offer_high = {
            (o.agency_id, o.service_item_id): o.high_fen
            for o in db.session.scalars(select(Offer).options(selectinload(Offer.service_item)))
            if o.high_fen
        }
        # How keen each agency is to bid (some members hardly ever do).
        self.keenness = {a.id: self.rng.choice([0.2, 1.0, 1.0, 1.5, 2.0, 3.0]) for a in self.agencies}
        self.keenness[self.fixed_agency.id] = 2.0
        self.pools: dict = {}
        # Whose account acts for an agency or an enterprise.
        self.users = {a.id: a.user_id for a in self.agencies}
        self.enterprise_users = {e.id: e.user_id for e in enterprises}

    # -- time helpers --------------------------------------------------------------------------------

    def office(self, day: int) -> datetime:
        """A moment of Beijing office hours (01:00–09:59 UTC) on the day `day` days from today."""
        return self.midnight + timedelta(
            days=day, hours=self.rng.randint(1, 9), minutes=self.rng.randint(0, 59)
        )

    def day_of(self, t: datetime) -> int:
        return (t - self.midnight).days

    def later(self, t: datetime, low: int, high: int) -> datetime:
        """A moment `low`..`high` days after t (0: the same day, a little later)."""
        k = self.rng.randint(low, high)
        if k == 0:
            return t + timedelta(minutes=self.rng.randint(20, 240))
        return self.office(self.day_of(t) + k)

    def deadline(self, day: int) -> datetime:
        return self.midnight + timedelta(days=day, hours=1, minutes=30)  # 09:30 in Beijing

    def spread(self, start: datetime, end: datetime, n: int) -> list[datetime]:
        """n sorted moments strictly between start and end: office hours on the days between, when there are
        any, else whole minutes after start."""
        days = list(range(self.day_of(start) + 1, self.day_of(end)))
        if days:
            return sorted(self.office(self.rng.choice(days)) for _ in range(n))
        minutes = max(int((end - start).total_seconds() // 60) - 1, 1)
        return sorted(start + timedelta(minutes=self.rng.randint(1, minutes)) for _ in range(n))

    # -- choosing ----------------------------------------------------------------------------------------

    def weighted(self, pairs):
        values = [v for v, _ in pairs]
        return self.rng.choices(values, weights=[w for _, w in pairs])[0]

    def pool(self, item: ServiceItem, level: QualificationLevel | None) -> list[Agency]:
        """Active members that may bid on the item at this level (the bidding rules themselves decide)."""
        key = (item.id, level)
        if key not in self.pools:
            probe = SimpleNamespace(exclusions=[], service_item=item, required_level=level)
            self.pools[key] = [a for a in self.agencies if not bidding.eligibility_problems(a, probe)]
        return self.pools[key]

    def pick_bidders(
        self, pool: list[Agency], n: int, first: list[Agency], item: ServiceItem
    ) -> list[Agency]:
        chosen = list(first)
        rest = [a for a in pool if a not in chosen]
        while len(chosen) < n and rest:
            weights = [self.keenness[a.id] * (3 if (a.id, item.id) in self.offers else 1) for a in rest]
            agency = self.rng.choices(rest, weights=weights)[0]
            rest.remove(agency)
            chosen.append(agency)
        return chosen

    def pick_item(self, kind: str | None, min_pool: int) -> ServiceItem:
        least = {"yellow": 30}.get(kind, 10 if kind in LIVE_KINDS else 3)
        items = [i for i in self.items if i.standard_days >= least and len(self.pool(i, None)) >= min_pool]
        weights = [data.CATEGORY_WEIGHTS.get(i.category.code, 1) for i in items]
        return self.rng.choices(items, weights=weights)[0]

    # -- prices and texts ----------------------------------------------------------------------------------

    def ceiling(self, item: ServiceItem) -> int:
        if item.is_guided and item.guide_min_fen and item.guide_max_fen:
            low, high = item.guide_min_fen / 100, item.guide_max_fen / 100
            share = self.rng.uniform(0.3, 0.85)
        else:
            band = data.PRICE_BANDS.get(item.code) or data.CATEGORY_PRICE_BANDS.get(
                item.category.code, data.DEFAULT_PRICE_BAND
            )
            low, high = band
            share = self.rng.uniform(0.35, 0.95)
        yuan = math.exp(math.log(low) + share * (math.log(high) - math.log(low)))
        return _nice(yuan * 100)

    def price(self, story: Story, share: float) -> int:
        """A bid's price: to ¥10, as people price bids (whole-hundred prices collide too often)."""
        fen = max(1000, round(story.ceiling_fen * share / 1000) * 1000)
        if story.floor_fen:
            fen = max(fen, story.floor_fen)
        return min(fen, story.ceiling_fen)

    def project(self, enterprise: Enterprise) -> str:
        region = enterprise.region or "南京市"
        areas = data.ENTERPRISE_AREAS.get(region) or [""]
        place = region.removesuffix("市") + self.rng.choice(areas)
        return self.rng.choice(PROJECTS).format(
            place=place,
            n=self.rng.choice([2, 3, 5, 6, 8, 10, 12, 15, 20, 30, 50]),
            mw=self.rng.choice([5, 10, 20, 50, 100]),
            mwh=self.rng.choice([20, 40, 100, 200]),
            k=self.rng.choice(["一", "二", "三"]),
        )

    def project_code(self, enterprise: Enterprise, start_day: int) -> str:
        registered = self.midnight + timedelta(days=start_day - self.rng.randint(20, 240))
        division = enterprise.uscc[2:8]
        return (
            f"{registered:%y%m}-{division}-{self.rng.choice([44, 47, 48, 70, 72, 77, 78, 89])}"
            f"-{self.rng.choice(['01', '01', '02', '03'])}-{self.rng.randint(100000, 999999)}"
        )

    def scope(self, project: str, item: ServiceItem) -> str:
        includes = data.OFFER_INCLUDES.get(item.category.code, data.DEFAULT_INCLUDES)
        picked = sorted(self.rng.sample(range(len(includes)), min(len(includes), self.rng.randint(3, 4))))
        work = "、".join(includes[i] for i in picked)
        serves = f"，用于{item.approval}" if item.approval else ""
        return (
            f"为{project}提供{item.name}服务{serves}。服务内容：{work}。{self.rng.choice(SCOPE_REQUIREMENTS)}"
        )

    def plan(self, item: ServiceItem, days: int) -> str:
        includes = data.OFFER_INCLUDES.get(item.category.code, data.DEFAULT_INCLUDES)
        steps = "、".join(includes[: self.rng.randint(3, len(includes))])
        surname = self.rng.choice(data.SURNAMES)
        return (
            f"拟派{self.rng.randint(3, 8)}人项目组，项目负责人{surname}工（{self.rng.choice(PLAN_TITLES)}，"
            f"从事同类项目{self.rng.randint(5, 20)}年）。工作安排：{steps}，{days}天内提交成果。"
            f"{self.rng.choice(PLAN_PROMISES)}"
        )

    # -- planning ----------------------------------------------------------------------------------------

    def story(
        self,
        outcome: str,
        kind: str | None = None,
        *,
        enterprise: Enterprise | None = None,
        item: ServiceItem | None = None,
        method: SelectionMethod | None = None,
        funding: str | None = None,
        n: int | None = None,
        z: str | None = None,
        declined: bool = False,
        objection: str | None = None,
    ) -> Story:
        fiscal_only = outcome == "failed" or declined or objection == "upheld"
        if funding is None:
            funding = "fiscal" if fiscal_only or self.rng.random() < 0.6 else "social"
        if method is None:
            choices = METHOD_WEIGHTS
            if outcome == "failed" or declined or objection:
                choices = [(m, w) for m, w in METHOD_WEIGHTS if m != SelectionMethod.DIRECT]
            method = self.weighted(choices)
        strict = funding == "fiscal" and method != SelectionMethod.DIRECT
        need = {
            "awarded": self.min_bids if strict else 1,
            "publicity": self.min_bids if strict else 1,
            "evaluating": self.min_bids if strict else 2,
        }.get(outcome, 0)
        if declined or objection:
            need = max(need, 2)
        if outcome == "failed":
            need = self.min_bids  # enough members could have bid; too few did
        enterprise = enterprise or self.rng.choice(self.enterprises)
        item = item or self.pick_item(kind, max(need, 1))
        pool = self.pool(item, None)

        level = None
        if self.rng.random() < 0.25:
            candidate = self.rng.choice(
                [QualificationLevel.A, QualificationLevel.B, QualificationLevel.B, QualificationLevel.NONE]
            )
            narrowed = self.pool(item, candidate)
            if len(narrowed) >= need + 1 and (z is None or self.fixed_agency in narrowed):
                level, pool = candidate, narrowed
        fixed = [self.fixed_agency] if z else []

        exclusions = []
        others = [a for a in pool if a not in fixed]
        if others and len(pool) > need + 1 and self.rng.random() < 0.1:
            excluded = self.rng.choice(others)
            exclusions.append((excluded, self.rng.choice(EXCLUSIONS)))
            pool = [a for a in pool if a is not excluded]

        if n is None:
            top = min(len(pool), 7 if strict else 5)
            n = {
                "failed": min(self.rng.choice([0, 1, 1, 2, 2, 2]), self.min_bids - 1),
                "bidding": self.rng.randint(0, min(5, len(pool))),
                "cancelled": self.rng.randint(0, min(2, len(pool))),
                "draft": 0,
                "cancelled_draft": 0,
            }.get(outcome)
            if n is None:
                n = self.rng.randint(need, max(need, top))
        if outcome in ("awarded", "publicity", "evaluating"):
            n = max(n, need)
        n = min(n, len(pool))

        required = max(3, round(item.standard_days * self.rng.uniform(0.7, 1.0)))
        if kind == "yellow":
            required = max(required, 22)
        ceiling = self.ceiling(item)
        floor = None
        if z != "win" and self.rng.random() < 0.3:
            floor = _nice(ceiling * self.rng.uniform(0.55, 0.7))
        if outcome in ("awarded", "failed") and kind not in LIVE_KINDS:
            start_day = -self.rng.randint(required + 25, 345)
        elif outcome == "awarded":
            start_day = -(required + 25)
        else:
            start_day = {
                "draft": -self.rng.randint(1, 20),
                "cancelled_draft": -self.rng.randint(30, 90),
                "cancelled": -self.rng.randint(20, 200),
                "bidding": -5,
            }.get(outcome, -15)
        project = self.project(enterprise)
        story = Story(
            enterprise=enterprise,
            item=item,
            outcome=outcome,
            kind=kind,
            funding=funding,
            method=method,
            title=f"{project}{item.name}",
            project=project,
            project_code=self.project_code(enterprise, start_day),
            scope=self.scope(project, item),
            ceiling_fen=ceiling,
            floor_fen=floor,
            required_days=required,
            level=level,
            exclusions=exclusions,
            forced_winner=self.fixed_agency if z == "win" else None,
            declined=declined,
            objection=objection,
            start_day=start_day,
        )
        if method == SelectionMethod.COMPOSITE:
            story.weights = dict(self.rng.choice(COMPOSITE_WEIGHTS))
        if method == SelectionMethod.CREDIT_SHORTLIST:
            story.shortlist = self.rng.choice([2, 3, 3, 4])
        self.add_bidders(story, pool, n, fixed)
        return story

    def add_bidders(self, story: Story, pool: list[Agency], n: int, fixed: list[Agency]) -> None:
        item = story.item
        least_days = {"yellow": 18}.get(story.kind, 5 if story.kind in LIVE_KINDS else 2)
        least_days = min(least_days, story.required_days)
        # Agencies whose published price is far below this project's scale stay away from it.
        fitting = [
            a
            for a in pool
            if a in fixed or self.offer_high.get((a.id, item.id), 10**15) >= 0.6 * story.ceiling_fen
        ]
        if len(fitting) >= n + 1:
            pool = fitting
        agencies = self.pick_bidders(pool, n, fixed, item)
        if len(pool) > n and story.outcome not in ("draft", "cancelled_draft") and self.rng.random() < 0.1:
            extra = self.pick_bidders([a for a in pool if a not in agencies], 1, [], item)
            agencies += extra  # this one will withdraw before the deadline
            withdrawing = extra[0] if extra else None
        else:
            withdrawing = None
        for agency in agencies:
            days = self.rng.randint(
                max(least_days, math.ceil(story.required_days * 0.6)), story.required_days
            )
            share = self.rng.triangular(0.72, 0.98, 0.9)
            high = self.offer_high.get((agency.id, item.id))
            if high and high < story.ceiling_fen * share:  # within its own published price
                share = high * self.rng.uniform(0.93, 1.0) / story.ceiling_fen
            bidder = Bidder(agency, self.price(story, share), days, self.plan(item, days))
            if self.rng.random() < 0.12:
                lower = self.price(story, share * self.rng.uniform(0.94, 0.98))
                if lower < bidder.price_fen:
                    bidder.revise_to = lower
            bidder.withdraw = agency is withdrawing
            story.bidders.append(bidder)
        if story.forced_winner is not None:  # the fixed agency wins: make it clearly the lowest
            mine = next(b for b in story.bidders if b.agency is story.forced_winner)
            rivals = [b.final_price for b in story.bidders if b is not mine and not b.withdraw]
            cap = min(rivals) if rivals else story.ceiling_fen
            mine.price_fen = min(_nice(cap * 0.95), self.price(story, 0.8))
            mine.revise_to, mine.withdraw = None, False

    def plan_all(self) -> list[Story]:
        stories: list[Story] = []
        for spec in FIXED:
            spec = dict(spec)
            who, z = spec.pop("who"), spec.pop("z", None)
            then = spec.pop("then", None)
            item = self.item_by_code.get(spec.pop("item"))
            if item is None:
                continue
            story = self.story(
                spec.pop("outcome"),
                spec.pop("kind", None),
                enterprise=self.fixed_enterprise if who == "Q" else None,
                item=item,
                method=SelectionMethod(spec.pop("method")),
                funding=spec.pop("funding"),
                n=spec.pop("n"),
                z=z,
            )
            stories.append(story)
            if then:
                self.follow_up(story, *then)
        tokens = [token for token, n in GENERIC for _ in range(n)]
        self.rng.shuffle(tokens)
        flags = ["declined"] * DECLINED_STORIES + [k for k, n in OBJECTION_STORIES.items() for _ in range(n)]
        republish = list(REPUBLISHED)
        for outcome, kind in tokens:
            extra = {}
            if kind == "accepted" and flags:
                flag = flags.pop()
                extra = {"declined": True} if flag == "declined" else {"objection": flag}
            story = self.story(outcome, kind, **extra)
            if outcome == "publicity" and not any(s.objection == "open" for s in stories):
                story.objection = "open" if len(story.bidders) >= 2 else None
            stories.append(story)
            if outcome == "failed" and republish:
                self.follow_up(story, *republish.pop())
        stories.sort(key=lambda s: s.start_day)
        return [s for s in stories if s.previous is None]

    def follow_up(self, first: Story, outcome: str, kind: str | None) -> None:
        """Round 2 of a failed request: the same request published again, this time with more bidders."""
        second = self.story(
            outcome,
            kind,
            enterprise=first.enterprise,
            item=first.item,
            method=first.method,
            funding=first.funding,
        )
        for name in (
            "title",
            "project",
            "project_code",
            "scope",
            "ceiling_fen",
            "floor_fen",
            "required_days",
        ):
            setattr(second, name, getattr(first, name))
        second.level, second.weights, second.shortlist = first.level, first.weights, first.shortlist
        second.exclusions = first.exclusions
        excluded = {a.id for a, _ in first.exclusions}
        pool = [a for a in self.pool(first.item, first.level) if a.id not in excluded]
        need = {"awarded": self.min_bids, "failed": 0, "bidding": 0}.get(outcome, self.min_bids)
        n = {"failed": 1, "bidding": self.rng.randint(1, 3)}.get(outcome) or self.rng.randint(
            need, max(need, 5)
        )
        second.bidders = []
        self.add_bidders(second, pool, min(n, len(pool)), [])
        second.previous, first.successor = first, second
        second.start_day = first.start_day + 20
        if kind in DONE_KINDS or outcome == "failed":  # round 1 needs room before round 2
            first.start_day = min(first.start_day, -(first.required_days + 100))
            second.start_day = first.start_day + 20
        else:  # round 2 is under way: round 1 failed a few weeks ago
            first.start_day = second.start_day = -(first.required_days + 30)

    # -- playing ----------------------------------------------------------------------------------------

    def user(self, user_id: int) -> User:
        return db.session.get(User, user_id)

    def agency_user(self, agency: Agency) -> User:
        return self.user(self.users[agency.id])

    def owner(self, story: Story) -> User:
        return self.user(self.enterprise_users[story.enterprise.id])

    def put(self, model, row_id: int, **values) -> None:
        db.session.execute(
            update(model)
            .where(model.id == row_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        obj = db.session.identity_map.get(db.session.identity_key(model, row_id))
        if obj is not None:
            db.session.expire(obj)

    def last_event(self, order_id: int) -> int:
        return db.session.scalar(select(func.max(OrderEvent.id)).where(OrderEvent.order_id == order_id))

    def last_revision(self, bid_id: int) -> int:
        return db.session.scalar(select(func.max(BidRevision.id)).where(BidRevision.bid_id == bid_id))

    def seed(self, request_id: int) -> None:
        seed = f"{self.rng.getrandbits(128):032x}"
        self.put(
            ServiceRequest,
            request_id,
            draw_seed=seed,
            draw_commitment=hashlib.sha256(seed.encode("utf-8")).hexdigest(),
        )
        db.session.commit()

    def request_data(self, story: Story) -> dict:
        return {
            "title": story.title,
            "project_code": story.project_code,
            "service_item_id": story.item.id,
            "scope": story.scope,
            "ceiling_fen": story.ceiling_fen,
            "floor_fen": story.floor_fen,
            "required_level": story.level.value if story.level else None,
            "region": story.enterprise.region,
            "required_days": story.required_days,
            "funding": story.funding,
            "selection_method": story.method.value,
            "weights": story.weights,
            "shortlist_size": story.shortlist,
            "bid_deadline": self.open_deadline(),
            "exclusions": [{"agency_id": a.id, "reason": reason} for a, reason in story.exclusions],
        }

    def open_deadline(self) -> datetime:
        return now() + timedelta(seconds=current_app.config["MARKET_MIN_BIDDING_SECONDS"]) + 2 * DAY

    def expect(self, story: Story, status: RequestStatus) -> ServiceRequest:
        req = db.session.get(ServiceRequest, story.request_id)
        db.session.refresh(req)
        if req.status != status:
            raise RuntimeError(
                f"demo history: request {req.id} ({story.outcome}/{story.kind}) is {req.status.value}, "
                f"expected {status.value}: {req.failure_reason or ''}"
            )
        return req

    def play(self, story: Story) -> None:
        owner = self.owner(story)
        draft = story.outcome in ("draft", "cancelled_draft")
        if story.previous is not None:
            req = requests.republish(owner, story.previous.request_id, self.open_deadline())
        else:
            req = requests.create_request(owner, self.request_data(story), publish=not draft)
        story.request_id = req.id
        self.counts["requests"] += 1
        if draft:
            if story.outcome == "cancelled_draft":
                requests.cancel_request(owner, req.id, None)
            return
        self.seed(req.id)
        for bidder in story.bidders:
            user = self.agency_user(bidder.agency)
            plan = {"price_fen": bidder.price_fen, "promised_days": bidder.days, "plan": bidder.plan}
            bid = bidding.submit_bid(user, req.id, plan)
            bidder.bid_id = bid.id
            bidder.revisions.append(self.last_revision(bid.id))
            self.counts["bids"] += 1
            if bidder.revise_to is not None:
                bidding.revise_bid(user, bid.id, {"price_fen": bidder.revise_to})
                bidder.revisions.append(self.last_revision(bid.id))
            if bidder.withdraw:
                bidding.withdraw_bid(user, bid.id)
                bidder.revisions.append(self.last_revision(bid.id))
        if story.outcome == "cancelled":
            requests.cancel_request(owner, req.id, self.rng.choice(CANCELS))
            return
        if story.outcome == "bidding":
            return

        self.put(ServiceRequest, req.id, bid_deadline=now() - requests.close_grace() - timedelta(seconds=1))
        requests.advance(db.session.get(ServiceRequest, req.id))
        if story.outcome == "failed":
            self.expect(story, RequestStatus.FAILED)
            return
        self.expect(story, RequestStatus.EVALUATING)
        if story.outcome == "evaluating":
            return

        self.select(story, owner)
        if story.objection:
            objector = next(
                (b for b in story.bidders if not b.withdraw and b.bid_id != self.winner(story)),
                story.bidders[0],
            )
            text = OPEN_OBJECTION if story.objection == "open" else self.rng.choice(OBJECTIONS)
            objection = requests.lodge_objection(self.agency_user(objector.agency), req.id, text)
            story.objection_id = objection.id
            self.counts["objections"] += 1
            if story.objection != "open":
                outcome = self.rng.choice(
                    OBJECTION_UPHELD if story.objection == "upheld" else OBJECTION_DISMISSED
                )
                requests.resolve_objection(
                    self.user(self.admin.id), objection.id, story.objection == "upheld", outcome
                )
        if story.outcome == "publicity":
            self.expect(story, RequestStatus.PUBLICITY)
            return

        self.award(story)
        if story.declined:
            first = orders.order_for_request(req.id)
            story.declined_order_id = first.id
            orders.decline(self.user(self.users[first.agency_id]), first.id, self.rng.choice(DECLINES))
            self.award(story)
        story.order_id = orders.order_for_request(req.id).id

    def winner(self, story: Story) -> int | None:
        return db.session.scalar(
            select(ServiceRequest.winner_bid_id).where(ServiceRequest.id == story.request_id)
        )

    def select(self, story: Story, owner: User) -> None:
        if story.method != SelectionMethod.DIRECT:
            requests.select_winner(owner, story.request_id)
            return
        valid = [b for b in story.bidders if not b.withdraw]
        if story.forced_winner is not None:
            chosen = next(b for b in valid if b.agency is story.forced_winner)
        else:
            chosen = self.rng.choice(sorted(valid, key=lambda b: b.final_price)[:2])
        reason = self.rng.choice(DIRECT_REASONS).format(
            pct=round(100 * chosen.final_price / story.ceiling_fen), days=chosen.days
        )
        requests.select_winner(owner, story.request_id, bid_id=chosen.bid_id, reason=reason)

    def award(self, story: Story) -> None:
        self.put(ServiceRequest, story.request_id, publicity_ends_at=now() - timedelta(seconds=1))
        requests.advance(db.session.get(ServiceRequest, story.request_id))
        self.expect(story, RequestStatus.AWARDED)
        self.counts["orders"] += 1

    # -- the order's life, as a script of (action, time, text, percent) ----------------------------------------

    def play_order(self, story: Story, script: list[tuple]) -> list[tuple[int, datetime]]:
        """Run the order's actions through the services; returns (event id, when) for the events made."""
        order = db.session.get(Order, story.order_id)
        agency_user = self.user(self.users[order.agency_id])
        owner = self.owner(story)
        events = []
        for action, when, text, percent in script:
            if action == "confirm":
                orders.confirm(agency_user, order.id)
            elif action == "progress":
                orders.report_progress(agency_user, order.id, text, percent)
            elif action == "deliver":
                orders.deliver(agency_user, order.id, text)
            elif action == "dispute":
                orders.dispute(owner, order.id, text)
            elif action == "accept":
                self.date_work(story, delivered=now() - timedelta(seconds=1))
                orders.accept(owner, order.id)
            elif action == "auto_accept":
                self.date_work(story, delivered=now() - self.acceptance - timedelta(seconds=1))
                orders.advance(db.session.get(Order, order.id))
            events.append((self.last_event(order.id), when))
        return events

    def date_work(self, story: Story, delivered: datetime) -> None:
        """Before an acceptance: the start, due date and delivery of the story, moved together so that the
        delivery falls at `delivered` (the acceptance window still open, or already closed). The statistics
        count an order's time taken and lateness when it is accepted: they are then the story's."""
        t = story.times
        shift = delivered - t["delivered"]
        self.put(
            Order,
            story.order_id,
            started_at=t["started"] + shift,
            due_at=t["due"] + shift,
            delivered_at=delivered,
        )

    # -- dates ----------------------------------------------------------------------------------------

    def timeline(self, story: Story) -> dict:
        """Every date of the story, consistent with the rules and with today's state."""
        t: dict = {}
        bid_days = self.rng.randint(5, 12)
        outcome, kind = story.outcome, story.kind
        if outcome in ("draft", "cancelled_draft"):
            t["created"] = self.office(story.start_day)
            t["updated"] = t["created"] if outcome == "draft" else self.later(t["created"], 2, 10)
            t["deadline"] = self.deadline(self.rng.randint(12, 40))
            return t
        if outcome == "bidding":
            t["published"] = self.office(-self.rng.randint(1, 7))
            if story.previous is not None:
                t["published"] = self.office(-self.rng.randint(1, 3))
            t["deadline"] = self.deadline(self.rng.randint(2, 12))
            return self.finish_request(t, story, t["published"])
        if outcome == "cancelled":
            t["published"] = self.office(story.start_day)
            t["deadline"] = self.deadline(self.day_of(t["published"]) + bid_days)
            t["cancelled"] = self.later(t["published"], 1, 4)
            return self.finish_request(t, story, t["cancelled"])
        if outcome == "failed":
            if story.successor is not None:
                closed = self.deadline(
                    self.day_of(story.successor.times["published"]) - self.rng.randint(1, 5)
                )
            else:
                closed = self.deadline(story.start_day + bid_days)
            t["deadline"] = t["closed"] = closed
            t["published"] = self.office(self.day_of(closed) - bid_days)
            return self.finish_request(t, story, closed)

        # evaluating, publicity, awarded: build forwards from day 0, then move by whole days onto the anchor
        t["published"] = self.office(0)
        t["deadline"] = t["closed"] = self.deadline(bid_days)
        if outcome == "evaluating":
            self.shift(t, -self.rng.randint(1, 4) - self.day_of(t["deadline"]))
            return self.finish_request(t, story, t["closed"])
        t["selected"] = self.later(t["deadline"], 0, 3)
        publicity_from = t["selected"]
        if story.objection:
            t["lodged"] = t["selected"] + timedelta(minutes=self.rng.randint(60, 600))
            if story.objection != "open":
                t["resolved"] = t["lodged"] + timedelta(hours=self.rng.randint(3, 40))
                if story.objection == "upheld":
                    publicity_from = t["resolved"]
        t["publicity_ends"] = publicity_from + self.publicity
        if outcome == "publicity":
            target = -2 if story.objection == "open" else -self.rng.randint(1, 2)
            self.shift(t, target - self.day_of(t["selected"]))
            return self.finish_request(t, story, t.get("lodged", t["selected"]))
        if story.declined:
            t["first_order"] = t["publicity_ends"]
            t["declined"] = self.later(t["first_order"], 0, 2)
            t["publicity_ends"] = t["declined"] + self.publicity
        t["awarded"] = t["publicity_ends"]
        order = db.session.get(Order, story.order_id)
        days = order.promised_days
        script: list[list] = []
        if kind != "awaiting":
            t["started"] = self.later(t["awarded"], 0, 2)
            t["due"] = t["started"] + timedelta(days=days)
            script.append(["confirm", t["started"], None, None])
        stages = STAGES.get(story.item.category.code, DEFAULT_STAGES)
        form = self.rng.choice(DELIVERY_FORMS)
        delivery = f"已提交《{story.project}{story.item.name}》{form}纸质版{self.rng.randint(2, 8)}份及电子版，请验收。"

        def work(start: datetime, end: datetime, low: int, high: int, upto: float = 1.0) -> None:
            """Progress reports between start and end, from the stages reached by `upto` of the work."""
            last = len(stages) - 1
            reached = [i for i in range(len(stages)) if i <= upto * last + 0.5]
            n = min(self.rng.randint(low, high), len(reached))
            picked = sorted(self.rng.sample(reached, n))
            for i, when in zip(picked, self.spread(start, end, n), strict=True):
                percent = 5 * round((15 + 75 * i / last) / 5)
                script.append(["progress", when, stages[i], percent])

        if kind in ("accepted", "late", "auto", "redone", "delivered", "disputed"):
            if kind == "late":
                t["delivered"] = self.later(t["started"], days + 1, days + 12)
            else:
                t["delivered"] = self.later(t["started"], max(1, days // 2), days - 1)
            work(t["started"], t["delivered"], 1, 2 + days // 15)
            script.append(["deliver", t["delivered"], delivery, None])
            if kind in ("disputed", "redone"):
                t["disputed"] = self.later(t["delivered"], 1, 5)
                script.append(["dispute", t["disputed"], self.rng.choice(DISPUTES), None])
            if kind == "redone":
                t["delivered"] = self.later(t["disputed"], 2, 8)
                script.append(["progress", self.spread(t["disputed"], t["delivered"], 1)[0],
                               self.rng.choice(REWORK), 95])  # fmt: skip
                script.append(
                    ["deliver", t["delivered"], "已按验收意见修改完善，重新提交成果文件，请验收。", None]
                )
            if kind in ("accepted", "late", "redone"):
                t["accepted"] = self.later(t["delivered"], 1, 8)
                script.append(["accept", t["accepted"], None, None])
            if kind == "auto":
                t["accepted"] = t["delivered"] + self.acceptance
                script.append(["auto_accept", t["accepted"], None, None])
        # place the chain: finished stories on their planned day, live ones relative to today
        if kind in DONE_KINDS:
            self.shift(t, story.start_day, script)
            overshoot = self.day_of(t["accepted"]) + 2
            if overshoot > 0:
                self.shift(t, -overshoot, script)
        else:
            anchor, target = {
                "awaiting": ("awarded", -self.rng.randint(1, 3)),
                "ok": ("started", -self.rng.randint(1, max(1, int(days * 0.55)))),
                "yellow": ("due", self.rng.randint(2, max(2, int(days * 0.2 - 0.5)))),
                "red": ("due", -self.rng.randint(1, 10)),
                "delivered": ("delivered", -self.rng.randint(1, 12)),
                "disputed": ("disputed", -self.rng.randint(1, 8)),
            }[kind]
            self.shift(t, target - self.day_of(t[anchor]), script)
            yesterday = self.midnight - timedelta(hours=1)
            if kind in ("ok", "yellow", "red"):
                share = (yesterday - t["started"]) / (t["due"] - t["started"])
                work(t["started"], yesterday, 0 if kind == "ok" else 1, 3, min(share, 1.0))
            if kind == "disputed" and self.rng.random() < 0.6:
                script.append(
                    ["progress", self.spread(t["disputed"], yesterday, 1)[0], self.rng.choice(REWORK), 95]
                )
        script.sort(key=lambda row: row[1])
        t["script"] = [tuple(row) for row in script]
        return self.finish_request(t, story, t["awarded"])

    def shift(self, t: dict, days: int, script: list | None = None) -> None:
        delta = timedelta(days=days)
        for key, value in t.items():
            if isinstance(value, datetime):
                t[key] = value + delta
        for row in script or []:
            row[1] += delta

    def finish_request(self, t: dict, story: Story, last: datetime) -> dict:
        t["created"] = t["published"] - timedelta(minutes=self.rng.randint(5, 180))
        t["updated"] = last
        # bids come in while bidding is open (and before today for what is still open)
        end = min(t.get("cancelled") or t["deadline"], self.midnight - timedelta(minutes=30))
        moments = self.spread(t["published"], end, len(story.bidders))
        t["bids"] = []
        for bidder, when in zip(story.bidders, moments, strict=True):
            times = [when] + self.spread(when, end, len(bidder.revisions) - 1)
            t["bids"].append(times)
        return t

    # -- writing the dates ----------------------------------------------------------------------------------

    def stamp(self, story: Story) -> None:
        t = story.times
        rid = story.request_id
        if story.outcome in ("draft", "cancelled_draft"):
            self.put(
                ServiceRequest,
                rid,
                created_at=t["created"],
                updated_at=t["updated"],
                bid_deadline=t["deadline"],
            )
            return
        for bidder, times in zip(story.bidders, t["bids"], strict=True):
            for revision_id, when in zip(bidder.revisions, times, strict=True):
                self.put(BidRevision, revision_id, at=when)
            self.put(Bid, bidder.bid_id, created_at=times[0], updated_at=times[-1])
        values = {
            "created_at": t["created"],
            "published_at": t["published"],
            "bid_deadline": t["deadline"],
            "closed_at": t.get("closed"),
            "seed_revealed_at": t.get("selected"),
            "selected_at": t.get("selected"),
            "publicity_ends_at": t.get("publicity_ends"),
            "updated_at": t["updated"],
        }
        self.put(ServiceRequest, rid, **values)
        if story.objection_id:
            self.put(
                Objection,
                story.objection_id,
                created_at=t["lodged"],
                updated_at=t.get("resolved", t["lodged"]),
                resolved_at=t.get("resolved"),
            )
        if story.declined_order_id:
            first = story.declined_order_id
            self.put(OrderEvent, self.last_event(first), at=t["declined"])
            self.put(Order, first, created_at=t["first_order"], updated_at=t["declined"])

    def stamp_order(self, story: Story, events: list[tuple[int, datetime]]) -> None:
        t = story.times
        oid = story.order_id
        for event_id, when in events:
            self.put(OrderEvent, event_id, at=when)
        order = db.session.get(Order, oid)
        self.put(
            Order,
            oid,
            created_at=t["awarded"],
            started_at=t.get("started"),
            due_at=t.get("due"),
            delivered_at=t.get("delivered") if order.status != OrderStatus.DISPUTED else None,
            accepted_at=t.get("accepted"),
        )
        orders.advance(db.session.get(Order, oid))  # the yellow / red flag as of today
        last = max([when for _, when in events] + [t["awarded"]])
        self.put(Order, oid, updated_at=last)

    # -- the whole year ----------------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        for story in self.plan_all():
            chain = [story]
            while chain[-1].successor is not None:
                chain.append(chain[-1].successor)
            for part in chain:
                self.play(part)
            for part in reversed(chain):  # round 1's dates hang on round 2's
                part.times = self.timeline(part)
            for part in chain:
                self.stamp(part)
                if part.order_id:
                    events = self.play_order(part, list(part.times.get("script", [])))
                    self.stamp_order(part, events)
                db.session.commit()
        return dict(self.counts)


def _nice(fen: float) -> int:
    """Round a price to whole yuan: to ¥100 above ¥20,000, ¥50 above ¥2,000, else ¥10."""
    yuan = fen / 100
    step = 100 if yuan >= 20_000 else 50 if yuan >= 2000 else 10
    return max(step, round(yuan / step) * step) * 100


def load_history(rng: random.Random, midnight: datetime) -> dict[str, int]:
    """Play a year of market history on top of the demo members (which must be committed already)."""
    with _quick_commits():
        return History(rng, midnight).run()


@contextmanager
def _quick_commits():
    """The services commit after every step (a few thousand times here). While the demo loads, keep loaded
    rows across commits (the services refresh what they change) and, on SQLite, skip the fsync per commit."""
    session = db.session()
    keep = session.expire_on_commit
    session.expire_on_commit = False
    engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    original: list[int] = []

    def no_sync(dbapi_connection, _record, _proxy) -> None:
        if not original:
            original.append(dbapi_connection.execute("PRAGMA synchronous").fetchone()[0])
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    if sqlite:
        db.session.commit()  # no transaction may be open while the setting changes
        event.listen(engine, "checkout", no_sync)
    try:
        yield
    finally:
        session.expire_on_commit = keep
        if sqlite:
            event.remove(engine, "checkout", no_sync)
            db.session.commit()
            if original:
                with engine.connect() as conn:
                    conn.connection.dbapi_connection.execute(f"PRAGMA synchronous={int(original[0])}")
            db.session.expire_all()
