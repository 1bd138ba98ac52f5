"""The API's rate limits (API.md): per token, per anonymous address, objections per
address; ``RATELIMIT_*`` settings; 429 problems with ``Retry-After``; counters in a
store shared by every worker (a SQLite file by default, or a PostgreSQL table)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import pytest
import requests

from registry.config import from_environment
from registry.core import ratelimit
from registry.core.ratelimit import SqlStorage
from registry.extensions import db
from tests.conftest import ENGINE_URL, make_app
from tests.fixtures.api import API, ApiClient, problem_of
from tests.live import gunicorn

pytestmark = pytest.mark.usefixtures("pinned_clock")


@pytest.fixture
def world(api_world):
    return api_world


@pytest.fixture
def limited_client(database_url, session):
    """``limited_client(**settings)``: a client of an app with those settings."""
    apps = []

    def build(**settings):
        apps.append(make_app(database_url, **settings))
        return ApiClient.of(apps[-1], session)

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def test_a_token_gets_its_own_limit(limited_client, world):
    client = limited_client(RATELIMIT_TOKEN="3/minute")
    owner, other = world.headers["owner"], world.headers["other"]
    assert [client.get(f"{API}/tiers", headers=owner).status_code for _ in range(3)] == [200] * 3
    refused = client.get(f"{API}/tiers", headers=owner)
    body = problem_of(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "seconds" in body["detail"]
    # Another token (another caller) is counted apart.
    assert client.get(f"{API}/tiers", headers=other).status_code == 200


def test_anonymous_calls_are_limited_per_address(limited_client, world):
    client = limited_client(RATELIMIT_ANON="2/minute")
    assert [client.get(f"{API}/tiers").status_code for _ in range(2)] == [200, 200]
    problem_of(client.get(f"{API}/notices"), 429, "rate_limited")
    elsewhere = client.get(f"{API}/tiers", environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert elsewhere.status_code == 200
    # Pages are not API calls.
    assert client.get("/").status_code == 200


def test_sync_reads_are_exempt_from_the_token_limit(limited_client, world):
    client = limited_client(RATELIMIT_TOKEN="1/minute")
    owner = world.headers["owner"]
    for path in ("/changes", "/export", "/changes", "/export"):
        assert client.get(API + path, headers=owner).status_code != 429
    assert client.get(f"{API}/tiers", headers=owner).status_code == 200
    problem_of(client.get(f"{API}/tiers", headers=owner), 429, "rate_limited")


def test_ratelimit_enabled_off_lifts_the_api_limits_but_not_objections(limited_client, world):
    client = limited_client(
        RATELIMIT_ENABLED=False,
        RATELIMIT_ANON="1/minute",
        RATELIMIT_OBJECTION="2/hour",
    )
    assert {client.get(f"{API}/tiers").status_code for _ in range(5)} == {200}
    application = world.in_notice()
    path = f"{API}/notices/{application.id}/objections"
    body = {"name": "张三", "contact": "138 0000 0000", "text": "数字有误"}
    assert [client.post(path, json=body).status_code for _ in range(2)] == [201, 201]
    refused = client.post(path, json=body)
    problem_of(refused, 429, "rate_limited")
    assert int(refused.headers["Retry-After"]) == 3600


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RATELIMIT_ENABLED", "0")
    monkeypatch.setenv("RATELIMIT_TOKEN", "10 per second")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://localhost:6379")
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    settings = from_environment(str(tmp_path))
    assert settings["RATELIMIT_ENABLED"] is False
    assert settings["RATELIMIT_TOKEN"] == "10 per second"
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://localhost:6379"
    monkeypatch.setenv("RATELIMIT_ENABLED", "1")
    assert from_environment(str(tmp_path))["RATELIMIT_ENABLED"] is True


def test_a_mistyped_limit_stops_the_start(database_url):
    with pytest.raises(ValueError):
        make_app(database_url, RATELIMIT_ANON="sixty a minute")


def test_the_default_store_is_a_file_of_its_own(database_url):
    app = make_app(database_url)
    app.config.pop("RATELIMIT_STORAGE_URI")
    ratelimit.configure(app)
    with app.app_context():
        db.engine.dispose()
    uri = app.config["RATELIMIT_STORAGE_URI"]
    assert uri == f"sqlite:///{app.instance_path}/ratelimits.db"
    assert uri != app.config["SQLALCHEMY_DATABASE_URI"]


def test_an_unreachable_store_lets_requests_through(limited_client, world, tmp_path):
    client = limited_client(
        RATELIMIT_ANON="1/minute",
        RATELIMIT_STORAGE_URI=f"sqlite:///{tmp_path}/missing/dir/ratelimits.db",
    )
    assert [client.get(f"{API}/tiers").status_code for _ in range(3)] == [200] * 3


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_the_sql_store_counts_fixed_windows(engine, tmp_path, monkeypatch):
    uri = ENGINE_URL if engine == "postgresql" else f"sqlite:///{tmp_path / 'counters.db'}"
    store = SqlStorage(uri)
    store.reset()
    now = [1_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    assert [store.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert store.get("k") == 3 and store.get_expiry("k") == 1_000_060.0
    assert store.incr("other", 60) == 1
    now[0] += 60  # the window has ended: the next hit starts a new one
    assert store.get("k") == 0
    assert store.incr("k", 60) == 1 and store.get_expiry("k") == 1_000_120.0
    assert store.purge_expired() == 1  # "other"
    store.clear("k")
    assert store.get("k") == 0 and store.check()
    store.engine.dispose()


@pytest.mark.sqlite_only(reason="the counters' store is a SQLite file on either engine")
def test_workers_share_the_counters(database_url, tmp_path, monkeypatch, world):
    monkeypatch.setenv("RATELIMIT_ANON", "6/minute")
    with gunicorn(database_url, tmp_path, workers=3) as server:
        # Sent at once, so that several workers answer.
        start = threading.Barrier(12)

        def call(_):
            start.wait()
            return requests.get(f"{server.url}{API}/tiers", timeout=30).status_code

        with ThreadPoolExecutor(12) as pool:
            statuses = sorted(pool.map(call, range(12)))
        assert len(server.worker_pids()) > 1
    assert statuses == [200] * 6 + [429] * 6


# --- hits written in batches (API.md: at most 10 over the limit per worker and window) ---


def test_batch_sizes():
    assert [ratelimit.batch_size(n) for n in (1, 6, 39, 40, 100, 199, 200, 600, 10_000)] == [
        1,
        1,
        1,
        2,
        5,
        9,
        10,
        10,
        10,
    ]


def test_one_worker_writes_a_batch_at_a_time_and_stops_at_the_limit(
    limited_client, world, monkeypatch
):
    writes = []
    count = SqlStorage.count

    def counted(self, key, expiry, amount):
        writes.append(amount)
        return count(self, key, expiry, amount)

    monkeypatch.setattr(SqlStorage, "count", counted)
    # Batches of 5; counters of this test's own (the store outlives a test, token ids do not).
    client = limited_client(RATELIMIT_TOKEN="100/minute", RATELIMIT_KEY_PREFIX=f"{uuid4()}:")
    owner = world.headers["owner"]
    statuses = [client.get(f"{API}/tiers", headers=owner).status_code for _ in range(110)]
    # One worker knows its own unwritten hits: exactly the limit is served.
    assert statuses == [200] * 100 + [429] * 10
    assert writes == [5] * 20 + [1]  # then refused without asking the store again
    refused = client.get(f"{API}/tiers", headers=owner)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_workers_exceed_a_limit_by_less_than_a_batch_each(database_url, tmp_path, world):
    from datetime import UTC, datetime

    from registry.accounts import tokens
    from registry.core import clock
    from tests.factories import TEST_ACTOR

    # A token made now: the live server runs on the real clock.
    with clock.pinned(datetime.now(UTC).replace(microsecond=0)):
        _row, secret = tokens.create_token(
            world.session, world.wang, "registry:read", actor=TEST_ACTOR
        )
    world.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    with gunicorn(
        database_url, tmp_path, workers=3, environ={"RATELIMIT_TOKEN": "100/minute"}
    ) as server:
        start = threading.Barrier(12)

        def calls(_):
            start.wait()
            return [
                requests.get(f"{server.url}{API}/tiers", headers=headers, timeout=30).status_code
                for _ in range(20)
            ]

        with ThreadPoolExecutor(12) as pool:
            statuses = [code for batch in pool.map(calls, range(12)) for code in batch]
        workers = len(server.worker_pids())
    served = statuses.count(200)
    assert statuses.count(429) == len(statuses) - served
    assert 100 <= served <= 100 + workers * (ratelimit.batch_size(100) - 1), (served, workers)
