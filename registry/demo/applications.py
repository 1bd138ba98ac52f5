"""Applications in every state, and the users who act on them, for ``flask registry
demo`` (PRODUCT.md "Operation": "… and some applications in each state").

After the enterprises are loaded, :func:`write_applications` signs up the demo users
below and plays a few dozen applications through the real operations
(``registry.applications.operations``), so every transition has its audit entry and
every changed record its change-log entry:

* per state (draft, submitted, in_review, changes_requested, in_notice, granted,
  rejected, withdrawn) :func:`per_state` applications — 1 for N < 32, 2 for N < 317,
  else 3 — alternately for ``tech_sme`` and ``high_tech``, plus one ``champion``
  application of a tech_sme holder with one approval of the two it needs (25 in all
  for ``make run``'s 3 000 and for 1 000 000: about 0.3 s, plus 0.1 s for each demo
  user's scrypt password hash when the users are new);
* the applicants (``registry.demo.applicants``) are enterprises of the registry off the
  ladder (the champion's a tech_sme holder), active, local, in a Jiangxi city, founded
  two years ago or more, never applied before and without users. Each gets an
  enterprise user without a password (it signs in by API token only) and, for the latest
  completed year (the last three for those granted or in notice, as the demo's holders),
  figures that pass the automatic checks of tech_sme, high_tech and champion (the
  figures the demo generated for that year are replaced through ``save_annual_report``);
* the steps happen in the past on one timeline ending now (the clock pinned at each):
  the granted ones were approved about six weeks ago and granted now by
  ``end_notice`` as ``tick`` would; those in notice were approved in the last days.

Quota: grants and notices count toward occupancy. :func:`keep_room` adds them to each
tier's occupancy before the demo plans its ladder, so the tiers stay below 80 % of their
quota; a tier without that room gets no such application (the summary shows it).

Demo users (:data:`DEMO_USERS`): created when their email is not registered yet; an
existing user of that email is used as it is (its password unchanged). The enterprise
users own an application to continue: enterprise1 a draft, enterprise2 one whose
reviewer asked for changes. A second ``demo`` run adds another set of applications
for new applicants; the demo users' own applications are made once, with the users.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import select

from registry.accounts.checks import normalise_email
from registry.accounts.models import Role, User
from registry.accounts.operations import create_user
from registry.applications import decisions, notice_ends, operations
from registry.applications.models import Application, Kind, State
from registry.core import clock
from registry.core.audit import Actor
from registry.core.dbsession import DbSession
from registry.demo.applicants import passing_figures, pick_applicants
from registry.demo.figures import HOLDER_REPORT_YEARS
from registry.demo.plan import TierRoom, tier_ceiling
from registry.enterprises.models import Enterprise
from registry.enterprises.operations import save_annual_report
from registry.ladder import queries as ladder_queries


@dataclass(frozen=True)
class DemoUser:
    """A documented demo account."""

    email: str
    role: Role
    password: str
    name: str = ""


#: The documented demo accounts (README). Their passwords are public: a registry that
#: holds real data must not keep these users.
DEMO_USERS = (
    DemoUser("admin@demo.registry", Role.ADMIN, "Ganjiang-admin-2026", "演示管理员"),
    DemoUser("reviewer1@demo.registry", Role.REVIEWER, "Lushan-review-2026", "演示审核员一"),
    DemoUser("reviewer2@demo.registry", Role.REVIEWER, "Poyang-review-2026", "演示审核员二"),
    # Owns a tech_sme application in draft.
    DemoUser("enterprise1@demo.registry", Role.ENTERPRISE, "Jinggang-firm-2026"),
    # Owns a tech_sme application the reviewer sent back (changes_requested).
    DemoUser("enterprise2@demo.registry", Role.ENTERPRISE, "Wuyuan-firm-2026"),
)
ADMIN, REVIEWER1, REVIEWER2, ENTERPRISE1, ENTERPRISE2 = DEMO_USERS
#: The demo enterprise user who continues an application in that state.
OWNERS = {State.DRAFT: ENTERPRISE1, State.CHANGES_REQUESTED: ENTERPRISE2}

VIA = "cli"
TIERS = ("tech_sme", "high_tech")
#: The steps after ``create`` that bring an application to each state.
#: A reviewer's step names the reviewer: ``claim:1`` is reviewer1's claim.
PATHS: dict[State, tuple[str, ...]] = {
    State.DRAFT: (),
    State.SUBMITTED: ("submit",),
    State.IN_REVIEW: ("submit", "claim:1"),
    State.CHANGES_REQUESTED: ("submit", "claim:1", "request_changes:1"),
    State.IN_NOTICE: ("submit", "claim:1", "approve:1"),
    State.GRANTED: ("submit", "claim:1", "approve:1", "end_notice"),
    State.REJECTED: ("submit", "claim:2", "reject:2"),
    State.WITHDRAWN: ("submit", "withdraw"),
}
#: Taken back from draft, submitted or in review.
WITHDRAWALS = (("withdraw",), ("submit", "withdraw"), ("submit", "claim:2", "withdraw"))
#: Led by reviewer2, approved by reviewer1: one approval of the two a champion needs.
CHAMPION_PATH = ("submit", "claim:2", "approve:1")
SLOT_STATES = (State.IN_NOTICE, State.GRANTED)
COMMENTS = {
    "approve": ("材料齐全，指标符合要求。", "经核查，同意。"),
    "request_changes": (
        "请补充近三年研发费用专项审计报告。",
        "请上传知识产权证书扫描件，并核对科技人员人数。",
    ),
    "reject": ("高新技术产品收入证明材料不足，不予通过。", "研发费用归集不符合要求。"),
}
#: Hours between two steps of one application.
STEP_HOURS = 6
#: Granted applications start this long ago: a 10-working-day notice has ended since.
GRANTED_AGO = timedelta(days=45)


def per_state(count: int) -> int:
    """Applications per state for a demo of ``count`` enterprises (a handful at most)."""
    return min(3, max(1, round(math.log10(count))))


def _slots(count: int) -> Counter[str]:
    """Quota slots the applications of a demo of ``count`` take per tier."""
    k = per_state(count)
    return Counter(TIERS[j % 2] for _state in SLOT_STATES for j in range(k))


def keep_room(tiers: Sequence[TierRoom], count: int) -> tuple[TierRoom, ...]:
    """``tiers`` with the slots the applications will take counted as occupied, for
    the demo's ladder plan."""
    slots = _slots(count)
    return tuple(dataclasses.replace(t, occupancy=t.occupancy + slots[t.code]) for t in tiers)


