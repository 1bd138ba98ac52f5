"""Conditional requests on one record (API.md): the record's ``version`` as a strong
``ETag``, ``If-Match`` / ``If-None-Match`` on writes, and the compare-and-lock UPDATE
that puts the version check inside the write.

The rules of a write (PUT; a PATCH is a PUT that never creates):

* create: ``If-None-Match: *`` and no record → go ahead; a record exists → 412;
* update: ``If-Match`` naming the record's version → go ahead; another version, or no
  record at all → 412 (``W/`` tags never match);
* neither header → 428.

API.md orders the answers 400 → 428 → 412 → 422, so a view checks the body's JSON
(:func:`reject_malformed_json`) and the preconditions before its body is validated.
"""

from __future__ import annotations

from typing import Any, cast

from flask import request
from sqlalchemy import CursorResult, update

from registry.core.api import check_body
from registry.core.dbsession import DbSession
from registry.core.errors import PreconditionFailed, PreconditionRequired


def etag(version: int) -> str:
    """The strong validator of a record at ``version``."""
    return f'"{version}"'


def tagged(record: Any, status: int = 200, **headers: str) -> tuple[Any, int, dict[str, str]]:
    """A view's answer carrying one record with its ``ETag`` (and any other headers)."""
    return record, status, {"ETag": etag(record.version), **headers}


def reject_malformed_json() -> None:
    """413 or 415 for the body's size or type, then 400 ``malformed_json`` for JSON
    that does not parse: API.md puts them before 428 and 412, which are checked before
    the body itself is read."""
    check_body()
    if request.is_json and request.get_data(cache=True):
        request.get_json(cache=True)  # 400 MalformedJson (core.jsonbody); cached for the view


def check_write(current_version: int | None) -> bool:
    """Apply the rules above to the record's version (None: there is no record).
    Returns True for a create, False for an update; raises ``PreconditionRequired``
    (428) or ``PreconditionFailed`` (412)."""
    if "If-Match" in request.headers:
        if current_version is None or not request.if_match.contains(str(current_version)):
            raise PreconditionFailed("The record has changed since it was read (If-Match).")
        return False
    if "If-None-Match" in request.headers:
        tags = request.if_none_match
        if current_version is None and tags.star_tag:
            return True
        if current_version is not None and (
            tags.star_tag or tags.contains_weak(str(current_version))
        ):
            raise PreconditionFailed("The record exists already (If-None-Match).")
    if current_version is None:
        raise PreconditionRequired("Send If-None-Match: * to create the record.")
    raise PreconditionRequired("Send If-Match with the record's ETag to change it.")


def claim_version(session: DbSession, record: Any) -> None:
    """Make the version check part of the write: ``UPDATE … SET version = version WHERE
    id = :id AND version = :expected``, with the version the caller's ``If-Match`` named.

    0 rows → 412. One row → the record's write lock is held until COMMIT, so the changes
    that follow cannot interleave with another writer's: of two concurrent writes with
    the same version exactly one wins (PostgreSQL re-evaluates the loser's WHERE after
    the winner commits; SQLite's writers are serial). The version itself only grows when
    something changes (``registry.core.changes.changed``); the record is then reloaded,
    as locked.
    """
    model = type(record)
    claimed = cast(
        "CursorResult[Any]",
        session.execute(
            update(model)
            .where(model.id == record.id, model.version == record.version)
            .values(version=model.version)
            .execution_options(synchronize_session=False)
        ),
    )
    if claimed.rowcount != 1:
        raise PreconditionFailed("The record has changed since it was read (If-Match).")
    session.refresh(record)


def conditional_write(session: DbSession, record: Any | None) -> bool:
    """Everything a PUT or PATCH of ``record`` (None: not there) checks before its body
    is validated: the JSON (400), the preconditions (428, 412) and, for an update, the
    claim of the version. Returns True when the write creates the record."""
    reject_malformed_json()
    creating = check_write(record.version if record is not None else None)
    if not creating:
        claim_version(session, record)
    return creating
