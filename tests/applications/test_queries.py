"""The reviewers' read side: the queue's filters, order, keyset and counts; the
enterprise search; the account-claim lists."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from registry.accounts.models import AccountClaim, ClaimState, Role
from registry.applications import queries
from registry.applications.models import Application, Kind, State
from registry.applications.queries import QueueFilter

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def application(session, enterprise, state, *, tier="tech_sme", submitted=None, claimed_by=None):
    row = Application(
        enterprise_id=enterprise.id,
        tier=tier,
        kind=Kind.PROMOTION,
        state=state,
        submitted_at=submitted,
        claimed_by=claimed_by.id if claimed_by else None,
    )
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def apps(session, make):
    """Six applications of six enterprises, in two cities, in several states."""
    one = make.user("one@review.cn", Role.REVIEWER, name="one")
    two = make.user("two@review.cn", Role.REVIEWER, name="two")
    nanchang = [make.enterprise(city_code="360100") for _ in range(4)]
    ganzhou = [make.enterprise(city_code="360700") for _ in range(2)]
    rows = {
        "old_submitted": application(session, nanchang[0], State.SUBMITTED, submitted=T0),
        "mine": application(
            session,
            nanchang[1],
            State.IN_REVIEW,
            tier="high_tech",
            submitted=T0 + timedelta(hours=1),
            claimed_by=one,
        ),
        "theirs": application(
            session,
            ganzhou[0],
            State.IN_REVIEW,
            submitted=T0 + timedelta(hours=1),
            claimed_by=two,
        ),
        "new_submitted": application(
            session, ganzhou[1], State.SUBMITTED, submitted=T0 + timedelta(days=1)
        ),
        "draft": application(session, nanchang[2], State.DRAFT),
        "granted": application(session, nanchang[3], State.GRANTED, submitted=T0),
    }
    return {"rows": rows, "one": one, "two": two}


def ids(rows) -> list[int]:
    return [row.id for row in rows]


def test_default_queue_is_what_waits_for_a_reviewer_oldest_first(session, apps):
    rows = apps["rows"]
    found = queries.queue(session, QueueFilter(), limit=10)
    # Equal submission times are ordered by id.
    assert ids(found) == [
        rows["old_submitted"].id,
        rows["mine"].id,
        rows["theirs"].id,
        rows["new_submitted"].id,
    ]
    mine = found[1]
    assert mine.claimed_by_name == "one"
    assert mine.tier == "high_tech" and mine.verified is True and mine.uscc


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (QueueFilter(tier="high_tech"), ["mine"]),
        (QueueFilter(city="360700"), ["theirs", "new_submitted"]),
        (QueueFilter(assignee="none"), ["old_submitted", "new_submitted"]),
        (QueueFilter(states=(State.DRAFT,)), ["draft"]),
        (QueueFilter(states=(State.GRANTED,), city="360700"), []),
    ],
)
def test_queue_filters(session, apps, filters, expected):
    rows = apps["rows"]
    assert ids(queries.queue(session, filters, limit=10)) == [rows[k].id for k in expected]


def test_assignee_me_is_the_given_reviewer(session, apps):
    rows = apps["rows"]
    mine = QueueFilter(assignee="me", user_id=apps["one"].id)
    assert ids(queries.queue(session, mine, limit=10)) == [rows["mine"].id]
    theirs = QueueFilter(assignee="me", user_id=apps["two"].id)
    assert ids(queries.queue(session, theirs, limit=10)) == [rows["theirs"].id]


def test_keyset_walks_every_row_once_drafts_last(session, apps):
    everything = QueueFilter(states=tuple(State))
    expected = ids(queries.queue(session, everything, limit=100))
    assert expected[-1] == apps["rows"]["draft"].id  # never submitted: last
    walked, after = [], None
    while True:
        page = queries.queue(session, everything, limit=2, after=after)
        if not page:
            break
        walked += ids(page)
        after = queries.queue_key(page[-1])
    assert walked == expected
    assert len(walked) == 6


def test_counts_by_state_and_tier_follow_city_and_assignee(session, apps):
    assert queries.counts(session, QueueFilter()) == {
        ("submitted", "tech_sme"): 2,
        ("in_review", "high_tech"): 1,
        ("in_review", "tech_sme"): 1,
        ("draft", "tech_sme"): 1,
        ("granted", "tech_sme"): 1,
    }
    # The tier and state filters do not narrow the table; city and assignee do.
    assert queries.counts(session, QueueFilter(tier="high_tech", city="360700")) == {
        ("submitted", "tech_sme"): 1,
        ("in_review", "tech_sme"): 1,
    }
    assert queries.counts(session, QueueFilter(assignee="me", user_id=apps["one"].id)) == {
        ("in_review", "high_tech"): 1
    }


def test_find_enterprises_by_uscc_or_name_prefix(session, make):
    a = make.enterprise(name="赣江科技有限公司")
    b = make.enterprise(name="赣州稀土集团")
    c = make.enterprise(name="100%_test 公司")
    assert [e.id for e in queries.find_enterprises(session, a.uscc[:12], limit=10)] == [a.id]
    # Any input form of a USCC: lower case, spaces, hyphens.
    typed = a.uscc[:6].lower() + " - " + a.uscc[6:14].lower()
    assert [e.id for e in queries.find_enterprises(session, typed, limit=10)] == [a.id]
    assert {e.id for e in queries.find_enterprises(session, "赣", limit=10)} == {a.id, b.id}
    assert [e.id for e in queries.find_enterprises(session, "赣州", limit=10)] == [b.id]
    # LIKE wildcards in the text are literal.
    assert [e.id for e in queries.find_enterprises(session, "100%_", limit=10)] == [c.id]
    assert queries.find_enterprises(session, "1%", limit=10) == []
    assert queries.find_enterprises(session, "   ", limit=10) == []
    assert len(queries.find_enterprises(session, "9", limit=2)) == 2


def test_claim_lists(session, make):
    enterprise = make.enterprise(name="老企业")
    boss = make.user("boss@review.cn", Role.REVIEWER, name="boss")
    users = [make.user(f"c{n}@x.cn") for n in range(3)]
    waiting = AccountClaim(user_id=users[0].id, enterprise_id=enterprise.id, stated_name="老企业")
    confirmed = AccountClaim(
        user_id=users[1].id,
        enterprise_id=enterprise.id,
        stated_name="x",
        state=ClaimState.CONFIRMED,
        decided_by=boss.id,
        decided_at=T0,
    )
    refused = AccountClaim(
        user_id=users[2].id,
        enterprise_id=enterprise.id,
        stated_name="y",
        state=ClaimState.REFUSED,
        decided_by=boss.id,
        decided_at=T0 + timedelta(hours=1),
        comment="not them",
    )
    session.add_all([waiting, confirmed, refused])
    session.flush()
    (row,) = queries.pending_claims(session)
    assert (row.AccountClaim.id, row.email, row.enterprise_name, row.uscc) == (
        waiting.id,
        "c0@x.cn",
        "老企业",
        enterprise.uscc,
    )
    decided = queries.decided_claims(session, limit=10)
    assert [r.AccountClaim.id for r in decided] == [refused.id, confirmed.id]
    assert decided[0].decided_by_name == "boss"
    assert len(queries.decided_claims(session, limit=1)) == 1


def test_reports_latest_first_and_user_names(session, make):
    e = make.enterprise(founded_on=date(2015, 1, 1))
    for year in (2022, 2023, 2024, 2025):
        make.report(e, year, employees=10)
    assert [r.year for r in queries.reports(session, e.id, limit=3)] == [2025, 2024, 2023]
    assert len(queries.reports(session, e.id)) == 4
    named = make.user("named@review.cn", Role.REVIEWER, name="named")
    unnamed = make.user("plain@x.cn", Role.REVIEWER)
    assert queries.user_names(session, [named.id, unnamed.id, None]) == {
        named.id: "named",
        unnamed.id: "plain@x.cn",
    }
    assert queries.user_names(session, [None]) == {}
