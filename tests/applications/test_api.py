"""Applications in the REST API: the workflow end to end, the list, create, read, edit
(If-Match), submit and withdraw, attachments; object-level access (S1), no mass
assignment (S2), and the order of the checks (API.md)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from registry.applications import decisions
from registry.applications import operations as apps
from registry.applications.models import Application, Attachment, State
from registry.core import clock
from registry.core.models import AuditEntry
from tests.factories import new_uscc
from tests.fixtures.api import (
    API,
    NOW,
    PDF,
    TSME_CHECKS,
    bearer,
    field_codes,
    problem_of,
    refused_fields,
)
from tests.fixtures.files import PNG

pytestmark = pytest.mark.usefixtures("pinned_clock")


@pytest.fixture
def client(api_client):
    return api_client


@pytest.fixture
def world(api_world):
    return api_world


def upload(client, application_id, headers, content=PDF, name="年报.pdf", field="file"):
    # The body is built here: the test client would spool a large one to a temporary
    # file that it never closes.
    boundary = "registry-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"'
        "\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    return client.post(
        f"{API}/applications/{application_id}/attachments",
        headers=headers,
        data=head.encode() + content + f"\r\n--{boundary}--\r\n".encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
    )


# --- the whole workflow ---------------------------------------------------------------------


def test_the_whole_workflow_through_the_api(client, session, world):
    owner, wang = world.headers["owner"], world.headers["wang"]
    created = client.post(
        f"{API}/applications", json={"tier": "tech_sme", "kind": "promotion"}, headers=owner
    )
    assert created.status_code == 201
    body = created.json
    application_id = body["id"]
    assert created.headers["Location"].endswith(f"{API}/applications/{application_id}")
    assert created.headers["ETag"] == '"1"'
    assert body["enterprise_uscc"] == world.a.uscc  # the caller's own by default
    assert (body["tier"], body["kind"], body["state"], body["version"]) == (
        "tech_sme",
        "promotion",
        "draft",
        1,
    )
    assert body["nominated_by"] is None and body["claimed_by"] is None
    assert body["created_at"] == "2026-03-04T03:00:00Z"

    uploaded = upload(client, application_id, owner)
    assert uploaded.status_code == 201
    attachment = uploaded.json
    assert attachment["label"] == "年报.pdf" and attachment["content_type"] == "application/pdf"
    assert attachment["size"] == len(PDF) and attachment["application_id"] == application_id
    assert uploaded.headers["Location"].endswith(f"{API}/attachments/{attachment['id']}")

    submitted = client.post(
        f"{API}/applications/{application_id}/submit", json={"declaration": True}, headers=owner
    )
    assert submitted.status_code == 200
    assert submitted.json["state"] == "submitted"
    assert submitted.json["submitted_at"] == "2026-03-04T03:00:00Z"
    assert submitted.json["eligibility"]["eligible"] is True
    assert submitted.headers["ETag"] == f'"{submitted.json["version"]}"'

    claimed = client.post(f"{API}/applications/{application_id}/claim", headers=wang)
    assert claimed.status_code == 200
    assert claimed.json["state"] == "in_review"
    assert claimed.json["claimed_by"] == {"id": world.wang.id, "name": "Reviewer Wang"}

    download = client.get(f"{API}/attachments/{attachment['id']}", headers=wang)
    assert download.status_code == 200 and download.data == PDF

    approved = client.post(
        f"{API}/applications/{application_id}/decisions",
        json={"decision": "approve", "comment": "Figures checked.", "manual_checks": TSME_CHECKS},
        headers=wang,
    )
    assert approved.status_code == 200
    assert approved.json["state"] == "in_notice"
    assert approved.json["decisions"] == [
        {
            "reviewer": {"id": world.wang.id, "name": "Reviewer Wang"},
            "decision": "approve",
            "comment": "Figures checked.",
            "manual_checks": TSME_CHECKS,
            "innovation_score": None,
            "at": "2026-03-04T03:00:00Z",
        }
    ]
    ends_at = approved.json["notice_ends_at"]

    notices = client.get(f"{API}/notices")  # public: no token
    assert notices.status_code == 200
    assert notices.json == {
        "data": [
            {
                "application_id": application_id,
                "enterprise_uscc": world.a.uscc,
                "name": "赣江甲科技有限公司",
                "city_code": "360100",
                "industry_code": "electronic_info",
                "tier": "tech_sme",
                "notice_started_at": "2026-03-04T03:00:00Z",
                "notice_ends_at": ends_at,
                "held": False,
            }
        ],
        "next_cursor": None,
        "has_more": False,
    }

    objected = client.post(
        f"{API}/notices/{application_id}/objections",
        json={"name": "张三", "contact": "zhang@example.org", "text": "The figures are wrong."},
    )
    assert objected.status_code == 201
    objection = objected.json
    assert objection == {
        "id": objection["id"],
        "application_id": application_id,
        "state": "open",
        "filed_at": "2026-03-04T03:00:00Z",
    }

    listed = client.get(f"{API}/objections?state=open", headers=wang)
    assert listed.status_code == 200
    assert [(o["id"], o["name"], o["contact"]) for o in listed.json["data"]] == [
        (objection["id"], "张三", "zhang@example.org")
    ]
    assert "client_address" not in listed.json["data"][0]

    dismissed = client.post(
        f"{API}/objections/{objection['id']}/resolution",
        json={"outcome": "dismissed", "comment": "The figures match the audit."},
        headers=wang,
    )
    assert dismissed.status_code == 200
    assert dismissed.json["state"] == "dismissed"
    assert dismissed.json["resolved_by"] == {"id": world.wang.id, "name": "Reviewer Wang"}
    assert dismissed.json["comment"] == "The figures match the audit."
    assert dismissed.json["text"] == "The figures are wrong."

    # The enterprise reads its application: reviewers' identities are null for it.
    mine = client.get(f"{API}/applications/{application_id}", headers=owner)
    assert mine.status_code == 200
    assert mine.json["state"] == "in_notice" and mine.json["held"] is False
    assert mine.json["claimed_by"] is None
    assert mine.json["decisions"][0]["reviewer"] is None
    assert mine.json["decisions"][0]["comment"] == "Figures checked."
    assert mine.headers["ETag"] == f'"{mine.json["version"]}"'
    audit = session.scalars(
        select(AuditEntry.via).where(
            AuditEntry.object_type == "application", AuditEntry.object_id == str(application_id)
        )
    ).all()
    assert set(audit) == {"api"}


def test_enterprise_callers_see_null_reviewer_identities(client, session, world):
    application = world.draft(user=world.wang)  # a nomination
    application_id = application.id
    for name, expected in (
        ("owner", None),
        ("wang", {"id": world.wang.id, "name": "Reviewer Wang"}),
    ):
        one = client.get(f"{API}/applications/{application_id}", headers=world.headers[name])
        assert one.status_code == 200
        assert one.json["nominated_by"] == expected
        listed = client.get(f"{API}/applications", headers=world.headers[name])
        assert [a["nominated_by"] for a in listed.json["data"]] == [expected]


# --- the list -------------------------------------------------------------------------------


def test_the_list_orders_submitted_then_drafts_and_pages_by_cursor(client, session, make, world):
    ids = []
    enterprises = [make.enterprise(founded_on=world.a.founded_on) for _ in range(4)]
    for n, enterprise in enumerate(enterprises):
        make.eligible_report(enterprise, 2025)
        with clock.pinned(NOW + timedelta(minutes=n)):
            application = apps.create(
                session, enterprise, "tech_sme", "promotion", user=world.wang, via="web"
            )
            session.flush()
            ids.append(application.id)
    # The last two are submitted, the later-created one first.
    for minutes, index in ((10, 3), (20, 2)):
        with clock.pinned(NOW + timedelta(minutes=minutes)):
            apps.submit(session, session.get(Application, ids[index]), user=world.wang, via="web")
    session.commit()
    expected = [ids[3], ids[2], ids[0], ids[1]]
    headers = world.headers["wang"]
    seen, url = [], f"{API}/applications?limit=3"
    first = client.get(url, headers=headers)
    assert first.status_code == 200
    assert first.json["has_more"] is True and 'rel="next"' in first.headers["Link"]
    seen += [a["id"] for a in first.json["data"]]
    second = client.get(
        f"{API}/applications",
        query_string={"limit": 3, "after": first.json["next_cursor"]},
        headers=headers,
    )
    assert (second.json["next_cursor"], second.json["has_more"]) == (None, False)
    seen += [a["id"] for a in second.json["data"]]
    assert seen == expected
    drafts = client.get(f"{API}/applications?state=draft", headers=headers)
    assert [a["id"] for a in drafts.json["data"]] == [ids[0], ids[1]]
    both = client.get(f"{API}/applications?state=draft&state=submitted", headers=headers)
    assert len(both.json["data"]) == 4


def test_the_list_filters(client, session, make, world):
    mine = world.submitted()
    other = world.draft(enterprise=world.b, user=world.other)
    headers = world.headers["wang"]

    def ids(**query):
        response = client.get(f"{API}/applications", query_string=query, headers=headers)
        assert response.status_code == 200, response.json
        return [a["id"] for a in response.json["data"]]

    assert ids() == [mine.id, other.id]
    assert ids(state="submitted") == [mine.id]
    assert ids(tier="tech_sme", kind="promotion") == [mine.id, other.id]
    assert ids(kind="renewal") == []
    assert ids(enterprise_uscc=world.b.uscc.lower()) == [other.id]
    assert ids(city="360100") == [mine.id, other.id]
    assert ids(city="360700") == []
    assert ids(claimed_by="none") == [mine.id, other.id]
    client.post(f"{API}/applications/{mine.id}/claim", headers=headers)
    assert ids(claimed_by="me") == [mine.id]
    assert ids(claimed_by=str(world.wang.id)) == [mine.id]
    assert ids(claimed_by=str(world.li.id)) == []
    assert ids(claimed_by="none") == [other.id]


def test_enterprise_callers_list_only_their_own(client, session, world):
    mine = world.draft()
    world.draft(enterprise=world.b, user=world.other)
    headers = world.headers["owner"]
    listed = client.get(f"{API}/applications", headers=headers)
    assert [a["id"] for a in listed.json["data"]] == [mine.id]
    assert "赣州乙" not in listed.get_data(as_text=True)
    assert world.b.uscc not in listed.get_data(as_text=True)
    by_code = client.get(f"{API}/applications?enterprise_uscc={world.b.uscc}", headers=headers)
    assert by_code.status_code == 200 and by_code.json["data"] == []
    # Whose id a reviewer has is not an enterprise's question.
    probe = client.get(f"{API}/applications?claimed_by={world.wang.id}", headers=headers)
    assert refused_fields(probe) == [("claimed_by", "invalid_choice")]
    assert client.get(f"{API}/applications?claimed_by=me", headers=headers).json["data"] == []


def test_list_refusals(client, world):
    headers = world.headers["wang"]
    cases = [
        ({"state": "lost"}, [("state.0", "invalid_choice")]),
        ({"kind": "upgrade"}, [("kind.0", "invalid_choice")]),
        ({"tier": "gold"}, [("tier", "invalid_choice")]),
        ({"city": "999999"}, [("city", "invalid_choice")]),
        ({"claimed_by": "someone"}, [("claimed_by", "invalid_format")]),
        ({"enterprise_uscc": "123"}, [("enterprise_uscc", "invalid_uscc")]),
        ({"limit": 501}, [("limit", "out_of_range")]),
    ]
    for query, expected in cases:
        response = client.get(f"{API}/applications", query_string=query, headers=headers)
        problem_of(response, 422, "validation_failed")
        assert field_codes(response) == expected, query
    bad_cursor = client.get(f"{API}/applications?after=not-a-cursor", headers=headers)
    problem_of(bad_cursor, 422, "invalid_cursor")
    problem_of(client.get(f"{API}/applications"), 401, "unauthenticated")
    apply_only = bearer(world.session, world.owner, "workflow:apply")
    problem_of(client.get(f"{API}/applications", headers=apply_only), 403, "forbidden")


# --- create ---------------------------------------------------------------------------------


def test_create_refusals(client, session, world):
    owner, wang = world.headers["owner"], world.headers["wang"]

    def post(body, headers=owner):
        return client.post(f"{API}/applications", json=body, headers=headers)

    problem_of(post({"tier": "navigator", "kind": "promotion"}), 403, "nomination_only")
    refused = post({"tier": "tech_sme"})
    problem_of(refused, 422, "validation_failed")
    assert field_codes(refused) == [("kind", "required")]
    refused = post({"tier": "gold", "kind": "promotion"})
    assert field_codes(refused) == [("tier", "invalid_choice")]
    refused = post({"tier": "tech_sme", "kind": "promotion", "enterprise_uscc": "12345"})
    assert field_codes(refused) == [("enterprise_uscc", "invalid_uscc")]
    # Another enterprise's USCC and an unknown one: the same 404, nothing of either.
    other = post({"tier": "tech_sme", "kind": "promotion", "enterprise_uscc": world.b.uscc})
    assert problem_of(other, 404, "not_found")["detail"] == "No such enterprise."
    assert world.b.uscc not in other.get_data(as_text=True)
    unknown = post({"tier": "tech_sme", "kind": "promotion", "enterprise_uscc": new_uscc("360900")})
    assert problem_of(unknown, 404, "not_found")["detail"] == "No such enterprise."
    problem_of(post({"tier": "tech_sme", "kind": "renewal"}), 409, "invalid_transition")
    assert post({"tier": "tech_sme", "kind": "promotion"}).status_code == 201
    problem_of(post({"tier": "high_tech", "kind": "promotion"}), 409, "application_open")
    # A reviewer nominates: the enterprise must be named.
    refused = post({"tier": "navigator", "kind": "promotion"}, wang)
    assert refused_fields(refused) == [("enterprise_uscc", "required")]
    nominated = post(
        {"tier": "navigator", "kind": "promotion", "enterprise_uscc": world.b.uscc}, wang
    )
    assert nominated.status_code == 201
    assert nominated.json["nominated_by"] == {"id": world.wang.id, "name": "Reviewer Wang"}
    assert session.scalar(select(func.count()).select_from(Application)) == 2


def test_create_refuses_a_banned_enterprise(client, session, world):
    world.a.ban_until = date(2027, 1, 1)
    session.commit()
    response = client.post(
        f"{API}/applications",
        json={"tier": "tech_sme", "kind": "promotion"},
        headers=world.headers["owner"],
    )
    problem_of(response, 409, "banned")


def test_an_enterprise_token_sending_reviewer_fields_or_state_is_refused(client, session, world):
    owner = world.headers["owner"]
    for extra in ({"state": "in_notice"}, {"claimed_by": world.owner.id}, {"nominated_by": 1}):
        response = client.post(
            f"{API}/applications",
            json={"tier": "tech_sme", "kind": "promotion", **extra},
            headers=owner,
        )
        problem_of(response, 422, "validation_failed")
        assert field_codes(response) == [(next(iter(extra)), "unknown_field")]
    application = world.draft()
    patched = client.patch(
        f"{API}/applications/{application.id}",
        json={"state": "granted", "approvals_required": 0},
        headers={**owner, "If-Match": '"1"'},
    )
    problem_of(patched, 422, "validation_failed")
    assert field_codes(patched) == [
        ("approvals_required", "unknown_field"),
        ("state", "unknown_field"),
    ]
    decided = client.post(
        f"{API}/applications/{application.id}/submit",
        json={"declaration": True, "state": "submitted"},
        headers=owner,
    )
    assert refused_fields(decided) == [("state", "unknown_field")]
    assert session.scalar(select(func.count()).select_from(Application)) == 1
    session.expire_all()
    assert session.get(Application, application.id).state == State.DRAFT


def test_no_token_and_a_bad_body_is_401(client, world):
    application = world.draft()
    for method, url in (
        ("post", f"{API}/applications"),
        ("patch", f"{API}/applications/{application.id}"),
        ("post", f"{API}/applications/{application.id}/submit"),
        ("post", f"{API}/applications/{application.id}/decisions"),
        ("post", f"{API}/applications/{application.id}/attachments"),
    ):
        response = getattr(client, method)(url, data="{not json", content_type="application/json")
        problem_of(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_missing_object_is_404_before_the_bodys_size_and_type(client, world):
    """API.md's order: 404 → 413 → 415 → 400 → 428."""
    owner, wang = world.headers["owner"], world.headers["wang"]
    theirs = world.draft(enterprise=world.b, user=world.other)
    big = b'{"tier": "' + b"x" * (1024 * 1024) + b'"}'
    for method, url, headers in (
        ("patch", f"{API}/applications/999999", owner),
        ("patch", f"{API}/applications/{theirs.id}", owner),
        ("post", f"{API}/applications/999999/submit", owner),
        ("post", f"{API}/applications/999999/attachments", owner),
        ("post", f"{API}/applications/999999/decisions", wang),
        ("post", f"{API}/notices/999999/objections", {}),
    ):
        for body, content_type in ((b"name", "text/plain"), (big, "application/json")):
            response = getattr(client, method)(
                url, data=body, content_type=content_type, headers=headers
            )
            problem_of(response, 404, "not_found")
    draft = world.draft()
    url = f"{API}/applications/{draft.id}"
    problem_of(
        client.patch(url, data=big, content_type="application/json", headers=owner),
        413,
        "payload_too_large",
    )
    problem_of(
        client.patch(url, data=b"{", content_type="text/plain", headers=owner),
        415,
        "unsupported_media_type",
    )
    problem_of(
        client.patch(url, data=b"{", content_type="application/json", headers=owner),
        400,
        "malformed_json",
    )
    problem_of(
        client.patch(url, json={"kind": "promotion"}, headers=owner), 428, "precondition_required"
    )


