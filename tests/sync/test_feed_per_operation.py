"""Every operation that changes an enterprise, annual report, tier event or application
writes its change-feed entry (API.md "Sync"): one test per operation.

Each test builds a small world through the operations (so that it starts with its own
entries), runs the operation as the web, API or CLI runs it and commits, then checks
that the operation wrote an entry for exactly the records it changed, at their new
version, once per transaction, and that the feed replayed from the start equals a
snapshot of now (``assert_feed_describes_state``).

Covered:

* ``enterprises.operations``: create_enterprise, update_profile (and an unchanged one),
  register_enterprise, replace_enterprise, change_status (holder with an open
  application; promotion in notice), verify_enterprise (nothing: not represented),
  save_annual_report (create, update).
* ``enterprises.batch_operations``: bulk_create_enterprises, bulk_create_reports
  (entries written, or collected and appended by the caller).
* ``ladder.operations``: grant_tier (``registry grant``), renew_tier (renewal approval),
  demote, revoke (``registry demote`` / ``revoke``, open applications closed),
  lapse_designation (``registry tick``), lapse_expired, reserve / consume / release_slot
  and hold_for_renewal / release_renewal_hold (through the application moves),
  set_quota (``registry set-quota``) and ``settings.update_tier_settings`` (nothing: a
  tier is not in the feed).
* ``ladder.batch_operations``: bulk_grant; issue_designations and record_grants through
  ``registry demo``.
* ``applications.operations``: create (own, nomination), edit, submit (promotion,
  renewal, resubmission), claim (and takeover), withdraw (and of a renewal), decide
  (approve short of the approvals needed, final approve of a promotion and of a
  renewal, reject, request_changes), end_notice (``registry tick``),
  grant_after_dismissal, reject_on_objection, close_open_applications.
* ``applications.objections``: file_objection, resolve (upheld; dismissed in the notice,
  after it, and with another objection still open); the notice ending while an
  objection is open (``held`` turns true with time: ``tick`` writes its entry once,
  newly_held / record_held).
* ``applications.attachments``: add and delete (nothing: not represented).
* ``accounts.operations``: sign_up (new USCC: the enterprise is created; known USCC: a
  claim) and decide_claim (nothing: the enterprise does not change).
* ``registry demo``.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from registry.accounts import operations as accounts
from registry.accounts.models import Role
from registry.applications import attachments, decisions, objections
from registry.applications import operations as apps
from registry.core import changes, clock
from registry.enterprises import batch_operations as bulk
from registry.enterprises import operations as enterprises
from registry.enterprises.models import FIGURE_FIELDS, Enterprise
from registry.ladder import batch_operations as ladder_bulk
from registry.ladder import operations as ladder
from registry.ladder.settings import update_tier_settings
from tests.factories import TEST_ACTOR as ACTOR
from tests.factories import Factories, new_uscc
from tests.fixtures.api import NOW, PDF
from tests.sync.feed_world import (
    FeedProbe,
    assert_feed_describes_state,
    enterprise,
    entries,
    report,
    snapshot,
)

pytestmark = pytest.mark.usefixtures("pinned_clock")
LATER = NOW + timedelta(days=30)  # every notice begun at NOW has ended


@pytest.fixture
def client(api_client):
    return api_client


class Published(Factories):
    """The factories' records, created through the operations (entries included)."""

    def enterprise(self, **fields):
        fields.pop("area", None)
        fields.setdefault("city_code", "360100")
        fields.setdefault("industry_code", "electronic_info")
        fields.setdefault("founded_on", date(2015, 1, 1))
        return enterprise(self.session, **fields)

    def report(self, owner, year: int, **figures):
        return report(self.session, owner, year, **figures)


