"""flask clock (runs for ever) and flask tick (one pass, for cron)."""

import click


def _say(report) -> None:
    if report is None:
        click.echo("clock: another clock holds the lease; waiting")
        return
    click.echo(
        f"clock: {report.requests} requests, {report.orders} orders and {report.others} other items moved on; "
        f"{report.forgotten} old log-in records forgotten"
    )
    for failure in report.failures:
        click.echo(f"clock: FAILED {failure}", err=True)


@click.command("clock")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between passes.")
@click.option("--passes", type=int, default=None, help="Stop after this many passes (default: never).")
@click.option("--quiet", is_flag=True, help="Say only what moved or failed.")
def clock(interval: float, passes: int | None, quiet: bool) -> None:
    """Run the market's clock: close bidding, end publicity, auto-accept, deadline lights — for ever.
    Safe to run on several machines at once (one acts at a time)."""
    from marketplace.chronograph import services

    def report(result) -> None:
        if not quiet or (result and (result.requests or result.orders or result.others or result.failures)):
            _say(result)

    try:
        services.run_forever(interval=interval, passes=passes, on_pass=report)
    except KeyboardInterrupt:
        click.echo("clock: stopped")


@click.command("tick")
def tick() -> None:
    """One pass of the clock (cron-able): everything time has made due, each change audited. Waits its turn
    (does nothing) while another clock or tick holds the lease."""
    from marketplace.chronograph import services

    report = services.tick()
    _say(report)
    if report is not None and report.failures:
        raise SystemExit(1)
