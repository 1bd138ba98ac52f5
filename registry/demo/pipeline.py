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

from registry.core.audit import Actor
from registry.core.changes import append_entries
from registry.core.dbsession import DbSession
from registry.demo.enterprises import DemoBatch, generate
from registry.demo.plan import DemoSpec
from registry.enterprises import batch_operations as enterprise_ops
from registry.enterprises import uscc as uscc_codes
from registry.ladder import batch_operations as ladder


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


def write_batch(session: DbSession, batch: DemoBatch, actor: Actor) -> None:
    """One batch of ``demo`` in the current transaction: its designations, enterprises,
    reports and grant events, each with its audit entries; the feed entries last, so
    that on PostgreSQL the feed counter is locked only for the COMMIT (API.md, "How the
    order is kept"). The caller commits."""
    requests = [ladder.DesignationRequest(r.tier, r.since) for r in batch.ladder]
    designations = ladder.issue_designations(session, requests)
    for request, designation in zip(batch.ladder, designations, strict=True):
        batch.enterprises.replace(request.row, **designation.fields())
    feed: list[dict] = []
    ids = enterprise_ops.bulk_create_enterprises(session, batch.enterprises, actor=actor, feed=feed)
    codes = batch.enterprises.usccs
    enterprise_ops.bulk_create_reports(
        session, batch.reports, actor=actor, ids=dict(zip(codes, ids, strict=True)), feed=feed
    )
    grants = [
        ladder.GrantRecord(ids[r.row], codes[r.row], designation)
        for r, designation in zip(batch.ladder, designations, strict=True)
    ]
    ladder.record_grants(session, grants, actor=actor, reason="demo data", feed=feed)
    append_entries(session, feed)
