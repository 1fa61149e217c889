"""flask audit …"""

import click
from flask.cli import AppGroup

audit = AppGroup("audit", help="The audit log.")


@audit.command("verify")
def verify() -> None:
    """Walk the audit chain; name the first entry that was changed or removed (exit 1), else count the agreeing."""
    from marketplace.audit import chain
    from marketplace.extensions import db

    finding = chain.verify(db.session())
    db.session.rollback()
    if finding.ok:
        seq, digest = chain.current_head(db.session())
        click.echo(f"audit: {finding.agreed} entries agree; head no. {seq} {digest}")
        return
    click.echo(f"audit: {finding.agreed} entries agree, then: {finding.problem}", err=True)
    raise SystemExit(1)
