"""The trade's vocabulary: abbreviations and what they stand for, and the catalogue's aliases.

A query word is searched as typed OR with each known abbreviation inside it replaced by what it stands for
(环评 → 环境影响评价). An expansion of several words (环境, 影响, 评价) would be an intersection of long posting
lists, slow in Whoosh; instead each document carries, in its `terms` field, the multi-word terms of the index's
vocabulary that its text contains, so that an expansion is one posting list.
"""

from __future__ import annotations

import itertools
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.catalogue.models import ServiceItem

# Abbreviations the trade uses, and what they stand for (ORed with the typed term at query time). The
# catalogue's own aliases (service_item.aliases) are added from the database.
TRADE_TERMS: dict[str, tuple[str, ...]] = {
    "环评": ("环境影响评价",),
    "安评": ("安全评价", "安全预评价", "安全验收评价", "安全现状评价"),
    "能评": ("节能评估",),
    "水保": ("水土保持",),
    "地灾评估": ("地质灾害危险性评估",),
    "地灾": ("地质灾害",),
    "稳评": ("社会稳定风险评估",),
    "社稳评估": ("社会稳定风险评估",),
    "职评": ("职业病危害",),
    "洪评": ("洪水影响评价", "防洪评价"),
    "水评": ("水资源论证",),
    "交评": ("交通影响评价",),
    "震评": ("地震安全性评价",),
    "地震安评": ("地震安全性评价",),
    "雷评": ("雷电灾害风险评估",),
    "防雷": ("防雷装置检测", "雷电防护"),
    "造价": ("工程造价",),
    "可研": ("可行性研究",),
    "文评": ("文物影响评估",),
    "图审": ("施工图审查",),
    "特检": ("特种设备检验",),
    "土调": ("土壤污染状况调查",),
    "环保验收": ("竣工环境保护验收",),
    "压矿": ("压覆矿产",),
    "修规": ("修建性详细规划",),
    "全咨": ("全过程工程咨询",),
}
# Full terms → their abbreviation, so 环境影响评价 also finds a request titled "…环评".
REVERSE_TERMS: dict[str, tuple[str, ...]] = {}
for _short, _longs in TRADE_TERMS.items():
    for _long in _longs:
        REVERSE_TERMS.setdefault(_long, ())
        REVERSE_TERMS[_long] += (_short,)

PARENTHESES = re.compile(r"[（(][^）)]*[）)]")

Table = dict[str, tuple[str, ...]]


def synonyms(session: Session) -> Table:
    """Abbreviation → full terms: the trade's list, the reverse of it, and the catalogue's aliases."""
    table: dict[str, set[str]] = {k: set(v) for k, v in TRADE_TERMS.items()}
    for k, v in REVERSE_TERMS.items():
        table.setdefault(k, set()).update(v)
    for name, aliases in session.execute(select(ServiceItem.name, ServiceItem.aliases)):
        full = PARENTHESES.sub("", name).strip()
        for alias in aliases or []:
            alias = alias.strip()
            if len(alias) >= 2 and alias != full and alias not in full:
                table.setdefault(alias, set()).add(full)
    return {k: tuple(sorted(v)) for k, v in table.items() if v}


def abbreviations_in(word: str, table: Table) -> list[str]:
    """The known abbreviations inside a word, longest first where they overlap, in reading order."""
    found: list[tuple[int, str]] = []
    taken = [False] * len(word)
    for key in sorted(table, key=len, reverse=True):
        start = word.find(key)
        while start != -1:
            if not any(taken[start : start + len(key)]):
                found.append((start, key))
                for i in range(start, start + len(key)):
                    taken[i] = True
            start = word.find(key, start + 1)
    return [key for _, key in sorted(found)]


def expansions(word: str, table: Table, limit: int = 11) -> list[tuple[str, tuple[str, ...]]]:
    """The word with every known abbreviation inside it replaced by what it stands for, each with the full
    terms it put in: [("环境影响评价报告", ("环境影响评价",)), …]."""
    out: dict[str, tuple[str, ...]] = {}
    options = [(key, (key, *table[key])) for key in abbreviations_in(word, table)[:3]]
    for combo in itertools.product(*(choices for _, choices in options)):
        text, put_in = word, []
        for (key, _), replacement in zip(options, combo, strict=True):
            text = text.replace(key, replacement, 1)
            if replacement != key:
                put_in.append(replacement)
        if text != word and text not in out:
            out[text] = tuple(put_in)
        if len(out) >= limit:
            break
    return list(out.items())