class World:
    """Enterprise ``a`` (eligible for tech_sme, 2023–2025), its user, two reviewers; the
    applications moves as the web makes them."""

    def __init__(self, session) -> None:
        self.session, self.make = session, Published(session)
        self.a = self.make.enterprise()
        for year in (2023, 2024, 2025):
            self.make.eligible_report(self.a, year)
        self.owner = self.make.user("owner@a.example", enterprise=self.a, name="owner@a.example")
        self.wang = self.make.user("wang@review.example", Role.REVIEWER, name="wang@review.example")
        self.li = self.make.user("li@review.example", Role.REVIEWER, name="li@review.example")
        self.objections = []
        session.commit()

    def holder(self, tier="tech_sme", since=None, e=None) -> Enterprise:
        e = e or self.make.enterprise()
        ladder.grant_tier(self.session, e, tier, actor=ACTOR, reason="held", since=since)
        return e

    # the moves
    def draft(self, tier="tech_sme", kind="promotion", user=None):
        user = user or self.owner
        return apps.create(self.session, self.a, tier, kind, user=user, via="web")

    def edit(self, application):
        return apps.edit(
            self.session, application, "high_tech", "promotion", user=self.owner, via="api"
        )

    def submit(self, application):
        return apps.submit(self.session, application, user=self.owner, via="web", declaration=True)

    def claim(self, application, user=None):
        return apps.claim(self.session, application, user=user or self.wang, via="api")

    def withdraw(self, application):
        return apps.withdraw(self.session, application, user=self.owner, via="web")

    def decide(self, application, decision):
        return decisions.decide(
            self.session, application, decision, user=self.wang, via="api", comment="否"
        )

    def approve(self, application, user=None):
        manual = [c["code"] for c in application.eligibility["checks"] if c["status"] == "manual"]
        return decisions.decide(
            self.session,
            application,
            "approve",
            user=user or self.wang,
            via="web",
            manual_checks=dict.fromkeys(manual, True),
            innovation_score=75 if application.tier == "high_tech" else None,
        )

    def objection(self, application, address="203.0.113.9"):
        filed = objections.file_objection(
            self.session,
            application,
            name="张三",
            contact="138",
            grounds="不实",
            client_address=address,
        )
        self.objections.append(filed)
        return filed

    def resolve(self, outcome, objection=None):
        objection = objection or self.objections[-1]
        return objections.resolve(
            self.session, objection, outcome, user=self.li, via="web", comment="核实"
        )

    # where an application stands before the move
    def submitted(self, **kw):
        return self.submit(self.draft(**kw))

    def in_review(self, **kw):
        return self.claim(self.submitted(**kw))

    def changes_requested(self):
        return self.decide(self.in_review(), "request_changes")

    def in_notice(self):
        return self.approve(self.in_review())

    def objected(self):
        application = self.in_notice()
        self.objection(application)
        return application

    def high_tech_renewal(self):
        """``a`` holds high_tech until 2026-05-01 (renewable now), with figures for it."""
        self.holder("high_tech", since=date(2023, 5, 1), e=self.a)
        for saved in list(self.a.reports):  # R&D spent at home over the three years
            figures = {name: getattr(saved, name) for name in FIGURE_FIELDS}
            figures.update(hightech_income=40_000_000, rd_domestic_expense=3_000_000)
            self.make.report(self.a, saved.year, **figures)
        return self.submitted(tier="high_tech", kind="renewal")


@pytest.fixture
def w(session) -> World:
    return World(session)


@pytest.fixture
def feed(client, session) -> FeedProbe:
    return FeedProbe(client, session)


def cli(runner, *args: str) -> str:
    result = runner.invoke(args=["registry", *args])
    assert result.exit_code == 0, result.output
    return result.output


# --- enterprises and annual reports ---------------------------------------------------------


def test_create_enterprise(w, feed):
    made = feed.run(lambda: enterprises.create_enterprise(w.session, new_uscc(), "新", actor=ACTOR))
    assert feed.wrote(made)["version"] == 1


