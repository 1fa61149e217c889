"""flask fees …"""

import click
from flask.cli import AppGroup

fees = AppGroup("fees", help="The fee audit.")


@fees.command("audit")
def audit() -> None:
    """Run every fee check over the whole history; existing flags are found again, never duplicated."""
    from sqlalchemy import func, select

    from marketplace.common.uow import unit_of_work
    from marketplace.extensions import db
    from marketplace.fees import checks
    from marketplace.fees.models import FeeFlag

    with unit_of_work():
        before = db.session.scalar(select(func.count()).select_from(FeeFlag))
        after = checks.audit_all()
    click.echo(f"fees: {after} flags ({after - before} new)")