# --- read, S1 -------------------------------------------------------------------------------


def test_another_enterprises_application_is_404_with_nothing_of_it(client, session, world):
    theirs = world.draft(enterprise=world.b, user=world.other)
    path = f"{API}/applications/{theirs.id}"
    owner = world.headers["owner"]
    with_version = {**owner, "If-Match": '"1"'}
    answers = [
        client.get(path, headers=owner),
        client.patch(path, json={"tier": "high_tech"}, headers=with_version),
        client.patch(path, json={"colour": "red"}, headers=owner),  # 404 before the body
        client.post(path + "/submit", json={"declaration": True}, headers=owner),
        client.post(path + "/withdraw", headers=owner),
        upload(client, theirs.id, owner),
        client.get(path + "/attachments", headers=owner),
    ]
    missing = [
        client.get(f"{API}/applications/999999", headers=owner),
        client.post(f"{API}/applications/999999/withdraw", headers=owner),
    ]
    for response in answers + missing:
        body = problem_of(response, 404, "not_found")
        assert body["detail"] == "No such application."
        text = response.get_data(as_text=True)
        assert world.b.uscc not in text and "赣州乙" not in text
    session.expire_all()
    assert session.get(Application, theirs.id).state == State.DRAFT


def test_another_enterprises_attachment_is_404(client, session, world):
    theirs = world.draft(enterprise=world.b, user=world.other)
    uploaded = upload(client, theirs.id, world.headers["other"])
    assert uploaded.status_code == 201
    attachment_id = uploaded.json["id"]
    owner = world.headers["owner"]
    for response in (
        client.get(f"{API}/attachments/{attachment_id}", headers=owner),
        client.delete(f"{API}/attachments/{attachment_id}", headers=owner),
    ):
        body = problem_of(response, 404, "not_found")
        assert body["detail"] == "No such attachment."
        assert b"%PDF" not in response.data and "年报" not in response.get_data(as_text=True)
    assert session.get(Attachment, attachment_id) is not None
    # Its own enterprise and reviewers may read it.
    for name in ("other", "wang"):
        assert (
            client.get(f"{API}/attachments/{attachment_id}", headers=world.headers[name]).data
            == PDF
        )


