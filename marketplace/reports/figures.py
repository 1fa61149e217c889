"""The market's public figures for an area and a run of months (/stats, GET /api/v1/stats, the monthly report).

Every figure is computed from the records themselves (not from the agencies' running totals), so that it can be
filtered by any region and period. Definitions (the README and the page's notes say the same):
- period: whole months, Beijing time; `start` is the 1st of the first month 00:00, `end` the 1st after the last
- region: a GB/T 2260 code of any level; a request, deal or rating belongs to it when its project (the request's
  `region_code`) lies inside it; a member when its seat (`agency.region_code`) does
- members: agencies active now, admitted (approved, else registered) before the period's end; by category (an
  agency in several categories counts in each) and by the divisions one level below the area
- requests: requests published (`published_at`) in the period; deals: orders created in the period that did not
  become void (declined or cancelled), with their contract amounts and their requests' ceilings
- savings_rate = 1 − Σ amount / Σ ceiling over the deals ("fees −30 %"); guide_ratio = Σ amount / Σ guide
  midpoint over the deals of government-guided items (midpoint = (min + max) // 2 of the item's guide price)
- completed: orders accepted in the period (with a start and a delivery); avg_days = mean of delivery − start in
  days; standard_days = mean of their items' standard time limits; time_reduction = 1 − avg_days / standard_days
  ("time −50 %")
- on-time: orders whose due date (the reckoned one, else the current) fell in the period and that were started
  and not void, judged once delivered or past due: on time when delivered by the due date
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
from sqlalchemy import func, select

from marketplace.agencies.models import Agency, AgencyStatus, agency_category
from marketplace.catalogue.models import Category, ServiceItem
from marketplace.common import areas
from marketplace.common.clock import LOCAL_TZ, local, now
from marketplace.common.errors import Invalid
from marketplace.complaints.models import STATUS_LABELS, Complaint, ComplaintStatus
from marketplace.extensions import db
from marketplace.orders.models import VOID, Order, OrderStatus
from marketplace.ratings.models import Rating
from marketplace.regions import services as regions
from marketplace.requests.models import ServiceRequest

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


def members(region: str | None, period: Period) -> dict:
    admitted = func.coalesce(Agency.approved_at, Agency.created_at)
    where = (Agency.status == AgencyStatus.ACTIVE, admitted < period.end, _inside(Agency.region_code, region))
    seats = list(db.session.execute(select(Agency.id, Agency.region_code).where(*where)))
    per_category = dict(
        db.session.execute(
            select(agency_category.c.category_id, func.count())
            .join(Agency, Agency.id == agency_category.c.agency_id)
            .where(*where)
            .group_by(agency_category.c.category_id)
        ).all()
    )
    categories = db.session.scalars(select(Category).order_by(Category.sort_order, Category.code)).all()
    area = region or regions.market_area()
    below = regions.children(area)
    counts: dict[str, int] = defaultdict(int)
    for _, seat in seats:
        home = next((d.code for d in below if areas.within(seat, d.code)), None)
        if home is None:
            home = area if areas.within(seat, area) else OTHER
        counts[home] += 1
    by_region = [{"code": d.code, "name": d.name, "members": counts[d.code]} for d in below]
    if counts[area] or not below:
        by_region.insert(0, {"code": area, "name": regions.name(area) or area, "members": counts[area]})
    if counts[OTHER]:
        by_region.append(
            {"code": OTHER, "name": str(_l("Outside the market's area")), "members": counts[OTHER]}
        )
    return {
        "total": len(seats),
        "by_category": [
            {"category_id": c.id, "code": c.code, "name": c.name, "members": per_category.get(c.id, 0)}
            for c in categories
        ],
        "by_region": by_region,
    }


def deals(region: str | None, period: Period) -> list:
    return list(
        db.session.execute(
            select(
                Order.agency_id,
                Order.amount_fen,
                Order.created_at,
                ServiceRequest.ceiling_fen,
                ServiceItem.category_id,
                ServiceItem.guide_min_fen,
                ServiceItem.guide_max_fen,
            )
            .join(ServiceRequest, Order.request_id == ServiceRequest.id)
            .join(ServiceItem, ServiceRequest.service_item_id == ServiceItem.id)
            .where(
                Order.status.not_in(list(VOID)),
                Order.created_at >= period.start,
                Order.created_at < period.end,
                _inside(ServiceRequest.region_code, region),
            )
        )
    )


def monthly(region: str | None, period: Period, deals: list) -> list[dict]:
    published = db.session.scalars(
        select(ServiceRequest.published_at).where(
            ServiceRequest.published_at >= period.start,
            ServiceRequest.published_at < period.end,
            _inside(ServiceRequest.region_code, region),
        )
    )
    requests: dict[str, int] = defaultdict(int)
    for at in published:
        requests[month_of(at)] += 1
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for d in deals:
        s = sums[month_of(d.created_at)]
        s[0] += 1
        s[1] += d.amount_fen
        s[2] += d.ceiling_fen
    out = []
    for m in period.months:
        n, amount, ceiling = sums.get(m, (0, 0, 0))
        out.append(
            {
                "month": m,
                "requests": requests[m],
                "deals": n,
                "amount_fen": amount,
                "ceiling_fen": ceiling,
                "savings_rate": _ratio(ceiling - amount, ceiling),
            }
        )
    return out


def prices(deals: list) -> dict:
    amount = sum(d.amount_fen for d in deals)
    ceiling = sum(d.ceiling_fen for d in deals)
    guided = [d for d in deals if d.guide_min_fen is not None and d.guide_max_fen is not None]
    guided_amount = sum(d.amount_fen for d in guided)
    guide_mid = sum((d.guide_min_fen + d.guide_max_fen) // 2 for d in guided)
    guide_ratio = _ratio(guided_amount, guide_mid)
    return {
        "deals": len(deals),
        "amount_fen": amount,
        "ceiling_fen": ceiling,
        "savings_fen": ceiling - amount,
        "savings_rate": _ratio(ceiling - amount, ceiling),
        "guided_deals": len(guided),
        "guided_amount_fen": guided_amount,
        "guide_mid_fen": guide_mid,
        "guide_ratio": guide_ratio,
        "below_guide_rate": round(1 - guide_ratio, 4) if guide_ratio is not None else None,
    }


def speed(region: str | None, period: Period) -> dict:
    rows = db.session.execute(
        select(Order.started_at, Order.delivered_at, ServiceItem.standard_days)
        .join(ServiceRequest, Order.request_id == ServiceRequest.id)
        .join(ServiceItem, ServiceRequest.service_item_id == ServiceItem.id)
        .where(
            Order.status == OrderStatus.ACCEPTED,
            Order.accepted_at >= period.start,
            Order.accepted_at < period.end,
            Order.started_at.is_not(None),
            Order.delivered_at.is_not(None),
            _inside(ServiceRequest.region_code, region),
        )
    ).all()
    n = len(rows)
    seconds = sum((_utc(r.delivered_at) - _utc(r.started_at)).total_seconds() for r in rows)
    standard = sum(r.standard_days for r in rows)
    avg_days = seconds / 86400 / n if n else None
    avg_standard = standard / n if n else None
    return {
        "completed": n,
        "avg_days": round(avg_days, 1) if avg_days is not None else None,
        "standard_days": round(avg_standard, 1) if avg_standard is not None else None,
        "time_reduction": round(1 - avg_days / avg_standard, 4) if n and avg_standard else None,
    }


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def on_time(region: str | None, period: Period) -> dict:
    due = func.coalesce(Order.reckoned_due_at, Order.due_at)
    t = min(now(), period.end)
    rows = db.session.execute(
        select(Order.delivered_at, due.label("due"))
        .join(ServiceRequest, Order.request_id == ServiceRequest.id)
        .where(
            Order.status.not_in(list(VOID)),
            Order.started_at.is_not(None),
            due >= period.start,
            due < period.end,
            _inside(ServiceRequest.region_code, region),
        )
    ).all()
    judged = [r for r in rows if r.delivered_at is not None or _utc(r.due) < t]
    kept = sum(1 for r in judged if r.delivered_at is not None and _utc(r.delivered_at) <= _utc(r.due))
    return {"judged": len(judged), "on_time": kept, "on_time_rate": _ratio(kept, len(judged))}


def satisfaction(region: str | None, period: Period) -> dict:
    rows = db.session.execute(
        select(func.count(), func.sum(Rating.overall), func.count().filter(Rating.overall >= 4))
        .select_from(Rating)
        .join(Order, Rating.order_id == Order.id)
        .join(ServiceRequest, Order.request_id == ServiceRequest.id)
        .where(
            Rating.created_at >= period.start,
            Rating.created_at < period.end,
            _inside(ServiceRequest.region_code, region),
        )
    ).one()
    n, total, good = rows[0], rows[1] or 0, rows[2] or 0
    return {
        "ratings": n,
        "good": good,
        "satisfaction": _ratio(good, n),
        "avg_rating": _ratio(total, n, 2),
    }


def top_agencies(deals: list, limit: int) -> list[dict]:
    per: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for d in deals:
        s = per[d.category_id][d.agency_id]
        s[0] += 1
        s[1] += d.amount_fen
    if not per:
        return []
    names = dict(
        db.session.execute(
            select(Agency.id, Agency.name).where(Agency.id.in_({a for c in per.values() for a in c}))
        ).all()
    )
    out = []
    for c in db.session.scalars(
        select(Category).where(Category.id.in_(per)).order_by(Category.sort_order, Category.code)
    ):
        ranked = sorted(per[c.id].items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))[:limit]
        out.append(
            {
                "category_id": c.id,
                "code": c.code,
                "name": c.name,
                "agencies": [
                    {"agency_id": a, "name": names.get(a, ""), "deals": s[0], "amount_fen": s[1]}
                    for a, s in ranked
                ],
            }
        )
    return out


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
    pace = speed(region, period)
    kept = on_time(region, period)
    liked = satisfaction(region, period)
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
        "top_agencies": top_agencies(made, current_app.config["REPORTS_TOP_AGENCIES"]),
        "complaints": complaint_figures(region, period),
        "computed_at": local(now()).isoformat(timespec="seconds"),
    }
