"""The inspection draw and the default checklists: pure functions, no database.

The draw re-uses the random selection's commit–reveal algorithm (requests/draw.py, "sha256-mod-v1"):

    agencies  = shuffled(seed, "agencies", agency candidates in ascending id)[:n]
    inspectors of each drawn agency a = shuffled(seed, f"inspectors:{a}", inspector candidates in ascending id)[:k]

where n is the task's number of agencies, or ceil(share % × candidates) (at least one), never more than the
candidates; k the inspectors per agency (distinct within an agency; one inspector may serve several agencies).
`marketplace/requests/verify_draw.py` recomputes exactly this from the published record.
"""

from __future__ import annotations

from collections.abc import Sequence

from marketplace.requests.draw import ALGORITHM, shuffled

KIND = "inspection"  # the published record's `kind`, by which the standalone verifier recognises it


def agencies_to_draw(agency_count: int | None, share_pct: int | None, candidates: int) -> int:
    if candidates <= 0:
        return 0
    if agency_count is not None:
        return min(agency_count, candidates)
    return min(candidates, max(1, -(-candidates * (share_pct or 0) // 100)))


def draw(
    seed: str,
    agency_ids: Sequence[int],
    inspector_ids: Sequence[int],
    agency_count: int | None,
    share_pct: int | None,
    inspectors_per_agency: int,
) -> dict:
    """The draw's details as published: candidates in canonical order, the drawn agencies and inspectors."""
    agencies = sorted(agency_ids)
    inspectors = sorted(inspector_ids)
    n = agencies_to_draw(agency_count, share_pct, len(agencies))
    drawn = shuffled(seed, "agencies", agencies)[:n]
    return {
        "algorithm": ALGORITHM,
        "agency_candidates": agencies,
        "inspector_candidates": inspectors,
        "drawn_count": n,
        "agencies": drawn,
        "assignments": [
            {
                "agency_id": a,
                "inspector_ids": shuffled(seed, f"inspectors:{a}", inspectors)[:inspectors_per_agency],
            }
            for a in drawn
        ],
    }


# --- checklists ------------------------------------------------------------------------------------------
# What every agency of the market is checked for (the market's own rules), then what its trade adds. These are
# the items' words as an inspector writes them down (domain data, like the catalogue's names), editable when a
# task is created.
COMMON_ITEMS = [
    "营业执照、资质证书在有效期内且与入驻信息一致",
    "在中介超市公示的收费标准与实际收费一致，未超出政府指导价",
    "服务合同签订规范，服务时限符合承诺",
    "执业人员具备相应执业资格并在本机构注册",
    "业务档案完整，报告、成果按规定归档保存",
]
TRADE_ITEMS = {
    "C03": ["环境影响报告书（表）编制人员为本单位全职人员", "报告中引用的监测数据真实、来源可追溯"],
    "C04": ["安全评价报告经过程控制并由技术负责人审核", "现场勘验记录和影像资料留存完整"],
    "C05": ["职业病危害因素检测由具备资质的实验室完成", "检测原始记录与报告数据一致"],
    "C07": ["勘查野外记录、钻孔编录真实完整", "成果报告签章齐全"],
    "C08": ["测绘成果经两级检查一级验收", "测绘仪器检定证书在有效期内"],
    "C10": ["勘察设计文件签章齐全、符合强制性标准", "未转包或违法分包"],
    "C11": ["造价成果文件由注册造价工程师签章", "工作底稿与成果文件一致"],
    "C12": ["检测报告数据与原始记录一致", "检测设备检定校准证书在有效期内"],
    "C13": ["消防设施检测报告与现场情况一致", "技术负责人及注册消防工程师在岗"],
    "C14": ["防雷检测报告经审核签发", "检测仪器检定证书在有效期内"],
    "C16": ["评估报告经三级审核并由两名评估师签章", "未以压价、回扣等不正当方式承揽业务"],
    "C17": ["审计报告经质量复核", "审计工作底稿完整、未出具不实报告"],
}


def default_checklist(category_code: str | None) -> list[str]:
    return COMMON_ITEMS + TRADE_ITEMS.get(category_code or "", [])


def parse_checklist(value: object) -> list[str] | None:
    """Items from a list, or from a text with one item per line; None when neither."""
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return [v.strip() for v in value if v.strip()]