# --- edit -----------------------------------------------------------------------------------


def test_edit_a_draft_with_if_match(client, session, world):
    application = world.draft()
    path = f"{API}/applications/{application.id}"
    owner = world.headers["owner"]
    problem_of(
        client.patch(path, json={"tier": "high_tech"}, headers=owner), 428, "precondition_required"
    )
    stale = client.patch(path, json={"tier": "high_tech"}, headers={**owner, "If-Match": '"7"'})
    problem_of(stale, 412, "precondition_failed")
    weak = client.patch(path, json={"tier": "high_tech"}, headers={**owner, "If-Match": 'W/"1"'})
    problem_of(weak, 412, "precondition_failed")
    malformed = client.patch(path, data="{", content_type="application/json", headers=owner)
    problem_of(malformed, 400, "malformed_json")
    edited = client.patch(path, json={"tier": "high_tech"}, headers={**owner, "If-Match": '"1"'})
    assert edited.status_code == 200
    assert (edited.json["tier"], edited.json["version"]) == ("high_tech", 2)
    assert edited.headers["ETag"] == '"2"'
    # Nothing changes: no new version.
    same = client.patch(path, json={"kind": "promotion"}, headers={**owner, "If-Match": '"2"'})
    assert (same.status_code, same.json["version"]) == (200, 2)
    merge = client.patch(
        path,
        data='{"tier": "tech_sme"}',
        content_type="application/merge-patch+json",
        headers={**owner, "If-Match": "*"},
    )
    assert (merge.status_code, merge.json["tier"], merge.json["version"]) == (200, "tech_sme", 3)
    refused = client.patch(path, json={"tier": "navigator"}, headers={**owner, "If-Match": '"3"'})
    problem_of(refused, 403, "nomination_only")
    refused = client.patch(path, json={"kind": "renewal"}, headers={**owner, "If-Match": '"3"'})
    problem_of(refused, 409, "invalid_transition")
    refused = client.patch(path, json={"tier": "gold"}, headers={**owner, "If-Match": '"3"'})
    assert refused_fields(refused) == [("tier", "invalid_choice")]
    edits = session.scalar(
        select(func.count()).where(
            AuditEntry.action == "application.edit", AuditEntry.object_id == str(application.id)
        )
    )
    assert edits == 2