@pytest.mark.parametrize("name", ["新名称", None], ids=["changed", "unchanged"])
def test_update_profile(w, feed, name):
    values = {"name": name or w.a.name}
    feed.run(lambda: enterprises.update_profile(w.session, w.a, values, actor=ACTOR))
    feed.wrote(*([w.a] if name else []))


def test_register_enterprise_with_its_status(w, feed):
    profile, merged = {"name": "并入企业"}, {"status": "merged", "merged_into": w.a.uscc}
    made = feed.run(
        lambda: enterprises.register_enterprise(
            w.session, new_uscc(), profile, actor=ACTOR, **merged
        )
    )
    assert [feed.wrote(made)[k] for k in ("version", "status")] == [1, "merged"]


def test_replace_enterprise_with_a_status(w, feed):
    profile, status = {"name": "注销企业"}, "deregistered"
    feed.run(
        lambda: enterprises.replace_enterprise(w.session, w.a, profile, actor=ACTOR, status=status)
    )
    feed.wrote(w.a)


@pytest.mark.parametrize("status", ["deregistered", "merged"])
def test_change_status_of_a_holder_with_an_open_application(w, feed, status):
    w.holder(e=w.a)
    application = w.draft(tier="high_tech")
    merged_into = new_uscc()
    feed.run(
        lambda: enterprises.change_status(
            w.session, w.a, status, actor=ACTOR, merged_into=merged_into
        )
    )
    feed.wrote(w.a, application, events=1)  # the revoke, the application closed


def test_change_status_with_a_promotion_in_notice(w, feed):
    application = w.in_notice()  # its slot is released, the application closed
    feed.run(lambda: enterprises.change_status(w.session, w.a, "deregistered", actor=ACTOR))
    feed.wrote(w.a, application)


def test_verify_enterprise_writes_nothing(w, feed):
    new = enterprises.create_enterprise(w.session, new_uscc(), "待核", actor=ACTOR, verified=False)
    feed.run(lambda: enterprises.verify_enterprise(w.session, new, actor=ACTOR))
    feed.wrote()  # ``verified`` is not in the representation


@pytest.mark.parametrize("year", [2022, 2025], ids=["create", "update"])
def test_save_annual_report(w, feed, year):
    feed.wrote(feed.run(lambda: report(w.session, w.a, year, employees=7)))


@pytest.mark.parametrize("collected", [False, True], ids=["written", "collected"])
def test_bulk_create_enterprises_and_reports(w, feed, collected):
    rows = [{"uscc": new_uscc(), "name": f"批量企业{i}"} for i in range(3)]
    rows[1] |= {"status": "merged", "merged_into": w.a.uscc}
    reports = [{"enterprise_uscc": r["uscc"], "year": 2025, "employees": 3} for r in rows]
    reports.append({"enterprise_uscc": w.a.uscc, "year": 2020})

    def load():
        into = [] if collected else None  # the caller appends them last (``demo``)
        bulk.bulk_create_enterprises(w.session, rows, actor=ACTOR, feed=into)
        bulk.bulk_create_reports(w.session, reports, actor=ACTOR, feed=into)
        changes.append_entries(w.session, into or [])

    feed.run(load)
    made = w.session.scalars(select(Enterprise).where(Enterprise.id > w.a.id)).all()
    assert len(made) == 3
    new_reports = [r for e in made for r in e.reports] + w.a.reports[:1]  # 2020
    feed.wrote(*made, *new_reports)


# --- the ladder ----------------------------------------------------------------------------------


def test_grant_command(w, feed, runner):
    feed.run(lambda: cli(runner, "grant", w.a.uscc, "tech_sme", "--reason", "imported"))
    feed.wrote(w.a, events=1)


def test_demote_command_closes_the_open_application(w, feed, runner):
    w.holder("high_tech", e=w.a)
    application = w.draft(tier="champion")
    feed.run(lambda: cli(runner, "demote", w.a.uscc, "tech_sme", "--reason", "review"))
    feed.wrote(w.a, application, events=1)


