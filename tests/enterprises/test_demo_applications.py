"""``flask registry demo``: the applications in every state it plays through the real
operations, and the demo users (``registry.demo.applications``)."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from registry.accounts.models import User
from registry.applications.models import Application, State
from registry.core import clock
from registry.core.models import AuditEntry, ChangeLogEntry
from registry.demo import applications as demo_applications
from registry.demo.plan import plan_ladder
from registry.ladder import dates, queries
from registry.ladder.models import Reservation
from tests.enterprises.demo_runs import NOW, SEEDED, check_occupancy_rule, run_demo


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.pinned(NOW):
        yield


def application_audit(session, application) -> list[AuditEntry]:
    return session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.object_type == "application",
            AuditEntry.object_id == str(application.id),
        )
        .order_by(AuditEntry.id)
    ).all()


def test_demo_applications_in_every_state_through_the_operations(runner, session):
    output = run_demo(runner, "--count", "300", "--random-seed", "1")
    applications = session.scalars(select(Application).order_by(Application.id)).all()
    promotions = [a for a in applications if a.tier != "champion"]
    counts = Counter(a.state for a in promotions)
    line = ", ".join(f"{counts[state]} {state}" for state in demo_applications.PATHS)
    assert f"demo applications: {line}; 1 champion with 1 of 2 approvals\n" in output
    assert set(counts) == set(State) and min(counts.values()) >= 2
    assert {a.tier for a in promotions} == {"tech_sme", "high_tech"}

    reserved = {r.application_id for r in session.scalars(select(Reservation))}
    feed = Counter(
        entry.key
        for entry in session.scalars(
            select(ChangeLogEntry).where(ChangeLogEntry.type == "application")
        )
    )
    for a in applications:
        assert feed[str(a.id)] == 1  # one feed entry per application (one transaction)
        # An audit entry per transition, each starting where the one before ended.
        audit = application_audit(session, a)
        assert audit[0].action == "application.create"
        states = [e.changes["state"] for e in audit if "state" in e.changes]
        assert states[0] == [None, "draft"] and states[-1][1] == a.state
        assert all(b[0] == c[1] for c, b in zip(states, states[1:], strict=False))
        assert {e.via for e in audit} <= {"cli", "tick"}
        user = session.get(User, a.created_by)
        assert user.enterprise_id == a.enterprise_id and a.nominated_by is None
        if a.state != State.DRAFT and not (a.state == State.WITHDRAWN and len(states) == 2):
            assert a.eligibility["eligible"] is True and a.submitted_by == user.id
        decisions = [(d.decision, d.reviewer_id) for d in a.decisions]
        assert all(d.comment for d in a.decisions)
        enterprise = a.enterprise
        assert queries.ladder_fields(enterprise) == queries.replay(
            queries.tier_events(session, enterprise.id)
        )
        assert (a.id in reserved) == (a.state == State.IN_NOTICE)
        if a.state == State.IN_NOTICE:
            assert a.notice_started_at < NOW < a.notice_ends_at
        if a.state == State.GRANTED:
            assert audit[-1].action == "application.grant" and audit[-1].via == "tick"
            assert a.notice_ends_at <= NOW and enterprise.tier == a.tier
            assert enterprise.tier_since == dates.shanghai_date(a.notice_ends_at)
        if a.state == State.REJECTED:
            assert decisions[-1][0] == "reject" and a.closed_reason == a.decisions[-1].comment
        if a.state == State.CHANGES_REQUESTED:
            assert decisions == [("request_changes", a.claimed_by)]
        if a.state == State.IN_REVIEW:
            assert a.claimed_by is not None
        if a.tier == "champion":
            assert a.state == State.IN_REVIEW and a.approvals_required == 2
            assert [d.decision for d in a.approvals()] == ["approve"]
            assert enterprise.tier == "tech_sme"

    # The demo users, and the applications the enterprise users may continue.
    users = {u.email: u for u in session.scalars(select(User))}
    for demo in demo_applications.DEMO_USERS:
        assert users[demo.email].role == demo.role
        assert f"demo user {demo.email} ({demo.role}), password {demo.password}\n" in output
    own = {
        email: {a.state for a in applications if a.enterprise_id == users[email].enterprise_id}
        for email in ("enterprise1@demo.registry", "enterprise2@demo.registry")
    }
    assert own == {
        "enterprise1@demo.registry": {State.DRAFT},
        "enterprise2@demo.registry": {State.CHANGES_REQUESTED},
    }
    check_occupancy_rule(session)


def test_demo_users_sign_in_on_the_web(app, runner, session, auth):
    run_demo(runner, "--count", "300", "--random-seed", "4")
    for demo in demo_applications.DEMO_USERS:
        client = app.test_client()
        response = auth.login(demo.email, demo.password, client=client)
        assert response.status_code == 303, demo.email
        page = client.get("/account?lang=en")
        user = session.scalars(select(User).where(User.email == demo.email)).one()
        assert page.status_code == 200 and user.display_name in page.get_data(as_text=True)
    wrong = auth.login("admin@demo.registry", "Gan-river-2026", client=app.test_client())
    assert wrong.status_code == 422


def test_demo_twice_keeps_the_users_and_adds_applications(runner, session):
    run_demo(runner, "--count", "300", "--random-seed", "2")
    first = session.scalar(select(func.count()).select_from(Application))
    output = run_demo(runner, "--count", "300", "--random-seed", "3")
    assert "demo users already there, left as they were: " in output
    assert "password" not in output
    emails = session.scalars(select(User.email)).all()
    assert len(emails) == len(set(emails))
    for demo in demo_applications.DEMO_USERS:
        assert demo.email in emails
    # The second run's applicants are new: the enterprise users' own were made once.
    applications = session.scalars(select(Application)).all()
    assert first < len(applications) < 2 * first
    counts = Counter(a.state for a in applications if a.tier != "champion")
    assert set(counts) == set(State) and min(counts.values()) >= 4
    check_occupancy_rule(session)


def test_keep_room_counts_the_applications_slots():
    # Three per state: in notice and granted each tech_sme, high_tech, tech_sme.
    assert demo_applications.per_state(1_000_000) == 3
    kept = demo_applications.keep_room(SEEDED, 1_000_000)
    assert [t.occupancy for t in kept] == [4, 2, 0, 0, 0]
    assert plan_ladder(1_000_000, kept) == {
        "tech_sme": 3995,
        "high_tech": 2397,
        "champion": 79,
        "navigator": 11,
        "chain_leader": 6,
    }
    assert [demo_applications.per_state(n) for n in (1, 31, 32, 300, 3000)] == [1, 1, 2, 2, 3]
