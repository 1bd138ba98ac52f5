"""Whether an enterprise may climb to a tier: the rank and prerequisite rules an
application meets at each of its steps (PRODUCT.md "Applications and review"). Applications ask
here rather than read the ladder's tables; the tier's own criteria are the eligibility evaluation's
(:func:`registry.ladder.queries.evaluate_enterprise`).
"""

from __future__ import annotations

from typing import Literal

from registry.core.dbsession import DbSession
from registry.core.errors import (
    InvalidTransition,
    NominationOnly,
    PrerequisiteNotMet,
    ValidationFailed,
)
from registry.enterprises.models import Enterprise
from registry.ladder import queries
from registry.ladder.holds import check_renewal_window
from registry.ladder.models import Tier

#: ``target``: an application is created or edited; ``submit``: it is submitted;
#: ``approve``: its final approval.
Step = Literal["target", "submit", "approve"]


def check_climb(
    session: DbSession,
    enterprise: Enterprise,
    tier_code: str,
    kind: str,
    *,
    step: Step,
    nomination: bool = False,
) -> Tier:
    """The tier ``tier_code``, provided ``enterprise`` may aim at it by an application
    of ``kind`` (``promotion`` or ``renewal``) at ``step``; else the refusal.

    * ``target``: a known tier (``validation_failed``), open to self-application unless
      it is a ``nomination`` (``nomination_only``); a promotion above the rung held, a
      renewal of the rung held within its renewal window (``invalid_transition``,
      ``renewal_window_closed``).
    * ``submit``: a promotion needs the tier's prerequisite rung held
      (``prerequisite_not_met``).
    * ``approve``: a promotion must still be above the rung held
      (``invalid_transition``) and the prerequisite still held.
    """
    if step == "target":
        return _check_target(session, enterprise, tier_code, kind, nomination=nomination)
    tier = session.get_one(Tier, tier_code)  # checked at ``target``
    if kind != "promotion":
        return tier
    ranks = queries.tier_ranks(session)
    if step == "approve" and enterprise.tier is not None:
        if ranks[enterprise.tier] >= ranks[tier.code]:
            raise InvalidTransition(
                "%(uscc)s already holds %(tier)s or a higher tier.",
                uscc=enterprise.uscc,
                tier=tier.code,
            )
    _check_prerequisite(ranks, enterprise, tier)
    return tier


def _check_target(
    session: DbSession, enterprise: Enterprise, tier_code: str, kind: str, *, nomination: bool
) -> Tier:
    tier = session.get(Tier, tier_code)
    if tier is None:
        raise ValidationFailed("Unknown tier %(tier)s.", tier=tier_code)
    if not nomination and not tier.self_apply:
        raise NominationOnly("%(tier)s is reached by nomination only.", tier=tier.code)
    ranks = queries.tier_ranks(session)
    current = ranks[enterprise.tier] if enterprise.tier else 0
    if kind == "promotion" and ranks[tier.code] <= current:
        raise InvalidTransition("A promotion must be for a tier above the current one.")
    if kind == "renewal":
        if enterprise.tier != tier.code:
            raise InvalidTransition("A renewal is for the tier currently held.")
        check_renewal_window(enterprise)
    return tier


def _check_prerequisite(ranks: dict[str, int], enterprise: Enterprise, tier: Tier) -> None:
    if tier.prerequisite is None:
        return
    current = ranks.get(enterprise.tier) if enterprise.tier else None
    if current is None or current < ranks[tier.prerequisite]:
        raise PrerequisiteNotMet(
            "%(tier)s needs at least %(prerequisite)s.",
            tier=tier.code,
            prerequisite=tier.prerequisite,
        )
