"""The audit log as people read it (QUALITY.md U4): actions, objects and ways in by their
names, each changed field by its label and each value as the pages show it — a tier by
its name, a user or an enterprise by its name, a state, a role or a yes/no in words, an
instant in Beijing time. The log itself keeps the codes and ids it stores.

Field labels come from the forms that edit the fields (one wording for a field
everywhere), with the workflow's own fields added here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from wtforms.fields.core import UnboundField

from registry.accounts.models import User
from registry.admin.forms import (
    ROLE_LABELS,
    SCOPE_LABELS,
    NewUserForm,
    PlanSettingsForm,
    TierSettingsForm,
)
from registry.applications.labels import KIND_LABELS, OBJECTION_LABELS, STATE_LABELS
from registry.applications.review_forms import CLAIM_STATE_LABELS
from registry.core.audit_labels import OBJECT_LABELS, VIA_LABELS, action_label
from registry.core.clock import SHANGHAI
from registry.core.dbsession import DbSession
from registry.core.i18n import current_language
from registry.core.models import AuditEntry
from registry.enterprises.forms import AnnualReportForm, ProfileForm
from registry.enterprises.labels import STATUS_LABELS
from registry.enterprises.models import City, Enterprise, Industry
from registry.ladder import dates
from registry.ladder.labels import ROUTE_LABELS
from registry.ladder.queries import tier_names


def _form_labels(*forms: type) -> dict[str, Any]:
    """Each field's label, from the forms' declared fields."""
    labels: dict[str, Any] = {}
    for form in forms:
        for name, field in vars(form).items():
            if isinstance(field, UnboundField):
                label = field.kwargs.get("label", field.args[0] if field.args else None)
                if label is not None:
                    labels.setdefault(name, label)
    return labels


#: Fields no form edits: the workflow's, the ladder's, the records' own and those of
#: users, tokens, files and sync sources. Every field an audit entry can record has a
#: label here or on a form (tests/admin/test_audit_fields.py reads them from the code).
_WORKFLOW_FIELDS = {
    "state": _l("State"),
    "tier": _l("Tier"),
    "kind": _l("Kind"),
    "claimed_by": _l("Reviewer"),
    "approvals": _l("Approvals"),
    "application_id": _l("Application"),
    "enterprise": _l("Enterprise"),
    "enterprise_id": _l("Enterprise"),
    "uscc": _l("Unified social credit code"),
    "registration_number": _l("Registration number"),
    "tier_since": _l("Tier held since"),
    "tier_expires_at": _l("Tier valid until"),
    "ban_until": _l("No application until"),
    "status": _l("Status"),
    "merged_into": _l("Merged into"),
    "verified": _l("Verified"),
    "source_version": _l("Version at the source"),
    "year": _l("Year"),
    # A user's: whether the account may sign in ("Active" is an enterprise's status).
    "active": _l("Account enabled"),
    "role": _l("Role"),
    "email": _l("Email"),
    "user": _l("User"),
    "name": _l("Name"),
    "name_zh": _l("Name in Chinese"),
    "name_en": _l("Name in English"),
    "rank": _l("Rank on the ladder"),
    "criteria": _l("Criteria"),
    "effective_from": _l("In force from"),
    "route": _l("Route"),
    "tier_route": _l("Route"),
    "little_giant": _l("Little giant"),
    "scopes": _l("Scopes"),
    "prefix": _l("Token prefix"),
    "revoked": _l("Revoked"),
    "attachment": _l("File"),
    "label": _l("File name"),
    "size": _l("Size"),
    "sha256": _l("SHA-256 digest"),
    "base_url": _l("Address"),
}


def field_label(name: str) -> str:
    """A changed field's label (its name when no form or list knows it)."""
    labels = _form_labels(
        ProfileForm, AnnualReportForm, TierSettingsForm, PlanSettingsForm, NewUserForm
    )
    return str(_WORKFLOW_FIELDS.get(name) or labels.get(name) or name)


#: Fields whose values are written in one language whatever the page's.
_VALUE_LANG = {"name_zh": "zh-Hans", "name_en": "en"}


@dataclass
class Change:
    """A changed field: its label, the value before (None: the entry names one value)
    and after, and the values' own language where it is fixed."""

    label: str
    before: str | None
    after: str
    lang: str | None = None


@dataclass
class AuditLine:
    """One entry as the log's page shows it."""

    entry: AuditEntry
    action: str
    via: str
    object_label: str
    object_name: str
    changes: list[Change]


class _Names:
    """The names an entry's ids and codes stand for, loaded once for a page of entries."""

    def __init__(self, session: DbSession, entries: list[AuditEntry]) -> None:
        lang = current_language()
        self.tiers = tier_names(session, lang)
        user_ids = {e.actor_id for e in entries if e.actor_id is not None}
        usccs: set[str] = set()
        enterprise_ids: set[int] = set()
        for e in entries:
            for name, change in (e.changes or {}).items():
                values = change if isinstance(change, list) else [change]
                if name in ("claimed_by", "user_id", "decided_by"):
                    user_ids.update(v for v in values if isinstance(v, int))
                if name in ("enterprise", "enterprise_id", "merged_into"):
                    # A USCC, or (linking a user) the enterprise's id.
                    usccs.update(v for v in values if isinstance(v, str))
                    enterprise_ids.update(v for v in values if isinstance(v, int))
            if e.object_type == "user" and e.object_id.isdigit():
                user_ids.add(int(e.object_id))
            if e.object_type in ("enterprise", "annual_report"):
                usccs.add(e.object_id.split("/")[0])
        self.users = {
            user_id: name or email
            for user_id, name, email in session.execute(
                select(User.id, User.name, User.email).where(User.id.in_(user_ids))
            )
        }
        self.enterprises: dict[str | int, str] = {}
        for enterprise_id, uscc, name in session.execute(
            select(Enterprise.id, Enterprise.uscc, Enterprise.name).where(
                Enterprise.uscc.in_(usccs) | Enterprise.id.in_(enterprise_ids)
            )
        ):
            self.enterprises[uscc] = self.enterprises[enterprise_id] = name
        self.cities = {c.code: c.name(lang) for c in session.scalars(select(City))}
        self.industries = {i.code: i.name(lang) for i in session.scalars(select(Industry))}

    def user(self, user_id: int) -> str:
        return self.users.get(user_id) or f"#{user_id}"

    def enterprise(self, key: str | int) -> str:
        """An enterprise by its name (its USCC or id when it is not stored here)."""
        return self.enterprises.get(key) or (f"#{key}" if isinstance(key, int) else str(key))


