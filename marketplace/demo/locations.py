"""Where the demo's members sit: agencies across Jiangsu and a few from elsewhere in China that take projects in
Jiangsu (the market is open nationwide: 一地入驻、全省通行); projects at county level inside the area."""

from __future__ import annotations

from marketplace.demo import dataset as data

JIANGSU = "320000"

# Generated agencies whose index is listed are registered outside the province (city, district, division, the
# place in their name, the provinces they serve besides Jiangsu).
OUTSIDE = {
    7: ("上海市", "徐汇区", "310104", "上海", ["310000"]),
    23: ("嘉兴市", "平湖市", "330482", "平湖", ["330400"]),
    41: ("杭州市", "西湖区", "330106", "杭州", ["330000"]),
    67: ("合肥市", "蜀山区", "340104", "安徽", ["340100"]),
}


def outside(index: int):
    return OUTSIDE.get(index)


def service_areas(home_division: str, extra: list[str] | None = None) -> list[str]:
    """Every demo member serves the whole province (so the planner's bidder pools stay valid), and those from
    elsewhere their home area too."""
    return [JIANGSU, *(extra or [])]


def project_location(enterprise_code: str | None, key: str) -> str | None:
    """A county-level location for a project of an enterprise: its own county, or one of its city's (stable
    per project, from `key`)."""
    if not enterprise_code:
        return None
    if not enterprise_code.endswith("00"):
        return enterprise_code
    city = next((c for c, code in data.CITY_CODES.items() if code == enterprise_code), None)
    counties = [code for code, _name in data.DISTRICTS.get(city, []) if not code.endswith("00")]
    if not counties:
        return enterprise_code
    return counties[sum(map(ord, key)) % len(counties)]