def test_edit_after_submission_changes_nothing(client, session, world):
    application = world.submitted()
    path = f"{API}/applications/{application.id}"
    version = f'"{application.version}"'
    refused = client.patch(
        path, json={"tier": "high_tech"}, headers={**world.headers["owner"], "If-Match": version}
    )
    problem_of(refused, 409, "invalid_transition")
    # A reviewer is not the applicant side of an enterprise's own application.
    refused = client.patch(path, json={}, headers={**world.headers["wang"], "If-Match": version})
    problem_of(refused, 403, "forbidden")
    # Changes requested: the application itself stays as it is; an empty edit is 200.
    apps.claim(session, application, user=world.wang, via="web")
    decisions.decide(
        session, application, "request_changes", user=world.wang, via="web", comment="x"
    )
    session.commit()
    version = f'"{application.version}"'
    owner = {**world.headers["owner"], "If-Match": version}
    unchanged = client.patch(path, json={"kind": "promotion"}, headers=owner)
    assert (unchanged.status_code, unchanged.json["state"]) == (200, "changes_requested")
    assert unchanged.headers["ETag"] == version
    problem_of(
        client.patch(path, json={"tier": "high_tech"}, headers=owner), 409, "invalid_transition"
    )


def test_a_nomination_submitted_without_the_prerequisite(client, session, world):
    wang = world.headers["wang"]
    read_only = bearer(session, world.li, "registry:read")
    body = {"enterprise_uscc": world.b.uscc, "tier": "champion", "kind": "promotion"}
    problem_of(client.post(f"{API}/applications", json=body, headers=read_only), 403, "forbidden")
    created = client.post(f"{API}/applications", json=body, headers=wang)
    assert created.status_code == 201
    # A nomination needs no declaration; champion needs tech_sme first.
    submitted = client.post(f"{API}/applications/{created.json['id']}/submit", headers=wang)
    problem_of(submitted, 409, "prerequisite_not_met")


