"""Region names in English: the name's root in Hanyu Pinyin (GB/T 16159 spelling, an apostrophe where syllables
would run together: Xi'an) followed by the division's kind (省 Province, 市 City, 区 District, 县 County …).

Pinyin is computed (pypinyin, already used by the search), so every one of the ~3,200 GB/T 2260 divisions has an
English name without a second list to keep; the few names whose customary spelling differs from the computed one
(polyphonic characters, conventional spellings) are listed in OVERRIDES."""

from __future__ import annotations

from functools import cache

# The kind of division, longest suffix first.
SUFFIXES = (
    ("特别行政区", "SAR"),
    ("自治区", "Autonomous Region"),
    ("自治州", "Autonomous Prefecture"),
    ("自治县", "Autonomous County"),
    ("自治旗", "Autonomous Banner"),
    ("林区", "Forestry District"),
    ("新区", "New Area"),
    ("地区", "Prefecture"),
    ("省", "Province"),
    ("市", "City"),
    ("区", "District"),
    ("县", "County"),
    ("旗", "Banner"),
    ("盟", "League"),
)

# Customary spellings that pinyin of the characters alone would get wrong.
OVERRIDES = {
    "陕西": "Shaanxi",
    "内蒙古": "Inner Mongolia",
    "西藏": "Xizang",
    "香港": "Hong Kong",
    "澳门": "Macao",
    "朝阳": "Chaoyang",
    "六安": "Lu'an",
    "单": "Shan",
    "乐清": "Yueqing",
    "蚌埠": "Bengbu",
    "番禺": "Panyu",
}

_POLYPHONE_START = {"长": "chang", "重": "chong", "厦": "xia", "乐": "le"}


def _pinyin(root: str) -> str:
    from pypinyin import lazy_pinyin

    if root in OVERRIDES:
        return OVERRIDES[root]
    syllables = lazy_pinyin(root)
    if root[:1] in _POLYPHONE_START and syllables:
        syllables[0] = _POLYPHONE_START[root[0]]
    out = syllables[0] if syllables else ""
    for s in syllables[1:]:
        out += ("'" if s[:1] in "aoe" else "") + s
    return out[:1].upper() + out[1:]


@cache
def english_name(name: str) -> str:
    """平湖市 → Pinghu City; 姑苏区 → Gusu District; 江苏省 → Jiangsu Province; 西安市 → Xi'an City."""
    if not name:
        return name
    for suffix, kind in SUFFIXES:
        root = name.removesuffix(suffix)
        if root != name and root:
            # "市辖区" and the like are bookkeeping rows, not places: kept as they are
            return f"{_pinyin(root)} {kind}" if root != "市辖" else name
    return _pinyin(name)
