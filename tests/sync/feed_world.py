"""Reading this registry as another registry would: the snapshot and the change feed
through the API, and the state each one describes."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from registry.accounts.models import Role
from registry.core import changes
from registry.enterprises import operations as enterprises
from registry.enterprises.models import Status
from registry.ladder.models import TierEvent
from tests.factories import TEST_ACTOR, Factories, new_uscc
from tests.fixtures.api import bearer

SYNC_SCOPES = "registry:read,changes:read"

#: (type, key) → (version, data)
State = dict[tuple[str, str], tuple[int, dict | None]]


def sync_headers(session, email: str = "peer@registry.example") -> dict[str, str]:
    """A machine client's token: a reviewer without a password (API.md)."""
    user = Factories(session).user(email, Role.REVIEWER, name="peer registry")
    return bearer(session, user, SYNC_SCOPES)


def enterprise(session, **profile):
    """A local enterprise created as every writer creates one (feed entry included;
    ``make.enterprise`` inserts rows directly and writes none)."""
    profile.setdefault("name", "测试企业有限公司")
    return enterprises.create_enterprise(
        session, profile.pop("uscc", None) or new_uscc(), actor=TEST_ACTOR, **profile
    )


def demo_and_odd_records(app, session, count: int, seed: int):
    """The demo's ``count`` enterprises, then one the demo does not make: quotes and
    markup, a tab and a newline, an unknown city, a merger, a code whose inner check
    fails (returned)."""
    result = app.test_cli_runner().invoke(
        args=["registry", "demo", "--count", str(count), "--random-seed", str(seed)]
    )
    assert result.exit_code == 0, result.output
    odd = enterprise(
        session,
        name='引号"与\\反斜杠 <b>{{7*7}}</b>',
        name_en="Tab\tand\nnewline",
        city_code="999999",
        county="县",
    )
    enterprises.change_status(session, odd, Status.MERGED, merged_into=new_uscc(), actor=TEST_ACTOR)
    return odd


def report(session, owner, year: int, **figures):
    return enterprises.save_annual_report(session, owner, year, figures, actor=TEST_ACTOR)


def snapshot(client, headers, query: str = "") -> tuple[str, State, dict]:
    """(as_of, state, end line) of ``GET /export``."""
    response = client.get("/api/v1/export" + query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/x-ndjson"
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    head, *records, end = lines
    assert set(head) == {"as_of"}
    assert end == {"end": True, "as_of": head["as_of"], "count": len(records)}
    state = {(r["type"], r["key"]): (r["version"], r["data"]) for r in records}
    assert len(state) == len(records), "a record twice in the snapshot"
    return head["as_of"], state, end


def entries(client, headers, after: str | None = None, *, limit: int = 1000, types: str = ""):
    """Every entry after ``after`` (following ``next_cursor``) and the last cursor."""
    seen: list[dict] = []
    while True:
        query = f"?limit={limit}" + (f"&after={after}" if after else "") + types
        page = client.get("/api/v1/changes" + query, headers=headers)
        assert page.status_code == 200, page.get_data(as_text=True)
        body = page.get_json()
        seen.extend(body["data"])
        assert body["next_cursor"]
        after = body["next_cursor"]
        if not body["has_more"]:
            return seen, after


def replay(state: State, feed_entries: list[dict]) -> State:
    """The client rules: upsert by key, an entry applied only when newer."""
    state = dict(state)
    for entry in feed_entries:
        key = (entry["type"], entry["key"])
        held = state.get(key)
        if held is None or entry["version"] > held[0]:
            state[key] = (entry["version"], entry["data"])
    return state


def assert_feed_describes_state(client, headers) -> State:
    """The feed replayed from the start of history equals a snapshot of now: no change
    reached the database without its entry (with the data GET shows)."""
    _as_of, now, _end = snapshot(client, headers)
    from_feed = replay({}, entries(client, headers)[0])
    missing = {k: v for k, v in now.items() if from_feed.get(k) != v}
    assert not missing, f"records whose last feed entry is not their state: {sorted(missing)}"
    assert from_feed.keys() == now.keys()
    return now


class FeedProbe:
    """Runs one operation as its caller does and checks the entries it wrote (the client
    must end the test's own transaction before each request, as ``api_client`` does)."""

    def __init__(self, client, session) -> None:
        self.client, self.session = client, session
        self.headers = sync_headers(session)

    def run(self, operation, *, once: bool = True, described_before: bool = True):
        """Commit the world, run ``operation`` and commit as its caller does.
        ``described_before``: whether the feed must describe the world before it."""
        self.session.commit()
        if described_before:
            self.before = assert_feed_describes_state(self.client, self.headers)
        else:
            self.before = snapshot(self.client, self.headers)[1]
        self.after_cursor = entries(self.client, self.headers)[1]
        self.last_event = self.session.scalar(select(func.max(TierEvent.id))) or 0
        self.session.rollback()  # nothing of the test's own is open (SQLite write lock)
        result = operation()
        self.session.commit()
        self.once = once
        return result

    def wrote(self, *records, events: int = 0) -> dict | None:
        """An entry for each of ``records`` and of the ``events`` new tier events, the
        last at the record's version, and for nothing else: exactly the records whose
        snapshot changed. Returns the data of the first record's last entry."""
        new_events = self.session.scalars(
            select(TierEvent).where(TierEvent.id > self.last_event)
        ).all()
        assert len(new_events) == events, f"{len(new_events)} tier events, not {events}"
        keys = {changes.representation(r)[:2]: None for r in (*records, *new_events)}
        new = entries(self.client, self.headers, self.after_cursor)[0]
        now = assert_feed_describes_state(self.client, self.headers)
        last = {(x["type"], x["key"]): x for x in new}
        assert last.keys() == keys.keys(), f"entries for {sorted(last)}, not {sorted(keys)}"
        moved = {k for k, v in now.items() if self.before.get(k) != v}
        assert moved == keys.keys(), f"changed: {sorted(moved)}, expected: {sorted(keys)}"
        stale = {k: x["version"] for k, x in last.items() if x["version"] != now[k][0]}
        assert not stale, f"entries not at their record's version: {stale}"
        if self.once:
            assert len(new) == len(last), "one entry per record per transaction"
        return last[next(iter(keys))]["data"] if keys else None
