"""Running a demo's batches: generated in this process or in worker processes, their
codes made unique against the registry, written through the batch operations.

Generation is pure Python with no database access, so batches can be generated in worker
processes while the command writes the previous one, one transaction per batch.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.pool
import random
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any, cast

from sqlalchemy import func, update

from registry.core.audit import Actor
from registry.core.changes import append_entries
from registry.core.dbsession import DbSession
from registry.demo import history
from registry.demo.enterprises import DemoBatch, generate
from registry.demo.plan import DemoSpec
from registry.enterprises import batch_operations as enterprise_ops
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.models import Enterprise
from registry.ladder import batch_moves
from registry.ladder import batch_operations as ladder
from registry.ladder.models import EventKind

#: The reason recorded with every tier event of the demo.
REASON = "demo data"


@contextlib.contextmanager
def worker_pool(workers: int) -> Iterator[multiprocessing.pool.Pool | None]:
    """Processes that generate batches (fork; start it before opening a database
    connection, so that no connection is copied into a worker). 0 → none."""
    if workers <= 0:
        yield None
        return
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()


def batches(
    spec: DemoSpec, pool: multiprocessing.pool.Pool | None = None, ahead: int = 1
) -> Iterator[DemoBatch]:
    """The run's batches in order, generated here or by ``pool``'s workers, at most
    ``ahead`` batches ahead of the one being consumed (which bounds memory)."""
    if pool is None:
        for index in range(spec.batches):
            yield generate(spec, index)
        return
    pending: list = []
    for index in range(spec.batches):
        pending.append(pool.apply_async(generate, (spec, index)))
        if len(pending) > ahead:
            yield pending.pop(0).get()
    while pending:
        yield pending.pop(0).get()


def replace_taken(
    batch: DemoBatch,
    spec: DemoSpec,
    taken: Callable[[Iterable[str]], set[str]],
    rng: random.Random,
) -> int:
    """Give every row whose code is already in the registry a fresh random one in the
    same area (checked again, and against the batch). Returns how many were replaced."""
    replaced = 0
    codes = batch.enterprises.usccs
    clashes = taken(codes)
    while clashes:
        in_batch = set(batch.enterprises.usccs)
        fresh = []
        for row, code in enumerate(batch.enterprises.usccs):
            if code in clashes:
                new = code
                while new in in_batch:
                    new = uscc_codes.random_uscc(rng, code[2:8])
                in_batch.add(new)
                batch.replace_uscc(row, new, spec.known_cities)
                fresh.append(new)
                replaced += 1
        clashes = taken(fresh)
    return replaced


def write_batch(session: DbSession, batch: DemoBatch, actor: Actor) -> int:
    """One batch of ``demo`` in the current transaction: the registration numbers of its
    designations, past and present, then its enterprises (with the ladder fields their
    histories end with), reports and tier events, each with its audit entries; the feed
    entries last, so that on PostgreSQL the feed counter is locked only for the COMMIT
    (API.md, "How the order is kept"). Returns how many tier events it wrote. The caller
    commits."""
    numbers = _issue_numbers(session, batch)
    codes = batch.enterprises.usccs
    for row, story in batch.ladder.items():
        last = story.steps[-1]
        if story.tier is None and story.ban_until is None:
            continue  # off the ladder, as generated
        fields: dict[str, Any] = {"ban_until": story.ban_until}
        if story.tier is not None:
            fields |= {
                "tier": last.to_tier,
                "tier_since": last.since,
                "tier_expires_at": last.expires_at,
                "registration_number": numbers[row][-1],
            }
        batch.enterprises.replace(row, **fields)
    feed: list[dict] = []
    ids = enterprise_ops.bulk_create_enterprises(session, batch.enterprises, actor=actor, feed=feed)
    # The demo's champion holders came by the SRDI route; about one in eight was confirmed
    # a "little giant" (by a character of its code, so the same seed gives the same).
    session.execute(
        update(Enterprise)
        .where(Enterprise.uscc.in_(codes), Enterprise.tier == "champion")
        .values(tier_route="srdi", little_giant=func.substr(Enterprise.uscc, 17, 1) < "4")
    )
    enterprise_ops.bulk_create_reports(
        session, batch.reports, actor=actor, ids=dict(zip(codes, ids, strict=True)), feed=feed
    )
    moves = []
    for row, story in batch.ladder.items():
        issued = iter(numbers[row])
        number = None
        for i, step in enumerate(story.steps):
            if step.kind in history.ISSUING:
                number = next(issued)
            elif step.to_tier is None:
                number = None
            move = batch_moves.Move(
                ids[row],
                codes[row],
                EventKind(step.kind),
                step.from_tier,
                step.to_tier,
                step.at,
                step.since,
                step.expires_at,
                number,
                step.ban_until,
            )
            moves.append((step.at, row, i, move))
    # In time order: an enterprise's events in the order they happened.
    moves.sort(key=lambda m: m[:3])
    batch_moves.record_moves(session, [m[3] for m in moves], actor=actor, reason=REASON, feed=feed)
    append_entries(session, feed)
    return len(moves)


def _issue_numbers(session: DbSession, batch: DemoBatch) -> dict[int, list[str]]:
    """The registration numbers of the batch's designations (grants and demotions) in
    ``tier_since`` order, under the quota check for those held now: by row, in the
    order of the row's steps."""
    wanted = []
    for row, story in batch.ladder.items():
        issuing = [i for i, step in enumerate(story.steps) if step.kind in history.ISSUING]
        for i in issuing:
            step = story.steps[i]
            held = story.tier is not None and i == issuing[-1]
            since = cast(date, step.since)  # a designation's
            request = ladder.DesignationRequest(cast(str, step.to_tier), since, held=held)
            wanted.append((since, row, i, request))
    wanted.sort(key=lambda w: w[:3])
    designations = ladder.issue_designations(session, [w[3] for w in wanted])
    numbers: dict[int, list[str]] = {row: [] for row in batch.ladder}
    for (_since, row, _i, _request), designation in zip(wanted, designations, strict=True):
        numbers[row].append(designation.registration_number)
    return numbers
