"""Two live registries on loopback: A served by gunicorn on a database of its own (a
SQLite file, or a second database on the PostgreSQL test cluster), B the test app's
database, pulled by ``flask --app wsgi registry sync pull peer-a`` run as a process.

Creates, updates, annual reports and status changes on A all arrive on B; a pull
SIGKILLed mid-run and run again ends with an exact copy (QUALITY.md R6: counts and
per-record versions equal, no duplicates)."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from functools import partial
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text

from registry.accounts import operations as accounts
from registry.accounts import tokens
from registry.accounts.models import Role
from registry.core import clock
from registry.core.audit import Actor
from registry.enterprises import operations as enterprise_ops
from registry.enterprises.models import Enterprise, Status
from registry.extensions import db
from registry.seeding import seed
from registry.sync import sources
from tests.conftest import ENGINE_URL, make_app
from tests.factories import new_uscc
from tests.fixtures.databases import new_database
from tests.live import Command, flask_command, gunicorn
from tests.sync.pull_world import SYNC_KEY

pytestmark = pytest.mark.usefixtures("sync_app")
ACTOR_A = Actor(None, "writer on A", "cli")


def peer_database(tmp_path):
    """A's database: a new SQLite file, or a new database on the PostgreSQL cluster."""
    return new_database("postgresql" if ENGINE_URL else "sqlite", tmp_path)


@contextlib.contextmanager
def registry_a(tmp_path, count: int):
    """(app of A, its URL, a token of its machine user) with ``count`` demo enterprises,
    served by gunicorn."""
    with peer_database(tmp_path) as url:
        app_a = make_app(url, RATELIMIT_ENABLED=False)
        with app_a.app_context():
            upgrade()
            seed(db.session)
            user = accounts.create_user(
                db.session, "b@peer.example", role=Role.REVIEWER, actor=ACTOR_A, name="B"
            )
            _row, token = tokens.create_token(
                db.session, user, "registry:read,changes:read", actor=ACTOR_A
            )
            db.session.commit()
            made = app_a.test_cli_runner().invoke(
                args=["registry", "demo", "--count", str(count), "--random-seed", "7"]
            )
            assert made.exit_code == 0, made.output
            db.session.remove()
        try:
            with gunicorn(url, tmp_path, workers=2) as server:
                yield app_a, server.url, token
        finally:
            with app_a.app_context():
                db.engine.dispose()


def pull_process(
    database_url: str, tmp_path: Path, batch: int | None = None, follow: bool = False
) -> Command:
    """``flask --app wsgi registry sync pull peer-a`` on B, a process of its own. With
    ``batch``: snapshot batches of that size, each held 20 ms before its COMMIT, so that
    a kill lands between two commits however fast the machine."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "b-secret",
        "SYNC_SECRET_KEY": SYNC_KEY,
    }
    env.pop("REGISTRY_FAKE_NOW", None)
    args = ["registry", "sync", "pull", "peer-a", *(["--follow"] if follow else [])]
    output = tmp_path / f"pull-{secrets.token_hex(4)}.log"
    return flask_command(args, env, output, partial(_held_batches, batch) if batch else None)


def _held_batches(batch: int) -> None:
    """In the pull's process: snapshot batches of ``batch``, each held 20 ms."""
    import registry.sync.operations as operations
    import registry.sync.peer as peer

    peer.SNAPSHOT_BATCH = batch
    checkpoint = operations.checkpoint

    def held(*args, **kwargs):
        time.sleep(0.02)
        return checkpoint(*args, **kwargs)

    operations.checkpoint = held


def finished(process: Command) -> str:
    code, output = process.finished(timeout=120)
    assert code == 0, output
    return output


def state_of_a(app_a) -> dict:
    with app_a.app_context():
        state = _state(db.session, "local", Enterprise.version)
        db.session.remove()
    return state


def state_of_b(session) -> dict:
    session.rollback()
    state = _state(session, "peer-a", Enterprise.source_version)
    session.rollback()
    return state


def _state(session, origin: str, version_column) -> dict:
    """(type, key) → (version, name or figures, status): what a copy must equal."""
    enterprises = session.execute(
        select(Enterprise.uscc, version_column, Enterprise.name, Enterprise.status).where(
            Enterprise.origin == origin
        )
    ).all()
    reports = session.execute(
        text(
            "SELECT e.uscc, r.year, "
            + ("r.version" if origin == "local" else "r.source_version")
            + ", r.employees, r.revenue FROM annual_reports r"
            " JOIN enterprises e ON e.id = r.enterprise_id WHERE e.origin = :origin"
        ),
        {"origin": origin},
    ).all()
    state = {("enterprise", u): (v, n, str(s)) for u, v, n, s in enterprises}
    state.update({("annual_report", f"{u}/{y}"): (v, e, r) for u, y, v, e, r in reports})
    assert len(state) == len(enterprises) + len(reports)
    return state


