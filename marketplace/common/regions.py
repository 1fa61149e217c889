"""Regions the market serves (prefecture-level cities of the province) — used in forms and filters."""

REGIONS = [
    "南京市",
    "无锡市",
    "徐州市",
    "常州市",
    "苏州市",
    "南通市",
    "连云港市",
    "淮安市",
    "盐城市",
    "扬州市",
    "镇江市",
    "泰州市",
    "宿迁市",
]

# Transitional: the GB/T 2260 codes of the names above, so rows written by name also carry `region_code`
# (models fill it through a `validates("region")` hook) until forms and the API speak codes.
LEGACY_CITY_CODES = {
    "南京市": "320100",
    "无锡市": "320200",
    "徐州市": "320300",
    "常州市": "320400",
    "苏州市": "320500",
    "南通市": "320600",
    "连云港市": "320700",
    "淮安市": "320800",
    "盐城市": "320900",
    "扬州市": "321000",
    "镇江市": "321100",
    "泰州市": "321200",
    "宿迁市": "321300",
}


def legacy_code(name: str | None, current: str | None) -> str | None:
    return LEGACY_CITY_CODES.get(name or "", current)
