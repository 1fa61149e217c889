"""The monthly reports made by the clock (once), their page and PDF, and the statistics' filters refusing what
they do not understand (422 with a message, never a 500)."""

from __future__ import annotations

import sys

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.reports import services
from marketplace.reports.models import MonthlyReport
from tests import factories as f
from tests import timetravel
from tests.html import parse
from tests.pdftext import font_names, shown_characters


def _reports() -> list[tuple[str, str]]:
    return sorted(db.session.execute(select(MonthlyReport.area_code, MonthlyReport.month)).all())


def test_the_clock_generates_last_months_reports_once_on_the_1st(app, client, monkeypatch):
    # the default (off in the other tests: tests/conftest.py)
    monkeypatch.setitem(app.config, "REPORTS_MONTHLY", 1)
    assert timetravel.run_clock().failures == []
    assert _reports() == []  # nothing published before this month: no report is due
    req = f.published_request(region_code="320703")
    timetravel.into_last_month(req)  # the clock ran on the 1st: last month is over
    month = services.last_month()
    assert _reports() == [
        ("320000", month),
        ("320700", month),
    ]  # the market's area and the city with a request
    again = timetravel.run_clock()
    assert again.failures == [] and again.others == 0
    assert db.session.scalar(select(func.count()).select_from(MonthlyReport)) == 2  # generated once

    report = db.session.scalar(select(MonthlyReport).where(MonthlyReport.area_code == "320700"))
    assert report.figures["summary"]["requests"] == 1 and report.figures["area"]["code"] == "320700"
    assert report.pdf_problem is None and report.pdf.startswith(b"%PDF")
    page = client.get("/stats/")
    links = [a.attrs.get("href") for a in parse(page.get_data(as_text=True)).find_all("a")]
    assert f"/stats/reports/{report.id}" in links and f"/stats/reports/{report.id}.pdf" in links

    r = client.get(f"/stats/reports/{report.id}.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.data == report.pdf
    shown = shown_characters(r.data)
    assert set("江苏省连云港市中介超市月度运行报告入驻中介机构") <= shown, "the PDF shows the Chinese text"
    assert any("WenQuanYi" in name for name in font_names(r.data)), "with the CJK font embedded"

    text = client.get(f"/stats/reports/{report.id}").get_data(as_text=True)
    assert "江苏省连云港市中介超市月度运行报告" in text and month in text


def test_the_clock_makes_no_report_when_switched_off(app, monkeypatch):
    monkeypatch.setitem(app.config, "REPORTS_MONTHLY", 0)
    timetravel.into_last_month(f.published_request(region_code="320506"))
    assert _reports() == []
    assert services.apply_due(services.pack(services.last_month(), "320000")) is True  # the step still works
    assert services.apply_due(services.pack(services.last_month(), "320000")) is False  # and only once


def test_the_command_generates_a_missed_month_once_and_refuses_bad_months(app):
    month = services.last_month()
    timetravel.into_last_month(f.published_request(region_code="320506"), clock=False)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "generate", "--month", month])
    assert result.exit_code == 0, result.output
    assert f"2 generated for {month}" in result.output
    db.session.expire_all()
    assert _reports() == [("320000", month), ("320500", month)]
    assert "0 generated" in runner.invoke(args=["reports", "generate", "--month", month]).output
    for bad in ("2026-13", "next", services.fig.month_of(services.now())):
        result = runner.invoke(args=["reports", "generate", "--month", bad])
        assert result.exit_code != 0 and "Error" in result.output


def test_without_weasyprint_the_report_is_kept_and_its_pdf_says_why(app, client, monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as on a machine without WeasyPrint or Pango
    report = services.generate("320000", services.last_month())
    db.session.commit()
    assert report.pdf is None and "PDF" in report.pdf_problem
    assert client.get(f"/stats/reports/{report.id}").status_code == 200
    r = client.get(f"/stats/reports/{report.id}.pdf")
    assert r.status_code == 503
    assert "PDF 暂不可用" in r.get_data(as_text=True) and "打印" in r.get_data(as_text=True)
    monkeypatch.delitem(sys.modules, "weasyprint")
    r = client.get(f"/stats/reports/{report.id}.pdf")  # WeasyPrint back: made on the fly, not kept by a read
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    db.session.expire_all()
    assert db.session.get(MonthlyReport, report.id).pdf is None


@pytest.mark.parametrize(
    "query, field",
    [
        ("region=999999", "region"),
        ("region=不存在的地方", "region"),
        ("from=2026-13", "from"),
        ("from=abc", "from"),
        ("to=2026-1", "to"),
        ("from=2026-06&to=2026-01", "to"),
        ("from=2020-01&to=2026-01", "to"),  # more than 36 months
        ("from=2999-01", "from"),
    ],
)
def test_bad_filters_are_refused_with_a_message(client, query, field):
    r = client.get(f"/api/v1/stats?{query}")
    assert r.status_code == 422
    body = r.get_json()
    assert field in body["errors"] and body["errors"][field][0]
    page = client.get(f"/stats/?{query}")
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "统计筛选条件有误" in text and "中介超市运行统计" in text  # the page still shows the figures


def test_unknown_reports_are_404(client):
    assert client.get("/stats/reports/999999").status_code == 404
    assert client.get("/stats/reports/999999.pdf").status_code == 404
    assert client.get("/api/v1/stats/reports/999999").status_code == 404


def test_the_report_list_in_the_api(client):
    report = services.generate("320000", services.last_month())
    db.session.commit()
    rows = client.get("/api/v1/stats/reports").get_json()
    assert [(r["id"], r["month"], r["has_pdf"]) for r in rows] == [(report.id, report.month, True)]
    assert rows[0]["pdf_url"].endswith(f"/stats/reports/{report.id}.pdf")
