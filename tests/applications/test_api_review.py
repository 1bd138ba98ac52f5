"""The reviewers' side of the REST API and the public notice: queue counts, claims and
decisions with every refusal, the notice list and objections (rate limited), the
reviewers' objections and account claims (API.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from registry.accounts import operations as accounts
from registry.accounts.models import AccountClaim, ClaimState, User
from registry.applications import decisions
from registry.applications import operations as apps
from registry.applications.api_schemas import NoticeItemOut
from registry.applications.models import Application, Decision, Objection, State
from registry.core import clock
from registry.ladder.models import CalendarYear, Tier
from tests.fixtures.api import (
    API,
    NOW,
    TSME_CHECKS,
    bearer,
    field_codes,
    problem_of,
    refused_fields,
)

pytestmark = pytest.mark.usefixtures("pinned_clock")


@pytest.fixture
def client(api_client):
    return api_client


@pytest.fixture
def world(api_world):
    return api_world


OBJECTION = {"name": "张三", "contact": "zhang@example.org", "text": "The figures are wrong."}


def decide(client, application_id, headers, **body):
    return client.post(f"{API}/applications/{application_id}/decisions", json=body, headers=headers)


def state_of(session, application_id) -> State:
    session.expire_all()
    return session.get(Application, application_id).state


# --- counts ---------------------------------------------------------------------------------


def test_queue_counts_by_state_and_tier(client, session, world):
    world.submitted()
    world.draft(enterprise=world.b, user=world.other)
    response = client.get(f"{API}/applications/counts", headers=world.headers["wang"])
    assert response.status_code == 200
    rows = response.json["data"]
    assert len(rows) == 8 * 5  # every state × every tier
    counts = {(r["state"], r["tier"]): r["count"] for r in rows if r["count"]}
    assert counts == {("submitted", "tech_sme"): 1, ("draft", "tech_sme"): 1}
    assert (response.json["next_cursor"], response.json["has_more"]) == (None, False)
    mine = client.get(f"{API}/applications/counts?claimed_by=me", headers=world.headers["wang"])
    assert all(r["count"] == 0 for r in mine.json["data"])
    nobody = client.get(f"{API}/applications/counts?claimed_by=none", headers=world.headers["wang"])
    assert sum(r["count"] for r in nobody.json["data"]) == 2
    elsewhere = client.get(f"{API}/applications/counts?city=360700", headers=world.headers["wang"])
    assert sum(r["count"] for r in elsewhere.json["data"]) == 0
    unknown = client.get(f"{API}/applications/counts?city=999999", headers=world.headers["wang"])
    assert refused_fields(unknown) == [("city", "invalid_choice")]
    problem_of(
        client.get(f"{API}/applications/counts", headers=world.headers["owner"]), 403, "forbidden"
    )


# --- claims and decisions -------------------------------------------------------------------


def test_claim_refusals(client, session, world):
    draft = world.draft()
    wang = world.headers["wang"]
    problem_of(
        client.post(f"{API}/applications/{draft.id}/claim", headers=wang), 409, "invalid_transition"
    )
    problem_of(client.post(f"{API}/applications/999999/claim", headers=wang), 404, "not_found")
    read_only = bearer(session, world.li, "registry:read")
    problem_of(
        client.post(f"{API}/applications/{draft.id}/claim", headers=read_only), 403, "forbidden"
    )
    problem_of(client.post(f"{API}/applications/{draft.id}/claim"), 401, "unauthenticated")


def test_decision_refusals(client, session, world):
    application = world.in_review()
    application_id = application.id
    wang = world.headers["wang"]
    unconfirmed = decide(
        client, application_id, wang, decision="approve", manual_checks={"industry_allowed": True}
    )
    body = problem_of(unconfirmed, 422, "manual_checks_unconfirmed")
    assert field_codes(unconfirmed) == [("manual_checks.clean_record", "required")]
    # The detail names the check for a person; the field's code is for programs.
    assert body["detail"] == "Confirm the manual checks: Clean record this year and last."
    in_chinese = decide(
        client,
        application_id,
        {**wang, "Accept-Language": "zh"},
        decision="approve",
        manual_checks={"industry_allowed": True},
    )
    assert problem_of(in_chinese, 422, "manual_checks_unconfirmed")["detail"] == (
        "请确认人工核查项：本年及上年无不良记录。"
    )
    assert field_codes(in_chinese) == [("manual_checks.clean_record", "required")]
    unknown = decide(
        client,
        application_id,
        wang,
        decision="approve",
        manual_checks={**TSME_CHECKS, "tech_field": True},
    )
    assert refused_fields(unknown) == [("manual_checks.tech_field", "unknown_field")]
    not_boolean = decide(
        client, application_id, wang, decision="approve", manual_checks={"clean_record": "yes"}
    )
    assert refused_fields(not_boolean) == [("manual_checks.clean_record.value", "invalid_type")]
    no_comment = decide(client, application_id, wang, decision="reject")
    assert refused_fields(no_comment) == [("comment", "required")]
    blank = decide(client, application_id, wang, decision="request_changes", comment="   ")
    assert refused_fields(blank) == [("comment", "required")]
    wrong = decide(client, application_id, wang, decision="maybe")
    assert refused_fields(wrong) == [("decision", "invalid_choice")]
    score = decide(
        client,
        application_id,
        wang,
        decision="approve",
        manual_checks=TSME_CHECKS,
        innovation_score=101,
    )
    assert refused_fields(score) == [("innovation_score", "out_of_range")]
    problem_of(
        decide(client, application_id, world.headers["owner"], decision="approve"), 403, "forbidden"
    )
    assert state_of(session, application_id) == State.IN_REVIEW
    assert session.scalar(select(func.count()).select_from(Decision)) == 0
    # A reviewer linked to the enterprise decides nothing.
    session.get(User, world.li.id).enterprise_id = world.a.id
    session.commit()
    problem_of(
        decide(client, application_id, world.headers["li"], decision="reject", comment="no"),
        403,
        "conflict_of_interest",
    )
    # Changes requested, then a decision on it: 409.
    changes = decide(client, application_id, wang, decision="request_changes", comment="Add 2025.")
    assert (changes.status_code, changes.json["state"]) == (200, "changes_requested")
    assert changes.json["decisions"][0]["comment"] == "Add 2025."
    stale = decide(client, application_id, wang, decision="reject", comment="no")
    problem_of(stale, 409, "invalid_transition")


def test_four_eyes_on_a_nomination(client, session, world):
    wang = world.headers["wang"]
    created = client.post(
        f"{API}/applications",
        json={"enterprise_uscc": world.b.uscc, "tier": "tech_sme", "kind": "promotion"},
        headers=wang,
    )
    application_id = created.json["id"]
    submitted = client.post(f"{API}/applications/{application_id}/submit", headers=wang)
    assert (submitted.status_code, submitted.json["state"]) == (200, "submitted")
    assert submitted.json["eligibility"]["eligible"] is True
    assert (
        client.post(f"{API}/applications/{application_id}/claim", headers=wang).status_code == 200
    )
    own = decide(client, application_id, wang, decision="approve", manual_checks=TSME_CHECKS)
    assert (
        problem_of(own, 403, "four_eyes")["detail"] == "You created or submitted this application."
    )
    approved = decide(
        client, application_id, world.headers["li"], decision="approve", manual_checks=TSME_CHECKS
    )
    assert (approved.status_code, approved.json["state"]) == (200, "in_notice")
    # The enterprise reads its nomination with no reviewer named.
    seen = client.get(f"{API}/applications/{application_id}", headers=world.headers["other"]).json
    assert (seen["nominated_by"], seen["claimed_by"], seen["decisions"][0]["reviewer"]) == (
        None,
        None,
        None,
    )


def test_quota_full(client, session, world):
    application = world.in_review()
    session.get(Tier, "tech_sme").quota = 0
    session.commit()
    refused = decide(
        client, application.id, world.headers["li"], decision="approve", manual_checks=TSME_CHECKS
    )
    problem_of(refused, 409, "quota_full")
    assert state_of(session, application.id) == State.IN_REVIEW


def test_a_notice_the_calendar_does_not_cover_is_refused(client, session, world):
    application = world.in_review()
    session.delete(session.get(CalendarYear, clock.today().year))
    session.commit()
    refused = decide(
        client, application.id, world.headers["li"], decision="approve", manual_checks=TSME_CHECKS
    )
    problem_of(refused, 409, "calendar_not_covered")
    assert str(clock.today().year) in refused.get_json()["detail"]
    assert state_of(session, application.id) == State.IN_REVIEW


def test_final_approval_of_an_unverified_enterprise(client, session, world):
    application = world.in_review()
    world.a.verified = False
    session.commit()
    wang = world.headers["wang"]
    english = decide(client, application.id, wang, decision="approve", manual_checks=TSME_CHECKS)
    body = problem_of(english, 409, "enterprise_unverified")
    assert body["type"].endswith("/enterprise_unverified") and body["errors"] == []
    assert body["detail"] == (
        f"The enterprise {world.a.uscc} is not verified yet: "
        "a reviewer verifies it before the final approval."
    )
    chinese = decide(
        client,
        application.id,
        {**wang, "Accept-Language": "zh-CN"},
        decision="approve",
        manual_checks=TSME_CHECKS,
    )
    detail = problem_of(chinese, 409, "enterprise_unverified")["detail"]
    assert world.a.uscc in detail and "核实" in detail and "verif" not in detail
    assert state_of(session, application.id) == State.IN_REVIEW
    assert session.scalar(select(func.count()).select_from(Decision)) == 0


# --- notices and objections -----------------------------------------------------------------


def test_notices_page_by_cursor_and_show_held(client, session, make, world):
    first = world.in_notice()
    other = make.enterprise(founded_on=world.a.founded_on)
    make.eligible_report(other, 2025)
    with clock.pinned(NOW + timedelta(hours=1)):
        second = apps.create(session, other, "tech_sme", "promotion", user=world.wang, via="web")
        apps.submit(session, second, user=world.wang, via="web")
        apps.claim(session, second, user=world.li, via="web")
        decisions.decide(
            session, second, "approve", user=world.li, via="web", manual_checks=TSME_CHECKS
        )
    session.commit()
    ids = [first.id, second.id]
    assert client.get(f"{API}/notices").json["data"] == [
        NoticeItemOut().dump(
            {
                "application_id": app.id,
                "enterprise_uscc": app.enterprise.uscc,
                "name": app.enterprise.name,
                "city_code": app.enterprise.city_code,
                "industry_code": app.enterprise.industry_code,
                "tier": app.tier,
                "notice_started_at": app.notice_started_at,
                "notice_ends_at": app.notice_ends_at,
                "held": False,
            }
        )
        for app in (first, second)
    ]  # the hand serializer writes what the output schema dumps
    page = client.get(f"{API}/notices?limit=1")
    assert [n["application_id"] for n in page.json["data"]] == ids[:1]
    assert page.json["has_more"] is True and 'rel="next"' in page.headers["Link"]
    rest = client.get(
        f"{API}/notices", query_string={"limit": 1, "after": page.json["next_cursor"]}
    )
    assert [n["application_id"] for n in rest.json["data"]] == ids[1:]
    assert rest.json["next_cursor"] is None
    problem_of(client.get(f"{API}/notices?after=xyz"), 422, "invalid_cursor")
    filed = client.post(f"{API}/notices/{first.id}/objections", json=OBJECTION)
    assert filed.status_code == 201
    # Held only once the notice has ended with the objection still open.
    assert client.get(f"{API}/notices").json["data"][0]["held"] is False
    with clock.pinned(first.notice_ends_at + timedelta(seconds=1)):
        after_end = client.get(f"{API}/notices").json["data"]
        assert [(n["application_id"], n["held"]) for n in after_end] == [
            (first.id, True),
            (second.id, False),
        ]
        late = client.post(f"{API}/notices/{first.id}/objections", json=OBJECTION)
        problem_of(late, 409, "notice_closed")
        held = client.get(f"{API}/applications/{first.id}", headers=world.headers["owner"])
        assert held.json["held"] is True


def test_objection_refusals_and_the_rate_limit(client, session, world):
    application = world.in_notice()
    path = f"{API}/notices/{application.id}/objections"
    draft = world.draft(enterprise=world.b, user=world.other)
    problem_of(
        client.post(f"{API}/notices/{draft.id}/objections", json=OBJECTION), 404, "not_found"
    )
    problem_of(client.post(f"{API}/notices/999999/objections", json=OBJECTION), 404, "not_found")
    missing = client.post(path, json={"name": "张三"})
    assert refused_fields(missing) == [
        ("contact", "required"),
        ("text", "required"),
    ]
    long = client.post(path, json={**OBJECTION, "name": "x" * 101, "grounds": "y"})
    assert refused_fields(long) == [
        ("grounds", "unknown_field"),
        ("name", "too_long"),
    ]
    blank = client.post(path, json={**OBJECTION, "text": "  "})
    assert refused_fields(blank) == [("text", "required")]
    nul = client.post(path, json={**OBJECTION, "contact": "a\x00b"})
    assert refused_fields(nul) == [("contact", "invalid_format")]
    problem_of(
        client.post(path, data="name=x", content_type="text/plain"), 415, "unsupported_media_type"
    )
    problem_of(client.post(path, data="{", content_type="application/json"), 400, "malformed_json")
    for _ in range(5):
        assert client.post(path, json=OBJECTION).status_code == 201
    limited = client.post(path, json=OBJECTION)
    problem_of(limited, 429, "rate_limited")
    assert limited.headers["Retry-After"] == "3600"
    assert session.scalar(select(func.count()).select_from(Objection)) == 5
    # A token that is sent must be valid, even here.
    problem_of(
        client.post(path, json=OBJECTION, headers={"Authorization": "Bearer ecr_x"}),
        401,
        "unauthenticated",
    )


def test_reviewers_list_and_resolve_objections(client, session, world):
    application = world.in_notice()
    for text in ("First.", "Second."):
        client.post(f"{API}/notices/{application.id}/objections", json={**OBJECTION, "text": text})
    wang = world.headers["wang"]
    listed = client.get(f"{API}/objections?limit=1", headers=wang)
    assert listed.status_code == 200
    first = listed.json["data"][0]
    assert first == {
        "id": first["id"],
        "application_id": application.id,
        "state": "open",
        "text": "First.",
        "filed_at": "2026-03-04T03:00:00Z",
        "resolved_at": None,
        "resolved_by": None,
        "comment": None,
        "name": "张三",
        "contact": "zhang@example.org",
    }
    rest = client.get(
        f"{API}/objections", query_string={"after": listed.json["next_cursor"]}, headers=wang
    )
    second = rest.json["data"][0]
    assert second["text"] == "Second." and rest.json["has_more"] is False
    assert client.get(f"{API}/objections?application_id=999", headers=wang).json["data"] == []
    assert (
        len(client.get(f"{API}/objections?state=open&state=upheld", headers=wang).json["data"]) == 2
    )
    bad = client.get(f"{API}/objections?state=closed", headers=wang)
    assert refused_fields(bad) == [("state.0", "invalid_choice")]
    problem_of(client.get(f"{API}/objections", headers=world.headers["owner"]), 403, "forbidden")

    resolve = f"{API}/objections/{first['id']}/resolution"
    no_comment = client.post(resolve, json={"outcome": "upheld"}, headers=wang)
    assert refused_fields(no_comment) == [("comment", "required")]
    wrong = client.post(resolve, json={"outcome": "ignored", "comment": "x"}, headers=wang)
    assert refused_fields(wrong) == [("outcome", "invalid_choice")]
    problem_of(
        client.post(f"{API}/objections/999999/resolution", json={}, headers=wang), 404, "not_found"
    )
    problem_of(
        client.post(
            resolve, json={"outcome": "upheld", "comment": "x"}, headers=world.headers["owner"]
        ),
        403,
        "forbidden",
    )
    session.get(User, world.li.id).enterprise_id = world.a.id
    session.commit()
    linked = client.post(
        resolve, json={"outcome": "upheld", "comment": "x"}, headers=world.headers["li"]
    )
    problem_of(linked, 403, "conflict_of_interest")
    upheld = client.post(
        resolve, json={"outcome": "upheld", "comment": "Confirmed by audit."}, headers=wang
    )
    assert upheld.status_code == 200
    assert (upheld.json["state"], upheld.json["comment"]) == ("upheld", "Confirmed by audit.")
    assert upheld.json["resolved_at"] == "2026-03-04T03:00:00Z"
    assert state_of(session, application.id) == State.REJECTED
    again = client.post(resolve, json={"outcome": "dismissed", "comment": "x"}, headers=wang)
    problem_of(again, 409, "invalid_transition")
    # The other objection's application has left the notice: nothing to decide.
    other = client.post(
        f"{API}/objections/{second['id']}/resolution",
        json={"outcome": "dismissed", "comment": "x"},
        headers=wang,
    )
    problem_of(other, 409, "invalid_transition")


# --- account claims -------------------------------------------------------------------------


def test_account_claims_are_listed_and_decided(client, session, world):
    signups = [
        accounts.sign_up(
            session,
            email=f"claimant{n}@a.example",
            password="Gan-river-2026",
            uscc=world.a.uscc,
            enterprise_name="赣江甲",
        )
        for n in (1, 2)
    ]
    session.commit()
    claim_ids = [s.claim.id for s in signups]
    wang = world.headers["wang"]
    listed = client.get(f"{API}/account-claims?state=pending", headers=wang)
    assert listed.status_code == 200
    first = listed.json["data"][0]
    assert first == {
        "id": claim_ids[0],
        "state": "pending",
        "enterprise_uscc": world.a.uscc,
        "enterprise_name": "赣江甲科技有限公司",
        "stated_name": "赣江甲",
        "user": {"id": first["user"]["id"], "name": "claimant1@a.example"},
        "email": "claimant1@a.example",
        "comment": None,
        "decided_by": None,
        "decided_at": None,
        "created_at": "2026-03-04T03:00:00Z",
    }
    assert [c["id"] for c in listed.json["data"]] == claim_ids
    problem_of(
        client.get(f"{API}/account-claims", headers=world.headers["owner"]), 403, "forbidden"
    )

    path = f"{API}/account-claims/{claim_ids[0]}/decision"
    refused = client.post(path, json={"decision": "refuse"}, headers=wang)
    assert refused_fields(refused) == [("comment", "required")]
    wrong = client.post(path, json={"decision": "maybe"}, headers=wang)
    assert refused_fields(wrong) == [("decision", "invalid_choice")]
    problem_of(
        client.post(f"{API}/account-claims/999999/decision", json={}, headers=wang),
        404,
        "not_found",
    )
    confirmed = client.post(path, json={"decision": "confirm"}, headers=wang)
    assert confirmed.status_code == 200
    assert confirmed.json["state"] == "confirmed"
    assert confirmed.json["decided_by"] == {"id": world.wang.id, "name": "Reviewer Wang"}
    problem_of(
        client.post(path, json={"decision": "refuse", "comment": "x"}, headers=wang),
        409,
        "invalid_transition",
    )
    second = client.post(
        f"{API}/account-claims/{claim_ids[1]}/decision",
        json={"decision": "refuse", "comment": "Not on the licence."},
        headers=wang,
    )
    assert (second.json["state"], second.json["comment"]) == ("refused", "Not on the licence.")
    session.expire_all()
    assert session.get(AccountClaim, claim_ids[1]).state == ClaimState.REFUSED
    assert session.get(User, signups[0].user.id).enterprise_id == world.a.id
    pending = client.get(f"{API}/account-claims?state=pending", headers=wang)
    assert pending.json["data"] == []
    # A reviewer linked to the enterprise decides no claim on it.
    third = accounts.sign_up(
        session,
        email="claimant3@a.example",
        password="Gan-river-2026",
        uscc=world.a.uscc,
        enterprise_name="赣江甲",
    )
    session.get(User, world.li.id).enterprise_id = world.a.id
    session.commit()
    linked = client.post(
        f"{API}/account-claims/{third.claim.id}/decision",
        json={"decision": "confirm"},
        headers=world.headers["li"],
    )
    problem_of(linked, 403, "conflict_of_interest")
