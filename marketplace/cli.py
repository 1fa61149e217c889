"""flask commands: users, demo; the features add theirs (clock, tick, search, stats, fees)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from marketplace.common.errors import DomainError
from marketplace.common.uow import unit_of_work

users = AppGroup("users", help="Manage accounts.")
demo = AppGroup("demo", help="Demo data.")


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


def register(app: Flask) -> None:
    from marketplace.chronograph.commands import clock, tick
    from marketplace.fees.commands import fees
    from marketplace.search.commands import search
    from marketplace.stats.commands import stats

    app.cli.add_command(fees)
    app.cli.add_command(search)
    app.cli.add_command(stats)
    app.cli.add_command(tick)
    app.cli.add_command(clock)
    app.cli.add_command(users)
    app.cli.add_command(demo)
