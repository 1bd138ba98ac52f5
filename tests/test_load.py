"""QUALITY.md R10: load. 50 concurrent users, 80 % reads / 15 % form posts / 5 %
approvals (tests/locustfile.py says what each is), driven by Locust for 20 s in
``make test`` and 2 minutes in ``make test-long``, against a live gunicorn server as
production runs it (two gthread workers of eight threads, the production configuration)
on the suite's database, SQLite or PostgreSQL.

Required: no answer but the expected ones (so no 5xx, no 429, no 503
``database_busy``), no 5xx in the server's access log, no "database is locked", lock
wait or traceback in its error log, and the quota held: occupancy at most the quota,
however many approvals met. Locust's figures per kind (p50, p95, p99, max) are printed.

Locust runs as a program of its own (``locust --headless``): importing it patches the
standard library for gevent, which must not happen inside pytest's process (the
``locust`` pytest plugin it installs is disabled in pyproject.toml for the same reason).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from registry.accounts.models import Role
from registry.applications import operations as apps
from registry.core import clock
from registry.core.models import AuditEntry
from registry.ladder import operations as ladder
from registry.ladder import queries
from registry.ladder.models import Tier
from tests.factories import ELIGIBLE_FIGURES, PASSWORD, TEST_ACTOR
from tests.fixtures.api import REVIEWER_SCOPES, TSME_CHECKS, bearer
from tests.live import ROOT, gunicorn

LOCUST = Path(sys.executable).with_name("locust")
LOCUSTFILE = ROOT / "tests" / "locustfile.py"
USERS = 50
REVIEWERS = 10
TIER = "tech_sme"  # one approval decides: every approval reserves a slot or is refused
#: What the error log of a server under this load must never hold.
NEVER_LOGGED = ("database is locked", "database busy", "Traceback")
PROFILE = {
    "name": "",  # each account's own enterprise's
    "name_en": "",
    "city_code": "360100",
    "county": "红谷滩区",
    "industry_code": "electronic_info",
    "founded_on": "2015-01-01",
    "legal_representative": "张三",
    "contact_name": "李四",
    "contact_phone": "0791-88888888",
    "contact_email": "contact@example.com",
    "address": "南昌市红谷滩区丰和中大道 1 号",
    "main_products": "稀土永磁材料",
}


@dataclass(frozen=True)
class Form:
    """How long, and how many applications there are to approve for how many slots."""

    seconds: int
    applications: int
    quota: int


SHORT = Form(seconds=20, applications=60, quota=20)
#: 2 minutes of 50 users, ~1 task a second each, 5 % approvals: ~300 approvals.
LONG = Form(seconds=120, applications=300, quota=100)


def prepare(session, make, form: Form) -> dict:
    """The plan of tests/locustfile.py: an enterprise user per simulated user, reviewers
    with tokens, and applications in review, each claimed by the reviewer who is to
    approve it (a nominator submitted them: four-eyes holds), the tier's quota set."""
    ladder.set_quota(session, TIER, form.quota, actor=TEST_ACTOR, reason="load test")
    accounts = []
    for n in range(USERS):
        enterprise = make.enterprise(name=f"负载测试{n}有限公司", founded_on=date(2015, 1, 1))
        user = make.user(f"load-{n}@example.com", password=PASSWORD, enterprise=enterprise)
        accounts.append({"email": user.email, "name": enterprise.name, "reviewer": n % REVIEWERS})
    nominator = make.user("nominator@review.example", Role.REVIEWER, name="nominator")
    deciders = [
        make.user(f"decider-{n}@review.example", Role.REVIEWER, name=f"decider-{n}")
        for n in range(REVIEWERS)
    ]
    reviewers = [
        {"authorization": bearer(session, decider, REVIEWER_SCOPES)["Authorization"]}
        for decider in deciders
    ]
    claimed: list[list[int]] = [[] for _ in deciders]
    last_year = clock.today().year - 1
    for n in range(form.applications):
        enterprise = make.enterprise(founded_on=date(2015, 1, 1))
        make.eligible_report(enterprise, last_year)
        application = apps.create(session, enterprise, TIER, "promotion", user=nominator, via="web")
        apps.submit(session, application, user=nominator, via="web")
        apps.claim(session, application, user=deciders[n % REVIEWERS], via="web")
        claimed[n % REVIEWERS].append(application.id)
    session.commit()
    for reviewer, ids in zip(reviewers, claimed, strict=True):
        reviewer["applications"] = ids
    return {
        "accounts": accounts,
        "password": PASSWORD,
        "reviewers": reviewers,
        "applications": [i for ids in claimed for i in ids],
        "manual_checks": TSME_CHECKS,
        "report_year": last_year,
        "profile": PROFILE,
        "figures": ELIGIBLE_FIGURES,
    }


