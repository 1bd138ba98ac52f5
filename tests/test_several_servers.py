"""QUALITY.md R11 (PRODUCT.md §9 "Several app servers"): two app servers, each its own
gunicorn master with ``deploy/gunicorn.conf.py``, against one PostgreSQL, and nginx
(Debian's package) in front with ``deploy/nginx/registry-proxy.conf``. Through nginx,
and where it matters on each server directly, they behave as one registry: sessions,
login throttling, rate limits, the objection limit, idempotency keys, the quota (R1),
the feed's order (R3), and ``tick`` run on both at once.

The servers share one secret key and count rate limits in PostgreSQL
(``RATELIMIT_STORAGE_URI=postgresql://…``), as ``deploy/registry.env`` sets them.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select, text

from registry.accounts.models import Role
from registry.applications.models import Application, State
from registry.core import clock
from registry.core.models import AuditEntry
from registry.core.pagination import decode_cursor
from registry.ladder.models import TierEvent
from tests.applications.test_api_quota_race import Contest, check_round, race
from tests.factories import PASSWORD
from tests.fixtures.api import API, World, bearer
from tests.live import LiveServer, flask_command, gunicorn, nginx
from tests.sync.feed_world import enterprise, sync_headers

# In `make test-long` only (the budget: two servers, nginx and their workers
# cost `make test` about fifteen seconds of CPU it does not have).
pytestmark = [
    pytest.mark.postgres(reason="several servers share one PostgreSQL"),
    pytest.mark.slow,
    pytest.mark.timeout(300),
]

#: The API's limit per token on these servers: small, so that a test reaches it.
TOKEN_LIMIT = 30


@dataclass
class Cluster:
    url: str  # nginx
    servers: list[LiveServer]

    def upstreams(self, responses: list[requests.Response]) -> set[str]:
        """The servers nginx sent these requests to."""
        return {r.headers["X-Upstream"] for r in responses}


@pytest.fixture(scope="module")
def cluster(_migrated_app, database_url, tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster")
    environ = {
        "SECRET_KEY": "one-registry-" + secrets.token_hex(16),
        "SYNC_SECRET_KEY": "one-registry-sync-" + secrets.token_hex(16),
        "RATELIMIT_STORAGE_URI": database_url,
        "RATELIMIT_TOKEN": f"{TOKEN_LIMIT}/minute",
        "TRUSTED_PROXIES": "1",
    }

    def server(name: str):
        return gunicorn(
            database_url, root / name, workers=2, threads=4, environ=environ, deployed=True
        )

    with server("a") as a, server("b") as b, nginx([a, b], root) as url:
        yield Cluster(url, [a, b])


@pytest.fixture(autouse=True)
def fresh_rate_limits(app, session):
    """The servers' counters (kept in the database, not in the registry's tables that
    each test's reset empties) start from zero: a user's id recurs from test to test."""
    if session.scalar(text("SELECT to_regclass('rate_limit_counters')")):  # made at first use
        session.execute(text("DELETE FROM rate_limit_counters"))
        session.commit()


def login(cluster: Cluster, http: requests.Session, email: str, password: str, base: str = ""):
    base = base or cluster.url
    token = _csrf(http, base, "/login")
    return http.post(
        base + "/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )


def _csrf(http: requests.Session, base: str, path: str) -> str:
    page = http.get(base + path, timeout=30)
    page.raise_for_status()
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text) or (
        re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    )
    assert match, "no CSRF token on " + path
    return match.group(1)


# --- sessions -------------------------------------------------------------------------------


def test_a_session_holds_on_every_server_and_one_logout_ends_it(cluster, session, make):
    make.user("wu@review.example", Role.REVIEWER, password=PASSWORD, name="Reviewer Wu")
    session.commit()
    http = requests.Session()
    assert login(cluster, http, "wu@review.example", PASSWORD).status_code == 303
    pages = [http.get(cluster.url + "/review", timeout=30, allow_redirects=False) for _ in range(4)]
    assert [p.status_code for p in pages] == [200] * 4
    assert len(cluster.upstreams(pages)) == 2
    for server in cluster.servers:
        assert (
            http.get(server.url + "/review", timeout=30, allow_redirects=False).status_code == 200
        )
    first, second = cluster.servers
    token = _csrf(http, first.url, "/review")
    # The cookie as it is before the logout, kept to be sent again after it.
    kept = requests.Session()
    kept.cookies.update({c.name: c.value for c in http.cookies})
    out = http.post(
        first.url + "/logout", data={"csrf_token": token}, allow_redirects=False, timeout=30
    )
    assert out.status_code == 303
    for base in (second.url, cluster.url, cluster.url):
        after = kept.get(base + "/review", timeout=30, allow_redirects=False)
        assert after.status_code in (302, 303) and "/login" in after.headers["Location"]


def test_login_throttling_counts_across_servers(cluster, session, make):
    make.user("lu@review.example", Role.REVIEWER, password=PASSWORD, name="Reviewer Lu")
    session.commit()
    wrong = []
    for attempt in range(5):
        if attempt % 2:  # a GET and a POST an attempt: one request more, the other server
            requests.get(cluster.url + "/healthz", timeout=30)
        wrong.append(login(cluster, requests.Session(), "lu@review.example", "not-the-password"))
    assert [r.status_code for r in wrong] == [422] * 5
    assert len(cluster.upstreams(wrong)) == 2
    for server in cluster.servers:
        right = login(cluster, requests.Session(), "lu@review.example", PASSWORD, server.url)
        assert right.status_code == 429
        assert int(right.headers["Retry-After"]) > 0


# --- limits and keys ------------------------------------------------------------------------


@pytest.fixture
def world(app, session, make):
    with clock.pinned(datetime.now(UTC)):  # the servers run on the real clock
        return World(session, make)


def test_the_api_rate_limit_counts_across_servers(cluster, world):
    answers = [
        requests.get(f"{cluster.url}{API}/tiers", headers=world.headers["wang"], timeout=30)
        for _ in range(TOKEN_LIMIT + 6)
    ]
    assert Counter(r.status_code for r in answers) == {200: TOKEN_LIMIT, 429: 6}
    assert len(cluster.upstreams(answers)) == 2


def test_the_objection_limit_counts_across_servers(cluster, world):
    with clock.pinned(datetime.now(UTC)):
        application = world.in_notice()
    body = {"name": "张三", "contact": "13800000000", "text": "申报数据与事实不符。"}
    answers = [
        requests.post(
            f"{cluster.url}{API}/notices/{application.id}/objections", json=body, timeout=30
        )
        for _ in range(7)
    ]
    assert [r.status_code for r in answers] == [201] * 5 + [429] * 2
    assert len(cluster.upstreams(answers)) == 2


def test_an_idempotency_key_counts_across_servers(cluster, world, session):
    headers = {**world.headers["owner"], "Idempotency-Key": "create-" + secrets.token_hex(4)}
    body = {"tier": "tech_sme", "kind": "promotion"}
    first, second = (
        requests.post(f"{server.url}{API}/applications", json=body, headers=headers, timeout=30)
        for server in cluster.servers
    )
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert first.json() == second.json()
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Application)) == 1


# --- R1 and R3 through nginx ----------------------------------------------------------------


@pytest.mark.parametrize("quota", [3, 20])
def test_the_quota_holds_with_approvals_spread_over_both_servers(cluster, session, make, quota):
    with clock.pinned(datetime.now(UTC)):
        contest = Contest(session, make)
        contenders = contest.prepare(quota)
    front = LiveServer(cluster.url, cluster.servers[0].access_log, 0)
    check_round(session, contenders, race(front, contenders), winners=quota)
    assert contest.occupancy().occupancy == quota
    for server in cluster.servers:
        assert "Traceback" not in (server.access_log.parent / "gunicorn.err").read_text()


@dataclass(frozen=True)
class Write:
    began: int
    returned: int
    entry: tuple[str, str, int]


def _writer(cluster: Cluster, uscc: str, headers: dict, moves: int, out: list, errors: list):
    try:
        with requests.Session() as http:
            tag = http.get(f"{cluster.url}{API}/enterprises/{uscc}", headers=headers, timeout=30)
            etag = tag.headers["ETag"]
            for n in range(moves):
                began = time.monotonic_ns()
                response = http.patch(
                    f"{cluster.url}{API}/enterprises/{uscc}",
                    data=f'{{"address": "南昌市红谷滩区第{n}号"}}'.encode(),
                    headers={
                        **headers,
                        "If-Match": etag,
                        "Content-Type": "application/merge-patch+json",
                    },
                    timeout=30,
                )
                returned = time.monotonic_ns()
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {response.text[:200]}")
                    return
                etag = response.headers["ETag"]
                version = response.json()["version"]
                out.append(Write(began, returned, ("enterprise", uscc, version)))
    except Exception as error:  # reported by the test
        errors.append(repr(error))


@pytest.mark.parametrize("writers", [6, 16])
def test_the_feed_keeps_commit_order_with_writes_spread_over_both_servers(
    cluster, session, make, writers
):
    moves = 5
    with clock.pinned(datetime.now(UTC)):
        reader = sync_headers(session)
        editors = [
            make.user(f"editor-{i}@review.example", Role.REVIEWER, name=f"editor {i}")
            for i in range(writers)
        ]
        tokens = [bearer(session, editor, "registry:read,registry:write") for editor in editors]
        codes = [enterprise(session, name=f"写者{i}").uscc for i in range(writers)]
        session.commit()
    start = requests.get(
        f"{cluster.url}{API}/changes", params={"limit": 1000}, headers=reader, timeout=30
    )
    cursor = start.json()["next_cursor"]
    writes: list[Write] = []
    errors: list[str] = []
    threads = [
        threading.Thread(target=_writer, args=(cluster, code, headers, moves, writes, errors))
        for code, headers in zip(codes, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    seen, upstreams = [], set()
    while True:
        page = requests.get(
            f"{cluster.url}{API}/changes",
            params={"after": cursor, "limit": 7},
            headers=reader,
            timeout=30,
        )
        assert page.status_code == 200
        upstreams.add(page.headers["X-Upstream"])
        seen += page.json()["data"]
        cursor = page.json()["next_cursor"]
        if not page.json()["has_more"]:
            break
    assert len(upstreams) == 2
    received = [(e["type"], e["key"], e["version"]) for e in seen]
    assert sorted(received) == sorted(w.entry for w in writes)
    positions = [decode_cursor(e["cursor"], str, int)[1] for e in seen]
    assert positions == sorted(set(positions))
    where = dict(zip(received, positions, strict=True))
    for a in writes:
        for b in writes:
            if a.returned < b.began:
                assert where[a.entry] < where[b.entry]


# --- tick on every server -------------------------------------------------------------------


def test_tick_on_both_servers_at_once_grants_each_ended_notice_once(
    cluster, world, session, database_url, tmp_path
):
    """Every server may run its tick timer: two ``tick`` commands at the same moment
    grant each ended notice exactly once."""
    past = datetime.now(UTC) - timedelta(days=40)
    ended = []
    with clock.pinned(past):
        for _ in range(6):
            owner_enterprise = world.make.enterprise(founded_on=past.date().replace(year=2015))
            for year in (2023, 2024, 2025):
                world.make.eligible_report(owner_enterprise, year)
            owner = world.make.user(enterprise=owner_enterprise)
            session.commit()
            world.owner, world.a = owner, owner_enterprise
            ended.append(world.in_notice().id)
    env = {"DATABASE_URL": database_url, "SECRET_KEY": "tick", "PATH": "/usr/bin:/bin"}
    ticks = [flask_command(["registry", "tick"], env, tmp_path / f"tick-{n}.log") for n in range(2)]
    for tick in ticks:
        status, output = tick.finished(120)
        assert status == 0, output
    session.rollback()
    states = session.scalars(select(Application.state).where(Application.id.in_(ended))).all()
    assert states == [State.GRANTED] * len(ended)
    grants = session.scalar(
        select(func.count()).where(
            AuditEntry.action == "application.grant",
            AuditEntry.object_id.in_([str(i) for i in ended]),
        )
    )
    events = session.scalar(select(func.count()).where(TierEvent.application_id.in_(ended)))
    assert grants == events == len(ended)
