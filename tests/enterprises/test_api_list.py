"""GET /api/v1/enterprises serializes Core rows with the feed's serializer (QUALITY.md
allows it for the lists clients page through): its pages, walked to the end in both
orders, equal the output schema's dump of every record — the demo's and odd ones
(quotes and markup, a tab and a newline, an unknown city, a merger, a code whose inner
check fails, a designation)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from registry.core.pagination import encode_cursor
from registry.enterprises.models import Enterprise
from registry.enterprises.schemas import enterprise_out
from registry.ladder import operations as ladder
from tests.factories import TEST_ACTOR
from tests.query_plans import prepared_sent, sqlite_plan
from tests.sync.feed_world import demo_and_odd_records, enterprise, sync_headers


def _walk(client, headers, query: str) -> list[dict]:
    seen, after = [], None
    while True:
        path = f"/api/v1/enterprises?limit=37{query}" + (f"&after={after}" if after else "")
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = json.loads(response.get_data(as_text=True))
        assert set(body) == {"data", "next_cursor", "has_more"}
        assert body["has_more"] is (body["next_cursor"] is not None)
        assert ("Link" in response.headers) is body["has_more"]
        seen += body["data"]
        if not body["has_more"]:
            return seen
        after = body["next_cursor"]


def test_pages_equal_the_output_schema(app, client, session):
    headers = sync_headers(session)
    demo_and_odd_records(app, session, 150, 11)
    held = enterprise(session, name="持牌企业")
    ladder.grant_tier(session, held, "tech_sme", actor=TEST_ACTOR, reason="x")
    session.commit()
    expected = {e.uscc: enterprise_out.dump(e) for e in session.scalars(select(Enterprise))}
    session.rollback()
    by_code = _walk(client, headers, "")
    assert [e["uscc"] for e in by_code] == sorted(expected)
    assert by_code == [expected[code] for code in sorted(expected)]
    by_update = _walk(client, headers, "&updated_after=2000-01-01T00:00:00Z")
    assert sorted(by_update, key=lambda e: e["uscc"]) == by_code
    filtered = _walk(client, headers, "&tier=tech_sme")
    assert held.uscc in {e["uscc"] for e in filtered}
    assert all(e == expected[e["uscc"]] for e in filtered)


#: Statistics of a million enterprises, most off the ladder: a city looks more selective
#: than a tier, the planner's trap (registry.ladder.listing).
MILLION = [
    ("enterprises", "ix_enterprises_tier_uscc", "1000000 200000 1"),
    ("enterprises", "ix_enterprises_city_code_uscc", "1000000 90000 1"),
    ("enterprises", "ix_enterprises_industry_code_uscc", "1000000 70000 1"),
    ("enterprises", "ix_enterprises_updated_at_uscc", "1000000 1 1"),
]


@pytest.mark.sqlite_only(reason="SQLite's planner")
@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("", "sqlite_autoindex_enterprises_1"),
        ("&tier=tech_sme&city=360100", "ix_enterprises_tier_uscc"),
        ("&tier=none&tier=tech_sme", "ix_enterprises_tier_uscc"),
        ("&city=360700&city=360100&industry=aviation", "ix_enterprises_city_code_uscc"),
        ("&updated_after=2020-01-01T00:00:00Z", "ix_enterprises_updated_at_uscc"),
    ],
)
def test_a_deep_page_walks_an_index_from_the_cursor(
    client, session, database_url, monkeypatch, query, index
):
    """QUALITY.md P2: each page of the list, the 90 % deep one as the first, is a walk
    of an index starting at the cursor (one per value of the driving filter, merged),
    never a scan or a sort of the register."""
    headers = sync_headers(session)
    enterprise(session)
    session.commit()
    after = encode_cursor("2020-06-01T00:00:00+00:00", "9") if "updated" in query else None
    after = after or encode_cursor("9")
    with prepared_sent(monkeypatch) as sent:
        response = client.get(f"/api/v1/enterprises?limit=5{query}&after={after}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    (statement, parameters), *_ = [s for s in sent if "FROM enterprises" in s[0]]
    details = sqlite_plan(database_url, statement, parameters, MILLION)
    steps = details.split(" | ")
    reads = [step for step in steps if "enterprises" in step]
    assert reads and all(f"USING INDEX {index} (" in step for step in reads), details
    assert all(step.startswith("SEARCH") for step in reads), details
    # Sorting happens only on a walk's page (SQLite's merge of the walks), never above.
    sorts = [i for i, step in enumerate(steps) if "TEMP B-TREE" in step]
    assert all(steps[i - 1].startswith("SCAN walk") for i in sorts), details
