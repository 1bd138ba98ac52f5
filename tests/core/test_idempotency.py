"""``Idempotency-Key`` on the API's POST actions (API.md): a replay answers the stored
response and does nothing; another body → 422; a key in progress → 409; 401, 429 and
5xx are not stored; keys are the caller's own; ``tick`` purges them after 24 h."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select

from registry.applications import operations as apps
from registry.applications.models import Application, Attachment, Objection
from registry.core import clock
from registry.core.models import AuditEntry, IdempotencyRecord
from tests.fixtures.api import API, ENTERPRISE_SCOPES, NOW, PDF, bearer, problem_of
from tests.live import gunicorn

pytestmark = pytest.mark.usefixtures("pinned_clock")


@pytest.fixture
def client(api_client):
    return api_client


@pytest.fixture
def world(api_world):
    return api_world


CREATE = f"{API}/applications"
TSME = {"tier": "tech_sme", "kind": "promotion"}


def keyed(headers: dict, key: str) -> dict:
    return {**headers, "Idempotency-Key": key}


def count(session, model) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


def test_a_replay_answers_the_stored_response_and_does_nothing(client, session, world):
    headers = keyed(world.headers["owner"], "create-2026-03-04-a")
    first = client.post(CREATE, json={"tier": "tech_sme", "kind": "promotion"}, headers=headers)
    assert first.status_code == 201
    audit_rows = count(session, AuditEntry)

    # The same JSON, spelled differently: members reordered, spaces added.
    again = client.post(
        CREATE,
        data=' { "kind" : "promotion", "tier": "tech_sme" } ',
        content_type="application/json",
        headers=headers,
    )
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert "Idempotent-Replayed" not in first.headers
    assert count(session, Application) == 1
    assert count(session, AuditEntry) == audit_rows


def test_the_same_key_with_another_body_is_refused(client, session, world):
    headers = keyed(world.headers["owner"], "k1")
    assert client.post(CREATE, json=TSME, headers=headers).status_code == 201
    reused = client.post(CREATE, json={"tier": "high_tech", "kind": "promotion"}, headers=headers)
    problem_of(reused, 422, "idempotency_key_reused")
    assert count(session, Application) == 1


def test_keys_belong_to_the_caller_and_the_path(client, session, world):
    # Another enterprise's token with the same key acts for itself.
    mine = client.post(CREATE, json=TSME, headers=keyed(world.headers["owner"], "k"))
    theirs = client.post(CREATE, json=TSME, headers=keyed(world.headers["other"], "k"))
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json["enterprise_uscc"] != theirs.json["enterprise_uscc"]
    # The same key on another path is another request.
    submitted = client.post(
        f"{API}/applications/{mine.json['id']}/submit",
        json={"declaration": True},
        headers=keyed(world.headers["owner"], "k"),
    )
    assert submitted.status_code == 200 and "Idempotent-Replayed" not in submitted.headers
    assert count(session, Application) == 2


def test_a_refusal_is_stored_and_replayed(client, session, world):
    application = world.draft()
    submit = f"{API}/applications/{application.id}/submit"
    headers = keyed(world.headers["owner"], "submit-1")
    refused = client.post(submit, json={"declaration": False}, headers=headers)
    problem_of(refused, 422, "validation_failed")
    replayed = client.post(submit, json={"declaration": False}, headers=headers)
    assert replayed.status_code == 422 and replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json == refused.json
    assert replayed.mimetype == "application/problem+json"
    # A new key is a new request.
    accepted = client.post(
        submit, json={"declaration": True}, headers=keyed(world.headers["owner"], "submit-2")
    )
    assert accepted.status_code == 200 and accepted.json["state"] == "submitted"


def test_401_is_not_stored(client, session, world):
    refused = client.post(CREATE, json=TSME, headers={"Idempotency-Key": "x"})
    problem_of(refused, 401, "unauthenticated")
    assert count(session, IdempotencyRecord) == 0


def test_a_server_error_drops_the_claim(client, session, world, app, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    real_create = apps.create

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(apps, "create", broken)
    headers = keyed(world.headers["owner"], "retry-me")
    try:
        failed = client.post(CREATE, json=TSME, headers=headers)
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    problem_of(failed, 500, "internal_error")
    assert count(session, IdempotencyRecord) == 0

    monkeypatch.setattr(apps, "create", real_create)
    retried = client.post(CREATE, json=TSME, headers=headers)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers


def test_a_key_still_in_progress_is_409(client, session, world):
    application = world.draft()
    path = f"{API}/applications/{application.id}/withdraw"
    session.add(
        IdempotencyRecord(
            caller=f"token:{_token_id(session, world.owner)}",
            method="POST",
            path=path,
            key="slow",
            request_digest=_digest(b""),
            created_at=clock.now(),
        )
    )
    session.commit()
    busy = client.post(path, headers=keyed(world.headers["owner"], "slow"))
    problem_of(busy, 409, "idempotency_key_in_progress")
    session.rollback()
    assert session.get(Application, application.id).state == "draft"


@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "tab\there"])
def test_a_malformed_key_is_422(client, session, world, key):
    refused = client.post(CREATE, json=TSME, headers=keyed(world.headers["owner"], key))
    body = problem_of(refused, 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["Idempotency-Key"]
    assert count(session, Application) == 0


def test_an_upload_replays_with_another_multipart_boundary(client, session, world):
    application = world.draft()
    path = f"{API}/applications/{application.id}/attachments"
    headers = keyed(world.headers["owner"], "upload-1")

    def send(boundary: str):
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"'
                "\r\nContent-Type: application/pdf\r\n\r\n"
            ).encode()
            + PDF
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return client.post(
            path,
            headers=headers,
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
        )

    first, again = send("boundary-one"), send("boundary-two")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == first.json
    assert count(session, Attachment) == 1


def test_an_anonymous_objection_is_keyed_by_address(client, session, world):
    application = world.in_notice()
    path = f"{API}/notices/{application.id}/objections"
    body = {"name": "张三", "contact": "138 0000 0000", "text": "年报数字有误"}
    first = client.post(path, json=body, headers={"Idempotency-Key": "objection-1"})
    again = client.post(path, json=body, headers={"Idempotency-Key": "objection-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert count(session, Objection) == 1
    # Another address is another caller.
    elsewhere = client.post(
        path,
        json=body,
        headers={"Idempotency-Key": "objection-1"},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert elsewhere.status_code == 201 and "Idempotent-Replayed" not in elsewhere.headers
    assert count(session, Objection) == 2


def test_get_ignores_the_header(client, world):
    listed = client.get(CREATE, headers=keyed(world.headers["owner"], "not-for-get"))
    assert listed.status_code == 200 and "Idempotent-Replayed" not in listed.headers


def test_tick_purges_keys_older_than_a_day(client, session, world, runner):
    client.post(CREATE, json=TSME, headers=keyed(world.headers["owner"], "old"))
    with clock.pinned(NOW + timedelta(hours=23)):
        client.post(
            f"{API}/applications",
            json=TSME,
            headers=keyed(world.headers["other"], "young"),
        )
    session.rollback()
    result = runner.invoke(
        args=["registry", "tick", "--now", (NOW + timedelta(hours=24, seconds=1)).isoformat()]
    )
    assert result.exit_code == 0, result.output
    assert session.scalars(select(IdempotencyRecord.key)).all() == ["young"]


def test_the_header_is_documented_on_every_post(client):
    document = client.get(f"{API}/openapi.json").json
    posts = [ops["post"] for ops in document["paths"].values() if "post" in ops]
    assert posts
    for operation in posts:
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert names == ["Idempotency-Key"], operation.get("operationId")


def _token_id(session, user) -> int:
    from registry.accounts.models import ApiToken

    return session.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id))


def _digest(raw: bytes) -> str:
    import hashlib

    try:
        raw = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        pass
    return hashlib.sha256(raw).hexdigest()


def test_concurrent_requests_with_one_key_act_once(database_url, session, world, tmp_path):
    """Six clients send the same POST with the same key at once to a live server with
    several workers: one creates the draft; each other gets the replay or 409."""
    with clock.pinned(datetime.now(UTC)):  # the live server runs on the real clock
        headers = keyed(bearer(session, world.owner, ENTERPRISE_SCOPES), "together")
    start = threading.Barrier(6)

    def send(_):
        with requests.Session() as http:
            start.wait()
            response = http.post(f"{server.url}{CREATE}", json=TSME, headers=headers, timeout=30)
            return response.status_code, response.headers.get("Idempotent-Replayed")

    with gunicorn(database_url, tmp_path, workers=3) as server:
        with ThreadPoolExecutor(6) as pool:
            outcomes = list(pool.map(send, range(6)))
    assert outcomes.count((201, None)) == 1, outcomes
    assert set(outcomes) <= {(201, None), (201, "true"), (409, None)}, outcomes
    assert count(session, Application) == 1
