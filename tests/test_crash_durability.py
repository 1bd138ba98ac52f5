"""QUALITY.md R4: acknowledged writes survive a crash.

Clients write through a live gunicorn server (several workers) while it is killed with
SIGKILL, master and workers at once, at a random moment; on PostgreSQL the database
server is killed at the same moment, every process of it (no shutdown, no checkpoint),
and started again, so that it recovers from its write-ahead log. After each crash:

- every write a client had an answer for (201 for a create, 200 for an update) is in
  the database, as answered;
- every write is whole: a record present, acknowledged or not, has one change-log entry
  and one audit entry per version, none missing and none beyond it;
- the database is sound: SQLite's ``PRAGMA integrity_check`` and ``foreign_key_check``;
  on PostgreSQL every B-tree index checked against its table (amcheck).

Each round's server starts on the previous round's crashed database and first reads
back, through the API, every write acknowledged before that crash. The test runs on a
database of its own, copied from the suite's seeded one: a file on SQLite; on
PostgreSQL a cluster of its own whose commits wait for their WAL to be written, as
PostgreSQL ships (``synchronous_commit`` on; the suite's cluster, which other tests use,
runs without), and whose ``fsync`` is off: nothing but an operating-system crash needs
it (tests/pg_server.sh). ``make test`` runs 5 rounds, ``make test-long`` 20.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from registry.accounts.models import Role
from registry.core.models import AuditEntry, ChangeLogEntry
from registry.enterprises.models import Enterprise
from tests.conftest import ENGINE_URL
from tests.factories import new_uscc
from tests.fixtures.api import API, bearer
from tests.fixtures.enterprises_api import PROFILE, WRITE
from tests.live import ROOT, LiveServer, gunicorn

WRITERS = 4
#: The crash comes this long (seconds, uniformly drawn) after the first write answered.
CRASH_AFTER = (0.0, 1.2)
PG_SERVER = ROOT / "tests" / "pg_server.sh"


@dataclass
class Written:
    """What a client was told of one enterprise: its version and name at that version."""

    uscc: str
    version: int
    name: str


@dataclass
class Round:
    """One round's writes: every code tried (answered or not), and each answer. The
    writers' threads append to its lists and set its items (atomic in CPython)."""

    tried: list[str] = field(default_factory=list)
    acknowledged: dict[str, Written] = field(default_factory=dict)
    #: Refusals answered before the crash began: they fail the test.
    unexpected: list[str] = field(default_factory=list)
    #: Set as the crash begins: on PostgreSQL the database dies a moment before the
    #: server, whose workers may answer 5xx in between (nothing acknowledged).
    crashing: threading.Event = field(default_factory=threading.Event)
    answered: threading.Event = field(default_factory=threading.Event)

    def refused(self, what: str, response: requests.Response) -> None:
        if not self.crashing.is_set():
            self.unexpected.append(f"{what}: {response.status_code} {response.text}")


@dataclass
class CrashDatabase:
    """The database the crashed servers write to, and how to kill and recover it."""

    url: str
    writers: list[dict[str, str]]
    state: Path | None = None  # PostgreSQL: the dedicated cluster's state file

    def crash(self) -> None:
        """PostgreSQL: SIGKILL every process of the cluster. (On SQLite the database
        engine runs inside the server's processes, killed with them.)"""
        if self.state is not None:
            _pg_server("crash", self.state)

    def recover(self) -> None:
        if self.state is not None:
            _pg_server("recover", self.state)


