"""flask credit …"""

import click
from flask.cli import AppGroup

credit = AppGroup("credit", help="Agency credit: scores, grades, lists.")


@credit.command("rebuild")
@click.option("--fix", is_flag=True, help="Write the rebuilt values where they differ.")
def rebuild(fix: bool) -> None:
    """Recompute every agency's credit from its events by a separate path (one SQL GROUP BY) and say whether the
    running values agree."""
    from marketplace.common.uow import unit_of_work
    from marketplace.credit import ledger

    with unit_of_work():
        report = ledger.rebuild(fix=fix)
    if report.agrees:
        click.echo(f"credit: {report.agencies} agencies; running scores and grades agree with their events")
        return
    for agency_id, diff in sorted(report.differing.items())[:20]:
        shown = ", ".join(f"{name} {have} → {want}" for name, (have, want) in diff.items())
        click.echo(f"  agency {agency_id}: {shown}")
    verb = "DIFFERED and were replaced" if fix else "DIFFER (run with --fix to replace them)"
    click.echo(f"credit: {report.agencies} agencies; {len(report.differing)} running values {verb}")
    raise SystemExit(1)
