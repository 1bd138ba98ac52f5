"""Accounts at the operations layer: sign-up and claims, passwords, session versions,
login throttling (per account name and address, and per account name)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from registry.accounts import operations as ops
from registry.accounts import throttling
from registry.accounts.models import AccountClaim, ClaimState, LoginThrottle, Role, User
from registry.core import clock
from registry.core.audit import Actor
from registry.core.errors import (
    ConflictOfInterest,
    InvalidTransition,
    Throttled,
    ValidationFailed,
)
from registry.core.models import AuditEntry
from registry.enterprises.models import Enterprise
from tests.factories import PASSWORD, new_uscc

REVIEWER = "reviewer@example.com"


def _sign_up(session, uscc, email="owner@example.com", name="赣江科技有限公司"):
    return ops.sign_up(
        session, email=email, password=PASSWORD, uscc=uscc, enterprise_name=name, locale="zh"
    )


def test_sign_up_with_a_new_uscc_creates_the_enterprise_unverified_and_links_it(session):
    code = new_uscc()
    result = _sign_up(session, code.lower())  # any input form of the code
    enterprise = session.scalars(select(Enterprise).where(Enterprise.uscc == code)).one()
    assert result.claim is None
    assert result.user.enterprise_id == enterprise.id
    assert result.user.role == Role.ENTERPRISE
    assert enterprise.verified is False
    assert enterprise.city_code == "360100"  # from the code's positions 3–6
    assert result.user.password_hash.startswith("scrypt:")
    assert result.user.check_password(PASSWORD)


def test_sign_up_for_a_registered_uscc_waits_for_a_reviewer(session, make):
    enterprise = make.enterprise()
    result = _sign_up(session, enterprise.uscc)
    assert result.user.enterprise_id is None
    assert result.claim.state == ClaimState.PENDING
    assert ops.pending_claim(session, result.user) == result.claim


@pytest.mark.parametrize(
    ("password", "code"),
    [("short1!", "too_short"), ("password", "too_common"), ("Password123", "too_common")],
)
def test_weak_passwords_are_refused(session, password, code):
    with pytest.raises(ValidationFailed) as refused:
        ops.sign_up(
            session,
            email="a@example.com",
            password=password,
            uscc=new_uscc(),
            enterprise_name="x",
        )
    assert refused.value.errors[0] == {
        "field": "password",
        "code": code,
        "message": refused.value.errors[0]["message"],
    }
    assert session.scalar(select(User.id)) is None


def test_invalid_uscc_and_taken_email_are_refused(session):
    with pytest.raises(ValidationFailed) as refused:
        _sign_up(session, "91360100MA35F0XX1B")
    assert refused.value.code == "invalid_uscc"
    _sign_up(session, new_uscc())
    with pytest.raises(InvalidTransition):
        _sign_up(session, new_uscc(), email="OWNER@example.com")


def test_every_sign_up_fault_is_refused_at_once(session, make):
    """U2: the email, the password and the USCC are all checked before any refusal."""
    make.user("owner@example.com")
    with pytest.raises(ValidationFailed) as refused:
        ops.sign_up(
            session,
            email="OWNER@example.com",
            password="password",
            uscc="9136010055",
            enterprise_name=" ",
        )
    assert [(e["field"], e["code"]) for e in refused.value.errors] == [
        ("email", "taken"),
        ("password", "too_common"),
        ("uscc", "invalid_uscc"),
        ("enterprise_name", "required"),
    ]
    # Each refusal keeps its own message, for the page to show beside its field.
    assert [type(cause) for cause in refused.value.causes] == [
        InvalidTransition,
        ValidationFailed,
        ValidationFailed,
        ValidationFailed,
    ]
    assert session.scalar(select(func.count()).select_from(Enterprise)) == 0


def test_confirming_a_claim_links_the_account(session, make):
    enterprise = make.enterprise()
    claim = _sign_up(session, enterprise.uscc).claim
    reviewer = make.user(REVIEWER, Role.REVIEWER, password=PASSWORD)
    ops.decide_claim(session, claim, "confirm", reviewer=reviewer, via="web")
    assert claim.state == ClaimState.CONFIRMED
    assert claim.user.enterprise_id == enterprise.id
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["account_claim.confirm", "user.link"]
    second = make.user("b@x.org", Role.REVIEWER, password=PASSWORD)
    with pytest.raises(InvalidTransition):
        ops.decide_claim(session, claim, "refuse", reviewer=second, via="web", comment="x")


def test_refusing_a_claim_needs_a_reason_and_links_nothing(session, make):
    enterprise = make.enterprise()
    claim = _sign_up(session, enterprise.uscc).claim
    reviewer = make.user(REVIEWER, Role.REVIEWER, password=PASSWORD)
    with pytest.raises(ValidationFailed):
        ops.decide_claim(session, claim, "refuse", reviewer=reviewer, via="web")
    ops.decide_claim(session, claim, "refuse", reviewer=reviewer, via="web", comment="unknown")
    assert claim.state == ClaimState.REFUSED and claim.user.enterprise_id is None


def test_an_enterprise_user_cannot_decide_claims(session, make):
    enterprise = make.enterprise()
    claim = _sign_up(session, enterprise.uscc).claim
    insider = _sign_up(session, new_uscc(), email="insider@example.com").user
    with pytest.raises(Exception) as refused:
        ops.decide_claim(session, claim, "confirm", reviewer=insider, via="web")
    assert refused.value.code == "forbidden"
    assert not isinstance(refused.value, ConflictOfInterest)


def test_password_change_needs_the_current_one_and_ends_other_sessions(session):
    user = _sign_up(session, new_uscc()).user
    version = user.session_version
    with pytest.raises(ValidationFailed) as refused:
        ops.change_password(session, user, "wrong", "Another-pass-77", client_address=None)
    assert refused.value.errors[0]["field"] == "current_password"
    ops.change_password(session, user, PASSWORD, "Another-pass-77", client_address=None)
    assert user.session_version == version + 1
    assert user.check_password("Another-pass-77") and not user.check_password(PASSWORD)


def test_disabling_ends_sessions_and_admins_cannot_lock_themselves_out(session, make):
    admin = make.user("root@example.com", Role.ADMIN)
    user = make.user(REVIEWER, Role.REVIEWER, password=PASSWORD)
    version = user.session_version
    actor = Actor(admin.id, "root", "web")
    ops.update_user(session, user, actor=actor, active=False)
    assert user.active is False and user.session_version == version + 1
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.update")).one()
    assert entry.changes == {"active": [True, False]}
    with pytest.raises(InvalidTransition):
        ops.update_user(session, admin, actor=actor, active=False)


def test_disabling_revokes_the_users_tokens_and_enabling_gives_none_back(session, make):
    """API.md: disabling a user revokes its tokens (each revocation audited as an
    admin's would be); re-enabling gives none back."""
    from registry.accounts import tokens
    from registry.accounts.models import ApiToken

    admin = make.user("root@example.com", Role.ADMIN)
    user = make.user(REVIEWER, Role.REVIEWER, password=PASSWORD)
    actor = Actor(admin.id, "root", "web")
    with clock.pinned(_at(0)):
        live, secret = tokens.create_token(session, user, "registry:read", actor=actor)
        earlier, _ = tokens.create_token(session, user, "changes:read", actor=actor)
        tokens.revoke_token(session, earlier, actor=actor)
    others, others_secret = tokens.create_token(session, admin, "registry:read", actor=actor)
    with clock.pinned(_at(5)):
        ops.update_user(session, user, actor=actor, active=False)
    assert (live.revoked_at, earlier.revoked_at, others.revoked_at) == (_at(5), _at(0), None)
    revocations = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "token.revoke").order_by(AuditEntry.id)
    ).all()
    assert [(e.object_id, e.actor_id) for e in revocations] == [
        (str(earlier.id), admin.id),
        (str(live.id), admin.id),
    ]
    with clock.pinned(_at(10)):
        ops.update_user(session, user, actor=actor, active=True)
    session.flush()
    session.expire_all()
    assert session.get(ApiToken, live.id).revoked_at == _at(5)
    with clock.pinned(_at(11)):
        assert tokens.token_for(session, secret, _at(11)) is None
        assert tokens.token_for(session, others_secret, _at(11)) is not None


