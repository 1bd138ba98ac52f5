"""``flask --app wsgi registry demo``: the command, and :func:`write_demo`, the run it
calls (the enterprises batch by batch, then the applications and the demo users)."""

from __future__ import annotations

import gc
import random
import secrets
import time
from dataclasses import dataclass

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from registry.core import clock
from registry.core.audit import Actor
from registry.core.cli import CLI_ACTOR, refusal_exits
from registry.core.dbsession import DbSession
from registry.demo import applications, pipeline
from registry.demo.plan import BATCH_SIZE, DemoSpec, TierRoom, plan_ladder
from registry.enterprises import batch_operations as enterprise_ops
from registry.enterprises import queries as enterprise_queries
from registry.enterprises.models import Enterprise
from registry.extensions import db
from registry.ladder import queries as ladder_queries


@dataclass
class DemoRun:
    """What :func:`write_demo` wrote, for the command's output."""

    seed: int
    plan: dict[str, int]
    replaced: int
    applications: applications.Summary
    reports: int = 0
    tier_events: int = 0


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
    """Add COUNT demo enterprises, about 10 % of them on the ladder (every tier non-empty
    and below 80 % of its quota; the rules are in ``registry.demo.plan``) with a history
    of tier events over the last 24 months (``registry.demo.history``); the holders with
    annual reports for the last three completed years, the others with one. Commits
    per batch of 25 000, each batch atomic; a
    registry that already holds enterprises gets COUNT more. Then applications in every
    state and the demo users (``registry.demo.applications``, one more transaction).
    Prints a summary line, the applications and the demo users' passwords."""
    started = time.perf_counter()
    seed = random_seed if random_seed is not None else secrets.randbelow(2**31)
    if workers is None:
        workers = 1 if count > BATCH_SIZE else 0
    with refusal_exits():
        run = write_demo(db.session, count, seed, workers, CLI_ACTOR)
    holders = ", ".join(f"{code} {n}" for code, n in run.plan.items())
    click.echo(
        f"demo: {count} enterprises, {run.reports} annual reports, {sum(run.plan.values())} on"
        f" the ladder ({holders}), {run.tier_events} tier events, {run.replaced} codes"
        f" regenerated, seed {run.seed},"
        f" {time.perf_counter() - started:.1f} s"
    )
    click.echo(applications.describe(run.applications))


def write_demo(session: DbSession, count: int, seed: int, workers: int, actor: Actor) -> DemoRun:
    """Write ``count`` demo enterprises with their reports and designations, committing
    per batch (``workers`` processes generate them), then the applications and the demo
    users in one more transaction. A refusal propagates; what was committed stays."""
    with pipeline.worker_pool(workers) as pool:
        tiers = tuple(
            TierRoom(t.code, t.rank, t.quota, occ.occupancy, t.validity_value)
            for t, occ in ladder_queries.ladder_overview(session)
        )
        # The applications' grants and notices take slots too (registry.demo.applications).
        plan = plan_ladder(count, applications.keep_room(tiers, count))
        today = clock.today()
        spec = DemoSpec(
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
        retries = random.Random(seed)  # nosec B311 # demo data, repeatable from the seed
        replaced = reports = events = 0
        # The loop allocates millions of rows without cycles: the cyclic garbage collector
        # would only keep rescanning them (~3 % of the run, measured). Back on afterwards.
        gc.freeze()
        gc.disable()
        try:
            with enterprise_ops.sqlite_bulk_load(session):
                for batch in pipeline.batches(spec, pool, ahead=workers):
                    if check_codes:
                        replaced += pipeline.replace_taken(
                            batch,
                            spec,
                            lambda codes: enterprise_ops.taken_usccs(session, codes),
                            retries,
                        )
                    events += pipeline.write_batch(session, batch, actor)
                    reports += len(batch.reports)
                    session.commit()
        finally:
            gc.enable()
            gc.unfreeze()
    rng = random.Random(seed)  # nosec B311 # demo data, repeatable from the seed
    made = applications.write_applications(session, count, rng)
    session.commit()
    return DemoRun(seed, plan, replaced, made, reports, events)


#: The commands ``create_app`` adds to the ``flask registry`` group.
COMMANDS = (demo_command,)