@dataclass
class Summary:
    """What :func:`write_applications` did, for the command's output."""

    states: Counter[State] = field(default_factory=Counter)
    champion: int = 0
    created: list[DemoUser] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


@dataclass
class _Story:
    state: State
    tier: str
    steps: tuple[str, ...]
    times: list[datetime]
    owner: DemoUser | None = None
    # Set as the story is told: _prepare, then step 0 of _advance.
    enterprise: Enterprise = field(init=False)
    applicant: User = field(init=False)
    application: Application = field(init=False)


def write_applications(session: DbSession, count: int, rng: random.Random) -> Summary:
    """The demo users and applications (module doc), in the current transaction; the
    caller commits. A refusal of an operation propagates: nothing is hidden."""
    now = clock.now()
    summary = Summary()
    reviewers = {"1": _demo_user(session, REVIEWER1, summary)}
    reviewers["2"] = _demo_user(session, REVIEWER2, summary)
    _demo_user(session, ADMIN, summary)
    owners = {}
    for state, demo in OWNERS.items():
        if _user(session, demo.email) is None:
            owners[state] = demo
        else:  # its application was made with it
            summary.kept.append(demo.email)
    stories = _plan(session, count, rng, now, owners)
    # Off the ladder, registered for long enough (high_tech asks for a year).
    old = Enterprise.founded_on <= clock.today() - timedelta(days=2 * 366)
    applicants = pick_applicants(session, rng, len(stories), Enterprise.tier.is_(None), old)
    stories = stories[: len(applicants)]  # fewer when the registry is small
    holder = (Enterprise.tier == "tech_sme", Enterprise.tier_expires_at > now)
    for champion in pick_applicants(session, rng, 1, *holder):  # the prerequisite rung
        times = _times(rng, now, 1 + len(CHAMPION_PATH), State.IN_REVIEW)
        stories.append(_Story(State.IN_REVIEW, "champion", CHAMPION_PATH, times))
        applicants.append(champion)
    for story, enterprise in zip(stories, applicants, strict=True):
        _prepare(session, story, enterprise, rng, summary)
    events = sorted((at, i, k) for i, s in enumerate(stories) for k, at in enumerate(s.times))
    for at, i, k in events:
        with clock.pinned(at):
            _advance(session, stories[i], k, reviewers, rng)
    for story in stories:
        if story.tier == "champion":
            summary.champion += 1
        else:
            summary.states[story.application.state] += 1
    return summary


def _demo_user(
    session: DbSession, demo: DemoUser, summary: Summary, enterprise: Enterprise | None = None
) -> User:
    """The demo user of that email: the one registered already, else a new one."""
    user = _user(session, demo.email)
    if user is not None:
        summary.kept.append(demo.email)
        return user
    summary.created.append(demo)
    return create_user(
        session,
        demo.email,
        role=demo.role,
        actor=Actor.system(VIA),
        password=demo.password,
        enterprise=enterprise,
        name=demo.name or (enterprise and enterprise.contact_name) or "",
    )


def _user(session: DbSession, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == normalise_email(email))).one_or_none()


