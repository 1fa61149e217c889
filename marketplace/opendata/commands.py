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


@opendata.command("watch")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between passes.")
@click.option("--passes", type=int, default=None, help="Stop after this many passes (default: run on).")
def watch(interval: float, passes: int | None) -> None:
    """Make the due months' packages in this process (with OCDS_IN_CLOCK=0, beside `flask clock`)."""
    from marketplace.opendata import kept

    def echo(made: kept.Made) -> None:
        click.echo(f"{made.month}: {made.releases} releases, {made.bytes:,} bytes, {made.seconds:.1f} s")

    kept.watch(interval, passes, echo)