def run_locust(url: str, plan: dict, directory: Path, seconds: int) -> subprocess.CompletedProcess:
    (directory / "plan.json").write_text(json.dumps(plan))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
    env.update(
        LOAD_PLAN=str(directory / "plan.json"), LOAD_OUTCOMES=str(directory / "outcomes.json")
    )
    return subprocess.run(
        [
            str(LOCUST),
            "--locustfile",
            str(LOCUSTFILE),
            "--headless",
            "--host",
            url,
            "--users",
            str(USERS),
            "--spawn-rate",
            "25",
            "--run-time",
            f"{seconds}s",
            # Tasks under way at the end finish (their answers are checked too).
            "--stop-timeout",
            "30",
            "--csv",
            str(directory / "locust"),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        # Away from the checkout: Locust reads a locust.conf in its working directory.
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 180,
        check=False,
    )


def figures(directory: Path) -> dict[str, dict[str, str]]:
    """Locust's statistics per request name (kind), and its aggregate."""
    with open(directory / "locust_stats.csv", newline="") as stats:
        return {row["Name"]: row for row in csv.DictReader(stats)}


def failures(directory: Path) -> list[dict[str, str]]:
    rows = []
    for name in ("locust_failures.csv", "locust_exceptions.csv"):
        with open(directory / name, newline="") as found:
            rows += list(csv.DictReader(found))
    return rows


def print_figures(stats: dict[str, dict[str, str]], engine: str, seconds: int) -> None:
    print(f"\nR10 on {engine}: {USERS} users for {seconds} s (response times in ms)")
    print(
        f"{'kind':<12}{'requests':>9}{'fail':>6}{'p50':>7}{'p95':>7}{'p99':>7}{'max':>8}{'/s':>7}"
    )
    for name, row in stats.items():
        print(
            f"{name:<14}{row['Request Count']:>9}{row['Failure Count']:>6}{row['50%']:>7}"
            f"{row['95%']:>7}{row['99%']:>7}{float(row['Max Response Time']):>8.0f}"
            f"{float(row['Requests/s']):>7.1f}"
        )


def server_statuses(access_log: Path) -> list[int]:
    return [int(line.rsplit(" ", 1)[1]) for line in access_log.read_text().splitlines()]


def load(session, make, database_url, tmp_path, capsys, form: Form) -> None:
    plan = prepare(session, make, form)
    session.rollback()  # SQLite: no transaction of the test holds the write lock
    with gunicorn(database_url, tmp_path, workers=2, threads=8) as server:
        done = run_locust(server.url, plan, tmp_path, form.seconds)
    output = done.stdout + done.stderr
    stats = figures(tmp_path)
    with capsys.disabled():
        print_figures(stats, session.get_bind().dialect.name, form.seconds)
    outcomes = json.loads((tmp_path / "outcomes.json").read_text())
    assert failures(tmp_path) == [], outcomes
    assert done.returncode == 0, output[-3000:]
    # Every kind ran, in about the proportions asked for (a 20 s run is short).
    counts = {kind: int(stats[kind]["Request Count"]) for kind in ("read", "form post", "approval")}
    total = sum(counts.values())
    assert 0.7 < counts["read"] / total < 0.9, counts
    assert 0.08 < counts["form post"] / total < 0.22, counts
    assert 0 < counts["approval"], counts

    statuses = server_statuses(tmp_path / "access.log")
    assert len(statuses) >= int(stats["Aggregated"]["Request Count"])
    assert [s for s in statuses if s >= 500] == []
    errors = (tmp_path / "gunicorn.err").read_text()
    for words in NEVER_LOGGED:
        assert words not in errors, errors[-3000:]

    approvals: Counter[int | str] = Counter()
    for answer in outcomes:
        if answer["kind"] == "approval":
            approvals[answer["code"] or answer["status"]] += answer["count"]
    with capsys.disabled():
        print(
            f"approvals: {approvals[200]} approved, {approvals['quota_full']} quota_full,"
            f" {approvals['invalid_transition']} sent again (already decided)"
        )
    # Each profile posted (a new contact name each time) was saved.
    profiles_saved = sum(
        a["count"]
        for a in outcomes
        if (a["kind"], a["path"]) == ("form post", "/enterprise/profile")
    )
    updates = select(func.count()).where(
        AuditEntry.action == "enterprise.update", AuditEntry.via == "web"
    )
    assert session.scalar(updates) == profiles_saved > 0
    occupancy = queries.occupancy(session, session.get(Tier, TIER))
    session.rollback()
    assert occupancy.occupancy <= form.quota
    assert occupancy.reserved == approvals[200]  # each approval answered 200 holds its slot
    if approvals["quota_full"]:
        assert occupancy.occupancy == form.quota  # refused only once every slot was taken


def test_load(session, make, database_url, tmp_path, capsys):
    load(session, make, database_url, tmp_path, capsys, SHORT)


@pytest.mark.slow
def test_load_long(session, make, database_url, tmp_path, capsys):
    load(session, make, database_url, tmp_path, capsys, LONG)