def _pg_server(command: str, state: Path, *, check: bool = True, **env: str) -> str:
    done = subprocess.run(
        ["bash", str(PG_SERVER), command],
        env={**os.environ, "PG_SERVER_STATE": str(state), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"pg_server.sh {command}: {done.stderr}")
    return done.stdout.strip()


def _libpq(url: str) -> str:
    """The URL as libpq's programs take it (without SQLAlchemy's driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def crash_database(app, session, make, database_url, tmp_path) -> Iterator[CrashDatabase]:
    """A copy of the suite's seeded database holding a reviewer with a token per writer
    (``registry:write``): a file on SQLite; on PostgreSQL a cluster of its own, whose
    commits survive a SIGKILL (tests/pg_server.sh)."""
    reviewer = make.user("writer@review.example", Role.REVIEWER, name="Crash writer")
    writers = [bearer(session, reviewer, WRITE) for _ in range(WRITERS)]  # commits
    session.rollback()  # SQLite: no transaction of the test holds the file
    if not ENGINE_URL:
        copy = tmp_path / "crash.db"
        source = sqlite3.connect(make_url(database_url).database)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        yield CrashDatabase(f"sqlite:///{copy}", writers)
        return
    state = tmp_path / "pg_crash.env"
    # From the port after the suite's cluster (pg_server.sh skips the busy ones).
    port = str((make_url(database_url).port or 55432) + 1)
    url = _pg_server("start", state, PG_SERVER_COMMITS_SURVIVE_KILLS="1", PG_TEST_PORT=port)
    try:
        bindir = Path(_pg_server("bindir", state))
        dump = subprocess.run(
            [bindir / "pg_dump", "--no-owner", "--no-privileges", _libpq(database_url)],
            capture_output=True,
            check=True,
            timeout=120,
        )
        subprocess.run(
            [bindir / "psql", "-q", "-v", "ON_ERROR_STOP=1", _libpq(url)],
            input=dump.stdout,
            capture_output=True,
            check=True,
            timeout=120,
        )
        yield CrashDatabase(url, writers, state)
    finally:
        # Its data is thrown away: killed, not shut down (and it may be down already).
        _pg_server("crash", state, check=False)
        _pg_server("stop", state)


def _body(name: str) -> dict[str, str]:
    return {**PROFILE, "name": name}


def write_until_the_crash(server: LiveServer, headers: dict[str, str], round_: Round) -> None:
    """Create enterprises (PUT with ``If-None-Match: *``) and rename each (PATCH with
    ``If-Match``) until the server is gone; note each answer."""
    base = f"{server.url}{API}/enterprises/"
    with requests.Session() as http:
        while True:
            uscc = new_uscc()
            name = f"崩溃测试{uscc[-8:]}有限公司"
            round_.tried.append(uscc)
            try:
                created = http.put(
                    base + uscc,
                    json=_body(name),
                    headers={**headers, "If-None-Match": "*"},
                    timeout=30,
                )
                if created.status_code != 201:
                    round_.refused(f"PUT {uscc}", created)
                    return
                round_.acknowledged[uscc] = Written(uscc, 1, name)
                round_.answered.set()
                renamed = http.patch(
                    base + uscc,
                    json={"name": name.replace("有限公司", "股份有限公司")},
                    headers={**headers, "If-Match": '"1"'},
                    timeout=30,
                )
                if renamed.status_code != 200:
                    round_.refused(f"PATCH {uscc}", renamed)
                    return
                round_.acknowledged[uscc] = Written(uscc, 2, renamed.json()["name"])
            except requests.RequestException:
                return  # the server is gone: this write may or may not have happened


def crash_round(
    database: CrashDatabase, directory: Path, rng: random.Random, previous: Round | None
) -> Round:
    """A server started on the database (the previous round's crashed one), which first
    answers with each write acknowledged before that crash; then writers against it
    until it is killed at a random moment."""
    round_ = Round()
    directory.mkdir()
    with gunicorn(
        database.url,
        directory,
        workers=2,
        # The per-token limit (1 200 a minute) would refuse writers this fast; it is
        # not what is tested here.
        environ={"RATELIMIT_ENABLED": "0"},
    ) as server:
        if previous is not None:
            read_back(server, database.writers[0], previous)
        writers = [
            threading.Thread(target=write_until_the_crash, args=(server, headers, round_))
            for headers in database.writers
        ]
        for writer in writers:
            writer.start()
        assert round_.answered.wait(timeout=60), round_.unexpected
        time.sleep(rng.uniform(*CRASH_AFTER))
        round_.crashing.set()
        database.crash()
        server.kill()
        for writer in writers:
            writer.join(timeout=60)
        assert not any(writer.is_alive() for writer in writers)  # each saw the server go
    assert round_.unexpected == [], round_.unexpected
    database.recover()
    return round_


def read_back(server: LiveServer, headers: dict[str, str], round_: Round) -> None:
    """Each acknowledged write through the API of a server started after the crash."""
    with requests.Session() as http:
        for written in round_.acknowledged.values():
            response = http.get(
                f"{server.url}{API}/enterprises/{written.uscc}", headers=headers, timeout=30
            )
            assert response.status_code == 200, response.text
            assert int(response.headers["ETag"].strip('"')) >= written.version


def _engine(url: str) -> Engine:
    return create_engine(url, poolclass=NullPool)


def check_sound(url: str) -> None:
    """SQLite: integrity_check and foreign_key_check clean; PostgreSQL: every B-tree
    index of the schema agrees with its table (amcheck, heap included)."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalars().all() == ["ok"]
                assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
                return
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
            conn.commit()
            # Raises on the first index that disagrees with its table.
            checked = conn.execute(
                text(
                    "SELECT count(bt_index_check(c.oid, true)) FROM pg_index i"
                    " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
                    " WHERE a.amname = 'btree' AND c.relnamespace = 'public'::regnamespace"
                )
            ).scalar_one()
            assert checked > 0
    finally:
        engine.dispose()


def check_writes(url: str, round_: Round) -> None:
    """Every acknowledged write present as answered; every write present is whole."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            stored = {
                uscc: (version, name)
                for uscc, version, name in conn.execute(
                    select(Enterprise.uscc, Enterprise.version, Enterprise.name).where(
                        Enterprise.uscc.in_(round_.tried)
                    )
                )
            }
            feed: dict[str, list[int]] = {}
            for key, version in conn.execute(
                select(ChangeLogEntry.key, ChangeLogEntry.version)
                .where(ChangeLogEntry.type == "enterprise", ChangeLogEntry.key.in_(round_.tried))
                .order_by(ChangeLogEntry.id)
            ):
                feed.setdefault(key, []).append(version)
            audited = dict(
                conn.execute(
                    select(AuditEntry.object_id, func.count())
                    .where(
                        AuditEntry.object_type == "enterprise",
                        AuditEntry.object_id.in_(round_.tried),
                    )
                    .group_by(AuditEntry.object_id)
                ).all()
            )
    finally:
        engine.dispose()
    for written in round_.acknowledged.values():
        assert written.uscc in stored, f"acknowledged create of {written.uscc} lost"
        version, name = stored[written.uscc]
        # A rename may have committed without its answer reaching the client: never less.
        assert version >= written.version, f"acknowledged version of {written.uscc} lost"
        if version == written.version:
            assert name == written.name
    for uscc, (version, _name) in stored.items():
        assert feed.get(uscc) == list(range(1, version + 1)), (uscc, version, feed.get(uscc))
        assert audited.get(uscc) == version, (uscc, version, audited.get(uscc))
    assert set(feed) <= set(stored) and set(audited) <= set(stored)


def crash_rounds(crash_database: CrashDatabase, tmp_path: Path, capsys, rounds: int) -> None:
    rng = random.Random()
    acknowledged, previous = 0, None
    for n in range(rounds):
        previous = crash_round(crash_database, tmp_path / f"round-{n}", rng, previous)
        check_sound(crash_database.url)
        check_writes(crash_database.url, previous)
        acknowledged += len(previous.acknowledged)
    with capsys.disabled():
        print(f"\nR4: {rounds} crashes, {acknowledged} acknowledged writes, all present")


def test_acknowledged_writes_survive_a_crash(crash_database, tmp_path, capsys):
    crash_rounds(crash_database, tmp_path, capsys, rounds=5)


@pytest.mark.slow
def test_acknowledged_writes_survive_a_crash_long(crash_database, tmp_path, capsys):
    crash_rounds(crash_database, tmp_path, capsys, rounds=20)
