"""The pull client (API.md "Sync"): bootstrap from a peer's snapshot, then follow its
change feed (read through :mod:`registry.sync.peer`), applying each page and its cursor
in one transaction.

Fails closed. A peer that answers 5xx, hangs (connect and read timeouts), sends more
than the size limits, invalid JSON or anything off the contract
(:mod:`registry.sync.schemas`), or a snapshot without its end line, gets nothing
written: a feed page is checked whole before its transaction; a snapshot is downloaded
and checked whole into a temporary file (memory stays flat) before its first batch is
applied. The run is then recorded as failed on the source in a transaction of its own.
On 410 ``cursor_expired`` the snapshot is loaded again.

A snapshot is applied in batches, one transaction each; the cursor (its ``as_of``) is
stored only with the last. A run killed before that has no cursor yet, or its old one,
which expires again: the next run reloads the snapshot, re-applying what it holds
without duplicating anything.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.exc import SQLAlchemyError

from registry.core import clock
from registry.core.dbsession import DbSession
from registry.core.errors import DomainError
from registry.sync import operations, sources
from registry.sync.models import SyncSource
from registry.sync.peer import CursorExpired, FeedPage, Peer, PeerError
from registry.sync.spool import read_batch

#: Seconds a following pull long-polls once it has caught up (the contract's maximum).
FOLLOW_WAIT = 30


class Stopped(Exception):
    """A stop was asked for while the client waited on the peer."""


class StopRequest:
    """Ctrl-C / TERM: asked between pages, the pull stops after the current one; asked
    while waiting on the peer (no transaction open), it stops at once."""

    def __init__(self) -> None:
        self.requested = False
        self._interruptible = False

    def __call__(self, *_signal: object) -> None:
        self.requested = True
        if self._interruptible:
            raise Stopped()

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        if self.requested:
            raise Stopped()
        self._interruptible = True
        try:
            yield
        finally:
            self._interruptible = False


# --- the pull ------------------------------------------------------------------------------


@dataclass
class PullResult:
    source: str
    cursor: str | None
    outcome: operations.Outcome = field(default_factory=operations.Outcome)
    snapshots: int = 0
    stopped: bool = False

    def line(self) -> str:
        return (
            f"{self.source}: {self.outcome.applied} records applied, "
            f"{self.outcome.conflicts} conflicts, cursor {self.cursor or '(none)'}"
            + (f", {self.snapshots} snapshot(s) loaded" if self.snapshots else "")
            + (" (stopped)" if self.stopped else "")
        )


class PullFailed(Exception):
    """The run failed; recorded on the source. ``str()`` is the one line to print."""


def pull(
    session: DbSession,
    name: str,
    config: Mapping[str, Any],
    *,
    follow: bool = False,
    stop: StopRequest | None = None,
    progress: Callable[[PullResult], object] | None = None,
) -> PullResult:
    """Pull source ``name`` until caught up (``follow``: keep polling with ``wait``
    until stopped). Commits per page and per snapshot batch. PullFailed (recorded on
    the source) when the peer or its data fails."""
    stop = stop or StopRequest()
    source = sources.source_named(session, name)
    source_id, result = source.id, PullResult(source.name, source.cursor)
    try:
        peer = Peer.of(source, config)
        session.rollback()  # no transaction (or SQLite lock) while talking to the peer
        caught_up = False
        while not stop.requested:
            if result.cursor is None:
                if not _load_snapshot(session, source_id, peer, stop, result):
                    break
                continue
            wait = FOLLOW_WAIT if follow and caught_up else 0
            try:
                with stop.waiting():
                    page = peer.changes(result.cursor, wait=wait)
            except CursorExpired:
                result.cursor = None
                continue
            outcome = _apply_page(session, source_id, result.cursor, page)
            result.outcome.add(outcome)
            result.cursor, caught_up = page.next_cursor, not page.has_more
            if progress and (outcome.applied or outcome.conflicts):
                progress(result)
            if caught_up and not follow:
                break
    except Stopped:
        session.rollback()
    except (DomainError, SQLAlchemyError, OSError, orjson.JSONDecodeError) as exc:
        session.rollback()
        message = str(exc) if isinstance(exc, DomainError) else type(exc).__name__
        operations.record_failure(session, source_id, message)
        session.commit()
        raise PullFailed(f"{result.source}: pull failed: {message}") from exc
    result.stopped = stop.requested
    return result


def _apply_page(
    session: DbSession, source_id: int, cursor: str, page: FeedPage
) -> operations.Outcome:
    """One feed page and its cursor, in one transaction."""
    source = session.get_one(SyncSource, source_id, with_for_update=True, populate_existing=True)
    if source.cursor != cursor:
        raise PeerError("Another pull of this source moved its cursor; run it again.")
    outcome = operations.apply_records(session, source, page.records, newer_only=True)
    operations.checkpoint(
        session,
        source,
        outcome,
        cursor=page.next_cursor,
        last_entry_at=page.last_entry_at,
    )
    session.commit()
    return outcome


def _load_snapshot(
    session: DbSession, source_id: int, peer: Peer, stop: StopRequest, result: PullResult
) -> bool:
    """Download, check, then apply the peer's snapshot in batches; the cursor goes with
    the last. False when stopped before the end (the next run loads it again)."""
    with tempfile.TemporaryFile(prefix="registry-snapshot-") as spool:
        with stop.waiting():
            snapshot = peer.snapshot(spool)
        spool.seek(0)
        for number in range(max(snapshot.batches, 1)):
            if stop.requested:
                return False
            records = read_batch(spool) if snapshot.batches else []
            source = session.get_one(
                SyncSource, source_id, with_for_update=True, populate_existing=True
            )
            outcome = operations.apply_records(session, source, records, newer_only=False)
            last = number == max(snapshot.batches, 1) - 1
            operations.checkpoint(
                session,
                source,
                outcome,
                cursor=snapshot.as_of if last else None,
                last_entry_at=clock.now() if last else None,
            )
            session.commit()
            result.outcome.add(outcome)
    result.cursor = snapshot.as_of
    result.snapshots += 1
    return True
