"""A busy database (API.md ``database_busy``): while another connection holds the lock
a long import would hold, reads answer at once and skip their bookkeeping, and a write
that cannot have the lock within ``DATABASE_LOCK_WAIT`` answers 503 with
``Retry-After`` — problem details on the API, the page with what was typed on the web —
and writes nothing. On SQLite the lock is the database's write lock; on PostgreSQL every
table is locked against writes (reads go on), so each write meets ``lock_timeout``.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from registry.accounts import token_cache
from registry.accounts.models import ApiToken, LoginThrottle, Role
from registry.applications.models import Application, Objection, State
from registry.config import lock_wait
from registry.core import clock
from registry.core.db import is_lock_timeout, write_at_once
from registry.extensions import db
from registry.ladder.models import Tier
from tests.conftest import make_app
from tests.factories import PASSWORD
from tests.fixtures.api import API, NOW, ApiClient, problem_of

pytestmark = pytest.mark.usefixtures("pinned_clock")

#: Writes give up this soon in these tests (10 s by default): Retry-After is then 1.
WRITE_WAIT = 0.4
#: Reads are timed against a longer wait: one that waited would take at least this long.
READ_WAIT = 3.0
OBJECTION = {"name": "张三", "contact": "zhang@example.org", "text": "The figures are wrong."}


@contextlib.contextmanager
def database_locked(database_url: str) -> Iterator[None]:
    """The lock a long write holds, held by a connection of its own until the block ends."""
    if database_url.startswith("sqlite"):
        holder = sqlite3.connect(
            database_url.removeprefix("sqlite:///"), isolation_level=None, timeout=10
        )
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.rollback()
            holder.close()
        return
    import psycopg

    url = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    tables = ", ".join(table.name for table in db.metadata.sorted_tables)
    with psycopg.connect(url) as holder:
        holder.execute("SET lock_timeout = '10s'")
        # EXCLUSIVE: every write waits for it, plain reads do not.
        holder.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            holder.rollback()


def _app_waiting(database_url: str, seconds: float) -> Iterator[Flask]:
    waiting = make_app(database_url, DATABASE_LOCK_WAIT=seconds)
    yield waiting
    with waiting.app_context():
        db.engine.dispose()


@pytest.fixture
def writes_app(app, database_url) -> Iterator[Flask]:
    """The registry with a lock wait of WRITE_WAIT."""
    yield from _app_waiting(database_url, WRITE_WAIT)


@pytest.fixture
def reads_app(app, database_url) -> Iterator[Flask]:
    """The registry with a lock wait of READ_WAIT."""
    yield from _app_waiting(database_url, READ_WAIT)


def _stale(session) -> None:
    """Every token last used two minutes ago: its next use writes ``last_used_at``. (A
    bulk write this process's token cache does not see: its entries are let go, as they
    would be a second later.)"""
    session.execute(update(ApiToken).values(last_used_at=NOW - timedelta(minutes=2)))
    session.commit()
    token_cache.forget_all()


def _last_used(session) -> set:
    session.expire_all()
    return set(session.scalars(select(ApiToken.last_used_at)))


# --- reads ------------------------------------------------------------------------------------


def test_a_read_with_a_stale_token_answers_at_once_and_touches_it_later(
    reads_app, session, api_world, database_url
):
    client = ApiClient.of(reads_app, session)
    wang = api_world.headers["wang"]
    reads = (
        ("GET", f"{API}/stats"),
        ("HEAD", f"{API}/stats"),
        ("GET", f"{API}/applications?state=submitted"),
        ("GET", f"{API}/enterprises"),
        ("GET", f"{API}/notices"),
    )
    for method, path in reads:  # the app's first requests, unlocked
        assert client.open(path, method=method, headers=wang).status_code == 200
    _stale(session)
    session.close()
    with database_locked(database_url):
        answers = []
        for method, path in reads:
            started = time.monotonic()
            response = client.open(path, method=method, headers=wang)
            answers.append((method, path, response.status_code, time.monotonic() - started))
    assert [a[2] for a in answers] == [200] * len(answers), answers
    # None waited for the lock (each would have taken READ_WAIT at least).
    assert max(a[3] for a in answers) < READ_WAIT / 2, answers
    # The bookkeeping was skipped while the lock was held, and is done by the next use.
    assert _last_used(session) == {NOW - timedelta(minutes=2)}
    session.close()
    assert client.get(f"{API}/stats", headers=wang).status_code == 200
    assert NOW in _last_used(session)


def test_pages_answer_while_the_database_is_locked(reads_app, session, make, database_url):
    make.user("reader@review.example", Role.REVIEWER, password=PASSWORD)
    session.commit()
    session.close()
    client = reads_app.test_client()
    signed_in = client.post("/login", data={"email": "reader@review.example", "password": PASSWORD})
    assert signed_in.status_code == 303
    paths = ("/", "/notices", "/review", "/review/objections")
    assert [client.get(path).status_code for path in paths] == [200] * len(paths)  # warm
    with database_locked(database_url):
        timed = []
        for path in paths:
            started = time.monotonic()
            timed.append((path, client.get(path).status_code, time.monotonic() - started))
    assert [status for _path, status, _elapsed in timed] == [200] * len(paths)
    assert max(elapsed for _path, _status, elapsed in timed) < READ_WAIT / 2, timed


# --- writes through the API -----------------------------------------------------------------


def _busy(response) -> dict:
    body = problem_of(response, 503, "database_busy")
    assert response.headers["Retry-After"] == "1"  # WRITE_WAIT rounded up
    return body


def test_an_objection_waits_no_longer_than_the_lock_wait(
    writes_app, session, api_world, database_url
):
    application_id = api_world.in_notice().id
    client = ApiClient.of(writes_app, session)
    session.close()
    path = f"{API}/notices/{application_id}/objections"
    with database_locked(database_url):
        started = time.monotonic()
        refused = client.post(path, json=OBJECTION, headers={"Accept-Language": "en"})
        elapsed = time.monotonic() - started
        in_chinese = client.post(path, json=OBJECTION, headers={"Accept-Language": "zh"})
    body = _busy(refused)
    assert body["detail"] == (
        "The registry is busy with other changes, so nothing was saved. Try again in 1 second."
    )
    assert WRITE_WAIT <= elapsed < WRITE_WAIT + 3
    assert _busy(in_chinese)["detail"] == BUSY_ZH
    assert session.scalar(select(func.count()).select_from(Objection)) == 0
    session.close()
    assert client.post(path, json=OBJECTION).status_code == 201


def test_a_claim_with_a_stale_token_answers_503_then_succeeds(
    writes_app, session, api_world, database_url
):
    application_id = api_world.submitted().id
    wang = api_world.headers["wang"]
    _stale(session)
    client = ApiClient.of(writes_app, session)
    session.close()
    path = f"{API}/applications/{application_id}/claim"
    with database_locked(database_url):
        _busy(client.post(path, headers=wang))
        # With an Idempotency-Key too: the key's claim is a write like the others.
        _busy(client.post(path, headers={**wang, "Idempotency-Key": "claim-1"}))
    assert session.get(Application, application_id).state == State.SUBMITTED
    session.close()
    claimed = client.post(path, headers={**wang, "Idempotency-Key": "claim-1"})
    assert claimed.status_code == 200 and claimed.json["state"] == "in_review"


def test_a_write_that_gets_the_lock_in_time_is_not_refused(
    reads_app, session, api_world, database_url
):
    """Contention shorter than the wait is waited out, not refused."""
    application_id = api_world.submitted().id
    client = reads_app.test_client(use_cookies=False)  # used in a thread of its own
    session.close()
    answers = []

    def claim() -> None:
        started = time.monotonic()
        with clock.pinned(NOW):  # the pinned clock is the test's thread's
            response = client.post(
                f"{API}/applications/{application_id}/claim", headers=api_world.headers["wang"]
            )
        answers.append((response.status_code, time.monotonic() - started))

    with database_locked(database_url):
        worker = threading.Thread(target=claim)
        worker.start()
        time.sleep(0.5)  # the holder lets go while the claim waits
    worker.join(timeout=30)
    [(status, elapsed)] = answers
    # It waited for the holder and was then served (a wait run out would be 503); how
    # long the claim itself took after that depends on how busy the machine is.
    assert status == 200 and elapsed > 0.3


# --- writes on the web ----------------------------------------------------------------------


def _busy_page(response, message: str) -> str:
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert response.headers["Retry-After"] == "1"
    page = response.get_data(as_text=True)
    assert message in page
    return page


BUSY_EN = "The registry is busy with other changes, so nothing was saved. Try again in 1 second."
BUSY_ZH = "本库正忙于处理其他更改，本次未保存任何内容，请 1 秒后再试。"


@pytest.mark.parametrize(("lang", "message"), [("en", BUSY_EN), ("zh", BUSY_ZH)])
def test_login_gives_the_form_back_while_the_database_is_locked(
    writes_app, session, make, database_url, lang, message
):
    email = make.user("busy@example.com", password=PASSWORD).email
    session.commit()
    session.close()
    client = writes_app.test_client()
    with database_locked(database_url):
        refused = client.post(
            f"/login?lang={lang}", data={"email": email, "password": "not the password"}
        )
    page = _busy_page(refused, message)
    assert f'value="{email}"' in page and 'name="password"' in page
    # Nothing was written: not even the failed attempt.
    assert session.scalar(select(func.count()).select_from(LoginThrottle)) == 0
    session.close()
    signed_in = client.post("/login", data={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 303


def test_an_objection_form_keeps_what_was_typed(writes_app, session, api_world, database_url):
    application_id = api_world.in_notice().id
    prefix = f"objection-{application_id}-"
    typed = {"name": "钱七", "contact": "qian@example.com", "grounds": "该企业研发人员占比不实。"}
    client = writes_app.test_client()
    session.close()
    with database_locked(database_url):
        refused = client.post(
            f"/notices/{application_id}/objections?lang=zh",
            data={prefix + key: value for key, value in typed.items()},
        )
    page = _busy_page(refused, BUSY_ZH)
    assert 'value="钱七"' in page and "该企业研发人员占比不实。</textarea>" in page
    assert session.scalar(select(func.count()).select_from(Objection)) == 0


def test_other_posts_get_the_busy_page(writes_app, session, make, database_url):
    make.user("leaving@review.example", Role.REVIEWER, password=PASSWORD)
    session.commit()
    session.close()
    client = writes_app.test_client()
    signed_in = client.post(
        "/login", data={"email": "leaving@review.example", "password": PASSWORD}
    )
    assert signed_in.status_code == 303
    with database_locked(database_url):
        refused = client.post("/logout?lang=en")
    page = _busy_page(refused, BUSY_EN)
    assert re.search(r"<h1>\s*The registry is busy\s*</h1>", page)
    # The session was not ended: the reviewer is still signed in.
    assert client.get("/review").status_code == 200


# --- the pieces -------------------------------------------------------------------------------


def test_write_at_once_writes_nothing_rather_than_wait(
    writes_app, session, api_world, database_url
):
    _stale(session)
    session.close()
    touch = text("UPDATE api_tokens SET last_used_at = NULL")
    with writes_app.app_context():
        with database_locked(database_url):
            started = time.monotonic()
            assert write_at_once(db.engine, touch) is False
            assert time.monotonic() - started < WRITE_WAIT
        assert write_at_once(db.engine, touch) is True
    assert _last_used(session) == {None}


def test_the_lock_wait_is_set_on_every_connection(writes_app):
    with writes_app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            assert connection.exec_driver_sql("SHOW lock_timeout").scalar() == "400ms"
        else:
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 400


def test_a_lock_wait_that_ran_out_is_recognised(writes_app, database_url):
    with writes_app.app_context(), database_locked(database_url):
        with pytest.raises(OperationalError) as waited, db.engine.begin() as connection:
            connection.execute(text("DELETE FROM idempotency_keys"))
    assert is_lock_timeout(waited.value)
    with writes_app.app_context(), db.engine.connect() as connection:
        with pytest.raises(DBAPIError) as other:  # OperationalError on SQLite
            connection.exec_driver_sql("SELECT * FROM no_such_table")
    assert not is_lock_timeout(other.value)


@pytest.mark.parametrize("raw", ["0", "-1", "ten", "nan", "inf", "3601"])
def test_a_lock_wait_is_seconds_above_zero(raw):
    with pytest.raises(ValueError, match="DATABASE_LOCK_WAIT"):
        lock_wait(raw)


def test_the_default_lock_wait_is_ten_seconds(app):
    assert app.config["DATABASE_LOCK_WAIT"] == 10
    assert lock_wait("2.5") == 2.5


@pytest.mark.parametrize(
    "command",
    [["set-quota", "navigator", "20", "--reason", "plan revised"], ["tick"]],
    ids=["set-quota", "tick"],
)
def test_a_command_that_cannot_have_the_lock_says_so_in_one_line(
    writes_app, session, database_url, command
):
    session.close()
    runner = writes_app.test_cli_runner()
    # Its own context: the command would run in the test's app (10 s) otherwise.
    with writes_app.app_context(), database_locked(database_url):
        refused = runner.invoke(args=["registry", *command])
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines() == [
        "Error: The database is busy: its lock was not free within 0.4 seconds, so what "
        "waited for it was not written. Run the command again."
    ]
    assert session.scalar(select(Tier.quota).where(Tier.code == "navigator")) == 15
    session.close()
    with writes_app.app_context():
        assert runner.invoke(args=["registry", *command]).exit_code == 0