def _at(minutes: int) -> datetime:
    return datetime(2026, 3, 2, 2, 0, tzinfo=UTC) + timedelta(minutes=minutes)


#: The addresses logins come from in these tests: a stranger's and the owner's.
STRANGER, OWNERS = "198.51.100.7", "203.0.113.20"


def _login(session, email, password, address=STRANGER):
    return ops.authenticate(session, email, password, client_address=address)


def test_five_failures_lock_the_account_name_from_that_address_even_for_the_right_password(
    session,
):
    _sign_up(session, new_uscc())
    for minute in range(5):
        with clock.pinned(_at(minute)):
            assert _login(session, "owner@example.com", "wrong") is None
    with clock.pinned(_at(6)), pytest.raises(Throttled) as throttled:
        _login(session, "owner@example.com", PASSWORD)
    assert 0 < throttled.value.retry_after <= 15 * 60
    with clock.pinned(_at(20)):
        assert _login(session, "Owner@Example.com", PASSWORD) is not None
    row = session.get(LoginThrottle, ("owner@example.com", STRANGER))
    assert row.failures == 0 and row.locked_until is None


def test_a_strangers_failures_do_not_lock_the_owner_out_from_another_address(session):
    """S8: the 15-minute lock holds for the address the guesses came from only."""
    _sign_up(session, new_uscc())
    for minute in range(5):
        with clock.pinned(_at(minute)):
            assert _login(session, "owner@example.com", "guess") is None
    with clock.pinned(_at(6)), pytest.raises(Throttled):
        _login(session, "owner@example.com", "guess")
    with clock.pinned(_at(6)):
        assert _login(session, "owner@example.com", PASSWORD, OWNERS) is not None


