"""JSON request bodies (issue 14, finding 2): a lone surrogate or nesting deeper than
64 levels is 400 ``malformed_json`` wherever a body is read, never a 500; NUL is valid
JSON and refused with 422 in the text the registry stores, on both engines."""

from __future__ import annotations

import json
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from registry.applications import operations as apps
from registry.applications.models import Objection, State
from registry.core.errors import MalformedJson
from registry.core.jsonbody import MAX_DEPTH, nesting_depth, parse_json
from registry.enterprises.models import Enterprise
from tests.fixtures.api import API, bearer, problem_of, refused_fields

pytestmark = pytest.mark.usefixtures("pinned_clock")

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "40"))
SURROGATE = re.compile("[\ud800-\udfff]")
OBJECTION = {"name": "张三", "contact": "zhang@example.org", "text": "数据有误。"}
DEEPER = "The body nests arrays and objects more than 64 levels deep."
UNPAIRED = "A string in the body holds an unpaired surrogate (not Unicode text)."
ZH = {
    DEEPER: "请求内容中数组和对象的嵌套超过 64 层。",
    UNPAIRED: "请求内容中有字符串含未配对的代理码元（不是 Unicode 文本）。",
}


def nested(depth: int) -> str:
    """A JSON value ``depth`` levels deep (arrays in arrays)."""
    return "[" * depth + "]" * depth


# --- the reader ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "depth"),
    [
        (b"1", 0),
        (b"[]", 1),
        (b'{"a": [{"b": {}}]}', 4),
        (b'"[[[{{{"', 0),
        (b'["\\"[[", 1]', 1),  # an escaped quote does not end the string
        (b'["\\\\", [2]]', 2),  # an escaped backslash does not escape the quote
        (b'["\\\\\\"[", [[3]]]', 3),
        ('{"名称": ["括号[不算"]}'.encode(), 2),
        (b'[["]", "["], ["", ""]]', 2),
        (b"[" * 64 + b"]" * 64, 64),
        (b"[" * 65 + b"]" * 65, 65),  # any depth beyond the limit is one more
        (b"[[]" * 100_000 + b"]" * 100_000, 65),
        (b"[[[" * 1000, 65),  # never closed
        (b"]]" + b"[1]" * 1000, 0),  # no JSON, and nothing nested
        (b'[1, 2}, {"a": [3]', 2),
    ],
)
def test_the_depth_counts_brackets_outside_strings(raw, depth):
    assert nesting_depth(raw) == depth


def depth_of(document) -> int:
    if isinstance(document, list):
        return 1 + max(map(depth_of, document), default=0)
    if isinstance(document, dict):
        return 1 + max(map(depth_of, document.values()), default=0)
    return 0


#: Strings full of what could fool a scanner: brackets, quotes, backslashes.
tricky_text = st.text(alphabet=st.sampled_from('[]{}"\\u0 名'), max_size=8)
documents = st.recursive(
    st.none() | st.booleans() | st.integers() | tricky_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=20,
)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True)
@given(document=documents, ascii_only=st.booleans())
def test_the_depth_of_any_document_is_exact(document, ascii_only):
    raw = json.dumps(document, ensure_ascii=ascii_only).encode()
    assert nesting_depth(raw) == depth_of(document)
    assert nesting_depth(raw, limit=2) == min(depth_of(document), 3)


def test_nesting_up_to_the_limit_parses_and_beyond_is_malformed():
    assert parse_json(nested(MAX_DEPTH).encode()) is not None
    for depth in (MAX_DEPTH + 1, 100_000):
        with pytest.raises(MalformedJson) as refused:
            parse_json(nested(depth).encode())
        assert str(refused.value) == DEEPER


@pytest.mark.parametrize(
    "raw",
    [
        b'"\\ud800"',
        b'"\\uDFFF"',
        b'"a\\udc00\\ud800b"',  # a low one then a high one is no pair
        b'{"k": ["x", "\\ud83d"]}',
        b'{"\\udbff": 1}',  # in a member's name
    ],
)
def test_an_unpaired_surrogate_is_malformed(raw):
    with pytest.raises(MalformedJson) as refused:
        parse_json(raw)
    assert str(refused.value) == UNPAIRED