def test_revoke_command_with_a_ban_closes_the_renewal(w, feed, runner):
    renewal = w.high_tech_renewal()  # its hold is released
    ban = ("--ban-until", "2027-01-01")
    feed.run(lambda: cli(runner, "revoke", w.a.uscc, "--reason", "fraud", *ban))
    feed.wrote(w.a, renewal, events=1)


def test_tick_lapses_an_expired_designation(w, feed, runner):
    held = w.holder(since=date(2025, 3, 1))  # tech_sme: expired at the end of 2025
    feed.run(lambda: cli(runner, "tick"))
    feed.wrote(held, events=1)


def test_lapse_expired_in_one_transaction(w, feed):
    held = [w.holder(since=date(2025, 3, 1)) for _ in range(2)]
    assert feed.run(lambda: ladder.lapse_expired(w.session, NOW)) == 2
    feed.wrote(*held, events=2)


def test_quota_and_tier_settings_write_nothing(w, feed, runner):
    def edit():
        cli(runner, "set-quota", "tech_sme", "1", "--reason", "budget")
        update_tier_settings(w.session, "champion", {"notice_days": 7}, actor=ACTOR, reason="r")

    w.holder()
    feed.run(edit, once=False)
    feed.wrote()


def test_bulk_grant(w, feed):
    b, c = w.make.enterprise(), w.holder()
    requests = [
        (b, ladder_bulk.DesignationRequest("high_tech", date(2026, 2, 1))),
        (c, ladder_bulk.DesignationRequest("champion", date(2026, 3, 1))),
    ]
    feed.run(lambda: ladder_bulk.bulk_grant(w.session, requests, actor=ACTOR, reason="import"))
    feed.wrote(b, c, events=2)


# --- applications and objections ---------------------------------------------------------------

MOVES = {  # name: (where the application stands, the move, its state after)
    "create": (None, lambda w, _: w.draft(), "draft"),
    "nominate": (None, lambda w, _: w.draft(user=w.wang), "draft"),
    "edit": ("draft", World.edit, "draft"),
    "submit": ("draft", World.submit, "submitted"),
    "resubmit": ("changes_requested", World.submit, "in_review"),
    "claim": ("submitted", World.claim, "in_review"),
    "take_over": ("in_review", lambda w, a: w.claim(a, w.li), "in_review"),
    "withdraw": ("submitted", World.withdraw, "withdrawn"),
    "reject": ("in_review", lambda w, a: w.decide(a, "reject"), "rejected"),
    "request_changes": (
        "in_review",
        lambda w, a: w.decide(a, "request_changes"),
        "changes_requested",
    ),
    "approve": ("in_review", World.approve, "in_notice"),
    "object": ("in_notice", World.objection, "in_notice"),
    "uphold_objection": ("objected", lambda w, _: w.resolve("upheld"), "rejected"),
    "dismiss_objection": ("objected", lambda w, _: w.resolve("dismissed"), "in_notice"),
}


@pytest.mark.parametrize("move", MOVES)
def test_application_move(w, feed, move):
    start, action, state = MOVES[move]
    application = getattr(w, start)() if start else None
    made = feed.run(lambda: action(w, application))
    assert feed.wrote(application or made)["state"] == state


def test_approve_short_of_the_approvals_needed(w, feed):
    w.holder(e=w.a)
    application = w.in_review(tier="champion")  # two approvals
    feed.run(lambda: w.approve(application))
    assert feed.wrote(application)["state"] == "in_review"


def test_renewal_submitted_withdrawn_rejected_approved(w, feed):
    renewal = feed.run(w.high_tech_renewal)  # with the grant and the figures it needs
    feed.wrote(renewal, w.a, *w.a.reports, events=1)
    feed.run(lambda: w.withdraw(renewal))
    feed.wrote(renewal)
    second = w.claim(w.submitted(tier="high_tech", kind="renewal"))
    feed.run(lambda: w.decide(second, "reject"))
    feed.wrote(second)
    third = w.in_review(tier="high_tech", kind="renewal")
    feed.run(lambda: w.approve(third))
    assert feed.wrote(third, w.a, events=1)["state"] == "granted"


