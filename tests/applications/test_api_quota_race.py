"""QUALITY.md R1 through the REST API: final approvals raced against a live gunicorn
server with four worker processes, on the suite's file database (SQLite) or PostgreSQL
(TEST_DATABASE_URL).

Each test starts one server and runs two rounds on one tier: from 0 used, quota N and
N+50 reviewers approving at once → exactly N answers 200 (in notice, slot reserved);
then, the quota raised to M with M−1 used (those reservations and some holders), M+50
more → exactly one 200. Every other answer is 409 ``quota_full``; no 5xx, no lock error
or traceback in the server's log; occupancy is the quota after each round.

The contenders are built here through the operations the API calls: nominations of
eligible enterprises, submitted by one reviewer and claimed by the four reviewers who
then decide (four-eyes: none of them created or submitted what they approve). The clock
is not pinned: the server runs on the real one, and the tokens must not have expired.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import partial

import pytest
import requests
from sqlalchemy import select

from registry.accounts.models import Role
from registry.applications import operations as apps
from registry.applications.models import Application, State
from registry.core import clock
from registry.ladder import operations as ladder
from registry.ladder import queries
from registry.ladder.models import Reservation, Tier
from tests.factories import TEST_ACTOR
from tests.fixtures.api import API, REVIEWER_SCOPES, TSME_CHECKS, bearer
from tests.live import LiveServer, gunicorn

TIER = "tech_sme"  # one approval decides, so every approval here is a final one
WORKERS = 4
DECIDERS = 4
BEYOND_QUOTA = 50
APPROVE = {"decision": "approve", "manual_checks": TSME_CHECKS}


@dataclass(frozen=True)
class Contender:
    application_id: int
    headers: dict[str, str]


@dataclass(frozen=True)
class Answer:
    application_id: int
    status: int
    content_type: str
    body: dict


class Contest:
    """Reviewers with tokens, and applications of eligible enterprises in review."""

    def __init__(self, session, make) -> None:
        self.session, self.make = session, make
        reviewer = partial(make.user, role=Role.REVIEWER)
        self.nominator = reviewer("nominator@review.example", name="nominator")
        self.deciders = [
            reviewer(f"decider-{i}@review.example", name=f"decider-{i}") for i in range(DECIDERS)
        ]
        self.tokens = [bearer(session, d, REVIEWER_SCOPES) for d in self.deciders]  # commits

    def _eligible(self):
        enterprise = self.make.enterprise(founded_on=date(2015, 1, 1))
        self.make.eligible_report(enterprise, clock.today().year - 1)
        return enterprise

    def prepare(self, quota: int, holders: int = 0) -> list[Contender]:
        """Set the quota, grant ``holders`` more enterprises the tier, and put quota+50
        applications in review, each claimed by the reviewer who will approve it."""
        session = self.session
        ladder.set_quota(session, TIER, quota, actor=TEST_ACTOR, reason="quota race")
        for _ in range(holders):
            ladder.grant_tier(session, self._eligible(), TIER, actor=TEST_ACTOR, reason="holder")
        contenders = []
        for n in range(quota + BEYOND_QUOTA):
            application = apps.create(
                session, self._eligible(), TIER, "promotion", user=self.nominator, via="web"
            )
            apps.submit(session, application, user=self.nominator, via="web")
            apps.claim(session, application, user=self.deciders[n % DECIDERS], via="web")
            contenders.append(Contender(application.id, self.tokens[n % DECIDERS]))
        session.commit()
        # On SQLite any open transaction of the test holds the write lock: end it.
        session.rollback()
        return contenders

    def occupancy(self) -> queries.Occupancy:
        """Read in a transaction of its own, ended at once (SQLite: the write lock)."""
        session = self.session
        session.rollback()
        session.expire_all()
        try:
            return queries.occupancy(session, session.get(Tier, TIER))
        finally:
            session.rollback()


def race(server: LiveServer, contenders: list[Contender]) -> list[Answer]:
    """Every contender's approval sent at the same moment, one connection each."""
    barrier = threading.Barrier(len(contenders))

    def send(contender: Contender) -> Answer:
        with requests.Session() as http:
            barrier.wait(timeout=60)
            response = http.post(
                f"{server.url}{API}/applications/{contender.application_id}/decisions",
                json=APPROVE,
                headers=contender.headers,
                timeout=120,
            )
        return Answer(
            contender.application_id,
            response.status_code,
            response.headers.get("Content-Type", ""),
            response.json(),
        )

    with ThreadPoolExecutor(len(contenders)) as pool:
        return list(pool.map(send, contenders))


def check_round(session, contenders: list[Contender], answers: list[Answer], winners: int):
    """``winners`` approvals in notice with a reservation each; every other one refused
    ``quota_full`` and still in review."""
    outcomes = Counter((a.status, a.body.get("code")) for a in answers)
    assert outcomes == {(200, None): winners, (409, "quota_full"): len(answers) - winners}, outcomes
    for answer in answers:
        if answer.status == 200:
            assert (answer.body["state"], answer.body["tier"]) == ("in_notice", TIER)
            assert answer.body["notice_ends_at"] is not None
        else:
            assert answer.content_type == "application/problem+json"
            assert answer.body["status"] == 409
    won = {a.application_id for a in answers if a.status == 200}
    ids = [c.application_id for c in contenders]
    session.rollback()
    states = dict(
        session.execute(
            select(Application.id, Application.state).where(Application.id.in_(ids))
        ).all()
    )
    assert {i for i, s in states.items() if s == State.IN_NOTICE} == won
    assert {i for i, s in states.items() if s == State.IN_REVIEW} == set(ids) - won
    reserved = session.scalars(
        select(Reservation.application_id).where(Reservation.application_id.in_(ids))
    )
    assert set(reserved) == won
    session.rollback()


def quota_race(session, make, database_url, tmp_path, quota: int, holders: int) -> None:
    """From 0 used, quota N → N win; then quota N+holders+1 with all but one slot used
    (N reservations, ``holders`` holders) → one wins."""
    contest = Contest(session, make)
    empty = contest.prepare(quota)
    with gunicorn(database_url, tmp_path, workers=WORKERS) as server:
        check_round(session, empty, race(server, empty), winners=quota)
        assert contest.occupancy().occupancy == quota

        last_slot_quota = quota + holders + 1
        last_slot = contest.prepare(last_slot_quota, holders=holders)
        assert contest.occupancy().occupancy == last_slot_quota - 1
        check_round(session, last_slot, race(server, last_slot), winners=1)
        occupancy = contest.occupancy()
        assert (occupancy.quota, occupancy.holders, occupancy.reserved) == (
            last_slot_quota,
            holders,
            quota + 1,
        )
        workers = server.worker_pids()
    assert len(workers) > 1, workers  # the race crossed processes
    errors = (tmp_path / "gunicorn.err").read_text()
    assert "database is locked" not in errors
    assert "Traceback" not in errors, errors[-3000:]


def test_concurrent_final_approvals_never_exceed_the_quota(session, make, database_url, tmp_path):
    quota_race(session, make, database_url, tmp_path, quota=3, holders=1)


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(3))
def test_concurrent_final_approvals_never_exceed_the_quota_long(
    session, make, database_url, tmp_path, round_
):
    """The long form: quota 20 from empty (70 contenders), then 26 with 25 used (76),
    three times."""
    quota_race(session, make, database_url, tmp_path, quota=20, holders=5)
