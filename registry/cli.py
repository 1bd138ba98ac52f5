"""``flask --app wsgi registry seed | tick``: the two commands that belong to no one
domain. ``create_app`` assembles the ``flask registry`` group from these and from the
``cli.py`` of the ladder, accounts, imports, reports, sync and the demo.

``seed`` loads the reference data of enterprises and the ladder (``seeding.py``).
``tick`` is the registry's scheduled job: it ends notices (applications) and lapses
expired designations (the ladder), then purges what has expired in accounts (login
throttles), core (idempotency keys, rate-limit counters) and sync (old feed entries).
Applications, the natural home of the notices, may use the ladder and accounts but not
sync, which sits above them; so ``tick`` lives here, at the top, beside ``create_app``,
which depends on every domain anyway.

Each command is one transaction (``tick`` commits per item); a refusal prints one line
on stderr, exits non-zero and changes nothing.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from registry.accounts import throttling
from registry.applications import notice_ends
from registry.core import clock, idempotency
from registry.core.cli import CLI_ACTOR, each_in_own_transaction, refusal_exits, transactional
from registry.core.ratelimit import api_limiter
from registry.extensions import db
from registry.ladder import operations as ladder
from registry.ladder import queries as ladder_queries
from registry.sync import feed


@click.command("seed")
@click.option("--force", is_flag=True, help="Overwrite tier settings an admin edited.")
@with_appcontext
@transactional
def seed_command(force: bool) -> None:
    """Load tiers, quotas, criteria, cities, industries, the working-day calendar and
    the plan's targets from seeds/. Running it again changes nothing; admin edits are
    kept unless --force."""
    from registry.seeding import SeedError, seed

    try:
        report = seed(db.session, force=force, actor=CLI_ACTOR)
    except SeedError as error:
        raise click.ClickException(f"{error}; nothing was loaded.") from None
    if not report.changed:
        click.echo("Seed data already loaded; nothing changed.")
    for what, n in {**report.inserted}.items():
        click.echo(f"inserted {n} {what}")
    for what, n in report.updated.items():
        click.echo(f"updated {n} {what}")
    for code in report.kept:
        click.echo(f"kept admin-edited settings of {code} (use --force to overwrite)")


@click.command("tick")
@click.option("--now", "now_text", help="ISO-8601 instant to use as now, for this run only.")
@with_appcontext
def tick_command(now_text: str | None) -> None:
    """Grant applications whose notice ended without an open objection, record those an
    open objection holds (their ``held`` turned true), then lapse expired designations.
    Idempotent and safe on several servers at once: each item is claimed under a row
    lock and processed in its own transaction."""
    try:
        at = clock.parse_instant(now_text) if now_text else clock.now()
    except ValueError as exc:
        raise click.ClickException(f"--now must be an ISO-8601 timestamp: {exc}") from exc
    # Each item commits on its own: a busy database stops the run at the item that
    # waited, and the next run goes on from there.
    with clock.pinned(at), refusal_exits():
        granted = each_in_own_transaction(
            lambda: notice_ends.due_notices(db.session, at),
            lambda application_id: notice_ends.end_notice(db.session, application_id, at),
        )
        held = each_in_own_transaction(
            lambda: notice_ends.newly_held(db.session, at),
            lambda application_id: notice_ends.record_held(db.session, application_id, at),
        )
        lapsed = each_in_own_transaction(
            lambda: ladder_queries.expired_enterprise_ids(db.session, at),
            lambda enterprise_id: ladder.lapse_designation(db.session, enterprise_id, at),
        )
        throttling.purge_login_throttles(db.session, at)
        idempotency.purge(db.session, at)
        feed.purge(db.session, at, current_app.config["FEED_RETENTION_DAYS"])
        db.session.commit()
        api_limiter.purge_expired()
    click.echo(
        f"granted {granted} application(s) whose notice ended, recorded {held} held by an "
        f"open objection, lapsed {lapsed} designation(s), as of {at.isoformat()}"
    )


#: The commands ``create_app`` adds to the ``flask registry`` group.
COMMANDS = (seed_command, tick_command)