# --- submit and withdraw --------------------------------------------------------------------


def test_submit_refusals_and_a_double_submit(client, session, make, world):
    application = world.draft()
    path = f"{API}/applications/{application.id}/submit"
    owner = world.headers["owner"]
    no_declaration = client.post(path, json={}, headers=owner)
    assert refused_fields(no_declaration) == [("declaration", "required")]
    refused = client.post(path, json={"declaration": "yes"}, headers=owner)
    assert refused_fields(refused) == [("declaration", "invalid_type")]
    problem_of(
        client.post(path, json={"declaration": True}, headers=world.headers["wang"]),
        403,
        "forbidden",
    )
    assert client.post(path, json={"declaration": True}, headers=owner).status_code == 200
    again = client.post(path, json={"declaration": True}, headers=owner)
    problem_of(again, 409, "invalid_transition")
    # An enterprise whose figures fail: 422 not_eligible listing the checks.
    weak = make.enterprise(founded_on=world.a.founded_on)
    make.report(weak, 2025, employees=10, tech_staff=0)
    user = make.user("weak@c.example", enterprise=weak)
    session.commit()
    headers = bearer(session, user, "registry:read,workflow:apply")
    created = client.post(
        f"{API}/applications", json={"tier": "tech_sme", "kind": "promotion"}, headers=headers
    )
    refused = client.post(
        f"{API}/applications/{created.json['id']}/submit",
        json={"declaration": True},
        headers=headers,
    )
    body = problem_of(refused, 422, "not_eligible")
    assert body["errors"] and all(e["code"] == "not_eligible" for e in body["errors"])
    assert {e["field"] for e in body["errors"]} == {"revenue_max", "total_assets_max"}


