"""flask reports generate --month YYYY-MM: a missed month's monthly reports (the clock makes them on the 1st)."""

import click
from flask.cli import with_appcontext

from marketplace.common.errors import DomainError
from marketplace.common.uow import unit_of_work
from marketplace.reports import services


@click.group("reports", help="Monthly reports (月度运行报告).")
def reports():
    pass


@reports.command("generate")
@click.option("--month", required=True, help="YYYY-MM, a month that is over")
@with_appcontext
def generate(month: str) -> None:
    """Generate the month's missing reports (the market's area and its divisions); existing ones are kept."""
    try:
        with unit_of_work():
            made = services.generate_month(month)
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from exc
    for report in made:
        note = "" if report.pdf is not None else f" (no PDF: {report.pdf_problem})"
        click.echo(f"{report.month} {report.area_code} {services.area_label(report.area_code)}{note}")
    click.echo(f"reports generate: {len(made)} generated for {month}")
