"""The demo's monthly reports (月度运行报告): last month's, as the clock would have made them on the 1st."""

from __future__ import annotations

from marketplace.reports import services as reports


def load_monthly_reports() -> dict[str, int]:
    """Generate last month's reports (the market's area and each city with requests); returns the count."""
    return {"monthly_reports": len(reports.generate_month(reports.last_month()))}
