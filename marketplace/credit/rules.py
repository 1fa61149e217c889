"""信用评价规则: the one place that says how credit is counted — the rule catalogue, the weights, the window, the
grades, the veto items and the list thresholds. The public page /credit/rules renders this module.

- Each agency's credit events come from three sources, weighted as Yuyao does: the enterprises' ratings 50 %,
  the departments (their ratings, inspections, findings) 30 %, the market and its operator (orders, fees,
  selections) 20 %.
- A source's sub-score is BASE + Σ points of its counted events in the window, kept between 0 and 100; the score
  is Σ weight × sub-score, so a new member starts at BASE (80).
- The window: events since 1 January of (this year − CREDIT_WINDOW_YEARS): a rolling window plus the current
  year. Reversed (appeal upheld), repaired or withdrawn events no longer count.
- A veto item (collusion, forged certificate, false statement) in the window caps the grade at D.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l


class Source(enum.StrEnum):
    ENTERPRISE = "enterprise"
    DEPARTMENT = "department"
    MARKET = "market"


SOURCE_LABELS = {
    Source.ENTERPRISE: _l("Enterprises' ratings"),
    Source.DEPARTMENT: _l("Departments"),
    Source.MARKET: _l("Market and operator"),
}
WEIGHTS = {Source.ENTERPRISE: 0.5, Source.DEPARTMENT: 0.3, Source.MARKET: 0.2}
BASE = 80
FLOOR, CEILING = 0, 100

# Grades, best first: (grade, lowest score, label). A veto item caps the grade at VETO_CAP.
GRADES = (
    ("A", 90, _l("Excellent")),
    ("B", 80, _l("Good")),
    ("C", 70, _l("Fair")),
    ("D", 60, _l("Poor")),
    ("E", 0, _l("Untrustworthy")),
)
GRADE_LABELS = {g: label for g, _low, label in GRADES}
GRADE_RANK = {g: i for i, (g, _low, _label) in enumerate(GRADES)}  # A = 0 … E = 4 (sorting)
VETO_CAP = "D"
BARRED_GRADE = "E"  # the bottom grade cannot bid

# The lists' thresholds (automatic entries, decided by no one; lifted as soon as the condition no longer holds).
RED_MIN_SCORE = 95  # 守信: and no negative event in the window
BLACK_BELOW_SCORE = 50  # 失信: below this score …
BLACK_VETO_COUNT = 2  # … or this many veto events in the window

STAR_POINTS = {5: 2, 4: 1, 3: 0, 2: -2, 1: -4}


@dataclass(frozen=True)
class Rule:
    code: str
    source: Source | None  # None: the sender says (an inspection's source)
    points: int | None  # None: depends on the event (stars, the complaint decision's points)
    label: object
    veto: bool = False
    manual: bool = False  # a supervisor may record it by hand, with evidence


RULES: dict[str, Rule] = {
    r.code: r
    for r in (
        Rule("rating", Source.ENTERPRISE, None, _l("Enterprise's rating of an order (5★ +2 … 1★ −4)")),
        Rule("department_rating", Source.DEPARTMENT, None, _l("Department's rating of an order (5★ +2 … 1★ −4)")),
        Rule("order_completed", Source.MARKET, 1, _l("Order completed and accepted")),
        Rule("on_time", Source.MARKET, 1, _l("Delivered on time")),
        Rule("late", Source.MARKET, -2, _l("Delivered late")),
        Rule("order_red", Source.MARKET, -3, _l("Order overdue (red light)")),
        Rule("fee_violation", Source.MARKET, -10, _l("Confirmed fee violation")),
        Rule("declined", Source.MARKET, -5, _l("Winner declined the order")),
        Rule("winner_removed", Source.MARKET, -5, _l("Winner removed before starting")),
        Rule("complaint_upheld", Source.DEPARTMENT, -5, _l("Complaint upheld")),
        Rule("inspection_failed", None, -5, _l("Failed random-inspection item")),
        Rule("false_statement", Source.DEPARTMENT, -15, _l("False statement (虚假材料)"), veto=True, manual=True),
        Rule("forged_certificate", Source.DEPARTMENT, -20, _l("Forged certificate (伪造资质)"), veto=True, manual=True),
        Rule("collusion", Source.DEPARTMENT, -20, _l("Collusive bidding (串通投标)"), veto=True, manual=True),
        Rule("misconduct", Source.DEPARTMENT, -5, _l("Other misconduct found by a supervisor"), manual=True),
        Rule("commendation", Source.DEPARTMENT, 3, _l("Commendation by a department"), manual=True),
    )
}  # fmt: skip
VETO_RULES = frozenset(c for c, r in RULES.items() if r.veto)
MANUAL_RULES = tuple(c for c, r in RULES.items() if r.manual)


def rule_label(code: str) -> object:
    rule = RULES.get(code)
    return rule.label if rule else code


def star_points(stars: int) -> int:
    return STAR_POINTS[max(1, min(5, int(stars)))]


def window_years() -> int:
    return current_app.config["CREDIT_WINDOW_YEARS"]


def window_start(at: datetime) -> datetime:
    """1 January (UTC) of the year CREDIT_WINDOW_YEARS before `at`'s."""
    return datetime(at.year - window_years(), 1, 1, tzinfo=UTC)


def sub_score(points: int) -> float:
    return float(max(FLOOR, min(CEILING, BASE + points)))


def score(points: dict[str, int]) -> float:
    """Σ weight × sub-score over the three sources; `points` maps a source to its counted points."""
    return round(sum(w * sub_score(points.get(s.value, 0)) for s, w in WEIGHTS.items()), 1)


def grade(value: float, vetoes: int = 0) -> str:
    found = next(g for g, low, _label in GRADES if value >= low)
    if vetoes and GRADE_RANK[found] < GRADE_RANK[VETO_CAP]:
        return VETO_CAP
    return found


def contribution(source: str, points: int) -> float:
    """What one event adds to the score while its source's sub-score is inside 0–100."""
    return round(WEIGHTS[Source(source)] * points, 2)


def automatic_list(value: float, vetoes: int, negatives: int) -> str | None:
    """Which list the thresholds put an agency on: "black", "red" or None."""
    if value < BLACK_BELOW_SCORE or vetoes >= BLACK_VETO_COUNT:
        return "black"
    if value >= RED_MIN_SCORE and not negatives:
        return "red"
    return None


def window_label_start(today: date) -> date:
    return date(today.year - window_years(), 1, 1)
