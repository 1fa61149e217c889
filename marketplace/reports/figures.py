"""The market's public figures for an area and a run of months (/stats, GET /api/v1/stats, the monthly report).

Every figure is read from the market's summary rows (stats/summary.py: kept per month × the project's region ×
category by the tally inside each change, rebuilt from the records by `flask stats rebuild`), never from a scan
of orders, so that any region and period costs a few hundred small rows. Definitions (the README and the page's notes say the same):
- period: whole months, Beijing time; `start` is the 1st of the first month 00:00, `end` the 1st after the last
- region: a GB/T 2260 code of any level; a request, deal or rating belongs to it when its project (the request's
  `region_code`) lies inside it; a member when its seat (`agency.region_code`) does
- members: agencies active now, admitted (approved, else registered) before the period's end; by category (an
  agency in several categories counts in each) and by the divisions one level below the area
- requests: requests published (`published_at`) in the period; deals: orders created in the period that did not
  become void (declined or cancelled), with their contract amounts and their requests' ceilings
- savings_rate = 1 − Σ amount / Σ ceiling over the deals ("fees −30 %"); guide_ratio = Σ amount / Σ guide
  midpoint over the deals of government-guided items (midpoint = (min + max) // 2 of the guide price of the
  item's rules the request was posted under, so a department's later edit changes no past figure)
- completed: orders accepted in the period (with a start and a delivery); avg_days = mean of delivery − start in
  days; standard_days = mean of their items' standard time limits; time_reduction = 1 − avg_days / standard_days
  ("time −50 %")
- on-time: orders whose due date (the reckoned one, else the current) fell in the period and that were started
  and not void, judged once delivered or past due (the clock's red light): on time when delivered by the due date
- satisfaction: ratings given in the period with overall ≥ 4 / ratings given in the period
- top agencies per category (of the requests' items): most deals in the period, then the larger amount, then the
  smaller agency id
- complaints: complaint_figures() — see there
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, cast, func, select

from marketplace.agencies.models import Agency
from marketplace.catalogue.models import Category
from marketplace.common import areas
from marketplace.common.clock import LOCAL_TZ, local, now
from marketplace.common.errors import Invalid
from marketplace.complaints.models import STATUS_LABELS, Complaint, ComplaintStatus
from marketplace.extensions import db
from marketplace.regions import services as regions
from marketplace.stats.summary import MONTH_TOTALS, MarketAgencyMonth, MarketMembers, MarketMonth

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_MONTHS = 36
OTHER = "other"  # members whose seat lies outside the market's area (by_region's last row)


# --- the filters --------------------------------------------------------------------------------------------


def _month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:]) - 1


def _month_of_index(i: int) -> str:
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def month_of(moment: datetime) -> str:
    return local(moment).strftime("%Y-%m")


def month_start(month: str) -> datetime:
    """The 1st of `month`, 00:00 Beijing time, in UTC."""
    return datetime(int(month[:4]), int(month[5:]), 1, tzinfo=LOCAL_TZ).astimezone(UTC)


def add_months(month: str, n: int) -> str:
    return _month_of_index(_month_index(month) + n)


@dataclass(frozen=True)
class Period:
    first: str  # YYYY-MM
    last: str

    @property
    def months(self) -> list[str]:
        return [_month_of_index(i) for i in range(_month_index(self.first), _month_index(self.last) + 1)]

    @property
    def start(self) -> datetime:
        return month_start(self.first)

    @property
    def end(self) -> datetime:
        return month_start(add_months(self.last, 1))

    @classmethod
    def default(cls) -> Period:
        """The last 12 months, the current one included."""
        this = month_of(now())
        return cls(add_months(this, -11), this)


def parse_month(value: str) -> str | None:
    m = MONTH.match(value)
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 2000:
        return None
    return value


def parse_filters(args) -> tuple[str | None, Period]:
    """`region` (code or name of any level) and `from` / `to` (YYYY-MM) from a query string; Invalid (422) with a
    message per field when one is not understood. Empty values mean the defaults (the whole market, the last 12
    months)."""
    errors: dict[str, list] = {}
    region = None
    raw_region = (args.get("region") or "").strip()
    if raw_region:
        region = regions.resolve(raw_region, regions.market_area())
        if region is None:
            errors["region"] = [_l("Unknown region: give a GB/T 2260 code, e.g. 320500.")]
    default = Period.default()
    first = last = None
    bad_month = _l("Give a month as YYYY-MM, e.g. 2026-03.")
    for key in ("from", "to"):
        raw = (args.get(key) or "").strip()
        if raw and parse_month(raw) is None:
            errors[key] = [bad_month]
        elif raw:
            first, last = (raw, last) if key == "from" else (first, raw)
    if not errors:
        if first and not last:
            last = min(add_months(first, 11), max(first, default.last))
        elif last and not first:
            first = add_months(last, -11)
        first, last = first or default.first, last or default.last
        if first > last:
            errors["to"] = [_l("The period ends before it starts.")]
        elif _month_index(last) - _month_index(first) + 1 > MAX_MONTHS:
            errors["to"] = [_l("At most %(n)d months at a time.", n=MAX_MONTHS)]
        elif first > default.last:
            errors["from"] = [_l("The period lies in the future.")]
    if errors:
        raise Invalid(_l("The statistics' filters are not valid."), errors)
    return region, Period(first, last)


# --- the figures --------------------------------------------------------------------------------------------


def _inside(column, region: str | None):
    return regions.inside(column, region) if region else True


def _ratio(a: float, b: float, digits: int = 4) -> float | None:
    return round(a / b, digits) if b else None


def area_of(region: str | None) -> dict:
    code = region or regions.market_area()
    return {"code": code, "name": regions.full_name(code) or code, "whole_market": region is None}


def _total(column):
    """SUM as an integer on both databases (PostgreSQL sums integers as numeric, which Python reads as Decimal)."""
    return cast(func.sum(column), BigInteger)


def _months_of(period: Period):
    return MarketMonth.month >= period.first, MarketMonth.month <= period.last


def members(region: str | None, period: Period) -> dict:
    """From the kept rows per month of admission × seat × category (market_members), not from the agencies."""
    rows = db.session.execute(
        select(MarketMembers.category_id, MarketMembers.region_code, _total(MarketMembers.n))
        .where(MarketMembers.month <= period.last, _inside(MarketMembers.region_code, region))
        .group_by(MarketMembers.category_id, MarketMembers.region_code)
    ).all()
    per_category: dict[int, int] = defaultdict(int)
    seats: dict[str, int] = defaultdict(int)
    for category_id, seat, n in rows:
        if category_id == 0:
            seats[seat] += n
        else:
            per_category[category_id] += n
    categories = db.session.scalars(select(Category).order_by(Category.sort_order, Category.code)).all()
    area = region or regions.market_area()
    below = regions.children(area)
    counts: dict[str, int] = defaultdict(int)
    for seat, n in seats.items():
        home = next((d.code for d in below if seat and areas.within(seat, d.code)), None)
        if home is None:
            home = area if seat and areas.within(seat, area) else OTHER
        counts[home] += n
    by_region = [{"code": d.code, "name": d.name, "members": counts[d.code]} for d in below]
    if counts[area] or not below:
        by_region.insert(0, {"code": area, "name": regions.name(area) or area, "members": counts[area]})
    if counts[OTHER]:
        by_region.append(
            {"code": OTHER, "name": str(_l("Outside the market's area")), "members": counts[OTHER]}
        )
    return {
        "total": sum(seats.values()),
        "by_category": [
            {"category_id": c.id, "code": c.code, "name": c.name, "members": per_category.get(c.id, 0)}
            for c in categories
        ],
        "by_region": by_region,
    }


def deals(region: str | None, period: Period) -> list:
    """The period's months with their kept totals (market_month), one row per month that has any."""
    sums = [_total(getattr(MarketMonth, name)).label(name) for name in MONTH_TOTALS]
    return list(
        db.session.execute(
            select(MarketMonth.month, *sums)
            .where(*_months_of(period), _inside(MarketMonth.region_code, region))
            .group_by(MarketMonth.month)
        )
    )


