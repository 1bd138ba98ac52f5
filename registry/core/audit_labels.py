"""Words for the audit log's codes (QUALITY.md U4): what each action, kind of object and
way in is called where people read the log or an application's history, in the
request's language. The codes themselves stay what the log stores and the API and the
filters speak.

An action without a label here is shown by :func:`action_label` as its code; the
usability walk over every page (``tests/web/test_usability.py``) fails on it.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from registry.core.audit import SYSTEM_NAME

ACTION_LABELS = {
    "account_claim.create": _l("Account claim filed"),
    "account_claim.confirm": _l("Account claim confirmed"),
    "account_claim.refuse": _l("Account claim refused"),
    "annual_report.create": _l("Annual report filed"),
    "annual_report.update": _l("Annual report changed"),
    "application.create": _l("Application created"),
    "application.edit": _l("Application edited"),
    "application.submit": _l("Application submitted"),
    "application.claim": _l("Review taken up"),
    "application.approve": _l("Approved"),
    "application.reject": _l("Rejected"),
    "application.request_changes": _l("Changes requested"),
    "application.withdraw": _l("Application withdrawn"),
    "application.grant": _l("Tier granted after the notice"),
    "application.close": _l("Application closed by the registry"),
    "attachment.add": _l("File attached"),
    "attachment.delete": _l("File removed"),
    "enterprise.create": _l("Enterprise registered"),
    "enterprise.update": _l("Enterprise details changed"),
    "enterprise.status": _l("Enterprise status changed"),
    "enterprise.verify": _l("Enterprise verified"),
    "criteria.create": _l("Criteria version added"),
    "criteria.edit": _l("Thresholds edited: a new criteria version"),
    "criteria.update": _l("Criteria version updated"),
    "objection.create": _l("Objection filed"),
    "objection.resolve": _l("Objection resolved"),
    "plan.update": _l("Plan period changed"),
    "renewal_hold.create": _l("Renewal place held"),
    "renewal_hold.release": _l("Renewal place released"),
    "reservation.create": _l("Quota place reserved"),
    "reservation.release": _l("Quota place released"),
    "sync_source.create": _l("Sync source added"),
    "sync_source.token": _l("Sync source token replaced"),
    "tier.grant": _l("Tier granted"),
    "tier.renew": _l("Tier renewed"),
    "tier.lapse": _l("Tier lapsed"),
    "tier.demote": _l("Demoted"),
    "tier.revoke": _l("Tier revoked"),
    "tier_settings.create": _l("Tier settings created"),
    "tier_settings.update": _l("Tier settings changed"),
    "token.create": _l("API token created"),
    "token.revoke": _l("API token revoked"),
    "user.create": _l("User created"),
    "user.update": _l("User changed"),
    "user.link": _l("User linked to an enterprise"),
    "user.password": _l("Password changed"),
    "user.password_reset": _l("Password reset by an administrator"),
}
OBJECT_LABELS = {
    "account_claim": _l("Account claim"),
    "annual_report": _l("Annual report"),
    "application": _l("Application"),
    "attachment": _l("File"),
    "enterprise": _l("Enterprise"),
    "objection": _l("Objection"),
    "plan": _l("The plan"),
    "renewal_hold": _l("Renewal hold"),
    "reservation": _l("Quota reservation"),
    "sync_source": _l("Sync source"),
    "tier": _l("Tier"),
    "token": _l("API token"),
    "user": _l("User"),
}
VIA_LABELS = {
    "web": _l("Web page"),
    "api": _l("REST API"),
    "cli": _l("Command line"),
    "tick": _l("Scheduled task"),
    "sync": _l("Synchronisation"),
}


def action_label(action: str) -> str:
    """The action in words (its code when it has none yet)."""
    return str(ACTION_LABELS.get(action, action))


#: The reasons the registry itself writes (the system acting, the seed, the demo),
#: stored as these codes in the audit log and tier events (and so in the API).
SYSTEM_REASONS = {
    "notice ended": _l("The public notice ended"),
    "renewal approved": _l("The renewal was approved"),
    "expired": _l("The designation expired"),
    "demote": _l("Demoted"),
    "seed": _l("Seed data"),
    "seed --force": _l("Seed data, rewritten"),
    "demo data": _l("Demo data"),
    "status:deregistered": _l("The enterprise was deregistered"),
    "status:merged": _l("The enterprise was merged into another"),
    "status:active": _l("The enterprise is active again"),
}


def reason_text(reason: str | None) -> str:
    """A stored reason as people read it: the registry's own in words, a person's as
    they wrote it."""
    if not reason:
        return ""
    return str(SYSTEM_REASONS.get(reason, reason))


def actor_text(name: str, user_id: int | None) -> str:
    """Who acted: a person by the name recorded, the registry itself in words."""
    return name if user_id is not None or name != SYSTEM_NAME else str(_l("The registry"))
