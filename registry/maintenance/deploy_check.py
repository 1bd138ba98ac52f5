"""``flask registry check-deploy`` (PRODUCT.md §9): what the configuration the servers
would run with, and their database, get wrong, each as one line an operator can act on.

An error is a setting no production registry may run with (a generated or short key,
debug or testing, CSRF off, cookies sent over plain HTTP, a pinned clock, no https
address, per-process rate limits, an old schema, no seed, a demo account with its
published password, a calendar that does not reach the notices about to run). A warning
is one that is right for some installations and wrong for others. The command exits 1
when any line is an error.

The keys: ``SECRET_KEY`` and ``SYNC_SECRET_KEY`` count only when the operator put them
in the environment (the files the registry generates in ``instance/`` are for one
development machine) and when they are at least :data:`MIN_KEY_LENGTH` characters
(``python -c 'import secrets; print(secrets.token_hex(32))'``), and not an example's
placeholder (:data:`PLACEHOLDER`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from registry.accounts.models import User
from registry.core.db import is_postgres
from registry.core.dbsession import DbSession
from registry.demo.applications import DEMO_USERS
from registry.enterprises.models import City, Industry
from registry.ladder import criteria_versions
from registry.ladder import queries as ladder_queries
from registry.ladder.models import Tier

#: The shortest key accepted: 32 characters (``secrets.token_hex(16)`` and up).
MIN_KEY_LENGTH = 32
#: How to make a key, as the findings say it.
NEW_KEY = (
    "a random value of at least 32 characters"
    " (python -c 'import secrets; print(secrets.token_hex(32))')"
)
#: What an example environment file holds where a key goes: to be replaced.
PLACEHOLDER = "replace-with"
#: The calendar must cover this many days ahead (the notices about to be approved)…
NEEDED_DAYS = 60
#: …and should cover this many (a year's approvals).
WANTED_DAYS = 365
#: Fewer days of feed history than this cut followers off too soon.
MIN_FEED_RETENTION_DAYS = 7


@dataclass(frozen=True)
class Finding:
    level: str  # "error" | "warning"
    text: str

    def __str__(self) -> str:
        return f"{self.level}: {self.text}"


def error(text: str) -> Finding:
    return Finding("error", text)


def warning(text: str) -> Finding:
    return Finding("warning", text)


def check_deploy(
    config: Mapping[str, Any],
    environ: Mapping[str, str],
    session: DbSession,
    script: ScriptDirectory,
    today: date,
) -> list[Finding]:
    """Every problem found, errors first."""
    found = [
        *_settings(config, environ),
        *_rate_limits(config, on_postgres=is_postgres(session)),
        *_database(session, script, today),
    ]
    return sorted(found, key=lambda finding: finding.level != "error")


def _settings(config: Mapping[str, Any], environ: Mapping[str, str]) -> Iterator[Finding]:
    for name in ("SECRET_KEY", "SYNC_SECRET_KEY"):
        key = environ.get(name, "")
        if not key:
            yield error(
                f"{name} is not set: the key generated in instance/ is for one development"
                f" machine. Put {NEW_KEY} in every server's environment."
            )
        elif PLACEHOLDER in key or len(key) < MIN_KEY_LENGTH:
            what = "the example placeholder" if PLACEHOLDER in key else "too short"
            yield error(f"{name} is {what}: set {NEW_KEY}.")
    if config.get("DEBUG"):
        yield error("debug is on (FLASK_DEBUG): remove it; debug pages run code sent to them.")
    if config.get("TESTING"):
        yield error("TESTING is on: it is for the test suite only; remove it.")
    if not config.get("WTF_CSRF_ENABLED", True):
        yield error("CSRF protection is off (WTF_CSRF_ENABLED): remove that setting.")
    if not config.get("SESSION_COOKIE_SECURE"):
        yield error(
            "SESSION_COOKIE_SECURE is off: set SESSION_COOKIE_SECURE=1 so that the session"
            " cookie is never sent over plain HTTP."
        )
    if config.get("REGISTRY_FAKE_NOW"):
        yield error("REGISTRY_FAKE_NOW pins the clock: remove it from the environment.")
    external = config.get("EXTERNAL_URL")
    if not external:
        yield error(
            "EXTERNAL_URL is not set: set it to the registry's public https address (e.g."
            " https://registry.example.gov.cn)."
        )
    elif (address := urlsplit(external)).scheme != "https" or not address.netloc:
        yield error(f"EXTERNAL_URL {external!r} is not an https address: give its https form.")
    if not config.get("TRUSTED_PROXIES"):
        yield warning(
            "TRUSTED_PROXIES is not set: behind a load balancer or reverse proxy set it to"
            " the number of proxies (1 behind one nginx), or every client shares the"
            " proxy's address in rate limits, throttling and the audit log."
        )
    retention = config.get("FEED_RETENTION_DAYS")
    if retention is not None and retention < MIN_FEED_RETENTION_DAYS:
        yield warning(
            f"FEED_RETENTION_DAYS is {retention}: a follower away for longer must reload"
            f" everything; keep at least {MIN_FEED_RETENTION_DAYS} days."
        )


def _rate_limits(config: Mapping[str, Any], *, on_postgres: bool) -> Iterator[Finding]:
    storage = str(config.get("RATELIMIT_STORAGE_URI", ""))
    if storage.startswith("memory://"):
        yield error(
            "RATELIMIT_STORAGE_URI is memory://: each worker process counts on its own, so"
            " the limits multiply; use the database (postgresql://…) or the default file."
        )
    elif storage.startswith("sqlite") and on_postgres:
        yield warning(
            "RATELIMIT_STORAGE_URI is a SQLite file while the registry runs on PostgreSQL:"
            " fine for one server; with several, set it to the PostgreSQL URL so that they"
            " count together."
        )
    if not config.get("RATELIMIT_ENABLED", True):
        yield warning("RATELIMIT_ENABLED=0: the API has no rate limits; remove it.")


def _database(session: DbSession, script: ScriptDirectory, today: date) -> Iterator[Finding]:
    try:
        current = MigrationContext.configure(session.connection()).get_current_revision()
    except SQLAlchemyError as exc:
        yield error(
            f"the database cannot be reached ({exc.__class__.__name__}): check DATABASE_URL."
        )
        return
    if current != script.get_current_head():
        yield error(
            f"the database is at schema revision {current or 'none'}, not the migrations'"
            f" head {script.get_current_head()}: run flask --app wsgi db upgrade."
        )
        return
    seeded = all(
        session.scalar(select(func.count()).select_from(model)) for model in (Tier, City, Industry)
    )
    if not seeded:
        yield error("the reference data is not loaded: run flask --app wsgi registry seed.")
        return
    for demo in DEMO_USERS:
        user = session.scalar(select(User).where(User.email == demo.email))
        if user is not None and user.active and user.check_password(demo.password):
            yield error(
                f"the demo account {demo.email} is enabled with its published password:"
                " disable it (admin users page) or remove the demo data."
            )
    yield from _calendar(session, today)
    for tier in session.scalars(select(Tier.code)):
        if not criteria_versions.versions(session, tier):
            yield error(
                f"the tier {tier} has no eligibility criteria: add its versions to"
                " seeds/criteria.json and run flask --app wsgi registry seed."
            )


def _calendar(session: DbSession, today: date) -> Iterator[Finding]:
    calendar = ladder_queries.work_calendar(session)

    def missing(days: int) -> list[int]:
        return calendar.missing_years(today.year, (today + timedelta(days=days)).year)

    if needed := missing(NEEDED_DAYS):
        yield error(
            f"the working-day calendar does not cover {_years(needed)}, within the next"
            f" {NEEDED_DAYS} days: add the State Council's holiday schedule to"
            " seeds/calendar.json and run flask --app wsgi registry seed."
        )
    elif wanted := missing(WANTED_DAYS):
        yield warning(
            f"the working-day calendar does not cover {_years(wanted)}, within the next"
            f" {WANTED_DAYS} days: add it to seeds/calendar.json once published, then seed."
        )
    soon = (today + timedelta(days=WANTED_DAYS)).year
    if provisional := sorted(y for y in calendar.provisional if today.year <= y <= soon):
        yield warning(
            f"the working-day calendar of {_years(provisional)} is provisional: replace it"
            " with the State Council's published schedule in seeds/calendar.json, then seed."
        )


def _years(years: list[int]) -> str:
    return ", ".join(str(year) for year in years)