def monthly(region: str | None, period: Period, deals: list) -> list[dict]:
    by_month = {d.month: d for d in deals}
    out = []
    for m in period.months:
        d = by_month.get(m)
        n, amount, ceiling = (d.deals, d.amount_fen, d.ceiling_fen) if d else (0, 0, 0)
        out.append(
            {
                "month": m,
                "requests": d.requests if d else 0,
                "deals": n,
                "amount_fen": amount,
                "ceiling_fen": ceiling,
                "savings_rate": _ratio(ceiling - amount, ceiling),
            }
        )
    return out


def _sum(rows: list, name: str) -> int:
    return sum(getattr(r, name) or 0 for r in rows)


def prices(deals: list) -> dict:
    amount, ceiling = _sum(deals, "amount_fen"), _sum(deals, "ceiling_fen")
    guided_amount, guide_mid = _sum(deals, "guided_amount_fen"), _sum(deals, "guide_mid_fen")
    guide_ratio = _ratio(guided_amount, guide_mid)
    return {
        "deals": _sum(deals, "deals"),
        "amount_fen": amount,
        "ceiling_fen": ceiling,
        "savings_fen": ceiling - amount,
        "savings_rate": _ratio(ceiling - amount, ceiling),
        "guided_deals": _sum(deals, "guided_deals"),
        "guided_amount_fen": guided_amount,
        "guide_mid_fen": guide_mid,
        "guide_ratio": guide_ratio,
        "below_guide_rate": round(1 - guide_ratio, 4) if guide_ratio is not None else None,
    }


def speed(deals: list) -> dict:
    n = _sum(deals, "completed")
    avg_days = _sum(deals, "completed_seconds") / 86400 / n if n else None
    avg_standard = _sum(deals, "standard_days_sum") / n if n else None
    return {
        "completed": n,
        "avg_days": round(avg_days, 1) if avg_days is not None else None,
        "standard_days": round(avg_standard, 1) if avg_standard is not None else None,
        "time_reduction": round(1 - avg_days / avg_standard, 4) if n and avg_standard else None,
    }


