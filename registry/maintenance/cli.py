"""``flask --app wsgi registry check-deploy``, ``backup --out FILE`` and ``restore FILE``."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext

from registry.core import clock
from registry.extensions import db
from registry.maintenance.backup import write_backup
from registry.maintenance.backup_format import BackupRefused
from registry.maintenance.deploy_check import check_deploy
from registry.maintenance.restore import restore_backup


@click.command("check-deploy")
@with_appcontext
def check_deploy_command() -> None:
    """Check the configuration these servers would run with (their environment) and
    their database: one line per problem, starting ``error:`` or ``warning:`` and saying
    what to do. Exit status 1 when any line is an error, else 0."""
    migrate = current_app.extensions["migrate"].migrate
    script = ScriptDirectory.from_config(migrate.get_config())
    try:
        findings = check_deploy(current_app.config, os.environ, db.session, script, clock.today())
    finally:
        db.session.rollback()
    for finding in findings:
        click.echo(str(finding))
    if not findings:
        click.echo("No problem found.")
    if any(finding.level == "error" for finding in findings):
        raise click.exceptions.Exit(1)


T = TypeVar("T")


class _ProgressLine:
    """One line on a terminal, rewritten at most twice a second; nothing elsewhere."""

    def __init__(self, verb: str) -> None:
        self.verb = verb
        self.started = time.monotonic()
        self.shown = 0.0
        self.on_terminal = sys.stderr.isatty()

    def __call__(self, table: str, rows: int, written: int) -> None:
        now = time.monotonic()
        if self.on_terminal and now - self.shown >= 0.5:
            self.shown = now
            click.echo(
                f"\r{self.verb}: {table} {rows:,} rows, {written:,} in all, "
                f"{now - self.started:.0f} s\033[K",
                err=True,
                nl=False,
            )

    def done(self) -> None:
        if self.on_terminal:
            click.echo("\r\033[K", err=True, nl=False)


def _run(verb: str, operation: Callable[..., T], path: Path) -> tuple[T, float]:
    """``operation`` on this registry's database and ``path``, with a progress line on
    a terminal: its result and the seconds it took."""
    progress = _ProgressLine(verb)
    try:
        result = operation(
            db.engine,
            db.metadata,
            path,
            sync_key=current_app.config.get("SYNC_SECRET_KEY"),
            progress=progress,
        )
    finally:
        progress.done()
    return result, time.monotonic() - progress.started


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(out: Path) -> None:
    """Write every table of the registry (rate-limit counters, login throttles and
    idempotency keys excepted) to FILE, read in one consistent transaction while the
    registry keeps serving. The file is gzip'd JSON lines that restore into either
    engine; it holds password hashes and token digests: keep it as safe as the database."""
    trailer, seconds = _run("backup", write_backup, out)
    rows = sum(total.rows for total in trailer.tables.values())
    click.echo(
        f"Backed up {rows:,} rows of {len(trailer.tables)} tables to {out} in {seconds:.1f} s."
    )


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(source: Path) -> None:
    """Load the backup FILE into this empty database (migrated with `flask db upgrade`,
    not seeded). Checked whole before anything is committed; the database gets a new
    feed epoch, so followers reload from a snapshot."""
    try:
        restored, seconds = _run("restore", restore_backup, source)
    except BackupRefused as refusal:
        click.echo(f"error: restore refused, nothing written: {refusal}", err=True)
        raise click.exceptions.Exit(1) from None
    for text in restored.warnings:
        click.echo(f"warning: {text}", err=True)
    rows = sum(restored.rows.values())
    click.echo(
        f"Restored {rows:,} rows of {len(restored.rows)} tables from {source} "
        f"in {seconds:.1f} s; new feed epoch {restored.feed_epoch}."
    )


#: The commands ``create_app`` adds to the ``flask registry`` group.
COMMANDS = (check_deploy_command, backup_command, restore_command)
