"""flask commands: users, demo, uploads; the features add theirs (clock, tick, search, stats, fees)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from marketplace.common.errors import DomainError
from marketplace.common.uow import unit_of_work

users = AppGroup("users", help="Manage accounts.")
demo = AppGroup("demo", help="Demo data.")
uploads = AppGroup("uploads", help="Uploaded files.")


@users.command("create-admin")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_admin(email: str, password: str) -> None:
    """Create an administrator (or reset an existing administrator's password)."""
    from marketplace.auth.services import create_admin as create

    try:
        with unit_of_work():
            user = create(email, password)
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from exc
    click.echo(f"administrator {user.email} (id {user.id}) is ready")


@users.command("create-staff")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", required=True, type=click.Choice(["operator", "department", "supervisor"]))
@click.option(
    "--region", "region_code", default=None, help="GB/T 2260 code of the area (default: the market's)."
)
@click.option("--department", default=None, help="The trade department (department accounts only).")
def create_staff(
    email: str, password: str, role: str, region_code: str | None, department: str | None
) -> None:
    """Create a staff account scoped to a region (or update one: role, scope, password)."""
    from marketplace.auth.models import Role
    from marketplace.auth.services import create_staff as create

    try:
        with unit_of_work():
            user = create(email, password, Role(role), region_code, department)
    except DomainError as exc:
        detail = "; ".join(str(m) for msgs in exc.errors.values() for m in msgs)
        raise click.ClickException(detail or str(exc.message)) from exc
    scope = user.region_code or "the whole market area"
    click.echo(
        f"{role} {user.email} (id {user.id}) acts in {scope}"
        + (f" for {user.department}" if user.department else "")
    )


@demo.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when agencies already exist.")
@click.option(
    "--seed", default=2026, show_default=True, help="Random seed: the same seed gives the same data."
)
def load(if_empty: bool, seed: int) -> None:
    """Load realistic demo data: agencies, enterprises, stores and a year of requests, bids and orders."""
    from marketplace.demo.services import has_data, load_demo

    if if_empty and has_data():
        click.echo("demo: the database already holds data; nothing loaded")
        return
    try:
        with unit_of_work():
            summary = load_demo(seed=seed)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("demo: loaded " + ", ".join(f"{k} {v}" for k, v in summary.items()))


def _referenced_uploads() -> dict[str, set[str]]:
    """{upload kind: every key a database row refers to}."""
    from sqlalchemy import select

    from marketplace.agencies import services as agencies
    from marketplace.agencies.models import Agency, Qualification
    from marketplace.agencies.roster import MembershipChange, Practitioner
    from marketplace.complaints import services as complaints
    from marketplace.complaints.models import ComplaintFile
    from marketplace.credit import appeals as credit_appeals
    from marketplace.credit.models import CreditAppeal, CreditRepair
    from marketplace.extensions import db
    from marketplace.inspections import services as inspections
    from marketplace.inspections.models import InspectionTarget
    from marketplace.opendata import kept as opendata
    from marketplace.orders import services as orders
    from marketplace.orders.models import OrderEvent
    from marketplace.payments import services as payments
    from marketplace.payments.models import Payment
    from marketplace.requests import objections, review
    from marketplace.requests.models import Objection, ServiceRequest

    def values(column) -> list:
        return list(
            db.session.scalars(select(column).where(column.is_not(None)).execution_options(yield_per=2000))
        )

    def keys_in(lists) -> set[str]:  # JSON columns holding a list of stored-file dicts
        return {
            f["key"]
            for files in lists
            if isinstance(files, list)
            for f in files
            if isinstance(f, dict) and f.get("key")
        }

    # The agencies' folder also holds the entry evidence, practitioners' scans and scans of proposed changes.
    change_files = [[p.get("file")] for p in values(MembershipChange.payload) if isinstance(p, dict)]
    agency_keys = (
        set(values(Qualification.file_key))
        | set(values(Practitioner.file_key))
        | set(values(Agency.pledge_file_key))
        | set(values(Agency.authorisation_file_key))
        | keys_in(change_files)
    )
    return {
        agencies.UPLOAD_KIND: agency_keys,
        payments.UPLOAD_KIND: keys_in([v] for v in values(Payment.voucher)),
        orders.UPLOAD_KIND: keys_in(values(OrderEvent.files)),
        objections.UPLOAD_KIND: keys_in(values(Objection.evidence)),
        review.UPLOAD_KIND: keys_in([v] for v in values(ServiceRequest.approval_document)),
        inspections.UPLOAD_KIND: keys_in(values(InspectionTarget.evidence)),
        credit_appeals.UPLOAD_KIND: keys_in(values(CreditAppeal.evidence))
        | keys_in([v] for v in values(CreditRepair.letter)),
        complaints.UPLOAD_KIND: set(values(ComplaintFile.key)),
        opendata.UPLOAD_KIND: opendata.referenced_keys(),
    }


@uploads.command("sweep")
@click.option(
    "--min-age",
    default=3600,
    show_default=True,
    type=click.IntRange(min=60),
    help="Only files at least this many seconds old: younger ones may belong to a transaction still running.",
)
@click.option("--dry-run", is_flag=True, help="Report what would be removed, remove nothing.")
def sweep_uploads(min_age: int, dry_run: bool) -> None:
    """Remove uploaded files that no database row refers to (left by a crash between writing and committing),
    and move into place the files of committed rows that a crash left under their temporary name."""
    from marketplace.common.uploads import sweep

    report = sweep(_referenced_uploads, min_age_seconds=min_age, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for name in report.removed:
        click.echo(f"{verb} {name}")
    for name in report.restored:
        click.echo(f"{'would restore' if dry_run else 'restored'} {name}")
    click.echo(
        f"uploads sweep: {verb} {len(report.removed)}, {'would restore' if dry_run else 'restored'} "
        f"{len(report.restored)}, "
        f"kept {report.kept} referenced, left {report.young} younger than {min_age} s"
    )


def register(app: Flask) -> None:
    from marketplace.audit.commands import audit
    from marketplace.chronograph.commands import clock, tick
    from marketplace.credit.commands import credit
    from marketplace.fees.commands import fees
    from marketplace.opendata.commands import opendata
    from marketplace.regions.commands import regions
    from marketplace.reports.commands import reports
    from marketplace.search.commands import search
    from marketplace.tally.commands import stats

    app.cli.add_command(credit)
    app.cli.add_command(audit)
    app.cli.add_command(fees)
    app.cli.add_command(opendata)
    app.cli.add_command(regions)
    app.cli.add_command(reports)
    app.cli.add_command(search)
    app.cli.add_command(stats)
    app.cli.add_command(tick)
    app.cli.add_command(clock)
    app.cli.add_command(uploads)
    app.cli.add_command(users)
    app.cli.add_command(demo)
    _take_write_lock(app.cli)


def _take_write_lock(command: click.Command) -> None:
    """Every command reads in order to write (tick, demo, stats, fees …): its transactions take SQLite's write
    lock when they begin, so that a web request writing meanwhile makes it wait, never fail."""
    from marketplace.common.database import with_write_lock

    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _take_write_lock(sub)
    elif command.callback is not None:
        command.callback = with_write_lock(command.callback)
