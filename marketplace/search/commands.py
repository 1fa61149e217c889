"""flask search reindex | drain | status."""

import click
from flask.cli import AppGroup

search = AppGroup("search", help="The full-text index.")


@search.command("reindex")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for another writer.")
def reindex(timeout: float) -> None:
    """Rebuild the index from the database into a fresh generation, then swap it in."""
    from marketplace.search import index

    try:
        report = index.reindex(timeout=timeout)
    except index.IndexBusy as exc:
        raise click.ClickException(str(exc)) from exc
    counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
    click.echo(f"search: indexed {counts} in {report.seconds:.2f} s ({report.generation})")


@search.command("drain")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for another writer.")
def drain(timeout: float) -> None:
    """Index the queued changes (builds the index first when there is none)."""
    from marketplace.search import index

    try:
        if index.document_counts() is None:
            built = index.reindex(timeout=timeout)
            click.echo(f"search: there was no index; built it in {built.seconds:.2f} s")
        report = index.drain_all(timeout=timeout)
    except index.IndexBusy as exc:
        raise click.ClickException(str(exc)) from exc
    if report.locked:
        raise click.ClickException(
            f"search: another process holds the index; {report.documents} documents indexed, the rest stay queued"
        )
    click.echo(f"search: {report.rows} queued changes, {report.documents} documents indexed")


@search.command("status")
def status() -> None:
    """Where the index is, how many documents it holds and how many changes wait."""
    from flask import current_app

    from marketplace.search import index

    click.echo(f"index: {current_app.config['SEARCH_INDEX_DIR']}")
    counts = index.document_counts()
    click.echo(
        "documents: " + (", ".join(f"{k} {v}" for k, v in counts.items()) if counts else "no index yet")
    )
    click.echo(f"queued changes: {index.pending()}")
