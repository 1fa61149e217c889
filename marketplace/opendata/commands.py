"""flask opendata …"""

import click
from flask.cli import AppGroup

opendata = AppGroup("opendata", help="Open data (OCDS release packages).")


@opendata.command("rebuild")
def rebuild() -> None:
    """Make every month's OCDS release package now (the clock makes them in the background, a few a pass)."""
    from marketplace.opendata import kept

    def echo(made: kept.Made) -> None:
        click.echo(f"{made.month}: {made.releases} releases, {made.bytes:,} bytes, {made.seconds:.1f} s")

    made = kept.rebuild(echo)
    click.echo(f"opendata: {len(made)} months made")
