"""QUALITY.md R7: the workflow's invariants under random sequences of operations.

A Hypothesis state machine drives the registry at the operations layer, one committed
transaction per step as a request or a command makes it. Its rules are the actors:
applicants draft, submit and withdraw; reviewers claim (or take over), approve, reject
and request changes; the public objects; reviewers resolve objections; administrators
demote, revoke and change quotas. After each step some days pass and the scheduler may
run ``flask registry tick`` (grants, ``held`` recorded, lapses) or lapse one expired
designation, or not run yet. A model beside the registry predicts every step: the
states it leads to, or the refusal the registry must answer (``quota_full``,
``invalid_transition``, ``not_on_ladder`` …); any other exception fails the test. After
every step:

* occupancy per tier ≤ its quota, unless a set-quota step lowered the quota below the
  occupancy of that moment; occupancy may then only fall until it is under the quota;
* every enterprise's ladder fields equal the replay of its tier events;
* one audit row per transition: each application's, objection's and enterprise's audit
  actions are the model's transitions, in order, and each slot is reserved once and
  released (or used) once, and each quota change has its row;
* the change feed, replayed as a peer replays it, equals a snapshot of now (a refused
  step writes no entry).

Each example starts from the suite's database reset, then a world drawn for it and
built by the same operations: two or three enterprises, some on a rung, some with an
application on its way (drafted, submitted, claimed, in its notice, objected to). An
actor chooses among the operations some record suits now (WEIGHTS: the workflow mostly
goes forward), then the record: mostly a suited one, sometimes any from its bundle,
which often makes a refusal to check.

The short form runs in ``make test`` with a fixed budget (P8: 4–8 s per engine on a
2-core machine) and reports a failing run as found; the long form (slow) in ``make
test-long`` runs longer and more examples and shrinks a failure. Generation is
deterministic (derandomized, no example database), so a failure repeats.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from registry.accounts.models import Role, User
from registry.applications import decisions, objections
from registry.applications import operations as apps
from registry.applications.models import Application, Objection, State
from registry.core import clock
from registry.core.db import consistent_read, read_only
from registry.core.errors import DomainError
from registry.core.models import AuditEntry
from registry.enterprises import operations as enterprise_ops
from registry.enterprises.models import Enterprise
from registry.extensions import db
from registry.ladder import dates
from registry.ladder import operations as ladder
from registry.ladder import queries as ladder_queries
from registry.ladder.models import Reservation, Tier, TierEvent
from registry.sync import feed, snapshot
from registry.sync.api import SMALL_TYPES
from tests.conftest import reset_database
from tests.factories import ELIGIBLE_REPORT, TEST_ACTOR, Factories, new_uscc

SHORT = {"max_examples": 8, "stateful_step_count": 30}
#: An example here is a run of up to 60 steps: a quarter of ``HYPOTHESIS_EXAMPLES``.
LONG = {
    "max_examples": int(os.environ.get("HYPOTHESIS_EXAMPLES", "300")) // 4,
    "stateful_step_count": 60,
}

#: Monday 10:00 in Shanghai: a tech_sme granted this year expires at its end.
START = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
#: Time stops here: a notice begun before it ends within the seeded calendar's years.
LAST = datetime(2027, 9, 1, tzinfo=UTC)
REVIEWERS = 3
#: The rungs the machine moves enterprises on: applied for, demoted into, held at first.
APPLIED = ("tech_sme", "champion")
DEMOTED_TO = ("tech_sme", "high_tech")
RUNGS = ("tech_sme", "high_tech", "champion")
#: How far an enterprise's first application has gone when an example begins, and the
#: steps that take it there (submit, claim, the approvals, an objection).
NONE, DRAFT, SUBMITTED, CLAIMED, NOTICE, OBJECTED = range(6)
STEPS_TO = {DRAFT: 0, SUBMITTED: 1, CLAIMED: 2, NOTICE: 4, OBJECTED: 5}
#: Every manual check of these tiers' criteria, confirmed with each approval.
CONFIRMED = {"industry_allowed": True, "clean_record": True, "srdi_score": True}
#: The days that pass after each step.
WAIT = st.integers(0, 6)
#: How often an actor takes each step it may take: the workflow mostly goes forward.
WEIGHTS = {
    "submit": 3,
    "withdraw": 1,
    "claim": 2,
    "take_over": 1,
    "approve": 3,
    "reject": 1,
    "request_changes": 1,
    "demote": 2,
    "revoke": 1,
    "set_quota": 1,
}
WITHDRAWABLE = (State.DRAFT, State.SUBMITTED, State.IN_REVIEW, State.CHANGES_REQUESTED)
OPEN = (*WITHDRAWABLE, State.IN_NOTICE)
#: The audit actions of transitions (others, such as a user created, are not counted).
TRANSITIONS = ("application.", "objection.", "tier.", "renewal_hold.")

world = st.fixed_dictionaries(
    {
        "quotas": st.fixed_dictionaries({code: st.integers(1, 3) for code in RUNGS}),
        "enterprises": st.lists(
            st.tuples(st.sampled_from([None, *RUNGS]), st.integers(NONE, OBJECTED)),
            min_size=2,
            max_size=3,
        ),
    }
)


@dataclass
class ModelEnterprise:
    id: int
    uscc: str
    owner: int
    tier: str | None = None
    tier_expires_at: datetime | None = None
    #: Its ladder moves' audit actions (``tier.grant`` …), in order.
    moves: list[str] = field(default_factory=list)


@dataclass
class ModelApplication:
    id: int
    enterprise: int
    tier: str
    state: State = State.DRAFT
    approvals_required: int = 0
    approvals: set[int] = field(default_factory=set)
    notice_ends_at: datetime | None = None
    #: When it last changed (``updated_at``): tick records ``held`` only after this.
    changed_at: datetime | None = None
    actions: list[str] = field(default_factory=list)


@dataclass
class ModelObjection:
    id: int
    application: int
    state: str = "open"
    actions: list[str] = field(default_factory=list)


class EveryRule:
    """Feature flags with every rule on (see :meth:`WorkflowMachine.__init__`)."""

    def is_enabled(self, name: str) -> bool:
        return True


class WorkflowMachine(RuleBasedStateMachine):
    """The registry beside its model; ``app`` is set by the test."""

    app: Any = None
    enterprises = Bundle("enterprises")
    applications = Bundle("applications")
    objection_ids = Bundle("objections")

    def __init__(self) -> None:
        super().__init__()
        # Hypothesis' swarm testing turns a random subset of the rules off in each
        # example. A workflow needs most actors to get anywhere, and an example in which
        # every rule that could run is off is abandoned: with a short budget most
        # examples would end early. Here every actor stays on; WEIGHTS shape the runs.
        self._rules_strategy.enabled_rules_strategy = st.just(EveryRule())

    # --- the world ------------------------------------------------------------------------

    # An initial rule per bundle; whichever runs first builds the world.
    @initialize(target=enterprises, data=st.data())
    def start_enterprises(self, data: st.DataObject) -> Any:
        self.build_world(data)
        return multiple(*self.ents)

    @initialize(target=applications, data=st.data())
    def start_applications(self, data: st.DataObject) -> Any:
        self.build_world(data)
        return multiple(*self.apps)

    @initialize(target=objection_ids, data=st.data())
    def start_objections(self, data: st.DataObject) -> Any:
        self.build_world(data)
        return multiple(*self.objs)

    def build_world(self, data: st.DataObject) -> None:
        """A reset database, three reviewers, small quotas (so that they fill), and
        enterprises eligible for tech_sme and champion, each with its user, on the rung
        drawn (granted as the CLI grants) and with an application for the rung above
        taken as far as drawn."""
        if getattr(self, "ents", None) is not None:
            return
        drawn = data.draw(world, label="world")
        db.session.remove()
        reset_database(self.app)
        self.now = START
        self.ents: dict[int, ModelEnterprise] = {}
        self.apps: dict[int, ModelApplication] = {}
        self.objs: dict[int, ModelObjection] = {}
        self.reservations: dict[int, str] = {}  # application → tier
        self.quota_changes: Counter[str] = Counter()
        self.objectors = 0
        self.feed_after = 0
        self.replayed: dict[tuple[str, str], tuple[int, Any]] = {}
        self.changed = True
        session = db.session
        with clock.pinned(self.now):
            make = Factories(session)
            self.reviewers = [
                make.user(role=Role.REVIEWER, name=f"reviewer {n}").id for n in range(REVIEWERS)
            ]
            session.commit()
            tiers = {t.code: t for t in session.scalars(select(Tier))}
            self.rank = {code: t.rank for code, t in tiers.items()}
            self.prerequisite = {code: t.prerequisite for code, t in tiers.items()}
            self.required = {code: t.approvals_required for code, t in tiers.items()}
            self.notice_days = {code: t.notice_days for code, t in tiers.items()}
            self.validity = {code: t.validity_value for code, t in tiers.items()}
            self.quota = {code: t.quota for code, t in tiers.items()}
            self.calendar = ladder_queries.work_calendar(session)
            self.audit_floor = session.scalar(select(func.max(AuditEntry.id))) or 0
        session.rollback()
        # The level occupancy may reach: the quota, or the occupancy when it was lowered.
        self.cap = dict(self.quota)
        for code, quota in drawn["quotas"].items():
            self.do_set_quota(code, quota)
        for rung, stage in drawn["enterprises"]:
            enterprise = self.register()
            if rung is not None:
                self.grant_directly(enterprise, rung)
            self.first_application(enterprise, stage)

    def register(self) -> ModelEnterprise:
        """An enterprise created as every writer creates one (its feed entry
        included), its reports for 2024 and 2025, and its user."""

        def operation() -> tuple[Enterprise, User]:
            session = db.session
            enterprise = enterprise_ops.create_enterprise(
                session,
                new_uscc(),
                f"赣江测试{len(self.ents) + 1}有限公司",
                actor=TEST_ACTOR,
                founded_on=date(2015, 1, 1),
                industry_code="electronic_info",
            )
            for year in (2024, 2025):
                enterprise_ops.save_annual_report(
                    session, enterprise, year, ELIGIBLE_REPORT, actor=TEST_ACTOR
                )
            return enterprise, Factories(session).user(enterprise=enterprise)

        enterprise, owner = self.attempt(None, operation)
        model = ModelEnterprise(enterprise.id, enterprise.uscc, owner.id)
        self.ents[model.id] = model
        return model

    def grant_directly(self, model: ModelEnterprise, tier: str) -> None:
        """``flask registry grant``: a designation recorded without an application."""
        full = self.occupancy(tier) + 1 > self.quota[tier]
        done = self.attempt(
            "quota_full" if full else None,
            lambda: ladder.grant_tier(
                db.session, self.enterprise(model.id), tier, actor=TEST_ACTOR, reason="listed"
            ),
        )
        if done is not None:
            model.tier = tier
            since = dates.shanghai_date(self.now)
            model.tier_expires_at = dates.expires_at(self.validity[tier], since)
            model.moves.append("tier.grant")

    def first_application(self, enterprise: ModelEnterprise, stage: int) -> None:
        """An application for the next rung the enterprise may apply for, taken through
        the workflow up to ``stage`` (or up to a refusal the model foresaw)."""
        tier = next((t for t in APPLIED if enterprise.id in self.can_apply(t)), None)
        if stage == NONE or tier is None:
            return
        application = self.do_create(enterprise, tier)
        if application is None:
            return
        steps: list[Callable[[], object]] = [
            lambda: self.do_submit(application),
            lambda: self.do_claim(application, 0),
            lambda: self.do_approve(application, 1),
            lambda: application.state != State.IN_REVIEW or self.do_approve(application, 2),
            lambda: self.do_file_objection(application),
        ]
        for step in steps[: STEPS_TO[stage]]:
            if not step():
                return

    def teardown(self) -> None:
        db.session.remove()

    # --- helpers --------------------------------------------------------------------------

    def attempt(self, refusal: str | None, operation: Callable[[], Any]) -> Any:
        """Run ``operation`` in a transaction of its own at the model's now, committed
        when it succeeds. ``refusal``: the code the registry must refuse it with, or
        None when it must succeed. Returns what the operation returned (None if refused)."""
        session = db.session
        with clock.pinned(self.now):
            try:
                result = operation()
            except DomainError as error:
                session.rollback()
                assert refusal == error.code, f"refused with {error.code} ({error}), not {refusal}"
                return None
            session.commit()
        assert refusal is None, f"accepted, where {refusal} was expected"
        self.changed = True
        return result

    def pick(self, data: st.DataObject, drawn: int, candidates: list[int]) -> int:
        """Mostly one of ``candidates`` (records the step suits), else the bundle's draw."""
        if candidates and data.draw(st.integers(0, 4), label="suited") > 0:
            return data.draw(st.sampled_from(sorted(candidates)), label="among suited")
        return drawn

    def rank_of(self, enterprise: ModelEnterprise) -> int:
        return self.rank[enterprise.tier] if enterprise.tier else 0

    def occupancy(self, tier: str) -> int:
        holders = sum(e.tier == tier for e in self.ents.values())
        return holders + sum(t == tier for t in self.reservations.values())

    def open_application(self, enterprise: ModelEnterprise) -> ModelApplication | None:
        found = [a for a in self.apps.values() if a.enterprise == enterprise.id]
        return next((a for a in found if a.state in OPEN), None)

    def open_objections(self, application: ModelApplication) -> list[ModelObjection]:
        return [
            o for o in self.objs.values() if o.application == application.id and o.state == "open"
        ]

    def in_state(self, *states: State) -> list[int]:
        return [a.id for a in self.apps.values() if a.state in states]

    def holders(self) -> list[int]:
        return [e.id for e in self.ents.values() if e.tier is not None]

    def user(self, user_id: int) -> User:
        return db.session.get_one(User, user_id)

    def application(self, application_id: int) -> Application:
        return db.session.get_one(Application, application_id)

    def enterprise(self, enterprise_id: int) -> Enterprise:
        return db.session.get_one(Enterprise, enterprise_id)

    # --- the model's transitions ----------------------------------------------------------

    def move(self, application: ModelApplication, state: State, action: str) -> None:
        application.state = state
        application.actions.append(f"application.{action}")
        application.changed_at = self.now

    def grant(self, application: ModelApplication, effective_at: datetime) -> None:
        """The end of a notice: the enterprise takes the rung with the reserved slot."""
        enterprise = self.ents[application.enterprise]
        enterprise.tier = application.tier
        since = dates.shanghai_date(effective_at)
        enterprise.tier_expires_at = dates.expires_at(self.validity[application.tier], since)
        enterprise.moves.append("tier.grant")
        del self.reservations[application.id]  # used, not released
        self.move(application, State.GRANTED, "grant")

    def withdraw_designation(self, enterprise: ModelEnterprise) -> None:
        """Demote and revoke: the slot reserved for it released, its open applications
        closed."""
        for application in self.apps.values():
            if application.enterprise == enterprise.id and application.state in OPEN:
                self.reservations.pop(application.id, None)
                self.move(application, State.REJECTED, "close")

    def lapse_model(self, enterprise: ModelEnterprise) -> None:
        enterprise.tier, enterprise.tier_expires_at = None, None
        enterprise.moves.append("tier.lapse")  # closes no application

    # --- the operations, each foreseen by the model ------------------------------------------

    def can_apply(self, tier: str) -> list[int]:
        """Enterprises below ``tier`` holding its prerequisite, with no open application."""
        prerequisite = self.prerequisite[tier]
        least = self.rank[prerequisite] if prerequisite else 0
        return [
            e.id
            for e in self.ents.values()
            if least <= self.rank_of(e) < self.rank[tier] and self.open_application(e) is None
        ]

    def do_create(self, enterprise: ModelEnterprise, tier: str) -> ModelApplication | None:
        if self.rank[tier] <= self.rank_of(enterprise):
            refusal: str | None = "invalid_transition"
        elif self.open_application(enterprise) is not None:
            refusal = "application_open"
        else:
            refusal = None
        created = self.attempt(
            refusal,
            lambda: apps.create(
                db.session,
                self.enterprise(enterprise.id),
                tier,
                "promotion",
                user=self.user(enterprise.owner),
                via="web",
            ),
        )
        if created is None:
            return None
        model = ModelApplication(created.id, enterprise.id, tier)
        self.apps[model.id] = model
        model.actions.append("application.create")
        model.changed_at = self.now
        return model

    def do_submit(self, model: ModelApplication) -> bool:
        enterprise = self.ents[model.enterprise]
        prerequisite = self.prerequisite[model.tier]
        if prerequisite and self.rank_of(enterprise) < self.rank[prerequisite]:
            refusal: str | None = "prerequisite_not_met"
        elif model.state not in (State.DRAFT, State.CHANGES_REQUESTED):
            refusal = "invalid_transition"
        else:
            refusal = None
        done = self.attempt(
            refusal,
            lambda: apps.submit(
                db.session,
                self.application(model.id),
                user=self.user(enterprise.owner),
                via="web",
                declaration=True,
            ),
        )
        if done is None:
            return False
        if model.state == State.DRAFT:
            model.approvals_required = self.required[model.tier]
            self.move(model, State.SUBMITTED, "submit")
        else:
            self.move(model, State.IN_REVIEW, "submit")
        return True

    def do_claim(self, model: ModelApplication, reviewer: int) -> bool:
        suited = model.state in (State.SUBMITTED, State.IN_REVIEW)
        done = self.attempt(
            None if suited else "invalid_transition",
            lambda: apps.claim(
                db.session,
                self.application(model.id),
                user=self.user(self.reviewers[reviewer]),
                via="web",
            ),
        )
        if done is not None:
            self.move(model, State.IN_REVIEW, "claim")
        return done is not None

    def do_approve(self, model: ModelApplication, reviewer: int) -> bool:
        enterprise = self.ents[model.enterprise]
        reviewer_id = self.reviewers[reviewer]
        prerequisite = self.prerequisite[model.tier]
        final = len(model.approvals) + 1 >= model.approvals_required
        refusal: str | None = None
        if model.state != State.IN_REVIEW:
            refusal = "invalid_transition"
        elif reviewer_id in model.approvals:
            refusal = "four_eyes"
        elif final and self.rank_of(enterprise) >= self.rank[model.tier]:
            refusal = "invalid_transition"
        elif final and prerequisite and self.rank_of(enterprise) < self.rank[prerequisite]:
            refusal = "prerequisite_not_met"
        elif final and self.occupancy(model.tier) + 1 > self.quota[model.tier]:
            refusal = "quota_full"
        done = self.attempt(
            refusal,
            lambda: decisions.approve(
                db.session,
                self.application(model.id),
                user=self.user(reviewer_id),
                via="web",
                manual_checks=CONFIRMED,
            ),
        )
        if done is None:
            return False
        model.approvals.add(reviewer_id)
        if not final:
            self.move(model, State.IN_REVIEW, "approve")
            return True
        self.reservations[model.id] = model.tier
        model.notice_ends_at = dates.notice_ends_at(
            self.now, self.notice_days[model.tier], self.calendar
        )
        self.move(model, State.IN_NOTICE, "approve")
        return True

    def do_set_quota(self, tier: str, quota: int) -> None:
        self.attempt(
            None,
            lambda: ladder.set_quota(db.session, tier, quota, actor=TEST_ACTOR, reason="plan"),
        )
        self.quota_changes[tier] += 1
        self.quota[tier] = quota
        # Lowered below the occupancy: allowed, and that occupancy is the cap for now.
        self.cap[tier] = max(quota, self.occupancy(tier))

    def do_file_objection(self, model: ModelApplication) -> ModelObjection | None:
        if model.state != State.IN_NOTICE:
            refusal: str | None = "not_found"
        elif self.now >= model.notice_ends_at:
            refusal = "notice_closed"
        else:
            refusal = None
        self.objectors += 1
        address = f"2001:db8::{self.objectors:x}"  # one each: the hourly limit stays away
        filed = self.attempt(
            refusal,
            lambda: objections.file_objection(
                db.session,
                self.application(model.id),
                name="Citizen Wu",
                contact="wu@example.org",
                grounds="The figures look high.",
                client_address=address,
            ),
        )
        if filed is None:
            return None
        objection = ModelObjection(filed.id, model.id, actions=["objection.create"])
        self.objs[objection.id] = objection
        model.changed_at = self.now
        return objection

    def do_withdraw(self, model: ModelApplication) -> None:
        owner = self.ents[model.enterprise].owner
        done = self.attempt(
            None if model.state in WITHDRAWABLE else "invalid_transition",
            lambda: apps.withdraw(
                db.session, self.application(model.id), user=self.user(owner), via="web"
            ),
        )
        if done is not None:
            self.move(model, State.WITHDRAWN, "withdraw")  # no slot is held before the notice

    def do_send_back(self, model: ModelApplication, reviewer: int, decision: str) -> None:
        """``reject`` or ``request_changes``."""
        done = self.attempt(
            None if model.state == State.IN_REVIEW else "invalid_transition",
            lambda: decisions.decide(
                db.session,
                self.application(model.id),
                decision,
                user=self.user(self.reviewers[reviewer]),
                via="web",
                comment="see the figures",
            ),
        )
        if done is None:
            return
        if decision == "reject":
            self.move(model, State.REJECTED, "reject")
        else:
            model.approvals.clear()  # the approvals given so far no longer count
            self.move(model, State.CHANGES_REQUESTED, "request_changes")

    def do_resolve(self, model: ModelObjection, outcome: str, reviewer: int) -> None:
        application = self.apps[model.application]
        suited = model.state == "open" and application.state == State.IN_NOTICE
        done = self.attempt(
            None if suited else "invalid_transition",
            lambda: objections.resolve(
                db.session,
                db.session.get_one(Objection, model.id),
                outcome,
                user=self.user(self.reviewers[reviewer]),
                via="web",
                comment="checked",
            ),
        )
        if done is None:
            return
        model.state = outcome
        model.actions.append("objection.resolve")
        application.changed_at = self.now
        ends = application.notice_ends_at
        if outcome == "upheld":
            del self.reservations[application.id]
            self.move(application, State.REJECTED, "reject")
        elif ends is not None and ends <= self.now and not self.open_objections(application):
            self.grant(application, max(ends, self.now))

    def due_notices(self) -> list[ModelApplication]:
        """Notices ended with no objection open: tick grants them."""
        return [a for a in self.ended_notices() if not self.open_objections(a)]

    def newly_held(self) -> list[ModelApplication]:
        """Notices ended with an objection open, unchanged since: tick records ``held``."""
        return [
            a
            for a in self.ended_notices()
            if self.open_objections(a) and a.changed_at < a.notice_ends_at
        ]

    def tick_due(self) -> bool:
        return bool(self.due_notices() or self.newly_held() or self.expired())

    def do_tick(self) -> None:
        """``flask registry tick`` as the scheduler runs it: grants, ``held`` recorded,
        lapses, each foreseen and counted in its report."""
        due, held = self.due_notices(), self.newly_held()
        for application in due:
            self.grant(application, application.notice_ends_at)
        for application in held:
            application.changed_at = self.now
        lapsing = self.expired()
        for enterprise in lapsing:
            self.lapse_model(enterprise)
        self.changed = True
        result = self.app.test_cli_runner().invoke(
            args=["registry", "tick", "--now", self.now.isoformat()]
        )
        assert result.exit_code == 0, result.output
        assert "skipped" not in result.output, result.output
        assert (
            f"granted {len(due)} application(s) whose notice ended, recorded {len(held)} held "
            f"by an open objection, lapsed {len(lapsing)} designation(s)"
        ) in result.output, result.output

    def do_lapse(self, model: ModelEnterprise) -> None:
        """One designation lapsed, as tick lapses each (nothing when it has not expired)."""
        expected = model in self.expired()
        event = self.attempt(None, lambda: ladder.lapse_designation(db.session, model.id, self.now))
        assert (event is not None) == expected, f"lapsed: {event is not None}"
        if expected:
            self.lapse_model(model)

    def do_demote(self, model: ModelEnterprise, to_tier: str) -> None:
        if model.tier is None:
            refusal: str | None = "not_on_ladder"
        elif self.rank[to_tier] >= self.rank_of(model):
            refusal = "invalid_transition"
        elif self.occupancy(to_tier) + 1 > self.quota[to_tier]:
            refusal = "quota_full"
        else:
            refusal = None
        done = self.attempt(
            refusal,
            lambda: ladder.demote(
                db.session, self.enterprise(model.id), to_tier, actor=TEST_ACTOR, reason="audit"
            ),
        )
        if done is None:
            return
        today = dates.shanghai_date(self.now)
        model.tier_expires_at = dates.demoted_expiry(
            model.tier_expires_at, self.validity[to_tier], today
        )
        model.tier = to_tier
        model.moves.append("tier.demote")
        self.withdraw_designation(model)

    def do_revoke(self, model: ModelEnterprise) -> None:
        done = self.attempt(
            None if model.tier is not None else "not_on_ladder",
            lambda: ladder.revoke(
                db.session, self.enterprise(model.id), actor=TEST_ACTOR, reason="fraud"
            ),
        )
        if done is None:
            return
        model.tier, model.tier_expires_at = None, None
        model.moves.append("tier.revoke")
        self.withdraw_designation(model)

    # --- what each actor may do now -------------------------------------------------------
    #
    # A rule per actor: it chooses among the operations some record suits now (by
    # WEIGHTS), then the record: mostly a suited one, else the bundle's draw.

    def choose(self, data: st.DataObject, suited: dict[str, list[int]]) -> str:
        """One of the operations some record suits now, by their weights."""
        names = [name for name, ids in suited.items() if ids for _ in range(WEIGHTS[name])]
        return data.draw(st.sampled_from(names), label="operation")

    def objectable(self) -> list[int]:
        """In notice, before its end, with fewer than two objections open."""
        return [
            a.id
            for a in self.apps.values()
            if a.state == State.IN_NOTICE
            and self.now < a.notice_ends_at
            and len(self.open_objections(a)) < 2
        ]

    def resolvable(self) -> list[int]:
        return [
            o.id
            for o in self.objs.values()
            if o.state == "open" and self.apps[o.application].state == State.IN_NOTICE
        ]

    def ended_notices(self) -> list[ModelApplication]:
        return [
            a
            for a in self.apps.values()
            if a.state == State.IN_NOTICE and a.notice_ends_at <= self.now
        ]

    def expired(self) -> list[ModelEnterprise]:
        return [
            e for e in self.ents.values() if e.tier is not None and e.tier_expires_at <= self.now
        ]

    def above(self, tier: str) -> list[int]:
        return [e.id for e in self.ents.values() if self.rank_of(e) > self.rank[tier]]

    def applicant_steps(self) -> dict[str, list[int]]:
        # Its turn: a draft, or changes requested (it may withdraw one under review too:
        # drawn from the bundle).
        turn = self.in_state(State.DRAFT, State.CHANGES_REQUESTED)
        return {"submit": turn, "withdraw": turn}

    def reviewer_steps(self) -> dict[str, list[int]]:
        in_review = self.in_state(State.IN_REVIEW)
        return {
            "claim": self.in_state(State.SUBMITTED),
            "take_over": in_review,  # claimed again, by whoever
            "approve": in_review,
            "reject": in_review,
            "request_changes": in_review,
        }

    def administrator_steps(self) -> dict[str, list[int]]:
        # A quota change matters while a final approval may take a slot.
        wanted = self.in_state(State.IN_REVIEW)
        return {
            "demote": self.above("tech_sme"),
            "revoke": self.holders(),
            "set_quota": [0] if wanted else [],
        }

    def wait(self, data: st.DataObject, days: int) -> None:
        """After each step time passes (until ``LAST``), and the scheduler may run:
        ``tick``, or the lapse of one expired designation as tick lapses each, or
        nothing yet (a notice can end, or a designation expire, before tick runs)."""
        if self.now < LAST:
            self.now += timedelta(days=days)
        if not self.tick_due():
            return
        choices = ["tick", "tick", "later"] + (["lapse"] if self.expired() else [])
        chosen = data.draw(st.sampled_from(choices), label="scheduler")
        if chosen == "tick":
            self.do_tick()
        elif chosen == "lapse":
            expired = [e.id for e in self.expired()]
            self.do_lapse(self.ents[data.draw(st.sampled_from(expired), label="lapsing")])

    @precondition(lambda self: any(self.can_apply(tier) for tier in APPLIED))
    @rule(
        target=applications,
        data=st.data(),
        drawn=enterprises,
        tier=st.sampled_from(APPLIED),
        days=WAIT,
    )
    def create(self, data: st.DataObject, drawn: int, tier: str, days: int) -> Any:
        """An enterprise's user drafts an application."""
        created = self.do_create(self.ents[self.pick(data, drawn, self.can_apply(tier))], tier)
        self.wait(data, days)
        return multiple() if created is None else created.id

    @precondition(lambda self: any(self.applicant_steps().values()))
    @rule(data=st.data(), drawn=applications, days=WAIT)
    def applicant(self, data: st.DataObject, drawn: int, days: int) -> None:
        """The enterprise's user submits or withdraws its application."""
        steps = self.applicant_steps()
        operation = self.choose(data, steps)
        model = self.apps[self.pick(data, drawn, steps[operation])]
        if operation == "submit":
            self.do_submit(model)
        else:
            self.do_withdraw(model)
        self.wait(data, days)

    @precondition(lambda self: any(self.reviewer_steps().values()))
    @rule(data=st.data(), drawn=applications, reviewer=st.integers(0, REVIEWERS - 1), days=WAIT)
    def reviewer(self, data: st.DataObject, drawn: int, reviewer: int, days: int) -> None:
        """A reviewer claims (or takes over), approves, rejects or requests changes."""
        steps = self.reviewer_steps()
        operation = self.choose(data, steps)
        model = self.apps[self.pick(data, drawn, steps[operation])]
        if operation in ("claim", "take_over"):
            self.do_claim(model, reviewer)
        elif operation == "approve":
            self.do_approve(model, reviewer)
        else:
            self.do_send_back(model, reviewer, operation)
        self.wait(data, days)

    @precondition(lambda self: self.objectable())
    @rule(target=objection_ids, data=st.data(), drawn=applications, days=WAIT)
    def file_objection(self, data: st.DataObject, drawn: int, days: int) -> Any:
        """Anyone objects to an application in its notice."""
        filed = self.do_file_objection(self.apps[self.pick(data, drawn, self.objectable())])
        self.wait(data, days)
        return multiple() if filed is None else filed.id

    @precondition(lambda self: self.resolvable())
    @rule(
        data=st.data(),
        drawn=objection_ids,
        outcome=st.sampled_from(["upheld", "dismissed"]),
        reviewer=st.integers(0, REVIEWERS - 1),
        days=WAIT,
    )
    def resolve(
        self, data: st.DataObject, drawn: int, outcome: str, reviewer: int, days: int
    ) -> None:
        """A reviewer upholds or dismisses an objection."""
        self.do_resolve(self.objs[self.pick(data, drawn, self.resolvable())], outcome, reviewer)
        self.wait(data, days)

    @precondition(lambda self: any(self.administrator_steps().values()))
    @rule(
        data=st.data(),
        drawn=enterprises,
        tier=st.sampled_from(RUNGS),
        quota=st.integers(0, 3),
        days=WAIT,
    )
    def administrator(
        self, data: st.DataObject, drawn: int, tier: str, quota: int, days: int
    ) -> None:
        """An administrator demotes or revokes a designation, or changes a quota."""
        steps = self.administrator_steps()
        operation = self.choose(data, steps)
        if operation == "set_quota":
            self.do_set_quota(tier, quota)
        elif operation == "revoke":
            self.do_revoke(self.ents[self.pick(data, drawn, steps[operation])])
        else:
            model = self.ents[self.pick(data, drawn, steps[operation])]
            self.do_demote(model, data.draw(st.sampled_from(DEMOTED_TO), label="to tier"))
        self.wait(data, days)

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def the_registry_agrees(self) -> None:
        session = db.session
        try:
            with read_only():  # the checks write nothing
                self.check_occupancy(session)
                self.check_enterprises(session)
                self.check_applications(session)
                self.check_audit(session)
        finally:
            session.rollback()
        self.check_feed()

    def check_occupancy(self, session: Any) -> None:
        for tier, occupancy in ladder_queries.ladder_overview(session):
            expected = self.occupancy(tier.code)
            assert occupancy.occupancy == expected, f"{tier.code}: {occupancy}, not {expected}"
            assert tier.quota == self.quota[tier.code]
            cap = self.cap[tier.code]
            assert occupancy.occupancy <= cap, f"{tier.code}: {occupancy} over {cap}"
            # Once occupancy falls, the cap falls with it (down to the quota).
            self.cap[tier.code] = max(tier.quota, min(cap, occupancy.occupancy))
        reserved = dict(session.execute(select(Reservation.application_id, Reservation.tier)).all())
        assert reserved == self.reservations

    def check_enterprises(self, session: Any) -> None:
        events: dict[int, list[TierEvent]] = defaultdict(list)
        for event in session.scalars(select(TierEvent).order_by(TierEvent.id)):
            events[event.enterprise_id].append(event)
        for enterprise in session.scalars(select(Enterprise)):
            model = self.ents[enterprise.id]
            fields = ladder_queries.ladder_fields(enterprise)
            assert ladder_queries.replay(events[enterprise.id]) == fields
            assert (fields.tier, fields.tier_expires_at) == (model.tier, model.tier_expires_at)
            kinds = [f"tier.{e.kind}" for e in events[enterprise.id]]
            assert kinds == model.moves, f"{enterprise.uscc}: events {kinds}"

    def check_applications(self, session: Any) -> None:
        states = dict(session.execute(select(Application.id, Application.state)).all())
        assert states == {i: a.state for i, a in self.apps.items()}
        outcomes = dict(session.execute(select(Objection.id, Objection.state)).all())
        assert {i: str(s) for i, s in outcomes.items()} == {
            i: o.state for i, o in self.objs.items()
        }

    def check_audit(self, session: Any) -> None:
        """One audit row per transition, on the object it moved, in order; a slot
        reserved and released once each; one row per quota change."""
        rows = session.execute(
            select(
                AuditEntry.action, AuditEntry.object_type, AuditEntry.object_id, AuditEntry.changes
            )
            .where(AuditEntry.id > self.audit_floor)
            .order_by(AuditEntry.id)
        ).all()
        found: dict[tuple[str, str], list[str]] = defaultdict(list)
        slots: Counter[tuple[str, int]] = Counter()
        quota_changes: Counter[str] = Counter()
        for action, object_type, object_id, changes in rows:
            if action == "tier_settings.update":
                quota_changes[object_id] += 1
            elif action.startswith("reservation."):
                # The slot's application: added by its creation, dropped by its release.
                before, after = changes["application_id"]
                slots[(action, after if before is None else before)] += 1
            elif action.startswith(TRANSITIONS):
                found[(object_type, object_id)].append(action)
        expected = {("application", str(i)): a.actions for i, a in self.apps.items()}
        expected |= {("objection", str(i)): o.actions for i, o in self.objs.items()}
        expected |= {("enterprise", e.uscc): e.moves for e in self.ents.values() if e.moves}
        assert dict(found) == expected
        reserved = Counter(
            ("reservation.create", a.id) for a in self.apps.values() if a.notice_ends_at
        )
        released = Counter(
            ("reservation.release", a.id)
            for a in self.apps.values()
            if a.notice_ends_at and a.state != State.GRANTED and a.id not in self.reservations
        )
        assert slots == reserved + released
        assert quota_changes == self.quota_changes

    def check_feed(self) -> None:
        """The feed's new entries, each newer than the last of its record, replayed on
        what came before, equal a snapshot of now (both read as a peer reads them)."""
        with consistent_read(db.engine) as connection:
            position = feed.Position(feed.epoch(connection), self.feed_after)
            page = feed.read_page(connection, position, 10_000, None)
        assert not page.has_more
        if not self.changed:
            assert not page.rows, "a step that wrote nothing left feed entries"
            return
        self.changed = False
        for _id, type_, key, _op, version, _at, data in page.rows:
            held = self.replayed.get((type_, key))
            assert held is None or version > held[0], f"{type_} {key} v{version} after {held}"
            self.replayed[(type_, key)] = (version, json.loads(data))
        self.feed_after = page.next_after
        with clock.pinned(self.now):
            lines = list(snapshot.lines(db.engine, None, SMALL_TYPES))
        now = {}
        for line in lines:
            record = json.loads(line)
            if "type" in record:
                now[(record["type"], record["key"])] = (record["version"], record["data"])
        # ``held`` turns true when the notice ends with an objection open, not with a
        # write: until tick records it, the last entry shows it false (API.md).
        for application in self.newly_held():
            version, data = now[("application", str(application.id))]
            assert data["held"] is True
            now[("application", str(application.id))] = (version, {**data, "held": False})
        differ = sorted(
            k for k in now.keys() | self.replayed.keys() if now.get(k) != self.replayed.get(k)
        )
        assert not differ, f"the feed replayed differs from the snapshot for {differ}"


def run_machine(app, budget: dict[str, int], *, shrink: bool) -> None:
    machine = type("Workflow", (WorkflowMachine,), {"app": app})
    # No explain phase: it runs the failing example again under a line tracer, minutes
    # here. Shrinking, example by example from a fresh database, takes minutes too: the
    # short form reports the failing run as found (at most SHORT's steps), the long form
    # shrinks it.
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])
    run_state_machine_as_test(
        machine,
        settings=settings(
            **budget,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
            phases=phases,
        ),
    )


def test_workflow_invariants(app):
    run_machine(app, SHORT, shrink=False)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_workflow_invariants_with_more_examples(app):
    run_machine(app, LONG, shrink=True)
