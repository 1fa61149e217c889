"""GB/T 2260 administrative division codes: which level a code is and whether one area lies inside another.

A code is six digits: province (2) + prefecture (2) + county (2); a higher level ends in zeros
(320000 Jiangsu, 320500 Suzhou, 320506 Wuzhong). An area therefore contains every code that starts with its
significant prefix, which answers "inside?" without a database (the names live in the `region` table).
"""

from __future__ import annotations

import re

_CODE = re.compile(r"^\d{6}$")

PROVINCE, CITY, COUNTY = 1, 2, 3


def is_code(value: object) -> bool:
    return isinstance(value, str) and bool(_CODE.match(value)) and value[:2] != "00"


def level(code: str) -> int:
    """1 province, 2 prefecture (city), 3 county."""
    if code.endswith("0000"):
        return PROVINCE
    if code.endswith("00"):
        return CITY
    return COUNTY


def prefix(code: str) -> str:
    """The significant digits: '32' for 320000, '3205' for 320500, '320506' for 320506."""
    return code[: 2 * level(code)]


def within(code: str | None, area: str | None) -> bool:
    """Is `code` inside `area` (or the area itself)? No area means everywhere; no code is nowhere."""
    if not area:
        return True
    if not code or not is_code(code) or not is_code(area):
        return False
    return code.startswith(prefix(area))


def overlaps(a: str | None, b: str | None) -> bool:
    """Do two areas share any ground (one inside the other)?"""
    return within(a, b) or within(b, a)


def ancestors(code: str) -> list[str]:
    """The codes above `code`, province first (the prefecture only where the code is a county)."""
    out = []
    if level(code) >= CITY:
        out.append(code[:2] + "0000")
    if level(code) == COUNTY:
        out.append(code[:4] + "00")
    return out
