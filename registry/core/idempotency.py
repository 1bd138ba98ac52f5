"""``Idempotency-Key`` on the API's POST actions (API.md).

A client that is not sure its POST arrived sends it again with the same key; the
registry answers with the response it gave the first time and does nothing more.

- Keys (1–255 printable ASCII) are scoped to the caller — the token, or the client
  address when anonymous — and to method + path.
- The body is compared by the SHA-256 of its canonical JSON (sorted keys, no spaces), so
  a replay need not reproduce the client's spacing; a multipart upload by its fields and
  the SHA-256 of each file; any other body by its bytes.
- The key is claimed in a short transaction of its own before the action runs, so a
  second request with the same key, on any worker, sees it: while the first is running
  → 409 ``idempotency_key_in_progress``; afterwards → the stored response with
  ``Idempotent-Replayed: true`` (same body) or 422 ``idempotency_key_reused``.
- 2xx and 4xx responses are stored, except 401 and 429 (nothing was decided); after a
  5xx or an unexpected error the claim is dropped, so the client may try again.
- ``tick`` purges records older than ``IDEMPOTENCY_KEEP_HOURS`` (24).

A server killed between the action's commit and the storing of its response leaves the
claim in progress: that key then answers 409 until it is purged, rather than risk
doing the action twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from flask import Response, current_app, g, request
from flask.typing import ResponseReturnValue
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError

from registry.core import clock
from registry.core.dbsession import DbSession
from registry.core.errors import (
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    MalformedJson,
    field_error,
)
from registry.core.jsonbody import MAX_JSON_BYTES
from registry.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
#: The response headers a replay gives back.
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag", "Link", "Retry-After")
PATH_MAX = 400


def _valid_key(key: str) -> bool:
    return 1 <= len(key) <= 255 and all(" " <= c <= "~" for c in key)


def request_digest() -> str:
    """SHA-256 of the request body in its canonical form."""
    if request.mimetype == "multipart/form-data":
        canonical = json.dumps(
            {
                "form": sorted(request.form.items(multi=True)),
                "files": sorted(
                    (name, upload.filename or "", hashlib.sha256(upload.read()).hexdigest())
                    for name, upload in request.files.items(multi=True)
                ),
            }
        ).encode()
        for _name, upload in request.files.items(multi=True):
            upload.seek(0)
        return hashlib.sha256(canonical).hexdigest()
    raw = request.get_data(cache=True)
    canonical = raw
    # A body too large (413) or malformed (400) is refused later, in API.md's order
    # (after 404): compared by its bytes until then.
    if request.is_json and 0 < len(raw) <= MAX_JSON_BYTES:
        try:
            document = request.get_json(cache=True)  # parsed once, for the view too
        except MalformedJson:
            pass
        else:
            canonical = json.dumps(
                document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode()
    return hashlib.sha256(canonical).hexdigest()


def _caller() -> str:
    token = g.get("api_token")
    return f"token:{token.id}" if token is not None else f"address:{request.remote_addr}"


def idempotent(run: Callable[[], ResponseReturnValue]) -> ResponseReturnValue:
    """Run ``run()`` (the view: returns a response or raises) under the request's
    ``Idempotency-Key``, if it has one."""
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None or len(request.path) > PATH_MAX:
        return run()
    if not _valid_key(key):
        raise field_error(HEADER, "invalid_format", "1 to 255 printable ASCII characters.")
    scope = {"caller": _caller(), "method": request.method, "path": request.path, "key": key}
    digest = request_digest()
    # The app's Flask-SQLAlchemy session (core depends on no extension module).
    session = current_app.extensions["sqlalchemy"].session
    stored = _claim(session, scope, digest, clock.now())
    if stored is not None:
        return stored
    try:
        response = current_app.make_response(run())
    except Exception as error:  # noqa: BLE001  (turned into its response, or re-raised)
        try:
            response = current_app.make_response(current_app.handle_user_exception(error))
        except Exception:
            _settle(session, scope, None)
            raise
    _settle(session, scope, response)
    return response


def _claim(
    session: DbSession, scope: dict[str, str], digest: str, now: datetime
) -> Response | None:
    """Claim the key in a transaction of its own, or answer from an earlier claim."""
    session.commit()  # whatever the token lookup began; nothing of the action yet
    session.add(IdempotencyRecord(**scope, request_digest=digest, created_at=now))
    try:
        session.commit()
        return None
    except IntegrityError:
        session.rollback()
    record = session.scalars(select(IdempotencyRecord).filter_by(**scope)).one()
    if record.request_digest != digest:
        raise IdempotencyKeyReused("This Idempotency-Key was used with a different request body.")
    if record.status is None:
        raise IdempotencyKeyInProgress("A request with this Idempotency-Key is still running.")
    response = Response(record.body, status=record.status, headers=record.headers or {})
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _stored(status: int) -> bool:
    return (200 <= status < 500) and status not in (401, 429)


def _settle(session: DbSession, scope: dict[str, str], response: Response | None) -> None:
    """Store the response for replays, or drop the claim when it must not be kept."""
    # The action committed what it did; anything it left behind (a refused operation's
    # flushed rows) is discarded, never committed with the record.
    session.rollback()
    where = [getattr(IdempotencyRecord, name) == value for name, value in scope.items()]
    if response is not None and _stored(response.status_code):
        headers = {
            name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers
        }
        session.execute(
            update(IdempotencyRecord)
            .where(*where)
            .values(status=response.status_code, headers=headers, body=response.get_data())
        )
    else:
        session.execute(delete(IdempotencyRecord).where(*where))
    session.commit()


def purge(session: DbSession, now: datetime) -> int:
    """Drop records older than ``IDEMPOTENCY_KEEP_HOURS`` (``tick``)."""
    hours = current_app.config.get("IDEMPOTENCY_KEEP_HOURS", 24)
    return cast(
        "CursorResult[Any]",
        session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.created_at < now - timedelta(hours=hours)
            )
        ),
    ).rowcount