def test_withdraw_and_claim_accept_an_empty_body(client, session, world):
    first = world.submitted()
    claimed = client.post(
        f"{API}/applications/{first.id}/claim", data=b"", headers=world.headers["wang"]
    )
    assert (claimed.status_code, claimed.json["state"]) == (200, "in_review")
    retaken = client.post(
        f"{API}/applications/{first.id}/claim",
        data=b"",
        content_type="application/json",
        headers=world.headers["li"],
    )
    assert retaken.json["claimed_by"]["id"] == world.li.id
    withdrawn = client.post(
        f"{API}/applications/{first.id}/withdraw", json={}, headers=world.headers["owner"]
    )
    assert (withdrawn.status_code, withdrawn.json["state"]) == (200, "withdrawn")
    problem_of(
        client.post(f"{API}/applications/{first.id}/withdraw", headers=world.headers["owner"]),
        409,
        "invalid_transition",
    )
    not_json = client.post(
        f"{API}/applications/{first.id}/withdraw",
        data="withdraw please",
        content_type="text/plain",
        headers=world.headers["owner"],
    )
    problem_of(not_json, 415, "unsupported_media_type")
    extra = client.post(
        f"{API}/applications/{first.id}/withdraw",
        json={"reason": "x"},
        headers=world.headers["owner"],
    )
    assert refused_fields(extra) == [("reason", "unknown_field")]
    problem_of(
        client.post(f"{API}/applications/{first.id}/claim", headers=world.headers["owner"]),
        403,
        "forbidden",
    )