def test_attachments_write_nothing(w, feed):
    draft = w.draft()

    def add_and_delete():
        add = attachments.add_attachment
        add(w.session, draft, PDF, "a.pdf", user=w.owner, via="web")
        w.session.commit()
        gone = add(w.session, draft, PDF, "b.pdf", user=w.owner, via="web")
        attachments.delete_attachment(w.session, gone, user=w.owner, via="web")

    feed.run(add_and_delete)
    feed.wrote()


def test_tick_grants_when_the_notice_ends(w, feed, runner):
    application = w.in_notice()
    feed.run(lambda: cli(runner, "tick", "--now", LATER.isoformat()))
    assert feed.wrote(application, w.a, events=1)["state"] == "granted"


def test_objection_dismissed_after_the_notice_grants(w, feed):
    application = w.objected()
    w.session.commit()
    with clock.pinned(LATER):
        # ``held`` turned true with no entry (test_notice_ending_with_an_objection_open)
        feed.run(lambda: w.resolve("dismissed"), described_before=False)
        assert feed.wrote(application, w.a, events=1)["state"] == "granted"


def test_objection_dismissed_while_another_holds_it(w, feed):
    application = w.objected()
    first = w.objections[0]
    w.objection(application, "198.51.100.7")
    w.session.commit()
    with clock.pinned(LATER):
        feed.run(lambda: w.resolve("dismissed", first), described_before=False)  # as above
        assert feed.wrote(application)["held"] is True


def test_notice_ending_with_an_objection_open(w, feed, runner):
    """API.md: ``held`` = the notice has ended and an objection is still open. It
    changes with time, not with a write: ``tick``, which leaves a held application
    waiting, writes its entry once (a second tick writes nothing)."""
    application = w.objected()
    w.session.commit()
    with clock.pinned(LATER):
        feed.run(lambda: cli(runner, "tick", "--now", LATER.isoformat()), described_before=False)
        assert feed.wrote(application)["held"] is True
        feed.run(lambda: cli(runner, "tick", "--now", LATER.isoformat()))
        feed.wrote()


# --- accounts and the demo ---------------------------------------------------------------------

PASSWORD = "Gan-river-2026!"


def test_sign_up_with_a_new_uscc_creates_the_enterprise(w, feed):
    code = new_uscc()
    feed.run(
        lambda: accounts.sign_up(
            w.session, email="n@x.example", password=PASSWORD, uscc=code, enterprise_name="新注册"
        )
    )
    created = w.session.scalars(select(Enterprise).where(Enterprise.uscc == code)).one()
    assert feed.wrote(created)["name"] == "新注册"


def test_claim_of_a_known_enterprise_writes_nothing(w, feed):
    def claim_and_confirm():
        signed = accounts.sign_up(
            w.session, email="c@x.example", password=PASSWORD, uscc=w.a.uscc, enterprise_name="甲"
        )
        accounts.decide_claim(w.session, signed.claim, "confirm", reviewer=w.wang, via="web")

    feed.run(claim_and_confirm)
    feed.wrote()


def test_demo_command(w, feed, runner):
    demo = ("demo", "--count", "40", "--random-seed", "5", "--workers", "0")
    feed.run(lambda: cli(runner, *demo), once=False)
    _as_of, now, _end = snapshot(feed.client, feed.headers)
    changed_records = {k for k, v in now.items() if feed.before.get(k) != v}
    new = entries(feed.client, feed.headers, feed.after_cursor)[0]
    assert {(x["type"], x["key"]) for x in new} == changed_records
    assert {t for t, _k in changed_records} == set(changes.FEED_TYPES)
    assert_feed_describes_state(feed.client, feed.headers)