@pytest.mark.parametrize(
    ("raw", "document"),
    [
        (b'"\\ud83d\\ude00"', "😀"),  # a pair is one character
        (b'"\\\\ud800"', "\\ud800"),  # a backslash, then letters
        (b'"a\\u0000b"', "a\x00b"),  # valid JSON: the schemas refuse it in text
        ('"名称"'.encode(), "名称"),
    ],
)
def test_well_formed_strings_parse(raw, document):
    assert parse_json(raw) == document


@pytest.mark.parametrize(
    "raw",
    [
        b'"\xed\xa0\x80"',  # a surrogate encoded as UTF-8 is not UTF-8
        b'"\xff"',
        b"\xef\xbb\xbf{}",  # RFC 8259: no byte order mark
        b"{",
        b"",
        b"[1}",
        b"1" * 5000,  # more digits than Python reads into an integer
    ],
)
def test_bodies_that_are_not_json_are_malformed(raw):
    with pytest.raises(MalformedJson) as refused:
        parse_json(raw)
    assert str(refused.value) == "The body is not valid JSON."


# --- through the API -----------------------------------------------------------------------


@pytest.fixture
def client(api_client):
    return api_client


@pytest.fixture
def world(api_world, session):
    """The API world, with an application in notice (A's) and one under review (B's),
    and a reviewer's token that may write enterprises."""
    world = api_world
    world.notice = world.in_notice()
    world.review = world.draft(enterprise=world.b, user=world.other)
    apps.submit(session, world.review, user=world.other, via="web", declaration=True)
    apps.claim(session, world.review, user=world.wang, via="web")
    session.commit()
    world.headers["writer"] = bearer(session, world.wang, "registry:read,registry:write")
    return world


def send(client, world, route: str, body: str, lang: str = "en", token: bool = True):
    """``body`` (JSON text) to one of the routes that store free text."""
    headers = {"Content-Type": "application/json", "Accept-Language": lang}
    if route == "objection":
        return client.post(
            f"{API}/notices/{world.notice.id}/objections", data=body, headers=headers
        )
    if route == "enterprise":
        path = f"{API}/enterprises/{world.a.uscc}"
        etag = client.get(path, headers=world.headers["writer"]).headers["ETag"]
        if token:
            headers = {**world.headers["writer"], **headers}
        return client.patch(path, data=body, headers={**headers, "If-Match": etag})
    path = f"{API}/applications/{world.review.id}/decisions"
    return client.post(path, data=body, headers={**world.headers["wang"], **headers})


#: Each route's body, with ``%s`` where the odd value goes.
BODIES = {
    "objection": '{"name": "张三", "contact": "zhang@example.org", "text": %s}',
    "enterprise": '{"name": %s}',
    "decision": '{"decision": "request_changes", "comment": %s}',
}


def nothing_written(session, world) -> None:
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Objection)) == 0
    assert session.get(Enterprise, world.a.id).version == 1
    assert world.review.state == State.IN_REVIEW


@pytest.mark.parametrize("route", BODIES)
def test_a_lone_surrogate_is_400_malformed_json(client, session, world, route):
    for value in ('"\\ud800"', '"名称\\udfff"', '{"\\udc00": 1}'):
        for lang in ("en", "zh"):
            response = send(client, world, route, BODIES[route] % value, lang)
            body = problem_of(response, 400, "malformed_json")
            assert body["detail"] == (UNPAIRED if lang == "en" else ZH[UNPAIRED])
    nothing_written(session, world)


@pytest.mark.parametrize("route", BODIES)
def test_nesting_too_deep_is_400_malformed_json(client, session, world, route):
    for depth in (MAX_DEPTH + 1, 100_000):
        for lang in ("en", "zh"):
            # The member's value is one level below the body itself.
            response = send(client, world, route, BODIES[route] % nested(depth - 1), lang)
            body = problem_of(response, 400, "malformed_json")
            assert body["detail"] == (DEEPER if lang == "en" else ZH[DEEPER])
    nothing_written(session, world)


def test_a_number_too_long_to_read_is_400_malformed_json(client, session, world):
    for route, body in BODIES.items():
        response = send(client, world, route, body % ("1" * 5000))
        problem_of(response, 400, "malformed_json")
    nothing_written(session, world)