def _plan(
    session: DbSession,
    count: int,
    rng: random.Random,
    now: datetime,
    owners: dict[State, DemoUser],
) -> list[_Story]:
    """The stories: those of the new demo enterprise users (``owners``) first, then
    round-robin over the states (so that a small registry still gets every state).
    In-notice and granted ones only while their tier has room below 80 % of its quota."""
    room = {
        t.code: tier_ceiling(t.quota) - occ.occupancy
        for t, occ in ladder_queries.ladder_overview(session)
    }
    stories = [_story(state, "tech_sme", rng, now, owner) for state, owner in owners.items()]
    for j in range(per_state(count)):
        for state in PATHS:
            tier = TIERS[j % 2]
            if state in SLOT_STATES:
                if room.get(tier, 0) <= 0:
                    continue
                room[tier] -= 1
            stories.append(_story(state, tier, rng, now))
    return stories


def _story(
    state: State, tier: str, rng: random.Random, now: datetime, owner: DemoUser | None = None
) -> _Story:
    steps = WITHDRAWALS[rng.randrange(3)] if state == State.WITHDRAWN else PATHS[state]
    return _Story(state, tier, steps, _times(rng, now, 1 + len(steps), state), owner)


def _times(rng: random.Random, now: datetime, n: int, state: State) -> list[datetime]:
    """When each of the ``n`` steps (create included) happens, ``STEP_HOURS`` apart.
    A grant: from ``GRANTED_AGO``, its last step (the end of the notice) now; in notice:
    approved in the last three days (the notice still runs); others: in the last month."""
    gap = timedelta(hours=STEP_HOURS)
    if state == State.GRANTED:
        start = now - GRANTED_AGO + timedelta(minutes=rng.randrange(24 * 60))
        return [start + i * gap for i in range(n - 1)] + [now]
    days = 3 if state == State.IN_NOTICE else 30
    start = now - timedelta(minutes=rng.randrange(60, days * 24 * 60)) - (n - 1) * gap
    return [start + i * gap for i in range(n)]


def _prepare(
    session: DbSession, story: _Story, enterprise: Enterprise, rng: random.Random, summary: Summary
) -> None:
    """The applicant, its user, and figures that pass the automatic checks."""
    story.enterprise = enterprise
    if story.owner is not None:
        story.applicant = _demo_user(session, story.owner, summary, enterprise)
    else:
        story.applicant = create_user(
            session,
            f"{enterprise.uscc.lower()}@demo.registry",
            role=Role.ENTERPRISE,
            actor=Actor.system(VIA),
            enterprise=enterprise,
            name=enterprise.contact_name or "",
        )
    latest = clock.today().year - 1
    actor = Actor.of(story.applicant, VIA)
    # Those about to hold a tier report three years (from their founding), as the demo's
    # holders do.
    first = latest - (HOLDER_REPORT_YEARS if story.state in SLOT_STATES else 1) + 1
    for year in range(max(first, cast(date, enterprise.founded_on).year), latest + 1):
        save_annual_report(session, enterprise, year, passing_figures(rng), actor=actor)


def _advance(
    session: DbSession, story: _Story, k: int, reviewers: dict[str, User], rng: random.Random
) -> None:
    """Step ``k`` of ``story`` at the pinned clock (step 0 creates the application)."""
    if k == 0:
        story.application = operations.create(
            session, story.enterprise, story.tier, Kind.PROMOTION, user=story.applicant, via=VIA
        )
        return
    step, _, who = story.steps[k - 1].partition(":")
    application, applicant = story.application, story.applicant
    if step == "submit":
        operations.submit(session, application, user=applicant, via=VIA, declaration=True)
    elif step == "withdraw":
        operations.withdraw(session, application, user=applicant, via=VIA)
    elif step == "end_notice":
        if notice_ends.end_notice(session, application.id, clock.now()) is None:
            raise RuntimeError(f"demo application {application.id} was not granted")
    elif step == "claim":
        operations.claim(session, application, user=reviewers[who], via=VIA)
    else:  # approve, reject, request_changes
        comment = rng.choice(COMMENTS[step])
        confirmed: dict[str, Any] = {}
        if step == "approve":
            checks = (application.eligibility or {})["checks"]
            manual = [c["code"] for c in checks if c["status"] == "manual"]
            score = rng.randint(72, 92) if story.tier == "high_tech" else None
            confirmed = {"manual_checks": dict.fromkeys(manual, True), "innovation_score": score}
        decisions.decide(
            session, application, step, user=reviewers[who], via=VIA, comment=comment, **confirmed
        )


def describe(summary: Summary) -> str:
    """The command's lines on the applications and the demo users (with passwords)."""
    states = ", ".join(f"{summary.states[state]} {state}" for state in PATHS)
    lines = [f"demo applications: {states}; {summary.champion} champion with 1 of 2 approvals"]
    for user in summary.created:
        lines.append(f"demo user {user.email} ({user.role}), password {user.password}")
    if summary.kept:
        lines.append(f"demo users already there, left as they were: {', '.join(summary.kept)}")
    return "\n".join(lines)
