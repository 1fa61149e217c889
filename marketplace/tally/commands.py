"""flask stats …"""

import json

import click
from flask.cli import AppGroup

stats = AppGroup("stats", help="Agency statistics.")


@stats.command("rebuild")
def rebuild() -> None:
    """Recompute all statistics from accepted orders and ratings; says whether the running totals agreed."""
    from marketplace.common.uow import unit_of_work
    from marketplace.tally import services

    with unit_of_work():  # the rebuilt totals are kept even when they differed (then the exit status says so)
        before = services.snapshot()
        n = services.rebuild()
        after = services.snapshot()
    same = json.dumps(before, sort_keys=True, default=str) == json.dumps(after, sort_keys=True, default=str)
    click.echo(
        f"stats: {n} agencies; incremental statistics {'agree' if same else 'DIFFERED and were replaced'}"
    )
    if not same:
        raise SystemExit(1)
