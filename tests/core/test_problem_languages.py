"""API problems speak one language (issue 12, QUALITY.md U1): ``title``, ``detail`` and every
``errors[].message`` follow ``Accept-Language`` — a problem in Chinese has no English
sentence in it, one in English no Chinese — for the refusals of each domain: an invalid
USCC, marshmallow's own validation messages, filters and cursors, a request for changes
without a comment, an objection without its fields, ``four_eyes`` and ``quota_full``.
Codes and the values that were sent stay as they are.
"""

from __future__ import annotations

import re

import pytest

from registry.ladder.models import Tier
from tests.fixtures.api import API, TSME_CHECKS, bearer

pytestmark = pytest.mark.usefixtures("pinned_clock")

#: Three English words in a row (codes and values sent are single words or lists).
ENGLISH = re.compile(r"[A-Za-z]+(?: [A-Za-z]+){2,}")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def client(api_client):
    return api_client


def problems(client, session, world, lang: str) -> dict[str, dict]:
    """One problem answer of each kind, asked in ``lang``."""

    def headers(who: str) -> dict[str, str]:
        return {**world.headers[who], "Accept-Language": lang}

    def decide(application_id: int, who: str, **body) -> dict:
        url = f"{API}/applications/{application_id}/decisions"
        return client.post(url, json=body, headers=headers(who)).json

    found = {
        "invalid_uscc": client.get(
            f"{API}/applications?enterprise_uscc=9136010055", headers=headers("wang")
        ).json,
        "marshmallow": client.post(
            f"{API}/applications",
            json={"tier": 5, "kind": None, "colour": "red"},
            headers=headers("owner"),
        ).json,
        "limit": client.get(f"{API}/enterprises?limit=0", headers=headers("owner")).json,
        "unknown_city": client.get(
            f"{API}/tiers/tech_sme/enterprises?city=999999", headers={"Accept-Language": lang}
        ).json,
        "not_found": client.get(
            f"{API}/enterprises/91360100MA35K8T29N", headers=headers("owner")
        ).json,
    }
    feed = {**bearer(session, world.wang, "changes:read"), "Accept-Language": lang}
    found["feed_types"] = client.get(f"{API}/changes?types=bogus", headers=feed).json

    in_review = world.in_review()
    found["comment"] = decide(in_review.id, "wang", decision="request_changes")
    session.get(Tier, "tech_sme").quota = 0
    session.commit()
    found["quota_full"] = decide(in_review.id, "li", decision="approve", manual_checks=TSME_CHECKS)
    session.get(Tier, "tech_sme").quota = 100
    session.commit()

    nomination = client.post(
        f"{API}/applications",
        json={"enterprise_uscc": world.b.uscc, "tier": "tech_sme", "kind": "promotion"},
        headers=headers("wang"),
    ).json["id"]
    client.post(f"{API}/applications/{nomination}/submit", headers=headers("wang"))
    client.post(f"{API}/applications/{nomination}/claim", headers=headers("wang"))
    found["four_eyes"] = decide(nomination, "wang", decision="approve", manual_checks=TSME_CHECKS)
    return found


EXPECTED = {
    "invalid_uscc": ("validation_failed", ["enterprise_uscc"]),
    "marshmallow": ("validation_failed", ["colour", "kind", "tier"]),
    "limit": ("validation_failed", ["limit"]),
    "unknown_city": ("validation_failed", ["city"]),
    "not_found": ("not_found", []),
    "feed_types": ("validation_failed", ["types"]),
    "comment": ("validation_failed", ["comment"]),
    "quota_full": ("quota_full", []),
    "four_eyes": ("four_eyes", []),
}


@pytest.mark.parametrize(("lang", "foreign"), [("zh", ENGLISH), ("en", CHINESE)])
def test_every_problem_is_in_the_language_asked_for(client, session, api_world, lang, foreign):
    answers = problems(client, session, api_world, lang)
    assert set(answers) == set(EXPECTED)
    for kind, body in answers.items():
        code, fields = EXPECTED[kind]
        assert body["code"] == code, (kind, body)
        assert sorted(e["field"] for e in body["errors"]) == fields, (kind, body)
        texts = [body["title"], body["detail"], *(e["message"] for e in body["errors"])]
        for text in texts:
            assert not foreign.search(text), (kind, text)
        if lang == "zh":
            assert all(CHINESE.search(text) for text in texts), (kind, texts)


def test_marshmallows_messages_in_both_languages(client, api_world):
    body = {"tier": 5, "kind": None, "colour": "red"}
    said = {}
    for lang in ("zh", "en"):
        headers = {**api_world.headers["owner"], "Accept-Language": lang}
        answer = client.post(f"{API}/applications", json=body, headers=headers).json
        said[lang] = {e["field"]: (e["code"], e["message"]) for e in answer["errors"]}
    assert said["en"] == {
        "colour": ("unknown_field", "Unknown field."),
        "kind": ("required", "This field is required."),
        "tier": ("invalid_type", "Must be text."),
    }
    assert said["zh"] == {
        "colour": ("unknown_field", "未知字段。"),
        "kind": ("required", "此项为必填项。"),
        "tier": ("invalid_type", "须为文本。"),
    }


def test_a_refusals_field_message_follows_the_language(client, api_world):
    """A USCC's fault, given as the field's message, is said in the language asked for."""
    said = {}
    for lang in ("zh", "en"):
        headers = {**api_world.headers["wang"], "Accept-Language": lang}
        answer = client.get(f"{API}/applications?enterprise_uscc=9136010055", headers=headers)
        [error] = answer.json["errors"]
        said[lang] = error["message"]
    assert said == {
        "zh": "统一社会信用代码无效：统一社会信用代码应为18位，当前为10位。",
        "en": "Invalid USCC: A Unified Social Credit Code has 18 characters; this one has 10.",
    }