def on_time(deals: list) -> dict:
    """Judged: delivered, or past due and still undelivered (as the clock's red light records it)."""
    kept = _sum(deals, "due_on_time")
    judged = _sum(deals, "due_delivered") + _sum(deals, "due_overdue")
    return {"judged": judged, "on_time": kept, "on_time_rate": _ratio(kept, judged)}


def satisfaction(deals: list) -> dict:
    n, total, good = _sum(deals, "ratings"), _sum(deals, "rating_sum"), _sum(deals, "good_ratings")
    return {
        "ratings": n,
        "good": good,
        "satisfaction": _ratio(good, n),
        "avg_rating": _ratio(total, n, 2),
    }


def top_agencies(region: str | None, period: Period, limit: int) -> list[dict]:
    """Per category, the agencies with the most deals in the period (kept per agency and month)."""
    a = MarketAgencyMonth
    per = (
        select(a.category_id, a.agency_id, _total(a.deals).label("n"), _total(a.amount_fen).label("amount"))
        .where(a.month >= period.first, a.month <= period.last, _inside(a.region_code, region))
        .group_by(a.category_id, a.agency_id)
        .having(func.sum(a.deals) > 0)
        .subquery()
    )
    place = (
        func.row_number()
        .over(partition_by=per.c.category_id, order_by=(per.c.n.desc(), per.c.amount.desc(), per.c.agency_id))
        .label("place")
    )
    ranked = select(per, place).subquery()
    rows = db.session.execute(select(ranked).where(ranked.c.place <= limit)).all()
    if not rows:
        return []
    names = dict(
        db.session.execute(
            select(Agency.id, Agency.name).where(Agency.id.in_({r.agency_id for r in rows}))
        ).all()
    )
    per_category: dict[int, list] = defaultdict(list)
    for r in sorted(rows, key=lambda r: r.place):
        per_category[r.category_id].append(
            {
                "agency_id": r.agency_id,
                "name": names.get(r.agency_id, ""),
                "deals": r.n,
                "amount_fen": r.amount,
            }
        )
    return [
        {"category_id": c.id, "code": c.code, "name": c.name, "agencies": per_category[c.id]}
        for c in db.session.scalars(
            select(Category).where(Category.id.in_(per_category)).order_by(Category.sort_order, Category.code)
        )
    ]


def complaint_figures(region: str | None, period: Period) -> dict:
    """Complaints and reports filed in the period whose target lies inside `region`, and their outcomes: filed,
    closed (upheld, dismissed or refused), upheld, dismissed, open, the average days from filing to a decision
    (upheld or dismissed), and the count per status. Counts only: nothing about who filed what."""
    rows = db.session.execute(
        select(Complaint.status, Complaint.filed_at, Complaint.decided_at).where(
            Complaint.filed_at >= period.start,
            Complaint.filed_at < period.end,
            _inside(Complaint.region_code, region),
        )
    ).all()
    by_status: dict[str, int] = {s.value: 0 for s in ComplaintStatus}
    days = []
    for status, filed_at, decided_at in rows:
        by_status[ComplaintStatus(status).value] += 1
        if status in (ComplaintStatus.UPHELD, ComplaintStatus.DISMISSED) and decided_at is not None:
            days.append((decided_at - filed_at).total_seconds() / 86400)
    upheld, dismissed = by_status["upheld"], by_status["dismissed"]
    return {
        "filed": len(rows),
        "closed": upheld + dismissed + by_status["refused"],
        "upheld": upheld,
        "dismissed": dismissed,
        "open": by_status["received"] + by_status["investigating"],
        "avg_days_to_decide": round(sum(days) / len(days), 1) if days else None,
        "by_outcome": [
            {"outcome": code, "label": str(STATUS_LABELS[ComplaintStatus(code)]), "count": n}
            for code, n in by_status.items()
            if n
        ],
    }


def compute(region: str | None, period: Period) -> dict:
    """Every figure of /stats for the area and period, as plain JSON (the monthly report keeps it as it is)."""
    made = deals(region, period)
    price = prices(made)
    pace = speed(made)
    kept = on_time(made)
    liked = satisfaction(made)
    people = members(region, period)
    months = monthly(region, period, made)
    return {
        "area": area_of(region),
        "period": {"from": period.first, "to": period.last, "months": period.months},
        "summary": {
            "members": people["total"],
            "requests": sum(m["requests"] for m in months),
            **price,
            **pace,
            **kept,
            **liked,
        },
        "members_by_category": people["by_category"],
        "members_by_region": people["by_region"],
        "monthly": months,
        "top_agencies": top_agencies(region, period, current_app.config["REPORTS_TOP_AGENCIES"]),
        "complaints": complaint_figures(region, period),
        "computed_at": local(now()).isoformat(timespec="seconds"),
    }
