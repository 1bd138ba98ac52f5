"""The ladder history of one demo batch: which enterprise held which tier when, as the
steps (tier events) each went through, spread over the last two years so that the
monthly moves and the holders over time have a shape. Pure: dates only, no database
(the registration numbers are issued when the batch is written).

The batch's current holders of a tier (its share of the plan, ``registry.demo.plan``)
are that tier's *slots*. A slot's holder entered the tier at some instant: by a grant
(since a date spread over the 24 months and a little before, 3 % of them expired a
little while ago and waiting for ``tick``), or by a promotion from the rung below, or a
demotion from the one above, after holding that rung for a while. Before that instant
a slot may have had one earlier holder, who left by a lapse at the expiry or a
revocation — or moved to another slot by that promotion or demotion. So at every
instant a tier has at most as many holders as it has now: the quotas and the 80 % cap
of the plan hold over the whole history, not only today. Holders keep their
designation valid by renewals in the 90 days before each expiry (PRODUCT.md "The
ladder"), and most of those whose window is open today have renewed already; tech_sme
designations end on 1 January, so January sees lapses.

Every step follows the rules of ``registry.ladder.operations``: a grant takes effect
at 00:00 of its ``tier_since``; a demotion starts a designation on its day with the
earlier of the two expiries; a renewal adds one validity period and keeps the rest; a
lapse takes effect at the expiry; nothing happens after now. An enterprise's steps are
in time order, so replaying them gives its current ladder fields.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast

from registry.demo.plan import DemoSpec, TierRoom
from registry.ladder import dates

#: The months the history is spread over: the current Beijing month and the 23 before.
MONTHS = 24
#: Current holders' grants start this many days before those months, too.
LEAD_DAYS = 120
#: Share of the current designations that have run out already (waiting for ``tick``).
EXPIRED_SHARE = 0.03
#: Share of a tier's slots that had an earlier holder who left (lapse or revocation).
PAST_SHARE = {"tech_sme": 0.7}
PAST_SHARE_OTHERS = 0.3
#: Of those earlier holders, the share revoked rather than lapsed.
REVOKED_SHARE = 0.12
#: Of the tech_sme designations that lapsed, the share renewed once before.
RENEWED_BEFORE_LAPSE = 0.3
#: (tier, the rung it came from, share of its holders who did): promotions, demotions.
MOVES = (
    ("chain_leader", "champion", 0.6),
    ("navigator", "champion", 0.6),
    ("champion", "tech_sme", 0.5),
    ("high_tech", "champion", 0.05),
    ("high_tech", "tech_sme", 0.08),
    ("tech_sme", "high_tech", 0.04),
)
#: A renewal may be granted in the days before the expiry (PRODUCT.md "Renewal").
RENEWAL_DAYS = 90
#: Share of the current holders whose renewal window is open that renewed already.
EARLY_RENEWAL_SHARE = 0.6
#: Beijing hours of the day at which reviewers demote or revoke, and renewals are granted.
DECISION_HOUR = 10
RENEWAL_HOUR = 15

GRANT, RENEW, DEMOTE, REVOKE, LAPSE = "grant", "renew", "demote", "revoke", "lapse"
#: The steps that start a designation, with a new registration number.
ISSUING = frozenset({GRANT, DEMOTE})


@dataclass(frozen=True)
class Step:
    """One tier event: the ladder fields after it (all None once off the ladder)."""

    kind: str
    at: datetime  # effective_at, aware UTC
    from_tier: str | None
    to_tier: str | None
    since: date | None = None
    expires_at: datetime | None = None
    ban_until: date | None = None


@dataclass
class Story:
    """The steps of one enterprise, oldest first; ``top`` is the highest tier it held."""

    steps: list[Step] = field(default_factory=list)
    top: str = ""

    @property
    def tier(self) -> str | None:
        """The tier it holds now (None: it left the ladder)."""
        return self.steps[-1].to_tier

    @property
    def first_since(self) -> date:
        return dates.shanghai_date(self.steps[0].at)

    @property
    def ban_until(self) -> date | None:
        return self.steps[-1].ban_until


@dataclass
class _Slot:
    """A current holder's place on its tier: when it entered the tier, how, and whether
    an earlier holder's time on the tier is taken already (it ends before ``entered``)."""

    tier: TierRoom
    since: date
    expired: bool
    entered: datetime
    source: Story | None = None  # the steps before a promotion or demotion into it
    kind: str = GRANT
    taken: bool = False


