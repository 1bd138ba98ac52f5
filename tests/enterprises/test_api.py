"""Enterprises in the REST API: the list (filters, OR of repeated values, keyset pages),
one record with its ETag, PUT (create and full replacement) and PATCH under their
preconditions, concurrent updates; annual reports; eligibility, tier events, demotions
and revocations; object-level access (S1) and no mass assignment (S2)."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from registry.core import clock, preconditions
from registry.core.models import AuditEntry, ChangeLogEntry
from registry.core.pagination import encode_cursor
from registry.enterprises.checks import PHONE_PATTERN
from registry.enterprises.models import Enterprise, Status
from registry.enterprises.schemas import enterprise_out
from registry.ladder import operations as ladder_ops
from tests.factories import TEST_ACTOR, new_uscc
from tests.fixtures.api import API, NOW, bearer, field_codes, problem_of, refused_fields
from tests.fixtures.enterprises_api import PROFILE, feed_entries, reload, with_tag

pytestmark = pytest.mark.usefixtures("pinned_clock")


@pytest.fixture
def client(api_client):
    return api_client


# --- one enterprise ---------------------------------------------------------------------------


def test_one_enterprise_with_its_etag_as_the_feed_shows_it(client, session, world):
    response = client.get(f"{API}/enterprises/{world.a.uscc}", headers=world.headers["wang"])
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == enterprise_out.dump(reload(session, world.a))
    assert response.json["name"] == "赣江甲科技有限公司"
    assert response.json["status"] == "active" and response.json["origin"] == "local"


def test_the_path_code_is_normalised_and_an_invalid_one_is_404(client, world):
    code = world.a.uscc
    spaced = f"{code[:6]}-{code[6:12]} {code[12:]}".lower()
    response = client.get(f"{API}/enterprises/{spaced}", headers=world.headers["owner"])
    assert response.status_code == 200 and response.json["uscc"] == code
    problem_of(
        client.get(f"{API}/enterprises/NOT-A-CODE", headers=world.headers["wang"]), 404, "not_found"
    )
    wrong_check = code[:-1] + ("1" if code.endswith("0") else "0")
    problem_of(
        client.get(f"{API}/enterprises/{wrong_check}", headers=world.headers["wang"]),
        404,
        "not_found",
    )


def test_s1_another_enterprise_is_404_with_nothing_of_it(client, world):
    for path in (
        f"/enterprises/{world.b.uscc}",
        f"/enterprises/{world.b.uscc}/annual-reports",
        f"/enterprises/{world.b.uscc}/annual-reports/2024",
        f"/enterprises/{world.b.uscc}/eligibility?tier=tech_sme",
        f"/enterprises/{world.b.uscc}/tier-events",
    ):
        response = client.get(API + path, headers=world.headers["owner"])
        body = problem_of(response, 404, "not_found")
        text = response.get_data(as_text=True)
        assert world.b.uscc not in text and "乙" not in text, path
        assert body["errors"] == []
    unknown = client.get(f"{API}/enterprises/{new_uscc()}", headers=world.headers["owner"])
    assert problem_of(unknown, 404, "not_found")["detail"] == body["detail"]
    changed = client.put(
        f"{API}/enterprises/{world.b.uscc}",
        json=PROFILE,
        headers=with_tag(world.headers["owner"], **{"If-Match": '"1"'}),
    )
    assert world.b.uscc not in problem_of(changed, 404, "not_found")["detail"]
    patched = client.patch(
        f"{API}/enterprises/{world.b.uscc}",
        json={"name": "x"},
        headers=with_tag(world.headers["owner"], **{"If-Match": '"1"'}),
    )
    problem_of(patched, 404, "not_found")
    report = client.put(
        f"{API}/enterprises/{world.b.uscc}/annual-reports/2024",
        json={"employees": 1},
        headers=with_tag(world.headers["owner"], **{"If-None-Match": "*"}),
    )
    problem_of(report, 404, "not_found")


def test_without_a_token_401_comes_before_a_bad_body(client, world):
    response = client.put(
        f"{API}/enterprises/{world.a.uscc}", data=b"{not json", content_type="application/json"
    )
    problem_of(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    problem_of(client.get(f"{API}/enterprises"), 401, "unauthenticated")
    reading_only = bearer(world.session, world.wang, "registry:read")
    refused = client.put(f"{API}/enterprises/{world.a.uscc}", json=PROFILE, headers=reading_only)
    problem_of(refused, 403, "forbidden")


# --- PUT: create --------------------------------------------------------------------------------


def test_a_reviewer_creates_with_if_none_match_once(client, session, world):
    code = new_uscc("360400")
    headers = with_tag(world.headers["wang"], **{"If-None-Match": "*"})
    created = client.put(f"{API}/enterprises/{code}", json=PROFILE, headers=headers)
    assert created.status_code == 201, created.json
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"].endswith(f"{API}/enterprises/{code}")
    body = created.json
    assert {k: body[k] for k in PROFILE} == PROFILE
    assert (body["uscc"], body["version"], body["status"], body["tier"]) == (
        code,
        1,
        "active",
        None,
    )
    assert body["created_at"] == body["updated_at"] == "2026-03-04T03:00:00Z"
    stored = session.scalars(select(Enterprise).where(Enterprise.uscc == code)).one()
    assert body == enterprise_out.dump(stored)
    entries = session.scalars(select(ChangeLogEntry).where(ChangeLogEntry.key == code)).all()
    assert [(e.type, e.version) for e in entries] == [("enterprise", 1)]
    audit = session.scalars(select(AuditEntry).where(AuditEntry.object_id == code)).one()
    assert (audit.action, audit.actor_id, audit.via) == ("enterprise.create", world.wang.id, "api")

    again = client.put(f"{API}/enterprises/{code}", json=PROFILE, headers=headers)
    problem_of(again, 412, "precondition_failed")


def test_a_put_to_a_missing_record_without_if_none_match_is_428(client, session, world):
    code = new_uscc()
    response = client.put(f"{API}/enterprises/{code}", json=PROFILE, headers=world.headers["wang"])
    problem_of(response, 428, "precondition_required")
    stale = client.put(
        f"{API}/enterprises/{code}",
        json=PROFILE,
        headers=with_tag(world.headers["wang"], **{"If-Match": '"1"'}),
    )
    problem_of(stale, 412, "precondition_failed")
    assert session.scalar(select(Enterprise).where(Enterprise.uscc == code)) is None


def test_an_invalid_code_in_a_put_is_422_invalid_uscc(client, world):
    code = new_uscc()
    response = client.put(
        f"{API}/enterprises/{code[:-1]}{'1' if code[-1] != '1' else '2'}",
        json=PROFILE,
        headers=with_tag(world.headers["wang"], **{"If-None-Match": "*"}),
    )
    assert refused_fields(response, "invalid_uscc") == [("uscc", "invalid_uscc")]


@pytest.mark.parametrize(
    ("language", "words", "foreign"),
    [
        ("zh", "校验位（第18位）不符", r"[A-Za-z]{3,}\s+[A-Za-z]+"),
        ("en", "check character", r"[\u4e00-\u9fff]"),
    ],
)
def test_an_invalid_uscc_detail_is_in_one_language(client, world, language, words, foreign):
    code = new_uscc()
    response = client.put(
        f"{API}/enterprises/{code[:-1]}{'1' if code[-1] != '1' else '2'}",
        json=PROFILE,
        headers=with_tag(
            world.headers["wang"], **{"If-None-Match": "*", "Accept-Language": language}
        ),
    )
    detail = problem_of(response, 422, "invalid_uscc")["detail"]
    assert words in detail
    assert not re.search(foreign, detail), detail


def test_an_enterprise_user_never_creates_an_enterprise(client, world):
    for code in (new_uscc(), world.a.uscc):
        response = client.put(
            f"{API}/enterprises/{code}",
            json=PROFILE,
            headers=with_tag(world.headers["owner"], **{"If-None-Match": "*"}),
        )
        problem_of(response, 403, "forbidden")
    missing = client.put(
        f"{API}/enterprises/{new_uscc()}", json=PROFILE, headers=world.headers["owner"]
    )
    problem_of(missing, 404, "not_found")


def test_a_reviewer_creates_a_merged_record(client, world):
    code = new_uscc()
    response = client.put(
        f"{API}/enterprises/{code}",
        json={"name": "已合并企业", "status": "merged", "merged_into": world.a.uscc.lower()},
        headers=with_tag(world.headers["wang"], **{"If-None-Match": "*"}),
    )
    assert response.status_code == 201
    body = response.json
    assert (body["status"], body["merged_into"], body["version"]) == ("merged", world.a.uscc, 1)
    assert body["city_code"] == "360100"  # from the USCC, as every create does
    assert body["name_en"] is None and body["contact_email"] is None


# --- PUT: update --------------------------------------------------------------------------------


def test_an_update_needs_if_match(client, session, world):
    path = f"{API}/enterprises/{world.a.uscc}"
    problem_of(
        client.put(path, json=PROFILE, headers=world.headers["wang"]), 428, "precondition_required"
    )
    # An If-None-Match that does not match is no licence to update either.
    other_tag = with_tag(world.headers["wang"], **{"If-None-Match": '"7"'})
    problem_of(client.put(path, json=PROFILE, headers=other_tag), 428, "precondition_required")
    exists = with_tag(world.headers["wang"], **{"If-None-Match": "*"})
    problem_of(client.put(path, json=PROFILE, headers=exists), 412, "precondition_failed")
    assert reload(session, world.a).version == 1


def test_a_stale_if_match_is_412_and_changes_nothing(client, session, world):
    entries = feed_entries(session)
    path = f"{API}/enterprises/{world.a.uscc}"
    for tag in ('"2"', 'W/"1"'):
        response = client.put(
            path, json=PROFILE, headers=with_tag(world.headers["owner"], **{"If-Match": tag})
        )
        problem_of(response, 412, "precondition_failed")
    stored = reload(session, world.a)
    assert (stored.version, stored.name) == (1, "赣江甲科技有限公司")
    assert feed_entries(session) == entries


def test_a_full_replacement_by_the_enterprise_user(client, session, world):
    path = f"{API}/enterprises/{world.a.uscc}"
    response = client.put(
        path, json=PROFILE, headers=with_tag(world.headers["owner"], **{"If-Match": '"1"'})
    )
    assert response.status_code == 200, response.json
    assert response.headers["ETag"] == '"2"'
    assert {k: response.json[k] for k in PROFILE} == PROFILE
    assert response.json == enterprise_out.dump(reload(session, world.a))
    entry = session.scalars(select(ChangeLogEntry).order_by(ChangeLogEntry.id.desc())).first()
    assert (entry.key, entry.version) == (world.a.uscc, 2)
    # A PUT replaces everything: what it leaves out is cleared.
    short = client.put(
        path,
        json={"name": "赣江甲"},
        headers=with_tag(world.headers["owner"], **{"If-Match": '"2"'}),
    )
    assert short.status_code == 200 and short.headers["ETag"] == '"3"'
    assert short.json["name_en"] is None and short.json["founded_on"] is None
    assert short.json["status"] == "active"  # left out: as stored


def test_an_unchanged_put_changes_nothing(client, session, world):
    path = f"{API}/enterprises/{world.a.uscc}"
    first = client.put(
        path, json=PROFILE, headers=with_tag(world.headers["wang"], **{"If-Match": '"1"'})
    )
    assert first.headers["ETag"] == '"2"'
    entries, audits = (
        feed_entries(session),
        session.scalar(select(func.count()).select_from(AuditEntry)),
    )
    with clock.pinned(NOW + timedelta(hours=1)):
        same = client.put(
            path, json=PROFILE, headers=with_tag(world.headers["wang"], **{"If-Match": '"2"'})
        )
    assert same.status_code == 200
    assert same.headers["ETag"] == '"2"' and same.json == first.json
    assert feed_entries(session) == entries
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits
    assert reload(session, world.a).version == 2


def _put_in_thread(app, path, headers, name, barrier):
    # Each thread is its own client; the pinned clock is a context variable.
    with clock.pinned(NOW), app.test_client() as client:
        barrier.wait(timeout=30)
        return client.put(path, json={"name": name}, headers=headers).status_code


def _race(app, session, world) -> list[int]:
    """Two PUTs with ``If-Match: "1"`` at once, each from its own client."""
    path = f"{API}/enterprises/{world.a.uscc}"
    headers = with_tag(world.headers["wang"], **{"If-Match": '"1"'})
    session.rollback()  # the test holds no transaction (SQLite: no write lock)
    barrier = threading.Barrier(2)
    with ThreadPoolExecutor(2) as pool:
        return list(
            pool.map(lambda name: _put_in_thread(app, path, headers, name, barrier), ["甲", "乙"])
        )


def _assert_one_won(session, world, statuses: list[int]) -> None:
    assert sorted(statuses) == [200, 412]
    stored = reload(session, world.a)
    assert stored.version == 2
    assert stored.name == ("甲" if statuses[0] == 200 else "乙")
    versions = session.scalars(
        select(ChangeLogEntry.version).where(ChangeLogEntry.key == stored.uscc)
    ).all()
    assert versions == [2]


def test_two_concurrent_updates_with_the_same_version_one_wins(app, session, world):
    _assert_one_won(session, world, _race(app, session, world))


@pytest.mark.postgres(reason="SQLite writers are serial (BEGIN IMMEDIATE)")
def test_the_version_check_is_inside_the_update(app, session, world, monkeypatch):
    """Both requests read version 1 and pass the If-Match comparison before either
    writes: only the UPDATE … WHERE version = 1 tells them apart."""
    both_compared = threading.Barrier(2)
    compare = preconditions.check_write

    def compare_then_wait(version):
        creating = compare(version)
        both_compared.wait(timeout=30)
        return creating

    monkeypatch.setattr(preconditions, "check_write", compare_then_wait)
    _assert_one_won(session, world, _race(app, session, world))


def test_s2_an_enterprise_token_cannot_write_what_it_may_not(client, session, world):
    path = f"{API}/enterprises/{world.a.uscc}"
    headers = with_tag(world.headers["owner"], **{"If-Match": '"1"'})
    sent = {**PROFILE, "tier": "champion", "status": "deregistered", "version": 9, "origin": "peer"}
    response = client.put(path, json=sent, headers=headers)
    assert refused_fields(response) == [
        ("origin", "read_only"),
        ("status", "read_only"),
        ("tier", "read_only"),
        ("version", "read_only"),
    ]
    for member in ({"merged_into": world.b.uscc}, {"tier": None}, {"registration_number": "x"}):
        patched = client.patch(path, json=member, headers=headers)
        assert [code for _f, code in refused_fields(patched)] == ["read_only"]
    unknown = client.put(path, json={**PROFILE, "verified": True}, headers=headers)
    assert refused_fields(unknown) == [("verified", "unknown_field")]
    stored = reload(session, world.a)
    assert (stored.version, stored.tier, str(stored.status)) == (1, None, "active")


def test_read_only_members_are_refused_for_reviewers_too(client, world):
    path = f"{API}/enterprises/{world.a.uscc}"
    body = client.get(path, headers=world.headers["wang"]).json
    response = client.put(
        path, json=body, headers=with_tag(world.headers["wang"], **{"If-Match": '"1"'})
    )
    assert {code for _field, code in refused_fields(response)} == {"read_only"}
    assert {field for field, _code in field_codes(response)} == {
        "uscc", "uscc_warnings", "origin", "source_version", "tier", "tier_since",
        "tier_expires_at", "registration_number", "version", "created_at", "updated_at",
    }  # fmt: skip


def test_body_values_are_checked(client, world):
    path = f"{API}/enterprises/{world.a.uscc}"
    headers = with_tag(world.headers["wang"], **{"If-Match": '"1"'})
    sent = {
        **PROFILE,
        "city_code": "999999",
        "industry_code": "spaceships",
        "founded_on": "2027-01-01",
        "contact_email": "not an email",
        "county": "县" * 65,
    }
    assert refused_fields(client.put(path, json=sent, headers=headers)) == [
        ("contact_email", "invalid_type"),
        ("county", "too_long"),
    ]
    del sent["contact_email"], sent["county"]
    assert refused_fields(client.put(path, json=sent, headers=headers)) == [
        ("city_code", "invalid_choice"),
        ("founded_on", "out_of_range"),
        ("industry_code", "invalid_choice"),
    ]
    assert refused_fields(client.put(path, json={"name_en": "x"}, headers=headers)) == [
        ("name", "required")
    ]
    blank = client.put(path, json={"name": "  "}, headers=headers)
    assert refused_fields(blank) == [("name", "required")]
    merged = client.put(path, json={"name": "x", "status": "merged"}, headers=headers)
    assert refused_fields(merged) == [("merged_into", "required")]
    itself = client.put(
        path, json={"name": "x", "status": "merged", "merged_into": world.a.uscc}, headers=headers
    )
    assert refused_fields(itself) == [("merged_into", "inconsistent")]
    bad = client.put(
        path, json={"name": "x", "status": "merged", "merged_into": "91360100"}, headers=headers
    )
    assert refused_fields(bad) == [("merged_into", "invalid_uscc")]
    alone = client.put(path, json={"name": "x", "merged_into": world.b.uscc}, headers=headers)
    assert refused_fields(alone) == [("merged_into", "inconsistent")]


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("zh", "请输入电话号码：数字，其间可有 + - ( ) 或空格。"),
        ("en", "Enter a phone number: digits, with + - ( ) or spaces between them."),
    ],
)
def test_a_phone_is_checked_as_the_profile_form_checks_it(
    client, session, world, language, message
):
    """A phone of letters is refused by PUT and PATCH as by the web form (one rule,
    ``enterprises.checks``), with the form's words in the caller's language."""
    path = f"{API}/enterprises/{world.a.uscc}"
    headers = with_tag(world.headers["owner"], **{"If-Match": '"1"', "Accept-Language": language})
    for response in (
        client.patch(path, json={"contact_phone": "abcdefg"}, headers=headers),
        client.put(path, json={**PROFILE, "contact_phone": "abcdefg"}, headers=headers),
        client.put(path, json={**PROFILE, "contact_phone": "12-34"}, headers=headers),
    ):
        assert refused_fields(response) == [("contact_phone", "invalid_format")]
        assert [e["message"] for e in response.json["errors"]] == [message]
    assert reload(session, world.a).version == 1
    for phone, stored in (("+86 (791) 8888-8888", "+86 (791) 8888-8888"), ("  ", None)):
        response = client.patch(path, json={"contact_phone": phone}, headers=headers)
        assert response.status_code == 200, response.json
        assert reload(session, world.a).contact_phone == stored
        headers["If-Match"] = response.headers["ETag"]


def test_the_openapi_document_gives_the_phone_rule(client):
    schemas = client.get(f"{API}/openapi.json").json["components"]["schemas"]
    for name in ("EnterpriseIn", "EnterprisePatch"):
        phone = schemas[name]["properties"]["contact_phone"]
        assert phone["pattern"] == PHONE_PATTERN and phone["maxLength"] == 40
    assert re.fullmatch(PHONE_PATTERN, PROFILE["contact_phone"])


def test_the_order_of_the_checks(client, world):
    path = f"{API}/enterprises/{world.a.uscc}"
    owner = world.headers["owner"]
    text = client.put(path, data=b"name", content_type="text/plain", headers=owner)
    problem_of(text, 415, "unsupported_media_type")
    malformed = client.put(path, data=b'{"name": ', content_type="application/json", headers=owner)
    problem_of(malformed, 400, "malformed_json")  # before 428
    invalid = client.put(path, json={"name": 1}, headers=owner)
    problem_of(invalid, 428, "precondition_required")  # before 422
    stale = client.put(path, json={"name": 1}, headers=with_tag(owner, **{"If-Match": '"5"'}))
    problem_of(stale, 412, "precondition_failed")


def test_a_mirrored_record_is_read_only(client, session, make, world):
    mirrored = make.enterprise(origin="peer", source_version=4)
    session.commit()
    path = f"{API}/enterprises/{mirrored.uscc}"
    headers = with_tag(world.headers["wang"], **{"If-Match": '"1"'})
    problem_of(client.put(path, json=PROFILE, headers=headers), 409, "read_only_origin")
    problem_of(
        client.patch(path, json={"status": "deregistered"}, headers=headers),
        409,
        "read_only_origin",
    )
    report = client.put(
        f"{path}/annual-reports/2024",
        json={"employees": 5},
        headers=with_tag(world.headers["wang"], **{"If-None-Match": "*"}),
    )
    problem_of(report, 409, "read_only_origin")
    assert reload(session, mirrored).version == 1


# --- PATCH ----------------------------------------------------------------------------------------


def test_a_merge_patch_changes_what_it_names_and_null_clears(client, session, world):
    path = f"{API}/enterprises/{world.a.uscc}"
    response = client.patch(
        path,
        data='{"name_en": "Ganjiang A", "founded_on": null}',
        content_type="application/merge-patch+json",
        headers=with_tag(world.headers["owner"], **{"If-Match": '"1"'}),
    )
    assert response.status_code == 200, response.json
    assert response.headers["ETag"] == '"2"'
    body = response.json
    assert (body["name"], body["name_en"], body["founded_on"]) == (
        "赣江甲科技有限公司",
        "Ganjiang A",
        None,
    )
    assert body["city_code"] == "360100" and body["industry_code"] == "electronic_info"
    assert body == enterprise_out.dump(reload(session, world.a))
    name_null = client.patch(
        path, json={"name": None}, headers=with_tag(world.headers["owner"], **{"If-Match": '"2"'})
    )
    assert refused_fields(name_null) == [("name", "required")]


def test_a_patch_needs_if_match_and_a_record(client, world):
    path = f"{API}/enterprises/{world.a.uscc}"
    problem_of(
        client.patch(path, json={"name": "x"}, headers=world.headers["owner"]),
        428,
        "precondition_required",
    )
    stale = client.patch(
        path, json={"name": "x"}, headers=with_tag(world.headers["owner"], **{"If-Match": '"3"'})
    )
    problem_of(stale, 412, "precondition_failed")
    missing = client.patch(
        f"{API}/enterprises/{new_uscc()}",
        json={"name": "x"},
        headers=with_tag(world.headers["wang"], **{"If-None-Match": "*"}),
    )
    problem_of(missing, 404, "not_found")  # a PATCH never creates
    unchanged = client.patch(
        path, json={}, headers=with_tag(world.headers["owner"], **{"If-Match": '"1"'})
    )
    assert unchanged.status_code == 200 and unchanged.headers["ETag"] == '"1"'


def test_a_reviewer_deregisters_and_the_designation_ends(client, session, world):
    ladder_ops.grant_tier(session, world.a, "tech_sme", actor=TEST_ACTOR, reason="base")
    session.commit()
    path = f"{API}/enterprises/{world.a.uscc}"
    response = client.patch(
        path,
        json={"status": "deregistered"},
        headers=with_tag(world.headers["wang"], **{"If-Match": '"2"'}),
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["status"], body["tier"], body["version"]) == ("deregistered", None, 3)
    assert response.headers["ETag"] == '"3"'
    events = client.get(f"{path}/tier-events", headers=world.headers["wang"]).json["data"]
    assert [(e["kind"], e["reason"]) for e in events] == [
        ("grant", "base"),
        ("revoke", "status:deregistered"),
    ]
    back = client.patch(
        path,
        json={"status": "active"},
        headers=with_tag(world.headers["wang"], **{"If-Match": '"3"'}),
    )
    assert (back.json["status"], back.json["merged_into"]) == ("active", None)


# --- the list ---------------------------------------------------------------------------------


@pytest.fixture
def listed(session, make, world) -> dict[str, Enterprise]:
    """Besides A (360100, electronic_info) and B (360700, aviation): holders of two tiers,
    one without an industry, one deregistered."""
    found = {
        "sme": make.enterprise(name="科技甲", tier="tech_sme", city_code="360200"),
        "high": make.enterprise(name="高新乙", tier="high_tech", industry_code=None),
        "gone": make.enterprise(name="注销丙", status=Status.DEREGISTERED, city_code="360200"),
    }
    session.commit()
    return {"a": world.a, "b": world.b, **found}


def listed_usccs(client, query: str, headers) -> list[str]:
    response = client.get(f"{API}/enterprises?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return [item["uscc"] for item in response.json["data"]]


def test_the_list_is_in_uscc_order_with_every_status(client, session, world, listed):
    response = client.get(f"{API}/enterprises", headers=world.headers["wang"])
    assert response.status_code == 200
    body = response.json
    assert [e["uscc"] for e in body["data"]] == sorted(e.uscc for e in listed.values())
    assert (body["next_cursor"], body["has_more"]) == (None, False)
    assert "Link" not in response.headers
    first = next(e for e in body["data"] if e["uscc"] == world.a.uscc)
    assert first == enterprise_out.dump(reload(session, world.a))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tier=tech_sme", ["sme"]),
        ("tier=none", ["a", "b", "gone"]),
        ("tier=tech_sme&tier=high_tech", ["sme", "high"]),
        ("tier=none&tier=high_tech", ["a", "b", "gone", "high"]),
        ("city=360200", ["sme", "gone"]),
        ("city=360700&city=360200", ["b", "sme", "gone"]),
        ("industry=aviation", ["b"]),
        ("industry=none&industry=aviation", ["b", "high"]),
        ("status=deregistered", ["gone"]),
        ("status=active&status=merged", ["a", "b", "sme", "high"]),
        ("tier=none&city=360200", ["gone"]),
        ("city=360200&status=active", ["sme"]),
        ("q=赣州", ["b"]),
        ("q=科技", ["sme"]),
    ],
)
def test_filters_and_repeated_values(client, world, listed, query, expected):
    assert listed_usccs(client, query, world.headers["wang"]) == sorted(
        listed[name].uscc for name in expected
    )


def test_q_is_a_uscc_prefix_when_it_can_be_one(client, world, listed):
    code = world.a.uscc
    prefix = f" {code[:4]}-{code[4:10]} ".lower()
    found = listed_usccs(client, f"q={prefix}", world.headers["wang"])
    assert code in found
    assert all(uscc.startswith(code[:10]) for uscc in found)
    assert listed_usccs(client, f"q={code}", world.headers["wang"]) == [code]


def test_unknown_filter_values_are_422(client, world):
    response = client.get(
        f"{API}/enterprises?tier=gold&tier=tech_sme&city=999999&industry=spaceships",
        headers=world.headers["wang"],
    )
    assert refused_fields(response) == [
        ("city", "invalid_choice"),
        ("industry", "invalid_choice"),
        ("tier", "invalid_choice"),
    ]
    # A NUL in a code is unknown, never asked of the database (PostgreSQL refuses it).
    nul = client.get(f"{API}/enterprises?city=36%00&tier=%00", headers=world.headers["wang"])
    assert nul.status_code in (400, 422) and nul.is_json
    status = client.get(f"{API}/enterprises?status=zombie", headers=world.headers["wang"])
    assert refused_fields(status) == [("status.0", "invalid_choice")]
    limit = client.get(f"{API}/enterprises?limit=501", headers=world.headers["wang"])
    assert refused_fields(limit) == [("limit", "out_of_range")]
    naive = client.get(
        f"{API}/enterprises?updated_after=2026-03-01T00:00:00", headers=world.headers["wang"]
    )
    assert refused_fields(naive) == [("updated_after", "invalid_type")]


def test_an_enterprise_caller_lists_only_its_own(client, world, listed):
    owner = world.headers["owner"]
    assert listed_usccs(client, "", owner) == [world.a.uscc]
    assert listed_usccs(client, "city=360700", owner) == []
    assert listed_usccs(client, f"q={world.b.uscc}", owner) == []


def follow(client, url: str, headers) -> tuple[list[str], int]:
    """Every USCC over every page, following the Link headers; and the page count."""
    found, pages = [], 0
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.json
        body, pages = response.json, pages + 1
        found += [item["uscc"] for item in body["data"]]
        link = response.headers.get("Link")
        assert (link is not None) == body["has_more"] == (body["next_cursor"] is not None)
        url = link[1 : link.index(">")] if link else None
        if link:
            assert f"after={body['next_cursor']}" in link
    return found, pages


def test_pages_follow_the_link_header(client, session, make, world):
    for i in range(7):
        make.enterprise(name=f"分页{i}", tier="tech_sme" if i % 2 else None, city_code="360500")
    session.commit()
    everyone = session.scalars(
        select(Enterprise.uscc).where(Enterprise.city_code == "360500")
    ).all()
    found, pages = follow(client, f"{API}/enterprises?city=360500&limit=2", world.headers["wang"])
    assert (found, pages) == (sorted(everyone), 4)
    # Two values of the walked filter: one walk each, merged page by page.
    found, pages = follow(
        client,
        f"{API}/enterprises?tier=none&tier=tech_sme&city=360500&limit=3",
        world.headers["wang"],
    )
    assert (found, pages) == (sorted(everyone), 3)


def test_a_deep_cursor_starts_where_it_says(client, session, make, world):
    for i in range(30):
        make.enterprise(name=f"深页{i}", city_code="360600")
    session.commit()
    codes = sorted(session.scalars(select(Enterprise.uscc).where(Enterprise.city_code == "360600")))
    deep = encode_cursor(codes[24])
    response = client.get(
        f"{API}/enterprises?city=360600&limit=4&after={deep}", headers=world.headers["wang"]
    )
    body = response.json
    assert [e["uscc"] for e in body["data"]] == codes[25:29]
    assert body["has_more"] is True
    last = client.get(
        f"{API}/enterprises?city=360600&after={body['next_cursor']}", headers=world.headers["wang"]
    )
    assert [e["uscc"] for e in last.json["data"]] == codes[29:] and last.json["next_cursor"] is None
    for bad in ("garbage!", encode_cursor(1), encode_cursor("2026-03-04T03:00:00+00:00", codes[0])):
        refused = client.get(f"{API}/enterprises?after={bad}", headers=world.headers["wang"])
        assert refused_fields(refused, "invalid_cursor") == [("after", "invalid_cursor")]


def test_updated_after_orders_by_update_time(client, session, make, world):
    at = [NOW + timedelta(minutes=m) for m in (1, 2, 2, 3)]
    late = []
    for moment in at:
        with clock.pinned(moment):
            late.append(
                make.enterprise(name=f"更新{moment:%M}", created_at=moment, updated_at=moment)
            )
    session.commit()
    expected = [e.uscc for e in sorted(late, key=lambda e: (e.updated_at, e.uscc))]
    found, pages = follow(
        client,
        f"{API}/enterprises?updated_after=2026-03-04T03:00:00Z&limit=1",
        world.headers["wang"],
    )
    assert (found, pages) == (expected, 4)
    exclusive = listed_usccs(client, "updated_after=2026-03-04T03:02:00Z", world.headers["wang"])
    assert exclusive == [late[3].uscc]
    before = encode_cursor("2026-03-04T03:01:00+00:00", "0" * 18)  # before updated_after
    query = f"updated_after=2026-03-04T03:02:00Z&after={before}"
    assert listed_usccs(client, query, world.headers["wang"]) == [late[3].uscc]
    only_sme = listed_usccs(
        client, "updated_after=2026-03-04T03:00:00Z&tier=tech_sme", world.headers["wang"]
    )
    assert only_sme == []
    uscc_cursor = encode_cursor(world.a.uscc)
    refused = client.get(
        f"{API}/enterprises?updated_after=2026-03-04T03:00:00Z&after={uscc_cursor}",
        headers=world.headers["wang"],
    )
    assert refused_fields(refused, "invalid_cursor") == [("after", "invalid_cursor")]


def test_the_token_cache_lends_its_user_to_no_session(client, session, world):
    """A cached token's user is shared by the worker's requests: writes record the
    user merged into their own session, and the cached copy stays detached."""
    from sqlalchemy import inspect

    from registry.accounts import token_cache

    for region in ("360400", "360500"):  # the second request finds the token cached
        code = new_uscc(region)
        headers = with_tag(world.headers["wang"], **{"If-None-Match": "*"})
        created = client.put(f"{API}/enterprises/{code}", json=PROFILE, headers=headers)
        assert created.status_code == 201, created.json
        audit = session.scalars(select(AuditEntry).where(AuditEntry.object_id == code)).one()
        assert (audit.actor_id, audit.actor_name) == (world.wang.id, world.wang.display_name)
    cached = [known.user for known in token_cache._known.values()]
    assert world.wang.id in {user.id for user in cached}
    assert all(inspect(user).detached for user in cached)
