import marshmallow as ma


class StatsQuery(ma.Schema):
    """The statistics' filters (all optional): a region of any level, a run of whole months."""

    region = ma.fields.String(
        load_default=None, metadata={"description": "GB/T 2260 code of any level (or a name), e.g. 320500"}
    )
    date_from = ma.fields.String(
        load_default=None,
        data_key="from",
        metadata={"description": "first month, YYYY-MM (default: 11 months ago)"},
    )
    date_to = ma.fields.String(
        load_default=None,
        data_key="to",
        metadata={"description": "last month, YYYY-MM (default: this month)"},
    )


class StatsOut(ma.Schema):
    """Every figure of /stats. Rates are fractions (0.3 = 30 %), amounts integer fen, days decimal days; a
    figure with nothing to count is null. Definitions: marketplace/reports/figures.py."""

    area = ma.fields.Dict(metadata={"description": "{code, name, whole_market}"})
    period = ma.fields.Dict(metadata={"description": "{from, to, months}"})
    summary = ma.fields.Dict(
        metadata={
            "description": "members, requests, deals, amount_fen, ceiling_fen, savings_fen, savings_rate, "
            "guided_deals, guided_amount_fen, guide_mid_fen, guide_ratio, below_guide_rate, completed, avg_days, "
            "standard_days, time_reduction, judged, on_time, on_time_rate, ratings, good, satisfaction, avg_rating"
        }
    )
    members_by_category = ma.fields.List(
        ma.fields.Dict(), metadata={"description": "{category_id, code, name, members}"}
    )
    members_by_region = ma.fields.List(ma.fields.Dict(), metadata={"description": "{code, name, members}"})
    monthly = ma.fields.List(
        ma.fields.Dict(),
        metadata={"description": "{month, requests, deals, amount_fen, ceiling_fen, savings_rate}"},
    )
    top_agencies = ma.fields.List(
        ma.fields.Dict(),
        metadata={
            "description": "{category_id, code, name, agencies: [{agency_id, name, deals, amount_fen}]}"
        },
    )
    complaints = ma.fields.Dict(
        allow_none=True, metadata={"description": "complaints and outcomes; null until published"}
    )
    trend = ma.fields.List(
        ma.fields.Dict(),
        metadata={"description": "monthly reports only: the 12 months to the report's month"},
    )
    computed_at = ma.fields.String()


class ReportOut(ma.Schema):
    id = ma.fields.Integer()
    area_code = ma.fields.String()
    area_name = ma.fields.Method("_area_name")
    month = ma.fields.String()
    generated_at = ma.fields.AwareDateTime()
    has_pdf = ma.fields.Function(lambda r: r.pdf_problem is None)
    page_url = ma.fields.Method("_page_url")
    pdf_url = ma.fields.Method("_pdf_url")

    def _area_name(self, report):
        from marketplace.reports.services import area_label

        return area_label(report.area_code)

    def _page_url(self, report):
        from flask import url_for

        return url_for("reports.report", report_id=report.id, _external=True)

    def _pdf_url(self, report):
        from flask import url_for

        return url_for("reports.report_pdf_file", report_id=report.id, _external=True)


class ReportDetailOut(ReportOut):
    figures = ma.fields.Nested(StatsOut)