def window_start(today: date) -> date:
    """The first day of the oldest of the MONTHS Beijing months ending with today's."""
    return dates.month_first_day(dates.month_index(today) - (MONTHS - 1))


def stories(spec: DemoSpec, holders: dict[str, int], rng: random.Random) -> list[Story]:
    """The histories of the batch's ladder enterprises: first one per current holder
    (``holders`` per tier, in tier order), then the earlier holders who left."""
    tiers = {t.code: t for t in spec.tiers}
    ranks = {t.code: t.rank for t in spec.tiers}
    start = window_start(spec.today)
    slots = {
        code: [_slot(rng, tiers[code], spec.today, start) for _ in range(k)]
        for code, k in holders.items()
    }
    for target, source, share in MOVES:
        for slot in slots.get(target, ()):
            if rng.random() < share:
                _move_in(rng, slot, tiers[source], slots.get(source, []), spec.today)
    current = []
    for code in holders:
        for slot in slots[code]:
            story = slot.source or Story()
            story.steps.append(_entry_step(slot, story))
            if not slot.expired:
                _renew_until(rng, story, slot.tier, spec.at)
                if rng.random() < EARLY_RENEWAL_SHARE:
                    _renew_early(rng, story, slot.tier, spec.today)
            current.append(story)
    gone = []
    for code in holders:
        for slot in slots[code]:
            if not slot.taken and rng.random() < PAST_SHARE.get(code, PAST_SHARE_OTHERS):
                left = _left(rng, slot, start, spec.today)
                if left is not None:
                    gone.append(left)
    for story in current + gone:
        story.top = max((s.to_tier for s in story.steps if s.to_tier), key=ranks.__getitem__)
    return current + gone


def _slot(rng: random.Random, tier: TierRoom, today: date, start: date) -> _Slot:
    """A current holder's grant: spread from a little before the window (far enough back
    for a 3-year designation to have been renewed once) to today."""
    years = _years(tier.validity)
    if rng.random() < EXPIRED_SHARE:
        if years is None:  # given last year, ended on 1 January
            since = date(today.year - 1, 1, 1) + timedelta(days=rng.randrange(365))
        else:
            since = today - timedelta(days=365 * years + 5 + rng.randrange(200))
        return _Slot(tier, since, True, dates.shanghai_midnight(since))
    earliest = start - timedelta(days=LEAD_DAYS)
    if years is not None:
        earliest = min(earliest, today - timedelta(days=365 * years + LEAD_DAYS))
    since = earliest + timedelta(days=rng.randrange((today - earliest).days + 1))
    return _Slot(tier, since, False, dates.shanghai_midnight(since))


def _move_in(
    rng: random.Random, slot: _Slot, source: TierRoom, sources: list[_Slot], today: date
) -> None:
    """Make ``slot``'s holder one who came from ``source`` (a promotion when it ranks
    lower, else a demotion), holding it from some months before, in a slot of
    ``source`` whose own holder entered later. Nothing when there is none."""
    if slot.expired or slot.source is not None:
        return
    promotion = source.rank < slot.tier.rank
    if promotion:
        entered = dates.shanghai_midnight(slot.since)
    elif slot.since < today:  # a reviewer's decision, during a day already past
        entered = _at(rng, slot.since, DECISION_HOUR)
    else:
        return
    # Strictly later: never two holders of one slot at the same instant.
    free = [s for s in sources if not s.taken and s.entered > entered]
    if not free:
        return
    rng.choice(free).taken = True
    held_from = slot.since - timedelta(days=20 + rng.randrange(680))
    story = Story([_grant(source, held_from)])
    _renew_until(rng, story, source, entered)
    slot.source, slot.entered = story, entered
    slot.kind = GRANT if promotion else DEMOTE


def _entry_step(slot: _Slot, story: Story) -> Step:
    """The step that put the slot's holder on its tier (after ``story``'s steps)."""
    tier = slot.tier
    if slot.kind == DEMOTE:
        before = story.steps[-1]
        expires = dates.demoted_expiry(before.expires_at, tier.validity, slot.since)
        return Step(DEMOTE, slot.entered, before.to_tier, tier.code, slot.since, expires)
    return _grant(tier, slot.since, story.tier if story.steps else None)


def _grant(tier: TierRoom, since: date, from_tier: str | None = None) -> Step:
    """A grant of ``tier`` since ``since`` (at 00:00 that day, as grant_tier records it)."""
    expires = dates.expires_at(tier.validity, since)
    return Step(GRANT, dates.shanghai_midnight(since), from_tier, tier.code, since, expires)


