"""GET /api/v1/changes (API.md "Sync"): entries, cursors, types, limits, long-polls,
epochs and retention."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from registry.core import clock
from registry.core.db import consistent_read
from registry.core.models import ChangeLogEntry, RegistryMeta
from registry.core.pagination import decode_cursor, encode_cursor
from registry.enterprises import operations as enterprises
from registry.extensions import db
from registry.ladder import operations as ladder
from registry.sync import feed
from registry.sync.api import ChangesOut
from tests.factories import TEST_ACTOR
from tests.sync.feed_world import enterprise, entries, report, sync_headers

ENTRY_FIELDS = ["cursor", "type", "key", "op", "version", "occurred_at", "data"]


@pytest.fixture
def headers(session):
    return sync_headers(session)


def position(cursor: str) -> int:
    return decode_cursor(cursor, str, int)[1]


def changes(client, headers, query: str = ""):
    return client.get("/api/v1/changes" + query, headers=headers)


def test_entries_in_commit_order_with_their_keys(client, session, make, headers):
    e = enterprise(session, name="赣江科技")
    report(session, e, 2024, employees=10)
    session.commit()
    ladder.grant_tier(session, e, "tech_sme", actor=TEST_ACTOR, reason="import")
    session.commit()
    seen, last = entries(client, headers, limit=2)
    assert [(x["type"], x["key"]) for x in seen] == [
        ("enterprise", e.uscc),
        ("annual_report", f"{e.uscc}/2024"),
        ("enterprise", e.uscc),
        ("tier_event", str(e.id and seen[3]["data"]["id"])),
    ]
    assert all(list(x) == ENTRY_FIELDS for x in seen)
    assert [x["version"] for x in seen] == [1, 1, 2, 1]
    assert {x["op"] for x in seen} == {"upsert"}
    positions = [position(x["cursor"]) for x in seen]
    assert positions == sorted(set(positions))
    assert position(last) == positions[-1]
    assert seen[0]["occurred_at"].endswith("Z") and len(seen[0]["occurred_at"]) == 20
    assert seen[2]["data"]["tier"] == "tech_sme" and seen[0]["data"]["tier"] is None


def test_data_is_what_get_showed_when_written(client, session, make, headers):
    e = enterprise(session, name="旧名称")
    session.commit()
    enterprises.update_profile(session, e, {"name": "新名称"}, actor=TEST_ACTOR)
    session.commit()
    seen, _ = entries(client, headers, types="&types=enterprise")
    assert [(x["version"], x["data"]["name"]) for x in seen] == [(1, "旧名称"), (2, "新名称")]
    current = client.get(f"/api/v1/enterprises/{e.uscc}", headers=headers).get_json()
    assert seen[-1]["data"] == current


def test_page_equals_the_output_schema(app, session, make):
    for i in range(3):
        e = enterprise(session, name=f'引号"与\\反斜杠 {i}', name_en=None if i else "Gan <b>")
        report(session, e, 2024, employees=5, debt_ratio=12.5)
    session.commit()
    with consistent_read(db.engine) as connection:
        page = feed.read_page(connection, feed.start(connection, None), 100, None)
    rows = session.scalars(select(ChangeLogEntry).order_by(ChangeLogEntry.id)).all()
    epoch = session.get(RegistryMeta, "feed_epoch").value
    expected = ChangesOut().dump(
        {
            "data": [
                {
                    "cursor": encode_cursor(epoch, r.id),
                    "type": r.type,
                    "key": r.key,
                    "op": r.op,
                    "version": r.version,
                    "occurred_at": r.occurred_at,
                    "data": json.loads(r.data),
                }
                for r in rows
            ],
            "next_cursor": encode_cursor(epoch, rows[-1].id),
            "has_more": False,
        }
    )
    assert json.loads(feed.page_json(page)) == expected


def test_types_filter_and_the_cursor_passes_what_it_filtered(client, session, make, headers):
    e = enterprise(session)
    report(session, e, 2023)
    enterprise(session)
    session.commit()
    body = changes(client, headers, "?types=annual_report").get_json()
    assert [x["type"] for x in body["data"]] == ["annual_report"]
    # The enterprise written after the report was examined too.
    assert position(body["next_cursor"]) == 3 and body["has_more"] is False
    both = changes(client, headers, "?types=enterprise&types=tier_event").get_json()
    assert [x["type"] for x in both["data"]] == ["enterprise", "enterprise"]
    same = changes(client, headers, f"?types=annual_report&after={body['next_cursor']}")
    assert same.get_json() == {"data": [], "next_cursor": body["next_cursor"], "has_more": False}


def test_limit_has_more_and_link(client, session, make, headers):
    for _ in range(5):
        enterprise(session)
    session.commit()
    first = changes(client, headers, "?limit=2")
    body = first.get_json()
    assert len(body["data"]) == 2 and body["has_more"] is True
    assert f"after={body['next_cursor']}" in first.headers["Link"]
    assert first.headers["Cache-Control"] == "no-store"
    default = changes(client, headers).get_json()
    assert len(default["data"]) == 5 and "Link" not in changes(client, headers).headers


@pytest.mark.parametrize(
    ("query", "status", "code", "field"),
    [
        ("?limit=0", 422, "validation_failed", "limit"),
        ("?limit=1001", 422, "validation_failed", "limit"),
        ("?wait=31", 422, "validation_failed", "wait"),
        ("?wait=-1", 422, "validation_failed", "wait"),
        ("?types=enterprise,people", 422, "validation_failed", "types"),
        ("?after=not-a-cursor", 422, "invalid_cursor", "after"),
        (f"?after={encode_cursor('x', 1, 2)}", 422, "invalid_cursor", "after"),
        ("?after=NEGATIVE", 422, "invalid_cursor", "after"),
        ("?after=OTHER_EPOCH", 410, "cursor_expired", None),
    ],
)
def test_refusals(client, session, headers, query, status, code, field):
    epoch = session.get(RegistryMeta, "feed_epoch").value
    session.rollback()
    query = query.replace("NEGATIVE", encode_cursor(epoch, -1))
    query = query.replace("OTHER_EPOCH", encode_cursor("another-database", 1))
    response = changes(client, headers, query)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == code
    if field:
        assert [e["field"] for e in body["errors"]] == [field]


def test_a_restored_database_expires_old_cursors(client, session, make, headers):
    enterprise(session)
    session.commit()
    cursor = changes(client, headers).get_json()["next_cursor"]
    session.execute(
        update(RegistryMeta).where(RegistryMeta.key == "feed_epoch").values(value="rotated")
    )
    session.commit()
    expired = changes(client, headers, f"?after={cursor}")
    assert expired.status_code == 410 and expired.get_json()["code"] == "cursor_expired"
    assert changes(client, headers).get_json()["data"][0]["cursor"] != cursor


def test_retention_expires_cursors_older_than_the_history_kept(app, client, session, make):
    headers = sync_headers(session)
    early = changes(client, headers).get_json()["next_cursor"]  # before any entry
    old = datetime(2026, 1, 5, 12, tzinfo=UTC)
    with clock.pinned(old):
        enterprise(session)
        session.commit()
    # A reader that has seen the entry to be removed has missed nothing.
    at_floor = changes(client, headers).get_json()["next_cursor"]
    enterprise(session)
    session.commit()
    recent = changes(client, headers).get_json()["next_cursor"]
    app.config["FEED_RETENTION_DAYS"] = 30
    try:
        result = app.test_cli_runner().invoke(args=["registry", "tick"])
        assert result.exit_code == 0, result.output
    finally:
        app.config["FEED_RETENTION_DAYS"] = None
    assert changes(client, headers, f"?after={early}").status_code == 410
    assert changes(client, headers).status_code == 410  # history no longer starts at 1
    assert changes(client, headers, f"?after={recent}").get_json()["data"] == []
    assert len(changes(client, headers, f"?after={at_floor}").get_json()["data"]) == 1
    kept = session.scalars(select(ChangeLogEntry.id)).all()
    assert kept == [position(recent)]


def test_retention_off_keeps_everything(app, session, make):
    with clock.pinned(datetime(2020, 1, 1, tzinfo=UTC)):
        enterprise(session)
        session.commit()
    assert feed.purge(session, clock.now(), None) == 0
    assert session.scalar(select(ChangeLogEntry.id)) == 1


def _commit_later(app, delay: float, done: threading.Event) -> None:
    time.sleep(delay)
    with app.app_context():
        enterprise(db.session, name="等来的")
        db.session.commit()
        db.session.remove()
    done.set()


def test_long_poll_answers_as_soon_as_an_entry_is_committed(app, client, session, headers):
    start = changes(client, headers).get_json()["next_cursor"]
    done = threading.Event()
    writer = threading.Thread(target=_commit_later, args=(app, 0.3, done))
    began = time.monotonic()
    writer.start()
    body = changes(client, headers, f"?after={start}&wait=20").get_json()
    took = time.monotonic() - began
    writer.join()
    assert [x["data"]["name"] for x in body["data"]] == ["等来的"]
    assert 0.25 < took < 5


def test_long_poll_holds_no_connection_and_ends_empty(app, client, session, make, headers):
    enterprise(session)
    session.commit()
    start = changes(client, headers).get_json()["next_cursor"]
    session.close()
    held: list[int] = []
    pool = db.engine.pool

    def watch():
        time.sleep(0.3)
        held.append(pool.checkedout())

    watcher = threading.Thread(target=watch)
    watcher.start()
    began = time.monotonic()
    body = changes(client, headers, f"?after={start}&wait=0.8").get_json()
    watcher.join()
    assert time.monotonic() - began >= 0.8
    assert body == {"data": [], "next_cursor": start, "has_more": False}
    assert held == [0]


def test_wait_is_capped_by_the_setting(app, client, headers):
    app.config["FEED_WAIT_CAP_SECONDS"] = 0.2
    try:
        began = time.monotonic()
        assert changes(client, headers, "?wait=30").status_code == 200
        assert time.monotonic() - began < 3
    finally:
        app.config["FEED_WAIT_CAP_SECONDS"] = 30.0


def test_filtered_long_poll_moves_past_entries_of_other_types(app, client, session, headers):
    start = changes(client, headers).get_json()["next_cursor"]
    done = threading.Event()
    writer = threading.Thread(target=_commit_later, args=(app, 0.1, done))
    writer.start()
    body = changes(client, headers, f"?after={start}&wait=1&types=annual_report").get_json()
    writer.join()
    assert body["data"] == [] and position(body["next_cursor"]) == position(start) + 1


def test_occurred_at_is_whole_seconds_utc(client, session, make, headers):
    with clock.pinned(datetime(2026, 3, 1, 8, 30, 15, 999_999, tzinfo=UTC) + timedelta(0)):
        enterprise(session)
        session.commit()
    assert changes(client, headers).get_json()["data"][0]["occurred_at"] == "2026-03-01T08:30:15Z"


def test_a_snapshot_after_the_whole_history_was_removed_can_be_followed(app, client, session):
    headers = sync_headers(session)
    with clock.pinned(datetime(2026, 1, 5, 12, tzinfo=UTC)):
        enterprise(session)
        session.commit()
    app.config["FEED_RETENTION_DAYS"] = 30
    try:
        assert app.test_cli_runner().invoke(args=["registry", "tick"]).exit_code == 0
    finally:
        app.config["FEED_RETENTION_DAYS"] = None
    assert session.scalars(select(ChangeLogEntry.id)).all() == []
    as_of = client.get("/api/v1/export", headers=headers).get_data(as_text=True).split("\n")[0]
    cursor = json.loads(as_of)["as_of"]
    assert position(cursor) == 1
    enterprise(session, name="之后")
    session.commit()
    body = changes(client, headers, f"?after={cursor}").get_json()
    assert [x["data"]["name"] for x in body["data"]] == ["之后"]
