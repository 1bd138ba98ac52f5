"""GET /api/v1/enterprises serializes Core rows with the feed's serializer (QUALITY.md
allows it for the lists clients page through): its pages, walked to the end in both
orders, equal the output schema's dump of every record — the demo's and odd ones
(quotes and markup, a tab and a newline, an unknown city, a merger, a code whose inner
check fails, a designation)."""

from __future__ import annotations

import json

from sqlalchemy import select

from registry.enterprises.models import Enterprise
from registry.enterprises.schemas import enterprise_out
from registry.ladder import operations as ladder
from tests.factories import TEST_ACTOR
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
