"""What a search returns: hits, counts and pages, and the matched terms shown in <mark>."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import url_for
from markupsafe import Markup, escape

from marketplace.search.analysis import HAN


@dataclass
class Hit:
    type: str
    id: int
    title: str
    snippet: str
    subtitle: str
    region: str
    score: float
    extra: dict
    terms: list[str] = field(default_factory=list, repr=False)
    syllables: list[list[str]] = field(default_factory=list, repr=False)

    @property
    def url(self) -> str:
        if self.type == "agency":
            return url_for("agencies.store", agency_id=self.id)
        if self.type == "service":
            return url_for("catalogue.item", item_id=self.id)
        return url_for("requests.detail", request_id=self.id)

    @property
    def title_html(self) -> Markup:
        return highlight(self.title, self.terms, self.syllables)

    @property
    def snippet_html(self) -> Markup:
        return highlight(self.snippet, self.terms, self.syllables)


@dataclass
class SearchResult:
    q: str
    type: str | None
    page: int
    per_page: int
    hits: list[Hit]
    counts: dict[str, int]
    mode: str  # exact | corrected (a sound-alike term) | pinyin (syllables) | none
    seconds: float = 0.0
    corrected: str | None = None  # the query actually run in mode "corrected"
    capped: set[str] = field(default_factory=set)  # types whose count stopped at topn.COUNT_CAP ("1,000+")

    @property
    def total(self) -> int:
        return self.counts.get(self.type, 0) if self.type else sum(self.counts.values())

    @property
    def all_total(self) -> int:
        return sum(self.counts.values())

    @property
    def total_capped(self) -> bool:
        """The total is a lower bound (a broad query: counting stopped at topn.COUNT_CAP)."""
        return self.type in self.capped if self.type else bool(self.capped)

    @property
    def all_capped(self) -> bool:
        return bool(self.capped)

    # The attributes templates' pager expects (like Flask-SQLAlchemy's Pagination).
    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def iter_pages(self, left_edge=1, left_current=2, right_current=2, right_edge=1) -> Iterable[int | None]:
        last = 0
        for num in range(1, self.pages + 1):
            if (
                num <= left_edge
                or self.page - left_current - 1 < num < self.page + right_current + 1
                or num > self.pages - right_edge
            ):
                if last + 1 != num:
                    yield None
                yield num
                last = num

    def pagination(self) -> dict:
        """The X-Pagination header, as flask-smorest writes it for the other lists."""
        info = {"total": self.total, "total_pages": self.pages}
        if self.pages:
            info.update(first_page=1, last_page=self.pages, page=self.page)
            if self.has_prev:
                info["previous_page"] = self.prev_num
            if self.has_next:
                info["next_page"] = self.next_num
        return info


# --- showing matches -----------------------------------------------------------------------------------


def _spans(text: str, terms: list[str], syllables: list[list[str]]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    if terms:
        pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
        spans.extend(m.span() for m in pattern.finditer(text))
    if syllables and HAN.search(text):
        from pypinyin import lazy_pinyin

        for m in HAN.finditer(text):
            sounds = lazy_pinyin(m.group())
            for run in syllables:
                n = len(run)
                for i in range(len(sounds) - n + 1):
                    if sounds[i : i + n] == run:
                        spans.append((m.start() + i, m.start() + i + n))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, terms: list[str], syllables: list[list[str]] | None = None) -> Markup:
    """The text, HTML-escaped, with the matched terms in <mark>."""
    out = []
    last = 0
    for start, end in _spans(text, terms, syllables or []):
        out.append(escape(text[last:start]))
        out.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)


def snippet(body: str, terms: list[str], syllables: list[list[str]] | None = None, width: int = 110) -> str:
    """A window of the body around its first match (or its beginning)."""
    body = re.sub(r"\s+", " ", body).strip()
    if len(body) <= width:
        return body
    spans = _spans(body, terms, syllables or [])
    start = max(0, spans[0][0] - 25) if spans else 0
    end = min(len(body), start + width)
    start = max(0, end - width)
    return ("…" if start else "") + body[start:end] + ("…" if end < len(body) else "")
