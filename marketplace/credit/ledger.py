"""`flask credit rebuild`: every agency's credit recomputed from its events by a separate path — one SQL GROUP BY
over the events of the window — and compared with the running values the listeners keep."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from marketplace.common.clock import now
from marketplace.credit import rules
from marketplace.credit.models import AgencyCredit, CreditEvent, EventStatus
from marketplace.extensions import db

FIELDS = (
    "enterprise_points",
    "department_points",
    "market_points",
    "veto_count",
    "negative_count",
    "score",
    "grade",
)


@dataclass
class Report:
    agencies: int = 0
    differing: dict[int, dict] = field(default_factory=dict)  # agency_id: {field: (running, rebuilt)}

    @property
    def agrees(self) -> bool:
        return not self.differing


def computed() -> dict[int, dict]:
    """{agency_id: the values its events give}, from one grouped query."""
    start = rules.window_start(now())
    column = {s: f"{s.value}_points" for s in rules.Source}
    stmt = (
        select(
            CreditEvent.agency_id,
            *(
                func.coalesce(
                    func.sum(case((CreditEvent.source == s, CreditEvent.points), else_=0)), 0
                ).label(c)
                for s, c in column.items()
            ),
            func.coalesce(func.sum(case((CreditEvent.rule.in_(rules.VETO_RULES), 1), else_=0)), 0).label(
                "vetoes"
            ),
            func.coalesce(func.sum(case((CreditEvent.points < 0, 1), else_=0)), 0).label("negatives"),
        )
        .where(CreditEvent.status == EventStatus.COUNTED, CreditEvent.at >= start)
        .group_by(CreditEvent.agency_id)
    )
    out: dict[int, dict] = {}
    for row in db.session.execute(stmt):
        points = {s.value: int(getattr(row, c)) for s, c in column.items()}
        value = rules.score(points)
        out[row.agency_id] = {
            **{c: int(getattr(row, c)) for c in column.values()},
            "veto_count": int(row.vetoes),
            "negative_count": int(row.negatives),
            "score": value,
            "grade": rules.grade(value, int(row.vetoes)),
        }
    return out


def _empty() -> dict:
    return {
        "enterprise_points": 0,
        "department_points": 0,
        "market_points": 0,
        "veto_count": 0,
        "negative_count": 0,
        "score": rules.score({}),
        "grade": rules.grade(rules.score({})),
    }


def rebuild(fix: bool = False) -> Report:
    """Compare every running credit row with its events; with `fix`, write the rebuilt values (the caller
    commits). An agency with events but no running row, or a row without events, counts too."""
    rebuilt = computed()
    running = {r.agency_id: r for r in db.session.scalars(select(AgencyCredit))}
    report = Report(agencies=len(set(rebuilt) | set(running)))
    start = rules.window_start(now())
    for agency_id in sorted(set(rebuilt) | set(running)):
        want = rebuilt.get(agency_id, _empty())
        row = running.get(agency_id)
        have = {f: getattr(row, f) for f in FIELDS} if row else _empty()
        diff = {f: (have[f], want[f]) for f in FIELDS if have[f] != want[f]}
        if diff:
            report.differing[agency_id] = diff
        if fix and (diff or row is None or row.window_start != start):
            if row is None:
                row = AgencyCredit(agency_id=agency_id)
                db.session.add(row)
            for f, v in want.items():
                setattr(row, f, v)
            row.grade_rank, row.window_start = rules.GRADE_RANK[want["grade"]], start
    if fix:
        db.session.flush()
    return report
