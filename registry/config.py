"""Configuration classes.

Nothing here reads the environment at import time: :func:`from_environment` is called
inside ``create_app`` so that tests and commands can build apps with other settings.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class Config:
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh", "en")
    WTF_CSRF_ENABLED = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Production sets it (served over HTTPS only). A request that arrives over HTTPS gets a
    # Secure cookie whatever it says (registry.accounts.sessions); the setting covers TLS
    # ended by a proxy the registry does not trust (TRUSTED_PROXIES unset). Off by default
    # so that ``make run`` works over plain HTTP.
    SESSION_COOKIE_SECURE = False
    # Keyset pages on the public lists.
    PAGE_SIZE = 50
    # Test configurations only: pins the registry's clock (``registry.core.clock``).
    REGISTRY_FAKE_NOW: str | None = None
    # How long a write waits for the database's lock (SQLite's write lock, PostgreSQL's
    # row and table locks) before it is refused with 503 database_busy (API.md).
    DATABASE_LOCK_WAIT = 10.0
    # werkzeug's scrypt (N = 2^15, r = 8, p = 1). Test configurations use a cheaper cost.
    PASSWORD_HASH_METHOD = "scrypt"  # nosec B105 # the hash function's name
    # How many reverse proxies stand in front of the application. 0: the client address
    # is the socket peer; n: it is taken from the n-th X-Forwarded-For entry from the
    # right, and the scheme from X-Forwarded-Proto (API.md, "client address").
    TRUSTED_PROXIES = 0
    # The REST API (flask-smorest): its OpenAPI document at /api/v1/openapi.json.
    API_TITLE = "Enterprise Cultivation Registry"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    PROBLEM_TYPE_BASE = "https://registry.invalid/problems/"
    # The registry's public address (scheme, host, port, optional path prefix), for the
    # links it gives clients to follow (the API's ``Link: rel="next"``). Unset: those
    # links are relative references; they are never built from the Host header.
    EXTERNAL_URL: str | None = None
    # API rate limits (API.md; Flask-Limiter syntax). RATELIMIT_STORAGE_URI defaults to
    # ratelimits.db in the instance folder (registry.core.ratelimit).
    RATELIMIT_ENABLED = True
    RATELIMIT_TOKEN = "1200/minute"  # nosec B105 # a rate, not a credential
    RATELIMIT_ANON = "60/minute"
    RATELIMIT_OBJECTION = "5/hour"
    # Idempotency-Key records are kept this long before ``tick`` purges them (≥ 24 h).
    IDEMPOTENCY_KEEP_HOURS = 24
    # The change feed (API.md "Sync"): history kept for ever unless FEED_RETENTION_DAYS is
    # set (tick removes older entries; older cursors are then 410). A long-poll looks for
    # entries of other processes every FEED_POLL_SECONDS and waits at most
    # FEED_WAIT_CAP_SECONDS whatever ``wait`` asks (30: the contract's maximum).
    FEED_RETENTION_DAYS: int | None = None
    FEED_POLL_SECONDS = 0.25
    FEED_WAIT_CAP_SECONDS = 30.0
    # An attachment may be 10 MB (PRODUCT.md "Applications and review"); the rest is room for the
    # form around it.
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024 + 64 * 1024
    # The sync pull client (registry.sync): peers' tokens are encrypted with a key derived
    # from SYNC_SECRET_KEY (from the environment, else generated once in the instance
    # folder); a peer gets SYNC_CONNECT_TIMEOUT_SECONDS to accept a connection and
    # SYNC_READ_TIMEOUT_SECONDS (beyond a long-poll's wait) between two reads.
    SYNC_SECRET_KEY: str | None = None
    SYNC_CONNECT_TIMEOUT_SECONDS = 5.0
    SYNC_READ_TIMEOUT_SECONDS = 15.0


def _persisted_dev_key(instance_path: Path, name: str = "secret_key") -> str:
    """A random key generated once per instance folder, so sessions survive restarts
    in development without a constant key ever being shipped."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / name
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def from_environment(instance_path: str) -> dict:
    """Settings taken from the process environment."""
    instance = Path(instance_path)
    settings: dict = {}
    url = os.environ.get("DATABASE_URL")
    if not url:
        instance.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{instance / 'registry.db'}"
    settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    settings["SECRET_KEY"] = os.environ.get("SECRET_KEY") or _persisted_dev_key(instance)
    settings["SYNC_SECRET_KEY"] = os.environ.get("SYNC_SECRET_KEY") or _persisted_dev_key(
        instance, "sync_secret_key"
    )
    if os.environ.get("TRUSTED_PROXIES"):
        settings["TRUSTED_PROXIES"] = int(os.environ["TRUSTED_PROXIES"])
    for name in ("RATELIMIT_TOKEN", "RATELIMIT_ANON", "RATELIMIT_OBJECTION"):
        if os.environ.get(name):
            settings[name] = os.environ[name]
    if os.environ.get("RATELIMIT_STORAGE_URI"):
        settings["RATELIMIT_STORAGE_URI"] = os.environ["RATELIMIT_STORAGE_URI"]
    for name in ("RATELIMIT_ENABLED", "SESSION_COOKIE_SECURE"):
        if os.environ.get(name):
            settings[name] = _flag(os.environ[name])
    if os.environ.get("DATABASE_LOCK_WAIT"):
        settings["DATABASE_LOCK_WAIT"] = lock_wait(os.environ["DATABASE_LOCK_WAIT"])
    if os.environ.get("FEED_RETENTION_DAYS"):
        settings["FEED_RETENTION_DAYS"] = int(os.environ["FEED_RETENTION_DAYS"])
    if os.environ.get("EXTERNAL_URL"):
        settings["EXTERNAL_URL"] = os.environ["EXTERNAL_URL"].strip()
    if os.environ.get("REGISTRY_FAKE_NOW"):
        settings["REGISTRY_FAKE_NOW"] = os.environ["REGISTRY_FAKE_NOW"]
    return settings


def lock_wait(raw: str) -> float:
    """``DATABASE_LOCK_WAIT``: seconds, more than 0 (0 would refuse every write that
    meets another one)."""
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:
        raise ValueError(f"DATABASE_LOCK_WAIT: seconds above 0, at most 3600; not {raw!r}")
    return seconds


def _flag(value: str) -> bool:
    """An on/off variable: ``0``, ``false``, ``no`` and ``off`` are off, anything else on."""
    return value.strip().lower() not in ("0", "false", "no", "off")


def normalise_database_url(url: str) -> str:
    """Accept the usual ``postgres://`` / ``postgresql://`` forms and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
