"""``flask registry …`` operator commands: what each does on success, and that every
refusal exits non-zero with one ``Error: …`` line on stderr and changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from registry.accounts.models import Role, User
from registry.core import clock
from registry.core.models import AuditEntry
from registry.enterprises.models import Enterprise
from registry.extensions import db
from registry.ladder import operations as ladder
from registry.ladder import queries
from registry.ladder.models import EventKind, Tier, TierEvent
from tests.factories import TEST_ACTOR, new_uscc

NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)  # 2026-05-20 10:00 Asia/Shanghai
BAD_USCC = "91360100MA35K8T29A"  # the check character is wrong


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.pinned(NOW):
        yield


def invoke(runner, *args: str, input: str | None = None):
    return runner.invoke(args=["registry", *args], input=input)


def ok(runner, *args: str, input: str | None = None) -> str:
    result = invoke(runner, *args, input=input)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def table_counts(session) -> dict[str, int]:
    return {
        table.name: session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def state(session) -> dict:
    """Everything a refused command must leave as it was."""
    session.expire_all()
    return {
        "counts": table_counts(session),
        "ladder": sorted(
            (e.uscc, e.tier, e.tier_since, e.registration_number, e.ban_until, e.version)
            for e in session.scalars(select(Enterprise))
        ),
        "quotas": dict(session.execute(select(Tier.code, Tier.quota)).all()),
        "users": sorted(session.scalars(select(User.email))),
    }


def grant(session, enterprise, code, since=date(2025, 6, 1)):
    return ladder.grant_tier(session, enterprise, code, actor=TEST_ACTOR, reason="t", since=since)


# --- create-user --------------------------------------------------------------------------


def test_create_user_with_password(runner, session):
    out = ok(
        runner, "create-user", "Alice@Example.ORG", "--role", "reviewer", "--password", "k7#rT9wq!"
    )
    user = session.scalars(select(User)).one()
    assert out.strip() == f"created user {user.id} <alice@example.org> (reviewer)"
    assert user.role == Role.REVIEWER and user.enterprise_id is None
    assert user.check_password("k7#rT9wq!")
    assert not user.check_password("wrong password")
    assert user.password_hash.startswith("scrypt:")
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.create")).one()
    assert (audit.via, audit.object_id) == ("cli", str(user.id))
    # The password appears in no audit entry.
    assert "k7#rT9wq!" not in str(audit.changes)


def test_create_user_with_password_from_stdin(runner, session):
    ok(runner, "create-user", "admin@example.org", "--role", "admin", "--password-stdin",
       input="a long passphrase\n")  # fmt: skip
    user = session.scalars(select(User).where(User.email == "admin@example.org")).one()
    assert user.role == Role.ADMIN
    assert user.check_password("a long passphrase")


def test_create_user_without_password_is_a_token_only_client(runner, session):
    ok(runner, "create-user", "city-registry@example.org", "--role", "reviewer")
    assert session.scalars(select(User)).one().password_hash is None


def test_create_user_linked_to_an_enterprise(runner, session, make):
    enterprise = make.enterprise()
    session.commit()
    # Any input form of the USCC: lower case, spaces and hyphens.
    code = enterprise.uscc
    typed = f"{code[:6]} {code[6:12]}-{code[12:]}".lower()
    ok(runner, "create-user", "owner@example.org", "--role", "enterprise",
       "--password", "k7#rT9wq!", "--enterprise", typed)  # fmt: skip
    user = session.scalars(select(User)).one()
    assert user.role == Role.ENTERPRISE
    assert user.enterprise_id == enterprise.id


# --- ladder commands ----------------------------------------------------------------------


def test_grant_records_a_designation(runner, session, make):
    enterprise = make.enterprise()
    session.commit()
    out = ok(runner, "grant", enterprise.uscc, "high_tech", "--reason", "2025 list",
             "--since", "2025-03-02")  # fmt: skip
    assert out.strip() == f"granted high_tech to {enterprise.uscc}: JX-HT-2025-00001"
    session.expire_all()
    assert (enterprise.tier, enterprise.tier_since) == ("high_tech", date(2025, 3, 2))
    assert enterprise.registration_number == "JX-HT-2025-00001"
    event = session.scalars(select(TierEvent)).one()
    assert (event.kind, event.reason, event.actor_name) == (EventKind.GRANT, "2025 list", "system")


def test_grant_with_a_registration_number_already_issued(runner, session, make):
    enterprise = make.enterprise()
    session.commit()
    out = ok(runner, "grant", enterprise.uscc, "tech_sme", "--reason", "moved in",
             "--since", "2026-02-01", "--number", "JX-TS-2026-00042")  # fmt: skip
    assert out.strip().endswith(": JX-TS-2026-00042")
    session.expire_all()
    assert enterprise.registration_number == "JX-TS-2026-00042"


def test_grant_defaults_to_today(runner, session, make):
    enterprise = make.enterprise()
    session.commit()
    ok(runner, "grant", enterprise.uscc, "tech_sme", "--reason", "r")
    session.expire_all()
    assert enterprise.tier_since == date(2026, 5, 20)
    assert enterprise.registration_number == "JX-TS-2026-00001"


def test_demote(runner, session, make):
    enterprise = make.enterprise()
    grant(session, enterprise, "champion")
    session.commit()
    out = ok(runner, "demote", enterprise.uscc, "tech_sme", "--reason", "annual review")
    assert out.strip() == f"demoted {enterprise.uscc} to tech_sme: JX-TS-2026-00001"
    session.expire_all()
    assert (enterprise.tier, enterprise.tier_since) == ("tech_sme", date(2026, 5, 20))
    assert queries.replay(queries.tier_events(session, enterprise.id)) == queries.ladder_fields(
        enterprise
    )


def test_revoke_with_a_ban(runner, session, make):
    enterprise = make.enterprise()
    grant(session, enterprise, "high_tech")
    session.commit()
    out = ok(runner, "revoke", enterprise.uscc, "--reason", "false figures",
             "--ban-until", "2027-12-31")  # fmt: skip
    assert out.strip() == f"revoked the designation of {enterprise.uscc}"
    session.expire_all()
    assert enterprise.tier is None and enterprise.registration_number is None
    assert enterprise.ban_until == date(2027, 12, 31)
    event = session.scalars(select(TierEvent).order_by(TierEvent.id.desc())).first()
    assert (event.kind, event.ban_until) == (EventKind.REVOKE, date(2027, 12, 31))


def test_set_quota(runner, session):
    assert ok(runner, "set-quota", "navigator", "20", "--reason", "plan revised").strip() == (
        "quota of navigator is now 20"
    )
    session.expire_all()
    navigator = session.get(Tier, "navigator")
    assert navigator.quota == 20 and navigator.edited_at == NOW
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "tier_settings.update")
    ).one()
    assert (audit.object_id, audit.changes, audit.reason) == (
        "navigator",
        {"quota": [15, 20]},
        "plan revised",
    )


def test_set_quota_below_occupancy_is_allowed_and_demotes_nobody(runner, session, make):
    holder = make.enterprise()
    grant(session, holder, "chain_leader")
    session.commit()
    ok(runner, "set-quota", "chain_leader", "0", "--reason", "freeze")
    session.expire_all()
    assert holder.tier == "chain_leader"
    assert queries.occupancy(session, session.get(Tier, "chain_leader")).remaining == 0


def test_tick_lapses_expired_designations_at_the_given_instant(runner, session, make):
    enterprise = make.enterprise()
    grant(session, enterprise, "tech_sme", since=date(2025, 6, 1))  # expires 2026-01-01 +08
    session.commit()
    assert ok(runner, "tick", "--now", "2025-12-31T23:59:59+08:00").startswith(
        "granted 0 application(s) whose notice ended, recorded 0 held by an open objection,"
        " lapsed 0 "
    )
    session.expire_all()
    assert enterprise.tier == "tech_sme"

    out = ok(runner, "tick", "--now", "2026-01-01T00:00:00")  # no offset: Asia/Shanghai
    assert out.strip() == (
        "granted 0 application(s) whose notice ended, recorded 0 held by an open objection,"
        " lapsed 1 designation(s),"
        " as of 2025-12-31T16:00:00+00:00"
    )
    session.expire_all()
    assert enterprise.tier is None
    lapse = session.scalars(select(TierEvent).where(TierEvent.kind == EventKind.LAPSE)).one()
    assert lapse.effective_at == datetime(2025, 12, 31, 16, 0, tzinfo=UTC)

    # Idempotent, and the pinned instant does not outlive the run.
    assert ok(runner, "tick", "--now", "2026-01-02T00:00:00Z").startswith(
        "granted 0 application(s) whose notice ended, recorded 0 held by an open objection,"
        " lapsed 0 "
    )
    assert ok(runner, "tick").strip() == (
        "granted 0 application(s) whose notice ended, recorded 0 held by an open objection,"
        " lapsed 0 designation(s),"
        " as of 2026-05-20T02:00:00+00:00"
    )
    assert session.scalar(select(func.count()).select_from(TierEvent)) == 2


# --- refusals -----------------------------------------------------------------------------


@pytest.fixture
def world(session, make):
    """An enterprise on the champion rung, one off the ladder, a full chain_leader tier,
    and a user."""
    on = make.enterprise()
    off = make.enterprise()
    leader = make.enterprise()
    grant(session, on, "champion")
    ladder.set_quota(session, "chain_leader", 1, actor=TEST_ACTOR, reason="t")
    grant(session, leader, "chain_leader")
    make.user("taken@example.org", Role.REVIEWER)
    session.commit()
    return {"on": on.uscc, "off": off.uscc, "unknown": new_uscc()}


REFUSALS = [
    ("invalid-uscc", ["grant", BAD_USCC, "tech_sme", "--reason", "r"], "Invalid USCC"),
    ("invalid-uscc-link", ["create-user", "u@example.org", "--role", "enterprise",
                           "--enterprise", BAD_USCC], "Invalid USCC"),
    ("unknown-tier", ["grant", "{off}", "platinum", "--reason", "r"], "Unknown tier platinum"),
    ("unknown-tier-quota", ["set-quota", "platinum", "5", "--reason", "r"], "Unknown tier"),
    ("unknown-tier-demote", ["demote", "{on}", "bronze", "--reason", "r"], "Unknown tier"),
    ("quota-full", ["grant", "{off}", "chain_leader", "--reason", "r"], "quota of chain_leader"),
    ("unknown-enterprise", ["grant", "{unknown}", "tech_sme", "--reason", "r"],
     "No enterprise with USCC"),
    ("unknown-enterprise-revoke", ["revoke", "{unknown}", "--reason", "r"],
     "No enterprise with USCC"),
    ("bad-since", ["grant", "{off}", "tech_sme", "--reason", "r", "--since", "2025-02-30"],
     "--since must be a date YYYY-MM-DD"),
    ("bad-ban-until", ["revoke", "{on}", "--reason", "r", "--ban-until", "next year"],
     "--ban-until must be a date YYYY-MM-DD"),
    ("past-ban", ["revoke", "{on}", "--reason", "r", "--ban-until", "2026-05-20"],
     "ban must end after today"),
    ("future-since", ["grant", "{off}", "tech_sme", "--reason", "r", "--since", "2026-05-21"],
     "cannot start in the future"),
    ("bad-now", ["tick", "--now", "tomorrow"], "--now must be an ISO-8601 timestamp"),
    ("short-password", ["create-user", "u@example.org", "--role", "reviewer",
                        "--password", "short"], "at least 8 characters"),
    ("two-passwords", ["create-user", "u@example.org", "--role", "reviewer",
                       "--password", "k7#rT9wq!", "--password-stdin"], "not both"),
    ("taken-email", ["create-user", "Taken@example.org", "--role", "admin"], "exists"),
    ("bad-email", ["create-user", "not-an-email", "--role", "admin"], "valid email address"),
    ("link-non-enterprise", ["create-user", "u@example.org", "--role", "reviewer",
                             "--enterprise", "{off}"], "Only enterprise users"),
    ("demote-off-ladder", ["demote", "{off}", "tech_sme", "--reason", "r"],
     "is not on the ladder"),
    ("revoke-off-ladder", ["revoke", "{off}", "--reason", "r"], "is not on the ladder"),
    ("demote-upwards", ["demote", "{on}", "navigator", "--reason", "r"],
     "is not below the current tier"),
    ("grant-lower", ["grant", "{on}", "tech_sme", "--reason", "r"], "use demote"),
    ("grant-held", ["grant", "{on}", "champion", "--reason", "r"], "already holds"),
    (
        "blank-reason",
        ["grant", "{off}", "high_tech", "--reason", "  "],
        "reason: This field is required.",
    ),
    ("number-pattern", ["grant", "{off}", "high_tech", "--reason", "r", "--since", "2025-06-01",
                        "--number", "JX-TS-2025-00001"], "does not match"),
    ("number-taken", ["grant", "{off}", "champion", "--reason", "r", "--since", "2025-06-01",
                      "--number", "JX-CH-2025-00001"], "is taken"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_refusal_exits_non_zero_with_one_line_and_changes_nothing(
    runner, session, world, args, message
):
    before = state(session)
    result = invoke(runner, *(a.format(**world) for a in args))
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and message in lines[0], lines[0]
    assert result.stdout == ""
    assert state(session) == before


@pytest.mark.parametrize(
    "args",
    [
        ["create-user", "u@example.org", "--role", "superuser"],
        ["create-user", "u@example.org"],
        ["grant", "{off}", "tech_sme"],
        ["set-quota", "navigator", "-1", "--reason", "r"],
        ["set-quota", "navigator", "many", "--reason", "r"],
    ],
    ids=["unknown-role", "missing-role", "missing-reason", "negative-quota", "quota-not-int"],
)
def test_usage_errors_exit_2_and_change_nothing(runner, session, world, args):
    before = state(session)
    result = invoke(runner, *(a.format(**world) for a in args))
    assert result.exit_code == 2, result.output
    assert "Error: " in result.stderr
    assert state(session) == before


@pytest.mark.parametrize(
    "args",
    [
        ["grant", "{uscc}", "tech_sme", "--reason", "x", "--since", "0001-01-01"],
        ["set-quota", "tech_sme", "99999999999", "--reason", "x"],
    ],
)
def test_out_of_range_values_are_refused_cleanly(runner, make, session, args):
    enterprise = make.enterprise()
    session.commit()
    result = runner.invoke(args=["registry", *[a.format(uscc=enterprise.uscc) for a in args]])
    assert result.exit_code != 0
    assert "Traceback" not in result.output + result.stderr
    assert "Error:" in result.stderr
