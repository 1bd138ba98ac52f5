"""GET /api/v1/export (API.md "Sync"): NDJSON in one consistent read, its serializers
equal to the output schemas, and snapshot + feed = an exact copy while writers run."""

from __future__ import annotations

import gzip
import json
import random
import threading
import time

import pytest
from sqlalchemy import select

from registry.applications.models import Application
from registry.core.changes import representation
from registry.enterprises import operations as enterprises
from registry.enterprises.models import AnnualReport, Enterprise
from registry.extensions import db
from registry.ladder.models import TierEvent
from registry.sync import snapshot as snapshot_module
from tests.factories import TEST_ACTOR
from tests.sync.feed_world import (
    demo_and_odd_records,
    enterprise,
    entries,
    replay,
    report,
    snapshot,
    sync_headers,
)


@pytest.fixture
def headers(session):
    return sync_headers(session)


def test_lines_ordered_by_key_with_head_and_end(client, session, headers):
    owners = [enterprise(session, name=f"企业{i}") for i in range(3)]
    for owner in owners:
        report(session, owner, 2024, employees=3)
        report(session, owner, 2023, employees=2)
    session.commit()
    response = client.get("/api/v1/export", headers=headers)
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Encoding" not in response.headers
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    records = lines[1:-1]
    assert [list(r) for r in records] == [["type", "key", "version", "data"]] * 9
    codes = sorted(o.uscc for o in owners)
    assert [r["key"] for r in records] == codes + [
        f"{code}/{year}" for code in codes for year in (2023, 2024)
    ]
    assert lines[-1] == {"end": True, "as_of": lines[0]["as_of"], "count": 9}
    # as_of is the feed's head when the snapshot was read.
    _seen, head = entries(client, headers)
    assert lines[0]["as_of"] == head


def test_types_filter_and_gzip(client, session, headers):
    enterprise(session)
    session.commit()
    plain = client.get("/api/v1/export?types=enterprise", headers=headers)
    zipped = client.get(
        "/api/v1/export?types=enterprise", headers={**headers, "Accept-Encoding": "gzip"}
    )
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    kinds = {json.loads(x).get("type") for x in plain.get_data(as_text=True).splitlines()}
    assert kinds == {None, "enterprise"}
    refused = client.get("/api/v1/export?types=tiers", headers=headers)
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "types"


def test_dedicated_serializers_equal_the_output_schemas(app, client, session, headers):
    odd = demo_and_odd_records(app, session, 200, 7)
    report(session, odd, 2024, debt_ratio=33.33, national_market_share=0.5, revenue=0)
    session.commit()
    _as_of, state, _end = snapshot(client, headers)
    expected = {}
    for model in (Enterprise, AnnualReport, TierEvent, Application):
        for record in session.scalars(select(model)):
            type_, key, data = representation(record)
            expected[(type_, key)] = (getattr(record, "version", 1), data)
    assert {k[0] for k in expected} == {"enterprise", "annual_report", "tier_event", "application"}
    assert state == expected


def _writer(app, uscc_list: list[str], seed: int, stop: threading.Event, count: list) -> None:
    rng = random.Random(seed)
    with app.app_context():
        try:
            while not stop.is_set():
                owner = db.session.scalars(
                    select(Enterprise).where(Enterprise.uscc == rng.choice(uscc_list))
                ).one()
                if rng.random() < 0.5:
                    enterprises.update_profile(
                        db.session, owner, {"name": f"改名{rng.random()}"}, actor=TEST_ACTOR
                    )
                else:
                    year = rng.choice((2022, 2023, 2024))
                    enterprises.save_annual_report(
                        db.session,
                        owner,
                        year,
                        {"employees": rng.randint(1, 999)},
                        actor=TEST_ACTOR,
                    )
                db.session.commit()
                count.append(1)
        finally:
            db.session.remove()


def _held_open_once(counts: list, more: int):
    """snapshot.lines whose first call, once its transaction has read the feed head,
    waits for ``more`` writes to commit before reading the records: writes land
    mid-snapshot however a busy machine schedules the writers."""
    lines, calls = snapshot_module.lines, []

    def held(*args, **kwargs):
        produced = lines(*args, **kwargs)
        calls.append(1)
        try:
            yield next(produced)  # the as_of line: the read transaction has begun
            wanted, deadline = len(counts) + more, time.monotonic() + 60
            while len(calls) == 1 and len(counts) < wanted and time.monotonic() < deadline:
                time.sleep(0.01)
            yield from produced
        finally:
            produced.close()

    return held


def test_snapshot_then_feed_from_as_of_is_the_final_state(
    app, client, session, headers, monkeypatch
):
    codes = [enterprise(session, name=f"企业{i}").uscc for i in range(300)]
    session.commit()
    stop, counts = threading.Event(), []
    monkeypatch.setattr(snapshot_module, "lines", _held_open_once(counts, 20))
    writers = [
        threading.Thread(target=_writer, args=(app, codes, n, stop, counts)) for n in range(4)
    ]
    for w in writers:
        w.start()
    try:
        while len(counts) < 20:  # writers are running before the snapshot starts
            threading.Event().wait(0.01)
        before = len(counts)
        as_of, held, _end = snapshot(client, headers)
        during = len(counts) - before
    finally:
        stop.set()
        for w in writers:
            w.join()
    assert during >= 20, f"only {during} writes committed while the snapshot was read"
    later, _cursor = entries(client, headers, as_of)
    copy = replay(held, later)
    _now, final, _end = snapshot(client, headers)
    assert copy == final
