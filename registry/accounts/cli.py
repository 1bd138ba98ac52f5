"""``flask --app wsgi registry create-user | token create``: users and their API tokens
(audited, via="cli")."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from registry.accounts import operations as account_ops
from registry.accounts import tokens
from registry.accounts.checks import normalise_email
from registry.accounts.models import Role, User
from registry.core.cli import CLI_ACTOR, transactional
from registry.core.errors import NotFound, ValidationFailed
from registry.enterprises import queries as enterprise_queries
from registry.extensions import db


@click.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--password", help="The password (prefer --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.option("--enterprise", "uscc", help="USCC of the enterprise to link at once.")
@click.option("--name", default="", help="Display name.")
@with_appcontext
@transactional
def create_user_command(
    email: str,
    role: str,
    password: str | None,
    password_stdin: bool,
    uscc: str | None,
    name: str,
) -> None:
    """Create a user. Without a password the user signs in by API token only."""
    if password and password_stdin:
        raise ValidationFailed("Give --password or --password-stdin, not both.")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    enterprise = enterprise_queries.by_uscc(db.session, uscc) if uscc else None
    user = account_ops.create_user(
        db.session,
        email,
        role=Role(role),
        actor=CLI_ACTOR,
        password=password,
        enterprise=enterprise,
        name=name,
    )
    click.echo(f"created user {user.id} <{user.email}> ({user.role})")


token_cli = AppGroup("token", help="API tokens.")


@token_cli.command("create")
@click.argument("email")
@click.option("--scopes", required=True, help="Comma-separated, e.g. registry:read,changes:read.")
@click.option("--expires-days", type=int, default=tokens.DEFAULT_DAYS, show_default=True)
def token_create_command(email: str, scopes: str, expires_days: int) -> None:
    """Create an API token for EMAIL and print it, and nothing else, on stdout (once:
    only its digest is kept). A scope the user's role lacks is accepted and has no
    effect."""
    secret = _create_token(email, scopes, expires_days)
    click.echo(secret)  # after the commit: a token printed is a token stored


@transactional
def _create_token(email: str, scopes: str, expires_days: int) -> str:
    user = db.session.scalars(
        select(User).where(User.email == normalise_email(email))
    ).one_or_none()
    if user is None:
        raise NotFound("No user %(email)s.", email=email)
    _token, secret = tokens.create_token(
        db.session, user, scopes, actor=CLI_ACTOR, expires_days=expires_days
    )
    return secret


#: The commands ``create_app`` adds to the ``flask registry`` group.
COMMANDS = (create_user_command, token_cli)