def add_peer(session, url: str, token: str) -> None:
    sources.add_source(session, "peer-a", url, token, actor=ACTOR_A)
    session.commit()


@pytest.mark.timeout(300)
def test_creates_updates_reports_and_status_changes_arrive(session, database_url, tmp_path):
    with registry_a(tmp_path, 150) as (app_a, url, token):
        add_peer(session, url, token)
        output = finished(pull_process(database_url, tmp_path))
        assert "1 snapshot(s) loaded" in output
        assert state_of_b(session) == state_of_a(app_a)

        with app_a.app_context():
            s = db.session
            first, second, third = s.scalars(
                select(Enterprise).order_by(Enterprise.uscc).limit(3)
            ).all()
            enterprise_ops.update_profile(s, first, {"name": "甲改名有限公司"}, actor=ACTOR_A)
            enterprise_ops.change_status(s, second, Status.DEREGISTERED, actor=ACTOR_A)
            enterprise_ops.change_status(
                s, third, Status.MERGED, actor=ACTOR_A, merged_into=first.uscc
            )
            year = clock.today().year - 2
            enterprise_ops.save_annual_report(s, first, year, {"employees": 77}, actor=ACTOR_A)
            created = enterprise_ops.create_enterprise(s, new_uscc(), "新来有限公司", actor=ACTOR_A)
            enterprise_ops.save_annual_report(s, created, year, {"revenue": 5}, actor=ACTOR_A)
            s.commit()
            changed = {first.uscc, second.uscc, third.uscc, created.uscc}
            db.session.remove()

        output = finished(pull_process(database_url, tmp_path))
        assert "snapshot" not in output and "6 records applied" in output, output
        assert state_of_b(session) == state_of_a(app_a)
        merged = session.scalars(select(Enterprise).where(Enterprise.uscc.in_(changed))).all()
        assert {(e.name, str(e.status)) for e in merged} >= {
            ("甲改名有限公司", "active"),
            ("新来有限公司", "active"),
        }
        session.rollback()


def _killed_mid_run_then_resumed(session, database_url, tmp_path, count: int) -> None:
    with registry_a(tmp_path, count) as (app_a, url, token):
        add_peer(session, url, token)
        expected = state_of_a(app_a)
        process = pull_process(database_url, tmp_path, batch=50)
        engine = create_engine(database_url)
        try:
            deadline = time.monotonic() + 120
            held = 0
            while held == 0 and process.poll() is None and time.monotonic() < deadline:
                with engine.connect() as conn:
                    held = conn.scalar(
                        text("SELECT count(*) FROM enterprises WHERE origin = 'peer-a'")
                    )
                time.sleep(0.005)
            process.kill()
        finally:
            engine.dispose()
        partial = state_of_b(session)
        assert 0 < len(partial) < len(expected), "the kill did not land mid-run"
        finished(pull_process(database_url, tmp_path))
        assert state_of_b(session) == expected
        # And a run with nothing new changes nothing.
        assert "0 records applied" in finished(pull_process(database_url, tmp_path))
        assert state_of_b(session) == expected


@pytest.mark.timeout(300)
def test_a_pull_killed_mid_run_resumes_to_an_exact_copy(session, database_url, tmp_path):
    _killed_mid_run_then_resumed(session, database_url, tmp_path, 800)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_pull_killed_mid_run_resumes_to_an_exact_copy_at_size(session, database_url, tmp_path):
    _killed_mid_run_then_resumed(session, database_url, tmp_path, 30_000)


@pytest.mark.timeout(120)
def test_follow_long_polls_and_stops_cleanly_on_term(session, database_url, peer, tmp_path):
    add_peer(session, peer.url, peer.token)
    process = pull_process(database_url, tmp_path, follow=True)
    try:
        wait_for(lambda: peer.requests.count("changes") >= 1)
        code = new_uscc()
        peer.enterprise(code, name="跟随而来")
        wait_for(lambda: held_name(session, code) == "跟随而来")
        time.sleep(0.2)  # back in its long-poll
        process.signal(signal.SIGTERM)
        code, output = process.finished(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, output
    assert output.strip().splitlines()[-1].endswith("(stopped)")
    assert "wait=30" in " ".join(peer.queries)
    session.rollback()


def held_name(session, uscc: str) -> str | None:
    # Each look ends its transaction at once: on SQLite it holds the write lock.
    name = session.scalar(select(Enterprise.name).where(Enterprise.uscc == uscc))
    session.rollback()
    return name


def wait_for(condition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
