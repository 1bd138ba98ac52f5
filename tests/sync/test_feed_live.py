"""QUALITY.md R3 against a live server: eight writers — four threads and four
processes — pause at random inside their transactions while a reader follows
``/changes`` with ``wait`` over HTTP. The reader's entries are exactly the committed
changes, none twice, cursors strictly increasing, and whenever a writer's COMMIT had
returned before another's transaction began, the first one's entries come first.

Runs on the suite's database: a SQLite file, or PostgreSQL with TEST_DATABASE_URL.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import select

from registry import create_app
from registry.core.audit import Actor
from registry.core.pagination import decode_cursor
from registry.enterprises import operations as enterprises
from registry.enterprises.models import Enterprise
from registry.extensions import db
from tests.live import gunicorn
from tests.sync.feed_world import enterprise, sync_headers

THREADS = 4
PROCESSES = 4
MOVES = 6


@dataclass(frozen=True)
class Commit:
    began: int  # monotonic ns (system-wide on Linux) before the first statement
    returned: int  # monotonic ns after COMMIT returned
    entries: frozenset  # (type, key, version)


def _write(uscc: str, seed: int) -> list[Commit]:
    """MOVES transactions, each changing one enterprise and one of its reports, with a
    random pause inside; run in an app context."""
    rng = random.Random(seed)
    actor = Actor(None, f"writer-{seed}", "cli")
    commits = []
    for move in range(MOVES):
        db.session.rollback()
        began = time.monotonic_ns()
        owner = db.session.scalars(select(Enterprise).where(Enterprise.uscc == uscc)).one()
        enterprises.update_profile(db.session, owner, {"name": f"第{move}次 {seed}"}, actor=actor)
        time.sleep(rng.uniform(0, 0.02))  # a pause inside the transaction
        year = 2020 + move % 3
        report = enterprises.save_annual_report(
            db.session, owner, year, {"employees": move + 1}, actor=actor
        )
        time.sleep(rng.uniform(0, 0.02))
        written = frozenset(
            {
                ("enterprise", uscc, owner.version),
                ("annual_report", f"{uscc}/{year}", report.version),
            }
        )
        db.session.commit()
        commits.append(Commit(began, time.monotonic_ns(), written))
    db.session.remove()
    return commits


def _process_writer(database_url: str, uscc: str, seed: int, results) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "writer",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        results.put(_write(uscc, seed))


def _thread_writer(app, uscc: str, seed: int, out: list) -> None:
    with app.app_context():
        out.extend(_write(uscc, seed))


def _follow(url: str, headers, cursor: str, stop: threading.Event, seen: list, errors: list):
    rng = random.Random(1)
    http = requests.Session()
    try:
        while True:
            finished = stop.is_set()
            page = http.get(
                f"{url}/api/v1/changes",
                params={"after": cursor, "limit": rng.randint(1, 7), "wait": 1},
                headers=headers,
                timeout=30,
            )
            if page.status_code != 200:
                errors.append(f"{page.status_code} {page.text[:200]}")
                return
            body = page.json()
            seen.extend(body["data"])
            cursor = body["next_cursor"]
            if finished and not body["has_more"]:
                return
    except Exception as exc:  # reported by the test
        errors.append(repr(exc))


@pytest.mark.timeout(180)
def test_reader_sees_every_commit_once_in_commit_order(app, session, database_url, tmp_path):
    headers = sync_headers(session)
    codes = [enterprise(session, name=f"写者{i}").uscc for i in range(THREADS + PROCESSES)]
    session.commit()
    with gunicorn(database_url, tmp_path, workers=2) as server:
        start = requests.get(
            f"{server.url}/api/v1/changes", params={"limit": 1000}, headers=headers, timeout=10
        ).json()
        assert not start["has_more"]
        stop, seen, errors = threading.Event(), [], []
        reader = threading.Thread(
            target=_follow,
            args=(server.url, headers, start["next_cursor"], stop, seen, errors),
        )
        reader.start()
        # Forked from the fork server, which has imported the registry (tests/conftest.py).
        forkserver = multiprocessing.get_context("forkserver")
        results = forkserver.Queue()
        processes = [
            forkserver.Process(target=_process_writer, args=(database_url, codes[i], i, results))
            for i in range(PROCESSES)
        ]
        for p in processes:
            p.start()
        commits: list[Commit] = []
        threads = [
            threading.Thread(target=_thread_writer, args=(app, code, 100 + i, commits))
            for i, code in enumerate(codes[PROCESSES:])
        ]
        for t in threads:
            t.start()
        for _ in processes:
            commits.extend(results.get(timeout=120))
        for p in processes:
            p.join(timeout=30)
            assert p.exitcode == 0
        for t in threads:
            t.join()
        stop.set()
        reader.join(timeout=60)
    assert errors == []
    assert len(commits) == (THREADS + PROCESSES) * MOVES
    received = [(e["type"], e["key"], e["version"]) for e in seen]
    assert len(received) == len(set(received)), "an entry seen twice"
    assert set(received) == set().union(*(c.entries for c in commits))
    positions = [decode_cursor(e["cursor"], str, int)[1] for e in seen]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    where = dict(zip(received, positions, strict=True))
    spans = [(c, [where[e] for e in c.entries]) for c in commits]
    for a, a_positions in spans:
        for b, b_positions in spans:
            if a.returned < b.began:
                assert max(a_positions) < min(b_positions)