def _words(labels: dict) -> Callable[[Any], str]:
    return lambda value: str(labels.get(value, value))


def _last_day(value: Any) -> str:
    """A designation's exclusive end as the last day it is valid, as pages show it."""
    try:
        return dates.last_day(datetime.fromisoformat(str(value).replace("Z", "+00:00"))).isoformat()
    except ValueError:
        return str(value)


def _kilobytes(value: Any) -> str:
    """A file's size as the application's page shows it."""
    if not isinstance(value, int):
        return str(value)
    return _("%(size)s KB", size=f"{value / 1024:.1f}")


def _scopes(value: Any) -> str:
    """A token's scopes (stored as one text, separated by spaces) in words."""
    scopes = value.split() if isinstance(value, str) else list(value)
    return "; ".join(str(SCOPE_LABELS.get(scope, scope)) for scope in scopes)


def _validity(value: Any) -> str:
    if value == "calendar_year":
        return _("Until the end of the calendar year of the grant")
    return _("1 year") if str(value) == "1" else _("%(num)s years", num=value)


def _value_text(names: _Names, object_type: str, field: str, value: Any) -> str:
    """One side of a change as the pages show it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    states: dict[str, dict] = {
        "application": STATE_LABELS,
        "objection": OBJECTION_LABELS,
        "account_claim": CLAIM_STATE_LABELS,
    }
    by_field: dict[str, Callable[[Any], str]] = {
        "tier": _words(names.tiers),
        "prerequisite": _words(names.tiers),
        "claimed_by": lambda v: names.user(v) if isinstance(v, int) else str(v),
        "enterprise": names.enterprise,
        "enterprise_id": names.enterprise,
        "merged_into": names.enterprise,
        "attachment": lambda v: f"#{v}",
        "size": _kilobytes,
        "role": _words(ROLE_LABELS),
        "kind": _words(KIND_LABELS),
        "route": _words(ROUTE_LABELS),
        "tier_route": _words(ROUTE_LABELS),
        "city_code": _words(names.cities),
        "industry_code": _words(names.industries),
        "state": _words(states.get(object_type, {})),
        "status": _words(STATUS_LABELS if object_type == "enterprise" else {}),
        "scopes": _scopes,
        "validity": _validity,
        "tier_expires_at": _last_day,
    }
    if field in by_field:
        return by_field[field](value)
    if isinstance(value, str) and len(value) == 20 and value.endswith("Z"):
        try:
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list):
        return ", ".join(_value_text(names, object_type, field, v) for v in value)
    return str(value)


def _both_sets(change: list[Any]) -> bool:
    """A change between two sets of settings (or from none to one)."""
    return any(isinstance(side, dict) for side in change) and all(
        side is None or isinstance(side, dict) for side in change
    )


def _settings_changed(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    before, after = before or {}, after or {}
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    return ngettext(
        "%(num)d threshold or note changed", "%(num)d thresholds or notes changed", len(changed)
    )


def _object_name(names: _Names, entry: AuditEntry) -> str:
    kind, ident = entry.object_type, entry.object_id
    if kind == "enterprise":
        return names.enterprise(ident)
    if kind == "annual_report":
        uscc, _sep, year = ident.partition("/")
        return f"{names.enterprise(uscc)} · {year}"
    if kind == "tier":
        return names.tiers.get(ident, ident)
    if kind == "user" and ident.isdigit():
        return names.user(int(ident))
    return f"#{ident}"


def audit_lines(session: DbSession, entries: Iterable[AuditEntry]) -> list[AuditLine]:
    """The entries as the audit log's page shows them."""
    entries = list(entries)
    names = _Names(session, entries)
    lines = []
    for entry in entries:
        changes = []
        for field, change in sorted((entry.changes or {}).items()):

            def text(value: Any, field: str = field, kind: str = entry.object_type) -> str:
                return _value_text(names, kind, field, value)

            if isinstance(change, list) and len(change) == 2 and _both_sets(change):
                # A tier's criteria: which of its thresholds and notes changed, in words
                # (their values are on the tier's page and in the API).
                before, after = None, _settings_changed(*change)
            elif isinstance(change, list) and len(change) == 2:
                before, after = text(change[0]), text(change[1])
            else:
                before, after = None, text(change)
            changes.append(Change(field_label(field), before, after, _VALUE_LANG.get(field)))
        lines.append(
            AuditLine(
                entry=entry,
                action=action_label(entry.action),
                via=str(VIA_LABELS.get(entry.via, entry.via)),
                object_label=str(OBJECT_LABELS.get(entry.object_type, entry.object_type)),
                object_name=_object_name(names, entry),
                changes=changes,
            )
        )
    return lines
