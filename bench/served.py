"""A registry served as ``make run`` serves it, for the benches (bench/reports.py,
bench/api.py, bench/backup.py): the registry under test (a SQLite file or a PostgreSQL
database), its demo built once and reused, a reviewer and a token, gunicorn with the
registry's options, and a client signed in through the login form."""

from __future__ import annotations

import argparse
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from registry.config import normalise_database_url  # noqa: E402  (the checkout's registry)

BIN = Path(sys.executable).parent
GUNICORN_OPTS = ["--worker-class", "gthread", "--workers", "2", "--threads", "8"]
GUNICORN_OPTS += ["--timeout", "120", "--no-control-socket"]
SECRET = "bench-reports-secret"  # a throwaway session key for this run
EMAIL = "reports@bench.example"
PASSWORD = "Gan-river-2026"  # the bench's own throwaway reviewer


@dataclass
class Registry:
    """One registry under test: its SQLAlchemy URL and how to reach it raw."""

    engine: str
    url: str
    path: Path | None = None  # the SQLite file

    @classmethod
    def of(cls, engine: str, args: argparse.Namespace, directory: Path) -> Registry:
        """The registry a bench's ``--database`` / ``--database-url`` name (a SQLite file
        in ``directory`` without them)."""
        if engine == "sqlite":
            path = (args.database or directory / "registry.db").resolve()
            return cls("sqlite", f"sqlite:///{path}", path)
        return cls("postgresql", normalise_database_url(args.database_url))

    def env(self) -> dict[str, str]:
        env = {**os.environ, "DATABASE_URL": self.url, "SECRET_KEY": SECRET}
        env.pop("REGISTRY_FAKE_NOW", None)
        env.setdefault("SYNC_SECRET_KEY", "bench-reports-sync-secret")
        return env

    def connect(self) -> Any:
        """A raw driver connection with the settings the registry gives its own."""
        if self.path is not None:
            connection = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            for pragma in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON"):
                connection.execute(f"PRAGMA {pragma}")
            return connection
        import psycopg

        return psycopg.connect(re.sub(r"^postgresql\+psycopg://", "postgresql://", self.url))

    def scalar(self, sql: str, *params: Any) -> Any:
        connection = self.connect()
        try:
            sql = sql if self.path is not None else sql.replace("?", "%s")
            row = connection.execute(sql, params).fetchone()
            return None if row is None else row[0]
        finally:
            connection.close()


def flask(registry: Registry, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=registry.env(),
        check=True,
        capture_output=True,
        text=True,
    )


def enterprises(registry: Registry) -> int:
    """Enterprises held; 0 when the schema is not there yet."""
    if registry.path is not None:
        exists = "SELECT count(*) FROM sqlite_master WHERE name = 'enterprises'"
    else:
        exists = "SELECT count(*) FROM pg_tables WHERE tablename = 'enterprises'"
    if not registry.scalar(exists):
        return 0
    return int(registry.scalar("SELECT count(*) FROM enterprises"))


def prepare(registry: Registry, count: int) -> str:
    """Build the demo registry unless it holds enterprises (one that does is brought to
    the latest migration); a reviewer and a token."""
    if enterprises(registry) == 0:
        print(f"building the {registry.engine} registry: demo --count {count} …", flush=True)
        started = time.perf_counter()
        flask(registry, "db", "upgrade")
        flask(registry, "registry", "seed")
        flask(registry, "registry", "demo", "--count", str(count), "--random-seed", "1")
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    else:
        flask(registry, "db", "upgrade")
    if registry.scalar("SELECT count(*) FROM users WHERE email = ?", EMAIL) == 0:
        flask(
            registry, "registry", "create-user", EMAIL, "--role", "reviewer",
            "--password", PASSWORD,
        )  # fmt: skip
    created = flask(registry, "registry", "token", "create", EMAIL, "--scopes", "registry:read")
    return created.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    """The server's worker processes."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def serve(registry: Registry, directory: Path, port: int) -> subprocess.Popen:
    env = {
        **registry.env(),
        "RATELIMIT_STORAGE_URI": f"sqlite:///{directory / 'ratelimits.db'}",
        # Limits above the offered load: the limiter runs, nothing is refused.
        "RATELIMIT_TOKEN": "100000/minute",
        "RATELIMIT_ANON": "100000/minute",
    }
    return gunicorn("wsgi:app", port, f"http://127.0.0.1:{port}/readyz", cwd=ROOT, env=env)


def gunicorn(
    app: str, port: int, ready_url: str, *, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """``app`` served by gunicorn as ``make run`` serves the registry, once
    ``ready_url`` answers (and both workers have loaded the app)."""
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", *GUNICORN_OPTS, app],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(ready_url, timeout=2).ok:
                time.sleep(3)  # both workers load the app
                return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{app} did not start")


def signed_in(url: str) -> requests.Session:
    """A client signed in as the reviewer through the login form."""
    http = requests.Session()
    page = http.get(f"{url}/login", timeout=30)
    page.raise_for_status()
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.text)
    if found is None:
        raise RuntimeError("no CSRF token on the login page")
    answer = http.post(
        f"{url}/login",
        data={"csrf_token": found.group(1), "email": EMAIL, "password": PASSWORD},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 303:
        raise RuntimeError(f"login answered {answer.status_code}")
    return http