def test_a_hundred_failures_an_hour_from_any_addresses_lock_the_account_for_everyone(session):
    """Guesses spread over many addresses, under the per-address bound each, still lock the
    account name once they reach the per-account bound; the owner's own sign-in in
    between does not wipe that count."""
    _sign_up(session, new_uscc())
    addresses = [f"192.0.2.{n}" for n in range(25)]
    for n in range(99):
        with clock.pinned(_at(n // 2)):
            assert _login(session, "owner@example.com", "guess", addresses[n % 25]) is None
    with clock.pinned(_at(50)):
        assert _login(session, "owner@example.com", PASSWORD, OWNERS) is not None
        assert _login(session, "owner@example.com", "guess", addresses[0]) is None  # the 100th
    for address in (OWNERS, "192.0.2.200"):
        with clock.pinned(_at(51)), pytest.raises(Throttled) as throttled:
            _login(session, "owner@example.com", PASSWORD, address)
        assert 59 * 60 <= throttled.value.retry_after <= 60 * 60
    with clock.pinned(_at(111)):
        assert _login(session, "owner@example.com", PASSWORD, OWNERS) is not None


def test_failures_outside_the_window_start_a_new_count(session):
    _sign_up(session, new_uscc())
    for minute in (0, 10, 20, 30, 40, 50):
        with clock.pinned(_at(minute)):
            assert _login(session, "owner@example.com", "wrong") is None
    with clock.pinned(_at(51)):
        assert _login(session, "owner@example.com", PASSWORD) is not None


def test_unknown_accounts_are_throttled_alike(session):
    for minute in range(5):
        with clock.pinned(_at(minute)):
            assert _login(session, "nobody@example.com", "guess") is None
    with clock.pinned(_at(6)), pytest.raises(Throttled):
        _login(session, "nobody@example.com", "guess")


def test_a_disabled_user_cannot_sign_in(session):
    user = _sign_up(session, new_uscc()).user
    user.active = False
    assert _login(session, "owner@example.com", PASSWORD) is None


def test_claim_rows_are_audited(session, make):
    enterprise = make.enterprise()
    claim = _sign_up(session, enterprise.uscc).claim
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "account_claim.create")
    ).one()
    assert entry.object_id == str(claim.id)
    assert session.scalar(select(AccountClaim.stated_name)) == "赣江科技有限公司"


def test_the_production_configuration_hashes_with_full_cost_scrypt(database_url):
    """Tests run with a cheaper scrypt; an application built without that setting uses
    werkzeug's full cost (N = 2^15)."""
    from registry import create_app

    production = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x" * 32})
    with production.app_context():
        user = User(email="a@example.com", role=Role.ENTERPRISE)
        user.set_password(PASSWORD)
        assert user.password_hash.startswith("scrypt:32768:8:1$")
        assert user.check_password(PASSWORD)
        from registry.extensions import db

        db.engine.dispose()


def test_wrong_current_passwords_are_throttled_like_logins(session):
    user = _sign_up(session, new_uscc()).user
    for minute in range(5):
        with clock.pinned(_at(minute)), pytest.raises(ValidationFailed):
            ops.change_password(session, user, "guess", "Another-pass-77", client_address=STRANGER)
    with clock.pinned(_at(6)), pytest.raises(Throttled):
        ops.change_password(session, user, PASSWORD, "Another-pass-77", client_address=STRANGER)
    with clock.pinned(_at(6)), pytest.raises(Throttled):
        _login(session, "owner@example.com", PASSWORD)  # the same count as logins
    assert user.check_password(PASSWORD)


def test_tick_forgets_counts_that_no_longer_matter(session):
    with clock.pinned(_at(0)):
        _login(session, "nobody@example.com", "guess")
    for minute in range(5):
        with clock.pinned(_at(minute)):
            _login(session, "locked@example.com", "guess")
    assert throttling.purge_login_throttles(session, _at(10)) == 0  # all within their windows
    assert throttling.purge_login_throttles(session, _at(16)) == 1  # nobody@ from the address
    assert throttling.purge_login_throttles(session, _at(30)) == 1  # locked@: the lock is over
    # The counts of every address together have an hour's window.
    assert throttling.purge_login_throttles(session, _at(59)) == 0
    assert throttling.purge_login_throttles(session, _at(61)) == 2
    assert session.scalar(select(func.count()).select_from(LoginThrottle)) == 0


def test_a_claim_is_confirmed_for_an_enterprise_account_only(session, make):
    enterprise = make.enterprise()
    claim = _sign_up(session, enterprise.uscc).claim
    admin = Actor(None, "root", "web")
    with pytest.raises(ValidationFailed):  # not while its claim is pending
        ops.update_user(session, claim.user, actor=admin, role=Role.REVIEWER)
    claim.user.role = Role.REVIEWER  # as if it had been changed some other way
    reviewer = make.user(REVIEWER, Role.REVIEWER, password=PASSWORD)
    with pytest.raises(InvalidTransition):
        ops.decide_claim(session, claim, "confirm", reviewer=reviewer, via="web")
    assert claim.user.enterprise_id is None