def _renew_until(rng: random.Random, story: Story, tier: TierRoom, until: datetime) -> None:
    """Renew the story's current designation, each time in the renewal window before
    its expiry, until it is still valid at ``until``."""
    while True:
        last = story.steps[-1]
        if cast(datetime, last.expires_at) > until:  # a designation's
            return
        story.steps.append(_renewal(rng, last, tier))


def _renew_early(rng: random.Random, story: Story, tier: TierRoom, today: date) -> None:
    """Renew the story's designation already when its renewal window has opened (on a
    day before today: the renewal's hour has passed)."""
    last = story.steps[-1]
    if _window(last)[0] < today:
        story.steps.append(_renewal(rng, last, tier, today - timedelta(days=1)))


def _window(last: Step) -> tuple[date, date]:
    """The days on which ``last``'s designation may be renewed, after ``last``."""
    final = dates.last_day(cast(datetime, last.expires_at))  # a designation's
    return max(dates.shanghai_date(last.at), final - timedelta(days=RENEWAL_DAYS - 1)), final


def _renewal(rng: random.Random, last: Step, tier: TierRoom, latest: date | None = None) -> Step:
    """The renewal of ``last``'s designation on a day of its window after ``last`` (and
    not after ``latest``)."""
    old = cast(datetime, last.expires_at)  # a designation's
    first, final = _window(last)
    if latest is not None:
        final = min(final, latest)
    day = first + timedelta(days=rng.randrange((final - first).days + 1))
    expires = dates.renewed_expiry(tier.validity, old)
    return Step(RENEW, _at(rng, day, RENEWAL_HOUR), tier.code, tier.code, last.since, expires)


def _left(rng: random.Random, slot: _Slot, start: date, today: date) -> Story | None:
    """An earlier holder of ``slot``'s tier who left it within the window, before the
    slot's holder entered: revoked, or lapsed at the expiry. None when it cannot fit."""
    tier = slot.tier
    # A day before the slot's holder entered, and before today (a decision's hour has
    # passed then, and a lapse at 00:00 of that day is over).
    last_day = min(dates.shanghai_date(slot.entered), today) - timedelta(days=1)
    if last_day < start:
        return None
    if rng.random() < REVOKED_SHARE:
        day = start + timedelta(days=rng.randrange((last_day - start).days + 1))
        held_from = day - timedelta(days=30 + rng.randrange(370))
        story = Story([_grant(tier, held_from)])
        revoked_at = _at(rng, day, DECISION_HOUR)
        _renew_until(rng, story, tier, revoked_at)
        ban = day + timedelta(days=365 * rng.randint(1, 2)) if rng.random() < 0.5 else None
        story.steps.append(Step(REVOKE, revoked_at, tier.code, None, ban_until=ban))
        slot.taken = True
        return story
    years = _years(tier.validity)
    renewals = 0
    if years is None:  # tech_sme: a designation lapses on 1 January
        ends = [date(y, 1, 1) for y in range(start.year, last_day.year + 1)]
        ends = [d for d in ends if start <= d <= last_day]
        if not ends:
            return None
        end = ends[-1] if rng.random() < 0.5 else rng.choice(ends)
        renewals = int(rng.random() < RENEWED_BEFORE_LAPSE)
        year = end.year - 1 - renewals
        held_from = date(year, 1, 1) + timedelta(days=rng.randrange(365))
    else:
        end = start + timedelta(days=rng.randrange((last_day - start).days + 1))
        held_from = _years_before(end, years)
    story = Story([_grant(tier, held_from)])
    for _ in range(renewals):
        story.steps.append(_renewal(rng, story.steps[-1], tier))
    lapsed_at = cast(datetime, story.steps[-1].expires_at)  # a designation's
    story.steps.append(Step(LAPSE, lapsed_at, tier.code, None))
    slot.taken = True
    return story


def _years(validity: str | int) -> int | None:
    """Whole years of a validity; None for the calendar year (tech_sme)."""
    return None if validity == dates.CALENDAR_YEAR else int(validity)


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return date(d.year - years, 2, 28)


def _at(rng: random.Random, day: date, hour: int) -> datetime:
    """A moment of ``day`` (Beijing) in the two hours from ``hour``."""
    return dates.shanghai_midnight(day) + timedelta(hours=hour, minutes=rng.randrange(120))
