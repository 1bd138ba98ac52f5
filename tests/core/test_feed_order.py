"""The change log under concurrent writers: a reader polling for entries after its last
position never sees a gap (a later position visible before an earlier one), never sees
an entry twice, and ends with every committed entry (API.md "How the order is kept")."""

from __future__ import annotations

import random
import threading
import time

from sqlalchemy import select

from registry.core.audit import Actor
from registry.core.db import read_only
from registry.core.models import ChangeLogEntry
from registry.enterprises.models import Enterprise
from registry.extensions import db
from registry.ladder import operations as ops

WRITERS = 8
MOVES = 6


def _writer(app, enterprise_id: int, seed: int, commits: list) -> None:
    rng = random.Random(seed)
    actor = Actor(None, f"writer-{seed}", "cli")
    with app.app_context():
        try:
            for _ in range(MOVES):
                enterprise = db.session.get(Enterprise, enterprise_id)
                if enterprise.tier is None:
                    ops.grant_tier(db.session, enterprise, "tech_sme", actor=actor, reason="w")
                else:
                    ops.revoke(db.session, enterprise, actor=actor, reason="w")
                time.sleep(rng.uniform(0, 0.004))  # a pause inside the transaction
                begun = time.monotonic_ns()
                db.session.commit()
                commits.append((begun, time.monotonic_ns(), enterprise.uscc))
        finally:
            db.session.remove()


def _reader(app, stop: threading.Event, seen: list[int], problems: list[str]) -> None:
    last = 0
    with app.app_context():
        while True:
            finished = stop.is_set()
            with read_only():
                ids = db.session.scalars(
                    select(ChangeLogEntry.id)
                    .where(ChangeLogEntry.id > last)
                    .order_by(ChangeLogEntry.id)
                ).all()
                db.session.rollback()
            for position in ids:
                if position != last + 1:
                    problems.append(f"gap: {last} then {position}")
                last = position
                seen.append(position)
            if finished:
                break
        db.session.remove()


def test_reader_sees_every_committed_entry_once_in_order(app, session, make):
    ids = [make.enterprise().id for _ in range(WRITERS)]
    session.commit()
    start = session.scalar(select(ChangeLogEntry.id).order_by(ChangeLogEntry.id.desc()).limit(1))
    assert start is None
    session.rollback()  # end the read: on SQLite it holds the write lock (BEGIN IMMEDIATE)
    stop, seen, problems, commits = threading.Event(), [], [], []
    reader = threading.Thread(target=_reader, args=(app, stop, seen, problems))
    reader.start()
    writers = [
        threading.Thread(target=_writer, args=(app, i, n, commits)) for n, i in enumerate(ids)
    ]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stop.set()
    reader.join()
    stored = session.scalars(select(ChangeLogEntry.id).order_by(ChangeLogEntry.id)).all()
    assert problems == []
    assert seen == stored == list(range(1, WRITERS * MOVES * 2 + 1))
    assert len(commits) == WRITERS * MOVES
