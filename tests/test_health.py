"""``/healthz`` (the process is up) and ``/readyz`` (the database answers; API.md "Health":
503 within 2 s when it does not)."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.extensions import db
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parent.parent

READY_LIMIT_S = 2.0


def free_port() -> int:
    """A loopback port nothing listens on (taken from the kernel, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never answers: a hung database."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def probe(url: str):
    """GET /healthz and /readyz on an app bound to ``url``; returns both and the time
    /readyz took."""
    app = make_app(url)
    with app.app_context():
        client = app.test_client()
        health = client.get("/healthz")
        started = time.monotonic()
        ready = client.get("/readyz")
        elapsed = time.monotonic() - started
        db.engine.dispose()
    return health, ready, elapsed


def test_healthz_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_answers_on_a_good_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


def test_health_routes_need_no_login_and_change_nothing(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


def unreachable_url(kind: str, tmp_path) -> str:
    if kind == "sqlite-no-dir":
        return f"sqlite:///{tmp_path / 'missing' / 'registry.db'}"
    if kind == "sqlite-deleted-file":
        deleted = tmp_path / "deleted.db"
        sqlite3.connect(deleted).close()
        deleted.unlink()
        return f"sqlite:///{deleted}"
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/registry"


@pytest.mark.parametrize("kind", ["sqlite-no-dir", "sqlite-deleted-file", "postgresql-closed-port"])
def test_readyz_is_503_quickly_when_the_database_is_unreachable(kind, tmp_path):
    health, ready, elapsed = probe(unreachable_url(kind, tmp_path))
    assert health.status_code == 200  # the process is up all the same
    assert ready.status_code == 503
    assert ready.get_json() == {"status": "unavailable"}
    assert elapsed < READY_LIMIT_S
    # The probe never creates the database it was pointed at.
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_readyz_is_503_within_the_limit_when_the_database_hangs(silent_server):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/registry"
    _, ready, elapsed = probe(url)
    assert ready.status_code == 503
    assert elapsed < READY_LIMIT_S


def test_readyz_is_503_on_a_database_without_the_registry_schema(tmp_path):
    """A file that exists but was never migrated is not ready either."""
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    _, ready, _ = probe(f"sqlite:///{empty}")
    assert ready.status_code == 503


def test_a_sqlite_worker_holds_no_decoder_and_no_postgresql_driver(tmp_path):
    """The worker's memory (P3, P4: RSS ≤ 100 MB) is not spent on modules it never
    runs: the attachments' decoders load in the checks' fork server, the PostgreSQL
    driver only for a PostgreSQL database."""
    probe = (
        "import sys, wsgi; "
        "print(sorted(m for m in ('pypdf', 'PIL', 'psycopg', 'openpyxl') if m in sys.modules))"
    )
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.db'}"}
    env.pop("TEST_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
