"""Quota and numbering under concurrent transactions (QUALITY.md R1 at the operations
level), and atomicity of a move with its feed and audit rows (R2).

Runs against the suite's file database (SQLite) or PostgreSQL (TEST_DATABASE_URL).
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from registry.core import changes, clock
from registry.core.audit import Actor
from registry.core.errors import InvalidTransition, QuotaFull
from registry.core.models import AuditEntry, ChangeLogEntry
from registry.enterprises.models import Enterprise
from registry.extensions import db
from registry.ladder import holds, locks
from registry.ladder import operations as ops
from registry.ladder.models import TierEvent
from tests.factories import TEST_ACTOR

QUOTA = 8
CONTENDERS = QUOTA + 50


def _grant_one(app, enterprise_id: int, barrier) -> str:
    """One grant in its own app context, session and transaction."""
    with app.app_context():
        try:
            barrier.wait(timeout=60)
            enterprise = db.session.get(Enterprise, enterprise_id)
            ops.grant_tier(
                db.session,
                enterprise,
                "chain_leader",
                actor=Actor(None, "worker", "cli"),
                reason="race",
            )
            db.session.commit()
            return "granted"
        except QuotaFull:
            db.session.rollback()
            return "quota_full"
        except Exception as exc:  # any other outcome fails the test with its text
            db.session.rollback()
            return f"error: {exc!r}"
        finally:
            db.session.remove()


def _process_worker(database_url: str, ids: list[int], start, results) -> None:
    from tests.conftest import make_app

    app = make_app(database_url)
    barrier = threading.Barrier(len(ids))
    start.wait(timeout=60)
    with ThreadPoolExecutor(len(ids)) as pool:
        outcomes = list(pool.map(lambda i: _grant_one(app, i, barrier), ids))
    results.put(outcomes)


@pytest.fixture
def contenders(session, make) -> list[int]:
    ids = [make.enterprise().id for _ in range(CONTENDERS)]
    session.commit()
    return ids


def _assert_exactly_quota_granted(session, outcomes: list[str]) -> None:
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("granted") == QUOTA
    assert outcomes.count("quota_full") == CONTENDERS - QUOTA
    session.expire_all()
    holders = session.scalars(select(Enterprise).where(Enterprise.tier == "chain_leader")).all()
    assert len(holders) == QUOTA
    # Registration numbers per tier and year: 1..N without gaps or duplicates.
    seqs = sorted(int(e.registration_number.rsplit("-", 1)[1]) for e in holders)
    assert seqs == list(range(1, QUOTA + 1))
    assert session.scalar(select(func.count()).select_from(TierEvent)) == QUOTA


def test_concurrent_grants_in_threads(app, session, contenders):
    barrier = threading.Barrier(CONTENDERS)
    with ThreadPoolExecutor(CONTENDERS) as pool:
        outcomes = list(pool.map(lambda i: _grant_one(app, i, barrier), contenders))
    _assert_exactly_quota_granted(session, outcomes)


def test_concurrent_grants_in_processes(app, session, contenders, database_url):
    # Each worker a fresh process with connections of its own, forked from the fork
    # server that has imported the registry once (tests/conftest.py: spawning six
    # processes that each import it took longer than the race).
    ctx = multiprocessing.get_context("forkserver")
    start, results = ctx.Event(), ctx.Queue()
    chunks = [contenders[i::6] for i in range(6)]
    workers = [
        ctx.Process(target=_process_worker, args=(database_url, chunk, start, results))
        for chunk in chunks
    ]
    for worker in workers:
        worker.start()
    start.set()
    outcomes = [o for _ in workers for o in results.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    _assert_exactly_quota_granted(session, outcomes)


def test_failure_before_feed_row_rolls_back_the_move(session, make, monkeypatch):
    enterprise = make.enterprise()
    session.commit()
    counts = {
        m: session.scalar(select(func.count()).select_from(m))
        for m in (TierEvent, AuditEntry, ChangeLogEntry)
    }

    def broken(*_args, **_kwargs):
        raise RuntimeError("injected failure before the change-log row")

    monkeypatch.setattr(changes, "append_entries", broken)
    ops.grant_tier(session, enterprise, "tech_sme", actor=TEST_ACTOR, reason="x")
    with pytest.raises(RuntimeError, match="injected"):
        session.commit()
    session.rollback()
    session.expire_all()
    assert session.get(Enterprise, enterprise.id).tier is None
    assert {m: session.scalar(select(func.count()).select_from(m)) for m in counts} == counts


@pytest.mark.postgres(reason="SQLite writers are serial (BEGIN IMMEDIATE)")
def test_grant_at_notice_end_and_revoke_do_not_deadlock(app, session, make):
    """tick consuming a slot while a reviewer revokes the same enterprise: both lock in
    the order tier → enterprise → reservation, so one waits for the other."""
    enterprise = make.enterprise()
    ops.grant_tier(session, enterprise, "tech_sme", actor=TEST_ACTOR, reason="base")
    holds.reserve_slot(session, enterprise, "champion", 4711, actor=TEST_ACTOR)
    session.commit()
    enterprise_id = enterprise.id
    revoker_holds_lock, outcomes = threading.Event(), {}

    def revoke() -> None:
        with app.app_context():
            try:
                locks.lock_enterprise(db.session, enterprise_id)
                revoker_holds_lock.set()
                time.sleep(0.3)  # let the granter queue behind the lock
                target = db.session.get(Enterprise, enterprise_id)
                ops.revoke(db.session, target, actor=TEST_ACTOR, reason="fraud")
                db.session.commit()
                outcomes["revoke"] = "ok"
            except Exception as exc:
                outcomes["revoke"] = repr(exc)
            finally:
                db.session.remove()

    def consume() -> None:
        with app.app_context():
            try:
                revoker_holds_lock.wait(10)
                ops.consume_slot(
                    db.session,
                    4711,
                    actor=Actor.system("tick"),
                    reason="notice ended",
                    effective_at=clock.now(),
                )
                db.session.commit()
                outcomes["consume"] = "ok"
            except InvalidTransition:
                outcomes["consume"] = "refused"
            except Exception as exc:
                outcomes["consume"] = repr(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=revoke), threading.Thread(target=consume)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes == {"revoke": "ok", "consume": "refused"}


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(5))
def test_concurrent_grants_in_threads_repeated(app, session, contenders, round_):
    """The long form: the race of 58 grants for 8 slots, five more times."""
    test_concurrent_grants_in_threads(app, session, contenders)
