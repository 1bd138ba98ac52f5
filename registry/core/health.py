"""``/healthz`` (the process is up) and ``/readyz`` (the database answers)."""

from __future__ import annotations

import sqlite3
import threading
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, jsonify

if TYPE_CHECKING:
    import psycopg

bp = Blueprint("health", __name__)

READY_TIMEOUT_S = 1.0


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


def _database_answers() -> bool:
    """Ask the database for ``SELECT 1`` on a fresh connection, giving up after 1 s.

    The query runs in a helper thread so that a hung server cannot hold the probe
    beyond its timeout; the pool is bypassed so a broken pool cannot fake health.
    """
    result: list[bool] = []

    url = current_app.extensions["sqlalchemy"].engine.url

    def probe() -> None:
        try:
            if url.get_backend_name() == "sqlite":
                # mode=rw: a missing database file is "not ready", never created here.
                raw: sqlite3.Connection | psycopg.Connection[Any] = sqlite3.connect(
                    f"file:{url.database}?mode=rw", uri=True, timeout=1
                )
            else:
                import psycopg  # here: a SQLite deployment never loads the driver (~9 MB)

                raw = psycopg.connect(
                    host=url.host,
                    port=url.port,
                    user=url.username,
                    password=url.password,
                    dbname=url.database,
                    connect_timeout=1,
                    options="-c statement_timeout=1000",
                )
            try:
                cursor = raw.cursor()
                cursor.execute("SELECT value FROM registry_meta WHERE key = 'feed_epoch'")
                result.append(cursor.fetchone() is not None)
            finally:
                raw.close()
        except Exception:
            result.append(False)

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(READY_TIMEOUT_S)
    return bool(result and result[0])


@bp.get("/readyz")
def readyz() -> Response | tuple[Response, int]:
    if _database_answers():
        return jsonify(status="ready")
    return jsonify(status="unavailable"), 503
