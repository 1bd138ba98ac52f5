"""``flask --app wsgi registry …``: operator commands, calling the same operations as
the web and API. Each command is one transaction (``tick`` and ``demo`` commit per
item or batch); a refusal prints one line on stderr, exits non-zero, changes nothing.
"""

from __future__ import annotations

import functools
import sys
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from registry.accounts import operations as account_ops
from registry.accounts import tokens
from registry.accounts.models import Role, User
from registry.applications import notice_ends as applications
from registry.core import clock, idempotency
from registry.core.audit import Actor
from registry.core.errors import DomainError, NotFound, ValidationFailed
from registry.core.ratelimit import api_limiter
from registry.enterprises import queries as enterprise_queries
from registry.extensions import db
from registry.ladder import operations as ladder
from registry.ladder import queries as ladder_queries
from registry.reports.cli import export_command, import_command
from registry.sync import feed
from registry.sync.cli import sync_cli

registry_cli = AppGroup("registry", help="Run the enterprise cultivation registry.")

# Commands act as the system (no signed-in user); the audit log records via="cli".
CLI_ACTOR = Actor.system("cli")


def transactional(command):
    """Commit when the command returns; on a refusal roll back and exit 1 with one line."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            result = command(*args, **kwargs)
            db.session.commit()
            return result
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc

    return wrapper


EARLIEST_DATE = date(1949, 10, 1)  # no designation or ban of this registry precedes it
QUOTA_MAX = 2**31 - 1


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        parsed = date.fromisoformat(value)
        if parsed < EARLIEST_DATE:
            raise ValueError("too early")
        return parsed
    except ValueError as exc:
        raise ValidationFailed(
            "%(name)s must be a date YYYY-MM-DD, not %(value)s.", name=name, value=value
        ) from exc


def _tier_code(value: str) -> str:
    codes = ladder_queries.tier_ranks(db.session)
    if value not in codes:
        raise ValidationFailed(
            "Unknown tier %(tier)s (one of %(codes)s).",
            tier=value,
            codes=", ".join(sorted(codes, key=codes.get)),
        )
    return value


@registry_cli.command("seed")
@click.option("--force", is_flag=True, help="Overwrite tier settings an admin edited.")
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


@registry_cli.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--password", help="The password (prefer --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.option("--enterprise", "uscc", help="USCC of the enterprise to link at once.")
@click.option("--name", default="", help="Display name.")
@transactional
def create_user_command(email, role, password, password_stdin, uscc, name) -> None:
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
registry_cli.add_command(token_cli)
registry_cli.add_command(import_command)
registry_cli.add_command(export_command)
registry_cli.add_command(sync_cli)


@token_cli.command("create")
@click.argument("email")
@click.option("--scopes", required=True, help="Comma-separated, e.g. registry:read,changes:read.")
@click.option("--expires-days", type=int, default=tokens.DEFAULT_DAYS, show_default=True)
def token_create_command(email, scopes, expires_days) -> None:
    """Create an API token for EMAIL and print it, and nothing else, on stdout (once:
    only its digest is kept). A scope the user's role lacks is accepted and has no
    effect."""
    secret = _create_token(email, scopes, expires_days)
    click.echo(secret)  # after the commit: a token printed is a token stored


@transactional
def _create_token(email: str, scopes: str, expires_days: int) -> str:
    user = db.session.scalars(
        select(User).where(User.email == account_ops.normalise_email(email))
    ).one_or_none()
    if user is None:
        raise NotFound("No user %(email)s.", email=email)
    _token, secret = tokens.create_token(
        db.session, user, scopes, actor=CLI_ACTOR, expires_days=expires_days
    )
    return secret


@registry_cli.command("grant")
@click.argument("uscc")
@click.argument("tier")
@click.option("--reason", required=True)
@click.option("--since", help="YYYY-MM-DD (default: today).")
@click.option("--number", help="The registration number already issued.")
@transactional
def grant_command(uscc, tier, reason, since, number) -> None:
    """Record a designation (e.g. a list moved in from elsewhere): the quota applies, the
    prerequisite rung is not required."""
    enterprise = enterprise_queries.by_uscc(db.session, uscc)
    event = ladder.grant_tier(
        db.session,
        enterprise,
        _tier_code(tier),
        actor=CLI_ACTOR,
        reason=reason,
        since=_date(since, "--since"),
        number=number,
    )
    click.echo(f"granted {event.to_tier} to {enterprise.uscc}: {event.registration_number}")


@registry_cli.command("demote")
@click.argument("uscc")
@click.argument("to_tier")
@click.option("--reason", required=True)
@transactional
def demote_command(uscc, to_tier, reason) -> None:
    """Move an enterprise down to TO_TIER (the quota of TO_TIER applies)."""
    enterprise = enterprise_queries.by_uscc(db.session, uscc)
    event = ladder.demote(
        db.session, enterprise, _tier_code(to_tier), actor=CLI_ACTOR, reason=reason
    )
    click.echo(f"demoted {enterprise.uscc} to {event.to_tier}: {event.registration_number}")


@registry_cli.command("revoke")
@click.argument("uscc")
@click.option("--reason", required=True)
@click.option("--ban-until", help="YYYY-MM-DD: no application until then.")
@transactional
def revoke_command(uscc, reason, ban_until) -> None:
    """Take an enterprise off the ladder, optionally banning applications until a date."""
    enterprise = enterprise_queries.by_uscc(db.session, uscc)
    ladder.revoke(
        db.session,
        enterprise,
        actor=CLI_ACTOR,
        reason=reason,
        ban_until=_date(ban_until, "--ban-until"),
    )
    click.echo(f"revoked the designation of {enterprise.uscc}")


@registry_cli.command("set-quota")
@click.argument("tier")
@click.argument("quota", type=click.IntRange(min=0, max=QUOTA_MAX))
@click.option("--reason", required=True)
@transactional
def set_quota_command(tier, quota, reason) -> None:
    """Set a tier's quota (audited). Lowering it below occupancy demotes nobody."""
    updated = ladder.set_quota(db.session, _tier_code(tier), quota, actor=CLI_ACTOR, reason=reason)
    click.echo(f"quota of {updated.code} is now {updated.quota}")


@registry_cli.command("tick")
@click.option("--now", "now_text", help="ISO-8601 instant to use as now, for this run only.")
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
        granted = _each_in_own_transaction(
            lambda: applications.due_notices(db.session, at),
            lambda application_id: applications.end_notice(db.session, application_id, at),
        )
        held = _each_in_own_transaction(
            lambda: applications.newly_held(db.session, at),
            lambda application_id: applications.record_held(db.session, application_id, at),
        )
        lapsed = _each_in_own_transaction(
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


def _each_in_own_transaction(find, process) -> int:
    """Process what ``find`` lists, one item per transaction; an item another server
    holds (skipped under its row lock) or that failed is not retried in this run."""
    done, seen = 0, set()
    while items := [i for i in find() if i not in seen]:
        db.session.rollback()  # end the read; each item gets its own transaction
        for item in items:
            seen.add(item)
            try:
                if process(item) is not None:
                    done += 1
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                click.echo(f"skipped {item}: {exc}", err=True)
    db.session.rollback()
    return done


@registry_cli.command("demo")
@click.option("--count", type=click.IntRange(min=1), required=True, help="Enterprises to add.")
@click.option("--random-seed", type=int, help="Seed for reproducible data (default: random).")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    help="Processes generating batches while this one writes (default: 1 when there are"
    " several batches, else 0).",
)
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
