"""Login throttling (README "Login throttling", QUALITY.md S8): wrong passwords counted
per account name and client address, and per account name from every address together,
in rows of the database so that every worker and server sees the same counts. Used by
signing in and the password change (:mod:`registry.accounts.operations`); ``tick``
forgets the counts that no longer matter. Operations flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from registry.accounts.models import EVERY_ADDRESS, LoginThrottle
from registry.core import clock
from registry.core.db import for_update, is_postgres
from registry.core.dbsession import DbSession
from registry.core.errors import Throttled


@dataclass(frozen=True)
class Bound:
    """``max_failures`` wrong passwords within ``window`` lock for ``lock``."""

    max_failures: int
    window: timedelta
    lock: timedelta


@dataclass(frozen=True)
class ThrottlePolicy:
    """Wrong passwords counted twice (README "Login throttling"): per account name and
    client address (a stranger's guesses lock that stranger out, not the owner signing
    in from elsewhere), and per account name from every address together, with a much
    higher bound that still caps guessing spread over many addresses. Every worker and
    server shares the counts: they are rows of the database."""

    per_address: Bound = Bound(5, timedelta(minutes=15), timedelta(minutes=15))
    per_account: Bound = Bound(100, timedelta(hours=1), timedelta(hours=1))


POLICY = ThrottlePolicy()


@dataclass
class LoginCounts:
    """The two counts of one account name as seen from one client address, locked for
    the transaction."""

    account: LoginThrottle
    address: LoginThrottle
    policy: ThrottlePolicy

    def count_failure(self, now: datetime) -> None:
        _count_failure(self.address, now, self.policy.per_address)
        _count_failure(self.account, now, self.policy.per_account)

    def succeeded(self) -> None:
        # The address starts afresh; the account's count of every address does not, so
        # that the owner's own sign-ins do not make room for more guesses.
        self.address.failures, self.address.locked_until = 0, None


def _throttle_row(session: DbSession, email: str, client_address: str) -> LoginThrottle:
    insert = postgresql.insert if is_postgres(session) else sqlite.insert
    session.execute(
        insert(LoginThrottle)
        .values(
            email=email, client_address=client_address, failures=0, first_failure_at=clock.now()
        )
        .on_conflict_do_nothing(index_elements=["email", "client_address"])
    )
    stmt = select(LoginThrottle).where(
        LoginThrottle.email == email, LoginThrottle.client_address == client_address
    )
    return session.scalars(for_update(session, stmt)).one()


def login_counts(
    session: DbSession,
    email: str,
    client_address: str | None,
    now: datetime,
    policy: ThrottlePolicy = POLICY,
) -> LoginCounts:
    """The counts of ``email`` from ``client_address``, locked in one order (the account's
    row first) so that two logins never deadlock; ``Throttled`` (with ``retry_after``
    seconds) while either holds a lock."""
    account = _throttle_row(session, email, EVERY_ADDRESS)
    address = _throttle_row(session, email, (client_address or "unknown")[:64])
    running = [
        row.locked_until
        for row in (account, address)
        if row.locked_until is not None and row.locked_until > now
    ]
    if running:
        raise _throttled(max(running), now)
    return LoginCounts(account, address, policy)


def _count_failure(row: LoginThrottle, now: datetime, bound: Bound) -> None:
    if row.failures == 0 or now - row.first_failure_at > bound.window:
        row.failures, row.first_failure_at = 0, now
    row.failures += 1
    if row.failures >= bound.max_failures:
        row.locked_until = now + bound.lock
        row.failures = 0


def purge_login_throttles(
    session: DbSession, now: datetime, policy: ThrottlePolicy = POLICY
) -> int:
    """``tick``: forget the counts that no longer matter (no lock running, the last
    failure outside its window), so that typed-in names do not pile up."""
    every_address = LoginThrottle.client_address == EVERY_ADDRESS
    result = session.execute(
        delete(LoginThrottle).where(
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
            or_(
                and_(
                    every_address,
                    LoginThrottle.first_failure_at < now - policy.per_account.window,
                ),
                and_(
                    ~every_address,
                    LoginThrottle.first_failure_at < now - policy.per_address.window,
                ),
            ),
        )
    )
    return cast("CursorResult[Any]", result).rowcount


def _throttled(until: datetime, now: datetime) -> Throttled:
    error = Throttled(
        "Too many failed logins. Try again in %(minutes)s minutes.",
        minutes=max(1, int((until - now).total_seconds() + 59) // 60),
    )
    error.retry_after = max(1, int((until - now).total_seconds()))
    return error