# --- attachments ----------------------------------------------------------------------------


def test_attachments_list_download_and_delete(client, session, world):
    application = world.draft()
    owner = world.headers["owner"]
    first = upload(client, application.id, owner).json
    second = upload(client, application.id, owner, PNG, "scan.png").json
    listed = client.get(f"{API}/applications/{application.id}/attachments", headers=owner)
    assert listed.status_code == 200
    assert [(a["id"], a["content_type"]) for a in listed.json["data"]] == [
        (first["id"], "application/pdf"),
        (second["id"], "image/png"),
    ]
    assert set(listed.json["data"][0]) == {
        "id",
        "application_id",
        "label",
        "content_type",
        "size",
        "sha256",
        "created_at",
    }
    download = client.get(f"{API}/attachments/{second['id']}", headers=owner)
    assert download.status_code == 200
    assert download.mimetype == "image/png"
    assert (
        download.headers["Content-Disposition"]
        == f'attachment; filename="attachment-{second["id"]}.png"'
    )
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    deleted = client.delete(f"{API}/attachments/{first['id']}", headers=owner)
    assert (deleted.status_code, deleted.data) == (204, b"")
    problem_of(client.get(f"{API}/attachments/{first['id']}", headers=owner), 404, "not_found")
    # A reviewer reads the files but is not the applicant side.
    problem_of(
        client.delete(f"{API}/attachments/{second['id']}", headers=world.headers["wang"]),
        403,
        "forbidden",
    )


