"""The pull client (API.md "Sync"): bootstrap from a peer's snapshot, then follow its
change feed, applying each page and its cursor in one transaction.

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
import pickle  # nosec B403 # reads back only its own temporary spool
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, NoReturn

import orjson
import requests
from sqlalchemy.exc import SQLAlchemyError

from registry.core import clock
from registry.core.dbsession import DbSession
from registry.core.errors import DomainError
from registry.sync import operations, schemas, sources
from registry.sync.crypto import decrypt_token
from registry.sync.models import SyncSource

#: The largest /changes page read (1000 entries are far less).
MAX_PAGE_BYTES = 64 * 1024 * 1024
#: The longest snapshot line read.
MAX_LINE_BYTES = 1024 * 1024
#: Entries asked for per /changes page (the contract's maximum).
PAGE_LIMIT = 1000
#: Seconds a following pull long-polls once it has caught up (the contract's maximum).
FOLLOW_WAIT = 30
#: Snapshot records applied per transaction.
SNAPSHOT_BATCH = 5000
#: A page must arrive within its wait plus this, however slowly the peer trickles it.
PAGE_DEADLINE_SECONDS = 60
MIRRORED = ",".join(schemas.MIRRORED_TYPES)


class PeerError(DomainError):
    """The peer failed or broke the contract; nothing it sent was applied."""

    code, status = "peer_error", 502


class CursorExpired(Exception):
    """410 ``cursor_expired``: reload from a snapshot."""


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


@dataclass(frozen=True)
class FeedPage:
    records: list[schemas.Record]
    next_cursor: str
    has_more: bool
    last_entry_at: datetime | None


@dataclass(frozen=True)
class SnapshotFile:
    as_of: str
    count: int
    batches: int


def _json(raw: bytes) -> Any:
    """Strict JSON (orjson: RFC 8259 only — no NaN or Infinity, valid UTF-8 — and about
    five times faster than the standard module on a snapshot's two million lines).
    Every error is a ValueError."""
    return orjson.loads(raw)


def _instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class Peer:
    """HTTP to one peer: bearer token, gzip, timeouts, size limits, strict checks."""

    def __init__(self, base_url: str, token: str, *, connect_timeout: float, read_timeout: float):
        self.base_url = base_url
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.http = requests.Session()
        self.http.trust_env = False  # no proxy or .netrc from the environment
        self.http.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept-Encoding": "gzip",
                "User-Agent": "enterprise-cultivation-registry sync",
            }
        )

    @classmethod
    def of(cls, source: SyncSource, config: Mapping[str, Any]) -> Peer:
        return cls(
            source.base_url,
            decrypt_token(source.token_encrypted),
            connect_timeout=config["SYNC_CONNECT_TIMEOUT_SECONDS"],
            read_timeout=config["SYNC_READ_TIMEOUT_SECONDS"],
        )

    @contextlib.contextmanager
    def _get(
        self, path: str, params: dict[str, Any], wait: float, media_type: str
    ) -> Iterator[requests.Response]:
        url = f"{self.base_url}/api/v1/{path}"
        try:
            with self.http.get(
                url,
                params=params,
                stream=True,
                allow_redirects=False,
                timeout=(self.connect_timeout, self.read_timeout + wait),
                headers={"Accept": media_type},
            ) as response:
                if response.status_code != 200:
                    self._refusal(path, response)
                if not response.headers.get("Content-Type", "").startswith(media_type):
                    raise PeerError(
                        "GET /api/v1/%(path)s answered %(type)s, not %(expected)s.",
                        path=path,
                        type=response.headers.get("Content-Type", "no content type"),
                        expected=media_type,
                    )
                yield response
        except requests.RequestException as exc:
            raise PeerError(
                "GET /api/v1/%(path)s failed: %(reason)s.", path=path, reason=_reason(exc)
            ) from None

    def _refusal(self, path: str, response: requests.Response) -> NoReturn:
        code = None
        with contextlib.suppress(Exception):
            body = _json(next(response.iter_content(64 * 1024), b""))
            code = body.get("code") if isinstance(body, dict) else None
        if response.status_code == 410 and code == "cursor_expired":
            raise CursorExpired()
        raise PeerError(
            "GET /api/v1/%(path)s answered %(http_status)s%(problem)s.",
            path=path,
            http_status=response.status_code,
            problem=" (" + code + ")" if isinstance(code, str) else "",
        )

    def changes(self, after: str, *, wait: float = 0) -> FeedPage:
        """One /changes page after ``after``, checked whole."""
        params = {"after": after, "limit": PAGE_LIMIT, "types": MIRRORED, "wait": wait}
        deadline = time.monotonic() + wait + PAGE_DEADLINE_SECONDS
        with self._get("changes", params, wait, "application/json") as response:
            chunks, size = [], 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > MAX_PAGE_BYTES:
                    raise PeerError("A /changes page is larger than 64 MB.")
                if time.monotonic() > deadline:
                    raise PeerError("A /changes page took too long to arrive.")
                chunks.append(chunk)
        try:
            body = _json(b"".join(chunks))
        except ValueError:
            raise PeerError("A /changes page is not valid JSON.") from None
        page = schemas.load(schemas.feed_page_in, body, "A /changes page")
        entries = page["data"]
        records = [
            schemas.check_record(e["type"], e["key"], e["version"], e["data"])
            for e in entries
            if e["op"] == "upsert"  # "delete" is reserved and not emitted in v1
        ]
        last = max((e["occurred_at"] for e in entries), default=None)
        return FeedPage(records, page["next_cursor"], page["has_more"], last and _instant(last))

    def snapshot(self, spool: IO[bytes], batch_size: int | None = None) -> SnapshotFile:
        """Download /export into ``spool`` as pickled batches of checked records;
        PeerError unless every line is on the contract and the end line arrived."""
        batch_size = batch_size or SNAPSHOT_BATCH
        with self._get("export", {"types": MIRRORED}, 0, "application/x-ndjson") as response:
            lines = _lines(response)
            head = schemas.load(
                schemas.snapshot_head_in, _line_json(next(lines, b"")), "The first line"
            )
            batch, count, batches, end = [], 0, 0, None
            for raw in lines:
                line = _line_json(raw)
                if end is not None:
                    raise PeerError("The snapshot goes on after its end line.")
                if type(line) is dict and "end" in line:
                    end = schemas.load(schemas.snapshot_end_in, line, "The end line")
                    continue
                if type(line) is not dict or line.keys() != schemas.SNAPSHOT_LINE_MEMBERS:
                    raise PeerError("Snapshot line %(n)s is off the contract.", n=count + 2)
                batch.append(
                    schemas.check_record(line["type"], line["key"], line["version"], line["data"])
                )
                count += 1
                if len(batch) >= batch_size:
                    pickle.dump(batch, spool, pickle.HIGHEST_PROTOCOL)
                    batches, batch = batches + 1, []
        if end is None:
            raise PeerError("The snapshot ended without its end line.")
        if end["as_of"] != head["as_of"] or end["count"] != count:
            raise PeerError("The snapshot's end line does not match its lines.")
        if batch:
            pickle.dump(batch, spool, pickle.HIGHEST_PROTOCOL)
            batches += 1
        return SnapshotFile(head["as_of"], count, batches)


def _reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout | requests.exceptions.ReadTimeout):
        return "the peer did not answer in time"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "the body could not be decompressed"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        return "the peer did not answer in time" if "timed out" in text else "no connection"
    return type(exc).__name__


def _lines(response: requests.Response) -> Iterator[bytes]:
    """The body's lines; a line growing past MAX_LINE_BYTES stops the read (memory
    stays flat)."""
    pending = b""
    for chunk in response.iter_content(256 * 1024):
        *complete, pending = (pending + chunk).split(b"\n")
        yield from complete
        if len(pending) > MAX_LINE_BYTES:
            raise PeerError("A snapshot line is longer than 1 MB.")
    if pending:
        yield pending


def _line_json(raw: bytes) -> Any:
    if len(raw) > MAX_LINE_BYTES:
        raise PeerError("A snapshot line is longer than 1 MB.")
    try:
        return _json(raw)
    except ValueError:
        raise PeerError("A snapshot line is not valid JSON.") from None


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
    except (DomainError, SQLAlchemyError, OSError, pickle.PickleError) as exc:
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
            # The anonymous temporary file this process has just written.
            records = pickle.load(spool) if snapshot.batches else []  # nosec B301
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
