"""``flask --app wsgi registry sync …``: the peers this registry pulls from, and the pull."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import cast

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from registry.core import clock
from registry.core.cli import CLI_ACTOR, refusal_exits
from registry.core.errors import DomainError, ValidationFailed
from registry.extensions import db
from registry.sync.models import SyncSource
from registry.sync.sources import add_source, replace_token, source_named

sync_cli = AppGroup("sync", help='Mirror other registries (API.md "Sync").')


def _token(token: str | None, token_stdin: bool) -> str:
    if bool(token) == token_stdin:
        raise ValidationFailed("Give --token or --token-stdin (one of them).")
    return sys.stdin.readline().strip() if token_stdin else cast(str, token)  # given: see above


@sync_cli.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--token", help="The bearer token the peer issued (prefer --token-stdin).")
@click.option("--token-stdin", is_flag=True, help="Read the token from stdin.")
def add_command(name: str, url: str, token: str | None, token_stdin: bool) -> None:
    """Add a peer: NAME (a slug, the origin of its records here) and URL (its base URL,
    without /api/v1). The token is stored encrypted and never shown again."""
    with refusal_exits():
        source = add_source(db.session, name, url, _token(token, token_stdin), actor=CLI_ACTOR)
        db.session.commit()
    click.echo(f"added sync source {source.name} ({source.base_url})")


@sync_cli.command("set-token")
@click.argument("name")
@click.option("--token", help="The bearer token the peer issued (prefer --token-stdin).")
@click.option("--token-stdin", is_flag=True, help="Read the token from stdin.")
def set_token_command(name: str, token: str | None, token_stdin: bool) -> None:
    """Replace a source's token (a new one from the peer, or SYNC_SECRET_KEY changed)."""

    with refusal_exits():
        source = source_named(db.session, name)
        replace_token(db.session, source, _token(token, token_stdin), actor=CLI_ACTOR)
        db.session.commit()
    click.echo(f"replaced the token of {source.name}")


@sync_cli.command("list")
def list_command() -> None:
    """The sources with their cursor, last run, lag and last error."""
    sources = db.session.scalars(select(SyncSource).order_by(SyncSource.name)).all()
    if not sources:
        click.echo("no sync source")
    for source in sources:
        lag = (
            f"{int((clock.now() - source.last_entry_at).total_seconds())} s"
            if source.last_entry_at
            else "-"
        )
        click.echo(
            f"{source.name}\t{source.base_url}\tcursor {source.cursor or '-'}\t"
            f"last run {source.last_run_at or '-'}\tlag {lag}\t"
            f"{source.records_applied} applied\tlast error {source.last_error or '-'}"
        )
    db.session.rollback()


@contextlib.contextmanager
def _stoppable(stop: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    """Ctrl-C and TERM ask the pull to stop cleanly (between pages)."""
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@sync_cli.command("pull")
@click.argument("source")
@click.option("--follow", is_flag=True, help="Keep following the feed (long-polls) until stopped.")
def pull_command(source: str, follow: bool) -> None:
    """Mirror SOURCE's enterprises and annual reports: its snapshot first, then its
    change feed until caught up (--follow: until Ctrl-C or TERM). Each page is applied
    with its cursor in one transaction. Prints the records applied, the conflicts and
    the cursor; on a failure (recorded on the source) prints one line and exits 1."""
    # Loaded here, not with the app: a web worker never pulls (HTTP client ~5 MB).
    from registry.sync import client

    stop = client.StopRequest()
    progress = (lambda result: click.echo(result.line())) if follow else None
    try:
        with _stoppable(stop):
            result = client.pull(
                db.session, source, current_app.config, follow=follow, stop=stop, progress=progress
            )
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    except client.PullFailed as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(result.line())
