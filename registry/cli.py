"""``flask --app wsgi registry seed | tick | demo``: the commands that belong to no one
domain. ``create_app`` assembles the ``flask registry`` group from these and from the
``cli.py`` of the ladder, accounts, reports and sync.

``seed`` loads the reference data of enterprises and the ladder (``seeding.py``).
``tick`` is the registry's scheduled job: it ends notices (applications) and lapses
expired designations (the ladder), then purges what has expired in accounts (login
throttles), core (idempotency keys, rate-limit counters) and sync (old feed entries).
Applications, the natural home of the notices, may use the ladder and accounts but not
sync, which sits above them; so ``tick`` lives here, at the top, beside ``create_app``,
which depends on every domain anyway.

``demo`` writes demo data across enterprises, the ladder and applications.

Each command is one transaction (``tick`` and ``demo`` commit per item or batch); a
refusal prints one line on stderr, exits non-zero and changes nothing.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from registry.accounts import operations as account_ops
from registry.applications import operations as applications
from registry.core import clock, idempotency
from registry.core.audit import Actor
from registry.core.cli import CLI_ACTOR, each_in_own_transaction, transactional
from registry.core.errors import DomainError
from registry.core.ratelimit import api_limiter
from registry.enterprises import queries as enterprise_queries
from registry.extensions import db
from registry.ladder import operations as ladder
from registry.ladder import queries as ladder_queries
from registry.sync import feed


@click.command("seed")
@click.option("--force", is_flag=True, help="Overwrite tier settings an admin edited.")
@with_appcontext
@transactional
def seed_command(force: bool) -> None:
    """Load tiers, quotas, criteria, cities, industries and the working-day calendar
    from seeds/. Running it again changes nothing; admin edits are kept unless --force."""
    from registry.seeding import seed

    report = seed(db.session, force=force, actor=CLI_ACTOR)
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
    with clock.pinned(at):
        granted = each_in_own_transaction(
            lambda: applications.due_notices(db.session, at),
            lambda application_id: applications.end_notice(db.session, application_id, at),
        )
        held = each_in_own_transaction(
            lambda: applications.newly_held(db.session, at),
            lambda application_id: applications.record_held(db.session, application_id, at),
        )
        lapsed = each_in_own_transaction(
            lambda: ladder_queries.expired_enterprise_ids(db.session, at),
            lambda enterprise_id: ladder.lapse_designation(db.session, enterprise_id, at),
        )
        account_ops.purge_login_throttles(db.session, at)
        idempotency.purge(db.session, at)
        feed.purge(db.session, at, current_app.config["FEED_RETENTION_DAYS"])
        db.session.commit()
        api_limiter.purge_expired()
    click.echo(
        f"granted {granted} application(s) whose notice ended, recorded {held} held by an "
        f"open objection, lapsed {lapsed} designation(s), as of {at.isoformat()}"
    )


@click.command("demo")
@click.option("--count", type=click.IntRange(min=1), required=True, help="Enterprises to add.")
@click.option("--random-seed", type=int, help="Seed for reproducible data (default: random).")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    help="Processes generating batches while this one writes (default: 1 when there are"
    " several batches, else 0).",
)
@with_appcontext
def demo_command(count: int, random_seed: int | None, workers: int | None) -> None:
    """Add COUNT demo enterprises with one annual report each, about 10 % of them on the
    ladder (every tier non-empty and below 80 % of its quota; the rules are in
    ``registry.enterprises.demo``). Commits per batch of 25 000, each batch atomic; a
    registry that already holds enterprises gets COUNT more. Then applications in every
    state and the demo users (``registry.demo_applications``, one more transaction).
    Prints a summary line, the applications and the demo users' passwords."""
    import gc
    import random
    import secrets
    import time

    from sqlalchemy import select

    from registry import demo, demo_applications
    from registry.enterprises import batch_operations as enterprise_ops
    from registry.enterprises.models import Enterprise

    started = time.perf_counter()
    seed = random_seed if random_seed is not None else secrets.randbelow(2**31)
    if workers is None:
        workers = 1 if count > demo.BATCH_SIZE else 0
    session = db.session
    actor = Actor.system("cli")
    with demo.worker_pool(workers) as pool:
        tiers = tuple(
            demo.TierRoom(t.code, t.rank, t.quota, occ.occupancy, t.validity_value)
            for t, occ in ladder_queries.ladder_overview(session)
        )
        # The applications' grants and notices take slots too (registry.demo_applications).
        plan = demo.plan_ladder(count, demo_applications.keep_room(tiers, count))
        today = clock.today()
        spec = demo.DemoSpec(
            seed=seed,
            count=count,
            at=clock.now(),
            today=today,
            report_year=today.year - 1,
            known_cities=frozenset(c.code for c in enterprise_queries.cities(session)),
            industries=tuple(i.code for i in enterprise_queries.industries(session)),
            tiers=tiers,
            plan=tuple(plan.items()),
        )
        # Codes of one run never collide; only a registry already holding some needs checks.
        check_codes = session.scalar(select(Enterprise.id).limit(1)) is not None
        retries = random.Random(seed)
        replaced = 0
        # The loop allocates millions of rows without cycles: the cyclic garbage collector
        # would only keep rescanning them (~3 % of the run, measured). Back on afterwards.
        gc.freeze()
        gc.disable()
        try:
            with enterprise_ops.sqlite_bulk_load(session):
                for batch in demo.batches(spec, pool, ahead=workers):
                    if check_codes:
                        replaced += demo.replace_taken(
                            batch,
                            spec,
                            lambda codes: enterprise_ops.taken_usccs(session, codes),
                            retries,
                        )
                    demo.write_batch(session, batch, actor)
                    session.commit()
        except DomainError as exc:
            session.rollback()
            raise click.ClickException(str(exc)) from exc
        finally:
            gc.enable()
            gc.unfreeze()
    try:
        made = demo_applications.write_applications(session, count, random.Random(seed))
        session.commit()
    except DomainError as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from exc
    holders = ", ".join(f"{code} {n}" for code, n in plan.items())
    click.echo(
        f"demo: {count} enterprises, {count} annual reports, {sum(plan.values())} on the"
        f" ladder ({holders}), {replaced} codes regenerated, seed {seed},"
        f" {time.perf_counter() - started:.1f} s"
    )
    click.echo(demo_applications.describe(made))


#: The commands ``create_app`` adds to the ``flask registry`` group.
COMMANDS = (seed_command, tick_command, demo_command)
