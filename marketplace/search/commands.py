"""flask search reindex | drain | status."""

import click
from flask.cli import AppGroup

search = AppGroup("search", help="The full-text index.")


def _progress(doc_type: str, count: int) -> None:
    click.echo(f"search: {doc_type} {count} …")


@search.command("reindex")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for another writer.")
@click.option("--quiet", is_flag=True, help="No progress lines, only the summary.")
def reindex(timeout: float, quiet: bool) -> None:
    """Build the index from the database (Whoosh: a fresh generation, then swapped in; PostgreSQL: the
    search_document table in one transaction). Shows progress per document kind."""
    from marketplace.search import backends, index, pg

    click.echo(f"search: building the {backends.name()} index …")
    try:
        report = backends.reindex(timeout=timeout, progress=None if quiet else _progress)
    except (index.IndexBusy, pg.BackendUnavailable) as exc:
        raise click.ClickException(str(exc)) from exc
    counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
    click.echo(f"search: indexed {counts} in {report.seconds:.2f} s ({report.generation})")


@search.command("drain")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for another writer.")
def drain(timeout: float) -> None:
    """Index the queued changes (builds the index first when there is none)."""
    from marketplace.search import backends, index, pg

    try:
        if not backends.is_built():
            built = backends.reindex(timeout=timeout)
            click.echo(f"search: there was no index; built it in {built.seconds:.2f} s")
        report = backends.drain_all(timeout=timeout)
    except (index.IndexBusy, pg.BackendUnavailable) as exc:
        raise click.ClickException(str(exc)) from exc
    if report.locked:
        raise click.ClickException(
            f"search: another process holds the index; {report.documents} documents indexed, the rest stay queued"
        )
    click.echo(f"search: {report.rows} queued changes, {report.documents} documents indexed")


@search.command("status")
def status() -> None:
    """Which backend, where the index is, how many documents it holds and how many changes wait."""
    from flask import current_app

    from marketplace.search import backends, index, pg

    click.echo(f"backend: {backends.name()}")
    if not backends.is_postgres():
        click.echo(f"index: {current_app.config['SEARCH_INDEX_DIR']}")
    try:
        counts = backends.document_counts()
    except pg.BackendUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        "documents: " + (", ".join(f"{k} {v}" for k, v in counts.items()) if counts else "no index yet")
    )
    click.echo(f"queued changes: {index.pending()}")
