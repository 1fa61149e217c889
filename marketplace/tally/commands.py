"""flask stats …"""

import json

import click
from flask.cli import AppGroup

stats = AppGroup("stats", help="Agency statistics.")


def _kept_rows_missing() -> bool:
    """True when the market has active members but the kept rows of a page are empty: a database upgraded to a
    release whose migration added them (the list's rows, the front page's counts) without filling them."""
    from sqlalchemy import func, select

    from marketplace.agencies.models import Agency, AgencyStatus
    from marketplace.extensions import db
    from marketplace.stats.listing import AgencyListingCount
    from marketplace.stats.summary import MarketCount

    if not db.session.scalar(select(func.count()).where(Agency.status == AgencyStatus.ACTIVE)):
        return False
    return any(
        not db.session.scalar(select(func.count()).select_from(model))
        for model in (AgencyListingCount, MarketCount)
    )


@stats.command("rebuild")
@click.option(
    "--if-missing", is_flag=True, help="Only when a page's kept rows are missing (make run, make serve)."
)
def rebuild(if_missing: bool) -> None:
    """Recompute all statistics from accepted orders and ratings; says whether the running totals agreed."""
    from marketplace.common.uow import unit_of_work
    from marketplace.tally import services

    if if_missing and not _kept_rows_missing():
        return

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
