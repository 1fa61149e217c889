"""The monthly report's documents: its charts and its PDF (WeasyPrint with the CJK font the settings name).

WeasyPrint needs Pango (Debian: libpango-1.0-0 libpangoft2-1.0-0) and a CJK font (fonts-wqy-microhei). Where
they are missing the report is still generated and its printable page works; the PDF then says why it is not
there (PdfUnavailable) instead of failing."""

from __future__ import annotations

import logging
import os

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace.common import charts

log = logging.getLogger(__name__)
# WeasyPrint reports every layout step at INFO: the clock's and the demo's output would drown in it.
for _name in ("weasyprint", "weasyprint.progress", "fontTools"):
    logging.getLogger(_name).setLevel(logging.WARNING)


class PdfUnavailable(Exception):
    """WeasyPrint (or the system libraries it needs) is not installed here."""


def _yuan_axis(fen: float) -> str:
    yuan = fen / 100
    if yuan >= 100_000_000:
        return _("%(n)s hundred million", n=f"{yuan / 100_000_000:.3g}")
    return _("%(n)s ten thousand", n=f"{yuan / 10_000:.4g}") if yuan >= 10_000 else f"{yuan:,.0f}"


def _pct(value: float) -> str:
    return f"{value * 100:.3g}%"


def _count(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:.1f}"


def month_charts(months: list[dict]) -> dict:
    """The charts of a run of months (figures.monthly()): requests and deals, amounts, savings rate."""
    labels = [m["month"][2:].replace("-", ".") if len(months) > 12 else m["month"][5:] for m in months]
    return {
        "volume": charts.grouped_bars(
            labels,
            [[m["requests"] for m in months], [m["deals"] for m in months]],
            _count,
            titles=[
                [_("%(month)s: %(n)d requests published", month=m["month"], n=m["requests"]) for m in months],
                [_("%(month)s: %(n)d deals", month=m["month"], n=m["deals"]) for m in months],
            ],
        ),
        "amount": charts.bars(
            labels,
            [m["amount_fen"] for m in months],
            _yuan_axis,
            titles=[
                _("%(month)s: deals worth ¥%(amount)s", month=m["month"], amount=_yuan_axis(m["amount_fen"]))
                for m in months
            ],
        ),
        "savings": charts.bars(
            labels,
            [m["savings_rate"] for m in months],
            _pct,
            titles=[
                _("%(month)s: %(rate)s below the ceilings", month=m["month"], rate=_pct(m["savings_rate"]))
                if m["savings_rate"] is not None
                else m["month"]
                for m in months
            ],
        ),
    }


def member_charts(figures: dict) -> dict:
    cats = [c for c in figures["members_by_category"] if c["members"]]
    places = figures["members_by_region"]
    return {
        "categories": charts.hbars([c["name"] for c in cats], [c["members"] for c in cats], _count),
        "regions": charts.hbars([r["name"] for r in places], [r["members"] for r in places], _count),
    }


def font_face_css() -> str:
    """@font-face for the PDF: the configured file when present, else the fontconfig family by name."""
    family = current_app.config["REPORTS_PDF_FONT"]
    path = current_app.config.get("REPORTS_PDF_FONT_FILE")
    if path and os.path.exists(path):
        return f'@font-face {{ font-family: "ReportCJK"; src: url("file://{path}"); }}'
    return f'@font-face {{ font-family: "ReportCJK"; src: local("{family}"); }}'


def render_pdf(html: str) -> bytes:
    """The PDF of an HTML document; PdfUnavailable when WeasyPrint cannot run on this machine."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: Pango or its friends are missing
        log.warning("monthly report PDF unavailable: %s", exc)
        raise PdfUnavailable(
            str(
                _l(
                    "PDF generation is not available on this server (WeasyPrint or the Pango libraries are "
                    "missing); use the printable page and your browser's “Save as PDF”."
                )
            )
        ) from exc
    return HTML(string=html, base_url=current_app.root_path).write_pdf()


def report_pdf(report, area_name: str) -> bytes:
    """The PDF of a kept report (the same body as the printable page)."""
    html = render_template(
        "reports/report_pdf.html",
        report=report,
        figures=report.figures,
        area_name=area_name,
        month_charts=month_charts(report.figures.get("trend") or report.figures["monthly"]),
        member_charts=member_charts(report.figures),
        font_face=font_face_css(),
    )
    return render_pdf(html)