@pytest.mark.parametrize(
    ("content", "name", "code", "english", "chinese"),
    [
        (
            b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>",
            "scan.png",
            "invalid_format",
            "The file holds an HTML page or a script: it is not accepted.",
            "文件中含有 HTML 网页或脚本，不予接受。",
        ),
        (
            b"%PDF-1.4\n<html><script>alert(1)</script></html>",
            "report.pdf",
            "invalid_format",
            "The file holds an HTML page or a script: it is not accepted.",
            "文件中含有 HTML 网页或脚本，不予接受。",
        ),
        (
            b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n",
            "report.pdf",
            "invalid_format",
            "The PDF cannot be read: its cross-reference table or trailer is missing or damaged.",
            "PDF 无法读取：其交叉引用表或文件尾缺失或损坏。",
        ),
        (
            PNG[:-20],
            "scan.png",
            "invalid_format",
            "The PNG image cannot be read to its end: the file is damaged or incomplete.",
            "PNG 图片无法完整读取：文件已损坏或不完整。",
        ),
    ],
)
def test_a_file_that_does_not_read_as_its_type_is_422_in_the_callers_language(
    client, session, world, content, name, code, english, chinese
):
    application = world.draft()
    said = {}
    for lang in ("en", "zh"):
        headers = {**world.headers["owner"], "Accept-Language": lang}
        answer = upload(client, application.id, headers, content, name)
        assert refused_fields(answer) == [("file", code)]
        said[lang] = answer.json["errors"][0]["message"]
    assert said == {"en": english, "zh": chinese}
    assert session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_reviewers_read_applications_and_files_with_either_right(client, session, world):
    """API.md: reviewers read applications (the list, one, its files) with
    ``workflow:review`` or ``registry:read`` — either is enough; an enterprise's
    ``registry:read`` alone opens its applications but not their files."""
    application = world.draft()
    file_id = upload(client, application.id, world.headers["owner"]).json["id"]
    apps.submit(session, application, user=world.owner, via="web", declaration=True)
    session.commit()
    paths = (
        f"{API}/applications",
        f"{API}/applications/{application.id}",
        f"{API}/applications/{application.id}/attachments",
        f"{API}/attachments/{file_id}",
    )
    for scopes in ("workflow:review", "registry:read"):
        headers = bearer(session, world.wang, scopes)
        for path in paths:
            assert client.get(path, headers=headers).status_code == 200, (scopes, path)
        one = client.get(paths[1], headers=headers).json
        assert one["id"] == application.id and one["state"] == "submitted"
    reader = bearer(session, world.owner, "registry:read")
    for path in paths[:2]:
        assert client.get(path, headers=reader).status_code == 200, path
    for path in paths[2:]:
        problem_of(client.get(path, headers=reader), 403, "forbidden")
    # A reviewer's workflow:apply gives nothing to read with.
    problem_of(
        client.get(paths[1], headers=bearer(session, world.wang, "workflow:apply")),
        403,
        "forbidden",
    )


def test_upload_refusals(client, session, world, app):
    application = world.draft()
    owner = world.headers["owner"]
    html = upload(client, application.id, owner, b"<html><script>alert(1)</script>", "report.pdf")
    assert refused_fields(html) == [("file", "unsupported_type")]
    empty = upload(client, application.id, owner, b"", "empty.pdf")
    assert refused_fields(empty) == [("file", "empty")]
    missing = client.post(
        f"{API}/applications/{application.id}/attachments",
        headers=owner,
        data={"note": "no file"},
        content_type="multipart/form-data",
    )
    assert refused_fields(missing) == [("file", "required")]
    misnamed = upload(client, application.id, owner, field="document")
    assert refused_fields(misnamed) == [("document", "unknown_field"), ("file", "required")]
    as_json = client.post(
        f"{API}/applications/{application.id}/attachments", json={"file": "x"}, headers=owner
    )
    problem_of(as_json, 415, "unsupported_media_type")
    large = upload(client, application.id, owner, b"%PDF-" + b"0" * (10 * 1024 * 1024), "big.pdf")
    problem_of(large, 413, "payload_too_large")
    huge = upload(client, application.id, owner, b"%PDF-" + b"0" * (11 * 1024 * 1024), "huge.pdf")
    problem_of(huge, 413, "payload_too_large")
    assert session.scalar(select(func.count()).select_from(Attachment)) == 0
    apps_submitted = client.post(
        f"{API}/applications/{application.id}/submit", json={"declaration": True}, headers=owner
    )
    assert apps_submitted.status_code == 200
    problem_of(upload(client, application.id, owner), 409, "invalid_transition")
