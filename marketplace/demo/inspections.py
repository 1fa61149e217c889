"""Demo random inspections (双随机、一公开): an inspector register of four bodies, one inspection of the
environmental assessment members closed and published with failed items, one of the environmental department
drawn and half recorded, and one planned with only its commitment public. Played through the services (the draw
is the real one); the closed one's dates are then moved back to where the market's year had them."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from marketplace.auth.models import User
from marketplace.catalogue.models import Category
from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.inspections import register
from marketplace.inspections import services as inspections

SUPERVISOR, ENV_DEPARTMENT = "jianguan@demo.cn", "huanjing@demo.cn"

# (name, body, certificate no., region: None = the whole market area)
REGISTER = [
    ("李建华", "市生态环境局", "32070018010031", None),
    ("陈晓东", "市生态环境局", "32070019020117", None),
    ("王丽萍", "市生态环境局", "32070020030208", None),
    ("赵志强", "市生态环境局", "32070021040342", None),
    ("周海燕", "市市场监督管理局", "32070017050056", None),
    ("孙国庆", "市市场监督管理局", "32070019060123", None),
    ("吴婷婷", "市市场监督管理局", "32070022070219", None),
    ("刘明辉", "市应急管理局", "32070018080077", None),
    ("郑雪梅", "市应急管理局", "32070021090164", None),
    ("黄伟", "市自然资源和规划局", "32070020100095", None),
    ("钱卫国", "市自然资源和规划局", "32070016110012", None),
]
RETIRED = "钱卫国"  # transferred: off the draw, kept in the register for the draws that named him

FAILURES = {  # checklist item → what the inspectors wrote down
    "在中介超市公示的收费标准与实际收费一致，未超出政府指导价": "抽查3个项目，其中1个项目实际收费高于店铺公示价格约18%，未在中介超市说明理由。",
    "业务档案完整，报告、成果按规定归档保存": "2025年度2个项目的现场踏勘记录缺失，档案未按规定归档。",
    "环境影响报告书（表）编制人员为本单位全职人员": "1名编制人员社保缴纳单位与本机构不一致，不能证明为全职人员。",
}


def _results(task, rng: random.Random, failing: list[str]) -> dict:
    results = []
    for item in task.checklist:
        if item in failing:
            results.append({"passed": False, "notes": FAILURES[item]})
        else:
            results.append({"passed": True, "notes": None})
    notes = "发现问题，责令限期30日内整改，整改情况报市场监管部门备案。" if failing else "未发现问题。"
    return {"results": results, "notes": notes}


def load_inspections(rng: random.Random) -> dict[str, int]:
    supervisor = db.session.scalar(select(User).where(User.email == SUPERVISOR))
    department = db.session.scalar(select(User).where(User.email == ENV_DEPARTMENT))
    if supervisor is None or department is None:  # staff not loaded: nothing to do
        return {"inspections": 0}
    for name, body, number, region in REGISTER:
        keeper = department if body == department.department else supervisor
        inspector = register.add_inspector(
            keeper, {"name": name, "department": body, "certificate_no": number, "region_code": region}
        )
        if name == RETIRED:
            register.set_active(supervisor, inspector.id, False)
    c03 = db.session.scalar(select(Category).where(Category.code == "C03"))
    c04 = db.session.scalar(select(Category).where(Category.code == "C04"))

    # 1. Published: the market's quarterly joint inspection of environmental assessment members.
    published = inspections.create_task(
        supervisor,
        {
            "title": "2026年第三季度环境评价类中介机构“双随机、一公开”抽查",
            "category_id": c03.id,
            "agency_count": 4,
            "inspectors_per_agency": 2,
        },
    )
    inspections.draw_task(supervisor, published.id)
    failing = list(FAILURES)
    for n, target in enumerate(published.targets):
        items = [failing[0]] if n == 0 else ([failing[1], failing[2]] if n == 2 else [])
        inspections.record_findings(
            supervisor, published.id, target.agency_id, _results(published, rng, items)
        )
    inspections.close_task(supervisor, published.id)
    # Where the year had it: planned in August, drawn a week later, published in late September.
    closed_at = now() - timedelta(days=62)
    published.created_at = closed_at - timedelta(days=48)
    published.seed_revealed_at = closed_at - timedelta(days=41)
    published.closed_at = closed_at
    for target in published.targets:
        target.recorded_at = closed_at - timedelta(days=rng.randint(3, 20))

    # 2. Drawn, under way: the environmental department's own quality check, 10 % of its members.
    running = inspections.create_task(
        department,
        {
            "title": "2026年度环境影响评价报告编制质量专项抽查",
            "category_id": c03.id,
            "share_pct": 10,
            "inspectors_per_agency": 2,
            "checklist": [
                "环境影响报告书（表）编制人员为本单位全职人员",
                "报告中引用的监测数据真实、来源可追溯",
                "报告结论明确，污染防治措施可行",
                "营业执照、资质证书在有效期内且与入驻信息一致",
            ],
        },
    )
    inspections.draw_task(department, running.id)
    first = running.targets[0]
    inspections.record_findings(department, running.id, first.agency_id, _results(running, rng, []))

    # 3. Planned: the commitment is public, the draw is to come.
    inspections.create_task(
        supervisor,
        {
            "title": "2026年第四季度安全评价类中介机构“双随机、一公开”抽查",
            "category_id": c04.id,
            "agency_count": 3,
            "inspectors_per_agency": 2,
        },
    )
    db.session.flush()
    return {"inspectors": len(REGISTER), "inspections": 3}
