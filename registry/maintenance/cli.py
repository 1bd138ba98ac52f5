"""``flask --app wsgi registry check-deploy``."""

from __future__ import annotations

import os

import click
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext

from registry.core import clock
from registry.extensions import db
from registry.maintenance.deploy_check import check_deploy


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


#: The commands ``create_app`` adds to the ``flask registry`` group.
COMMANDS = (check_deploy_command,)