def test_nesting_at_the_limit_is_read_and_validated(client, session, world):
    for route, body in BODIES.items():
        response = send(client, world, route, body % nested(MAX_DEPTH - 1))
        problem_of(response, 422, "validation_failed")  # a list is no text
    nothing_written(session, world)


@pytest.mark.parametrize("value", ['"\\ud800"', nested(100_000)])
def test_without_a_token_it_is_401_first(client, session, world, value):
    """API.md's order: 401 before any look at the body; the public objection route has
    no token to check, so its body is refused as malformed."""
    response = send(client, world, "enterprise", BODIES["enterprise"] % value, token=False)
    problem_of(response, 401, "unauthenticated")
    objection = send(client, world, "objection", BODIES["objection"] % value)
    problem_of(objection, 400, "malformed_json")
    nothing_written(session, world)


def test_with_an_idempotency_key_the_refusal_is_stored_and_replayed(client, session, world):
    path = f"{API}/notices/{world.notice.id}/objections"
    body = BODIES["objection"] % '"\\ud800"'
    headers = {"Content-Type": "application/json", "Idempotency-Key": "odd-1"}
    first = client.post(path, data=body, headers=headers)
    problem_of(first, 400, "malformed_json")
    again = client.post(path, data=body, headers=headers)
    problem_of(again, 400, "malformed_json")
    assert again.headers["Idempotent-Replayed"] == "true"
    nothing_written(session, world)


@pytest.mark.parametrize(
    ("route", "field"), [("objection", "text"), ("enterprise", "name"), ("decision", "comment")]
)
def test_nul_in_stored_text_is_422(client, session, world, route, field):
    messages = {"en": "Must not contain the NUL character.", "zh": "不得包含 NUL 字符。"}
    for lang, message in messages.items():
        response = send(client, world, route, BODIES[route] % '"a\\u0000b"', lang)
        assert refused_fields(response) == [(field, "invalid_format")]
        assert response.json["errors"][0]["message"] == message
    nothing_written(session, world)


# --- any string, any route -----------------------------------------------------------------

#: Text with surrogates and NUL among any other characters (``json.dumps`` writes a
#: surrogate as an escape, as a client could; ``st.text`` alone leaves them out): lone
#: ones, and pairs that escape one character beyond the BMP.
odd_text = st.builds(
    lambda head, odd, tail: head + "".join(odd) + tail,
    st.text(max_size=6),
    st.lists(
        st.one_of(
            st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
            st.just("\x00"),
            st.just("\ud83d\ude00"),
        ),
        max_size=2,
    ),
    st.text(max_size=6),
)
#: Where a string goes: (route, the body around it).
TARGETS = {
    "objection name": ("objection", lambda s: {**OBJECTION, "name": s}),
    "objection text": ("objection", lambda s: {**OBJECTION, "text": s}),
    "enterprise name": ("enterprise", lambda s: {"name": s}),
    "enterprise city": ("enterprise", lambda s: {"city_code": s}),
    "enterprise address": ("enterprise", lambda s: {"address": s}),
    "decision comment": ("decision", lambda s: {"decision": "request_changes", "comment": s}),
    "decision choice": ("decision", lambda s: {"decision": s}),
    "manual check": ("decision", lambda s: {"decision": "approve", "manual_checks": {s: True}}),
}


@pytest.fixture
def unlimited(app, monkeypatch):
    """No rate limit stops the examples: the API's, and the objections' per address."""
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", False)
    monkeypatch.setitem(app.config, "RATELIMIT_OBJECTION", "10000/hour")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(target=st.sampled_from(sorted(TARGETS)), text=odd_text)
def test_any_string_is_answered_without_a_server_error(client, unlimited, world, target, text):
    route, body = TARGETS[target]
    response = send(client, world, route, json.dumps(body(text)))
    assert response.status_code < 500, response.get_data(as_text=True)
    # What the registry reads: the escapes of a pair make one character.
    read = json.loads(json.dumps(text))
    if SURROGATE.search(read):
        problem_of(response, 400, "malformed_json")
    elif "\x00" in read:
        # Never stored: refused by the schema (422), or by the application's state
        # (409) before a manual check's name is looked at.
        assert response.status_code in (409, 422), response.get_data(as_text=True)
    else:
        assert response.status_code != 400, response.get_data(as_text=True)
