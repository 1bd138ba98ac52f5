"""GET /api/v1/applications is written by a hand serializer
(registry.applications.api_json, as QUALITY.md allows for the lists clients page
through): every page equals ``ApplicationResponse``'s dump of the same applications —
the demo's in every state with their decisions and manual checks, and one in notice
with an objection open, before and after its notice ends (``held``) — for a reviewer,
and for an enterprise's user, who sees no reviewer's identity."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import select

from registry.applications import objections
from registry.applications.api_schemas import ApplicationResponse
from registry.applications.models import Application
from registry.core import clock
from tests.fixtures.api import API


@pytest.fixture
def client(api_client):
    return api_client


def _walk(client, headers) -> list[dict]:
    listed, after = [], ""
    while True:
        page = client.get(f"{API}/applications?limit=7{after}", headers=headers)
        assert page.status_code == 200, page.get_data(as_text=True)
        listed += page.json["data"]
        if not page.json["has_more"]:
            return listed
        after = f"&after={page.json['next_cursor']}"


def _dumped(app, session, user, enterprise_id=None) -> list[dict]:
    stmt = select(Application).order_by(Application.id)
    if enterprise_id is not None:
        stmt = stmt.where(Application.enterprise_id == enterprise_id)
    with app.test_request_context():
        g.api_user = user
        dumped = ApplicationResponse(many=True).dump(session.scalars(stmt).all())
    session.rollback()
    return dumped


def test_every_page_equals_the_output_schema(app, client, session, api_world):
    world = api_world
    result = app.test_cli_runner().invoke(
        args=["registry", "demo", "--count", "60", "--random-seed", "5"]
    )
    assert result.exit_code == 0, result.output
    in_notice = world.in_notice()
    objections.file_objection(
        session, in_notice, name="张三", contact="13800000000", grounds='理由"与\\反斜杠',
        client_address="192.0.2.1",
    )  # fmt: skip
    world.draft(enterprise=world.b, user=world.other)
    session.commit()
    states = {str(a.state) for a in session.scalars(select(Application))}
    assert {"draft", "submitted", "in_review", "in_notice", "granted", "rejected"} <= states
    for at in (clock.now(), in_notice.notice_ends_at + timedelta(seconds=1)):
        with clock.pinned(at):
            reviewer_sees = sorted(_walk(client, world.headers["wang"]), key=lambda a: a["id"])
            assert reviewer_sees == _dumped(app, session, world.wang)
            owner_sees = sorted(_walk(client, world.headers["owner"]), key=lambda a: a["id"])
            assert owner_sees == _dumped(app, session, world.owner, world.a.id)
            assert all(a["claimed_by"] is None for a in owner_sees)
            held = {a["id"]: a["held"] for a in reviewer_sees}
            assert held[in_notice.id] is (at > in_notice.notice_ends_at)
