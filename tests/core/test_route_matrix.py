"""QUALITY.md S3: every rule of ``app.url_map`` × every kind of caller → the status it
gets. Web pages are asked by an anonymous visitor and by a signed-in enterprise user,
reviewer and admin; ``/api/v1`` by no token, a revoked token, and a token of each role
holding one scope only (API.md "Authentication and rights").

A rule missing from :data:`MATRIX`, or an entry of :data:`MATRIX` without its rule,
fails :func:`test_every_rule_is_in_the_matrix`. Requests are chosen so that a caller
who gets in meets a refusal that comes after the access check (an empty body → 422,
no ``If-Match`` → 428, an action the object's state forbids → 409) and nothing changes;
where the access itself is the point (a verification, revoking a revoked token) the
action is harmless to repeat. ``POST /logout`` runs last: it ends the user's sessions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from functools import partial
from urllib.parse import urlsplit

import pytest

from registry.accounts import operations as accounts
from registry.accounts import tokens
from registry.accounts.models import Role
from registry.applications import attachments, decisions, objections
from registry.applications import operations as apps
from tests.factories import PASSWORD, TEST_ACTOR
from tests.fixtures.api import PDF, TSME_CHECKS, ApiClient

pytestmark = pytest.mark.usefixtures("pinned_clock")
ANONYMOUS, ENTERPRISE, REVIEWER, ADMIN = "anonymous", "enterprise", "reviewer", "admin"
ROLES = (ENTERPRISE, REVIEWER, ADMIN)
#: API.md's scopes: each token of the matrix holds one.
SCOPES = (
    "registry:read",
    "registry:write",
    "changes:read",
    "workflow:apply",
    "workflow:review",
    "admin",
)
#: An anonymous visitor of a private page: 303 to /login?next=….
LOGIN = "login"
#: A public API route: every caller gets the same answer (no token needed).
PUBLIC = None


@dataclass(frozen=True)
class Page:
    """A web rule: the path asked (``{name}`` filled from the world) and the status of
    an anonymous visitor, an enterprise user, a reviewer and an admin."""

    path: str
    anonymous: int | str
    enterprise: int
    reviewer: int
    admin: int
    data: dict | None = None


@dataclass(frozen=True)
class Api:
    """An ``/api/v1`` rule: the (role, scope) pairs that get in (``PUBLIC``: everyone,
    without a token too) and the status they get. Others: 401 without a token, 403
    with one."""

    path: str
    allowed: frozenset | None
    status: int = 200
    json: dict | None = None
    multipart: bool = False


def scope(name: str, *roles: str) -> frozenset:
    return frozenset((role, name) for role in roles)


READ = scope("registry:read", *ROLES)
WRITE = scope("registry:write", *ROLES)
APPLY = scope("workflow:apply", ENTERPRISE)
REVIEW = scope("workflow:review", REVIEWER, ADMIN)
CHANGES = scope("changes:read", REVIEWER, ADMIN)
#: Reviewers act on the applicant side of their nominations.
APPLICANT = APPLY | REVIEW
FILES = APPLY | REVIEW

EVERYONE = (200, 200, 200, 200)
SIGNED_IN = (LOGIN, 200, 200, 200)
ENTERPRISE_PAGE = (LOGIN, 200, 403, 403)
REVIEWER_PAGE = (LOGIN, 403, 200, 200)
ADMIN_PAGE = (LOGIN, 403, 403, 200)
#: Login and sign-up send a signed-in user home.
GUEST_PAGE = (200, 303, 303, 303)
#: The applicant side of an enterprise's own application is its users: reviewers who
#: may see it are refused by the operation (PRODUCT.md "Applications and review").
APPLICANT_ONLY = (LOGIN, 409, 403, 403)
#: A POST without any field is read as no form at all (the stored values would be
#: saved again): these send one value the form refuses.
NO_NAME = {"name": ""}
NOT_A_NUMBER = {"employees": "many"}

# fmt: off
MATRIX: dict[tuple[str, str], Page | Api] = {
    # --- public and shared pages ---------------------------------------------------------
    ("GET", "/"): Page("/", *EVERYONE),
    ("GET", "/tiers/<code>"): Page("/tiers/{tier}", *EVERYONE),
    ("GET", "/notices"): Page("/notices", *EVERYONE),
    ("POST", "/notices/<int:application_id>/objections"):
        Page("/notices/{in_notice}/objections", 422, 422, 422, 422, {}),
    ("GET", "/login"): Page("/login", *GUEST_PAGE),
    ("POST", "/login"): Page("/login", 422, 303, 303, 303, {}),
    ("GET", "/signup"): Page("/signup", *GUEST_PAGE),
    ("POST", "/signup"): Page("/signup", 422, 303, 303, 303, {}),
    ("GET", "/healthz"): Page("/healthz", *EVERYONE),
    ("GET", "/readyz"): Page("/readyz", *EVERYONE),
    ("GET", "/api/docs"): Page("/api/docs", *EVERYONE),
    ("GET", "/api/docs/assets/<path:filename>"):
        Page("/api/docs/assets/swagger-ui.css", *EVERYONE),
    ("GET", "/account"): Page("/account", *SIGNED_IN),
    ("GET", "/account/password"): Page("/account/password", *SIGNED_IN),
    ("POST", "/account/password"): Page("/account/password", LOGIN, 422, 422, 422, {}),
    ("POST", "/logout"): Page("/logout", 303, 303, 303, 303, {}),
    # --- the enterprise's pages (its own application, files and reports) -----------------
    ("GET", "/enterprise/profile"): Page("/enterprise/profile", *ENTERPRISE_PAGE),
    ("POST", "/enterprise/profile"): Page("/enterprise/profile", LOGIN, 422, 403, 403, NO_NAME),
    ("GET", "/enterprise/reports"): Page("/enterprise/reports", *ENTERPRISE_PAGE),
    ("GET", "/enterprise/reports/<int:year>"): Page("/enterprise/reports/{year}", *ENTERPRISE_PAGE),
    ("POST", "/enterprise/reports/<int:year>"):
        Page("/enterprise/reports/{year}", LOGIN, 422, 403, 403, NOT_A_NUMBER),
    ("GET", "/enterprise/eligibility"): Page("/enterprise/eligibility", *ENTERPRISE_PAGE),
    ("GET", "/applications"): Page("/applications", *ENTERPRISE_PAGE),
    ("GET", "/applications/new"): Page("/applications/new", *ENTERPRISE_PAGE),
    ("POST", "/applications/new"): Page("/applications/new", LOGIN, 422, 403, 403, {}),
    ("GET", "/applications/<int:application_id>"): Page("/applications/{draft}", *SIGNED_IN),
    ("POST", "/applications/<int:application_id>/submit"):
        Page("/applications/{draft}/submit", LOGIN, 422, 403, 403, {}),
    ("POST", "/applications/<int:application_id>/attachments"):
        Page("/applications/{draft}/attachments", LOGIN, 422, 422, 422, {}),
    ("POST", "/applications/<int:application_id>/withdraw"):
        Page("/applications/{closed}/withdraw", *APPLICANT_ONLY, {}),
    ("GET", "/attachments/<int:attachment_id>"): Page("/attachments/{file}", *SIGNED_IN),
    ("POST", "/attachments/<int:attachment_id>/delete"):
        Page("/attachments/{closed_file}/delete", *APPLICANT_ONLY, {}),
    # --- reviewers' pages (admins hold every reviewer right) -----------------------------
    ("GET", "/review"): Page("/review", *REVIEWER_PAGE),
    ("GET", "/review/applications/<int:application_id>"):
        Page("/review/applications/{draft}", *REVIEWER_PAGE),
    ("POST", "/review/applications/<int:application_id>/claim"):
        Page("/review/applications/{draft}/claim", LOGIN, 403, 409, 409, {}),
    ("POST", "/review/applications/<int:application_id>/decision"):
        Page("/review/applications/{draft}/decision", LOGIN, 403, 422, 422, {}),
    ("POST", "/review/applications/<int:application_id>/submission"):
        Page("/review/applications/{nomination}/submission", LOGIN, 403, 409, 409, {}),
    ("POST", "/review/applications/<int:application_id>/withdrawal"):
        Page("/review/applications/{nomination}/withdrawal", LOGIN, 403, 409, 409, {}),
    ("GET", "/review/nominate"): Page("/review/nominate", *REVIEWER_PAGE),
    ("POST", "/review/nominate"): Page("/review/nominate", LOGIN, 403, 422, 422, {}),
    ("GET", "/review/enterprises"): Page("/review/enterprises", *REVIEWER_PAGE),
    ("GET", "/review/enterprises/<uscc>"): Page("/review/enterprises/{own}", *REVIEWER_PAGE),
    ("POST", "/review/enterprises/<uscc>/demotion"):
        Page("/review/enterprises/{own}/demotion", LOGIN, 403, 422, 422, {}),
    ("POST", "/review/enterprises/<uscc>/revocation"):
        Page("/review/enterprises/{own}/revocation", LOGIN, 403, 422, 422, {}),
    ("POST", "/review/enterprises/<uscc>/verification"):
        Page("/review/enterprises/{other}/verification", LOGIN, 403, 303, 303, {}),
    ("GET", "/review/objections"): Page("/review/objections", *REVIEWER_PAGE),
    ("POST", "/review/objections/<int:objection_id>/resolution"):
        Page("/review/objections/{objection}/resolution", LOGIN, 403, 422, 422, {}),
    ("GET", "/review/account-claims"): Page("/review/account-claims", *REVIEWER_PAGE),
    ("POST", "/review/account-claims/<int:claim_id>/decision"):
        Page("/review/account-claims/{claim}/decision", LOGIN, 403, 422, 422, {}),
    # --- admin pages ----------------------------------------------------------------------
    ("GET", "/admin/users"): Page("/admin/users", *ADMIN_PAGE),
    ("GET", "/admin/users/new"): Page("/admin/users/new", *ADMIN_PAGE),
    ("POST", "/admin/users/new"): Page("/admin/users/new", LOGIN, 403, 403, 422, {}),
    ("GET", "/admin/users/<int:user_id>"): Page("/admin/users/{user}", *ADMIN_PAGE),
    # No button named: the page again, nothing changed.
    ("POST", "/admin/users/<int:user_id>"): Page("/admin/users/{user}", *ADMIN_PAGE, {}),
    ("GET", "/admin/tiers"): Page("/admin/tiers", *ADMIN_PAGE),
    ("GET", "/admin/tiers/<code>"): Page("/admin/tiers/{tier}", *ADMIN_PAGE),
    ("POST", "/admin/tiers/<code>"): Page("/admin/tiers/{tier}", LOGIN, 403, 403, 422, {}),
    ("GET", "/admin/tokens"): Page("/admin/tokens", *ADMIN_PAGE),
    ("POST", "/admin/tokens"): Page("/admin/tokens", LOGIN, 403, 403, 422, {}),
    ("POST", "/admin/tokens/<int:token_id>/revoke"):
        Page("/admin/tokens/{revoked_token}/revoke", LOGIN, 403, 403, 303, {}),
    ("GET", "/admin/audit"): Page("/admin/audit", *ADMIN_PAGE),
    ("GET", "/admin/imports"): Page("/admin/imports", *ADMIN_PAGE),
    ("POST", "/admin/imports"): Page("/admin/imports", LOGIN, 403, 403, 422, {}),
    ("GET", "/admin/imports/<int:run_id>/report"):
        Page("/admin/imports/{missing}/report", LOGIN, 403, 403, 404),
    # --- downloads ------------------------------------------------------------------------
    ("GET", "/exports/enterprises"): Page("/exports/enterprises", *REVIEWER_PAGE),
    ("GET", "/exports/tiers/<code>"): Page("/exports/tiers/{tier}", *EVERYONE),
    ("GET", "/admin/sync"): Page("/admin/sync", *ADMIN_PAGE),
    ("POST", "/admin/sync"): Page("/admin/sync", LOGIN, 403, 403, 422, {}),
    ("GET", "/admin/sync/<name>/conflicts"):
        Page("/admin/sync/nobody/conflicts", LOGIN, 403, 403, 404),
    # --- /api/v1 --------------------------------------------------------------------------
    ("GET", "/api/v1/openapi.json"): Api("/api/v1/openapi.json", PUBLIC),
    ("GET", "/api/v1/tiers"): Api("/api/v1/tiers", PUBLIC),
    ("GET", "/api/v1/tiers/<code>/enterprises"): Api("/api/v1/tiers/{tier}/enterprises", PUBLIC),
    ("GET", "/api/v1/notices"): Api("/api/v1/notices", PUBLIC),
    ("POST", "/api/v1/notices/<int:application_id>/objections"):
        Api("/api/v1/notices/{in_notice}/objections", PUBLIC, 422, {}),
    ("GET", "/api/v1/stats"): Api("/api/v1/stats", READ),
    ("GET", "/api/v1/changes"): Api("/api/v1/changes?limit=5", CHANGES),
    ("GET", "/api/v1/export"): Api("/api/v1/export?types=tier_event", CHANGES),
    ("GET", "/api/v1/enterprises"): Api("/api/v1/enterprises", READ),
    ("GET", "/api/v1/enterprises/<uscc>"): Api("/api/v1/enterprises/{own}", READ),
    ("PUT", "/api/v1/enterprises/<uscc>"): Api("/api/v1/enterprises/{own}", WRITE, 428, {}),
    ("PATCH", "/api/v1/enterprises/<uscc>"): Api("/api/v1/enterprises/{own}", WRITE, 428, {}),
    ("GET", "/api/v1/enterprises/<uscc>/annual-reports"):
        Api("/api/v1/enterprises/{own}/annual-reports", READ),
    ("GET", "/api/v1/enterprises/<uscc>/annual-reports/<int:year>"):
        Api("/api/v1/enterprises/{own}/annual-reports/{year}", READ),
    ("PUT", "/api/v1/enterprises/<uscc>/annual-reports/<int:year>"):
        Api("/api/v1/enterprises/{own}/annual-reports/{year}", WRITE, 428, {}),
    ("GET", "/api/v1/enterprises/<uscc>/eligibility"):
        Api("/api/v1/enterprises/{own}/eligibility?tier={tier}", READ),
    ("GET", "/api/v1/enterprises/<uscc>/tier-events"):
        Api("/api/v1/enterprises/{own}/tier-events", READ),
    ("POST", "/api/v1/enterprises/<uscc>/demotions"):
        Api("/api/v1/enterprises/{own}/demotions", REVIEW, 422, {}),
    ("POST", "/api/v1/enterprises/<uscc>/revocations"):
        Api("/api/v1/enterprises/{own}/revocations", REVIEW, 422, {}),
    ("GET", "/api/v1/applications"): Api("/api/v1/applications", READ),
    ("POST", "/api/v1/applications"): Api("/api/v1/applications", APPLICANT, 422, {}),
    ("GET", "/api/v1/applications/counts"): Api("/api/v1/applications/counts", REVIEW),
    ("GET", "/api/v1/applications/<int:application_id>"):
        Api("/api/v1/applications/{draft}", READ),
    ("PATCH", "/api/v1/applications/<int:application_id>"):
        Api("/api/v1/applications/{draft}", APPLICANT, 428, {}),
    ("POST", "/api/v1/applications/<int:application_id>/submit"):
        Api("/api/v1/applications/{draft}/submit", APPLICANT, 422, {"declaration": "yes"}),
    ("POST", "/api/v1/applications/<int:application_id>/withdraw"):
        Api("/api/v1/applications/{draft}/withdraw", APPLICANT, 422, {"why": "unknown field"}),
    ("POST", "/api/v1/applications/<int:application_id>/claim"):
        Api("/api/v1/applications/{draft}/claim", REVIEW, 409),
    ("POST", "/api/v1/applications/<int:application_id>/decisions"):
        Api("/api/v1/applications/{draft}/decisions", REVIEW, 422, {}),
    ("GET", "/api/v1/applications/<int:application_id>/attachments"):
        Api("/api/v1/applications/{draft}/attachments", FILES),
    ("POST", "/api/v1/applications/<int:application_id>/attachments"):
        Api("/api/v1/applications/{draft}/attachments", APPLICANT, 422, multipart=True),
    ("GET", "/api/v1/attachments/<int:attachment_id>"): Api("/api/v1/attachments/{file}", FILES),
    ("DELETE", "/api/v1/attachments/<int:attachment_id>"):
        Api("/api/v1/attachments/{missing}", APPLICANT, 404),
    ("GET", "/api/v1/objections"): Api("/api/v1/objections", REVIEW),
    ("POST", "/api/v1/objections/<int:objection_id>/resolution"):
        Api("/api/v1/objections/{objection}/resolution", REVIEW, 422, {}),
    ("GET", "/api/v1/account-claims"): Api("/api/v1/account-claims", REVIEW),
    ("POST", "/api/v1/account-claims/<int:claim_id>/decision"):
        Api("/api/v1/account-claims/{claim}/decision", REVIEW, 422, {}),
}
# fmt: on
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def rules(app) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - SKIPPED_METHODS
    }


def test_every_rule_is_in_the_matrix(app):
    found = rules(app)
    missing = sorted(found - MATRIX.keys())
    stale = sorted(MATRIX.keys() - found)
    assert not missing, f"rules missing from MATRIX: {missing}"
    assert not stale, f"MATRIX entries without a rule: {stale}"


# --- the world ---------------------------------------------------------------------------


@pytest.fixture
def world(app, session, make) -> dict:
    """The objects the paths name: the enterprise user's own enterprise (``own``) with a
    report, a draft with a file, a withdrawn application with a file and a withdrawn
    nomination; another enterprise (``other``) whose application is in notice with an
    objection; a pending account claim; one user per role, and a revoked token."""
    own = make.enterprise(founded_on=date(2015, 1, 1))
    other = make.enterprise(founded_on=date(2015, 1, 1))
    for enterprise in (own, other):
        make.eligible_report(enterprise, 2025)
    account = partial(make.user, password=PASSWORD)
    users = {
        ENTERPRISE: account("owner@own.example", enterprise=own),
        REVIEWER: account("reviewer@registry.example", Role.REVIEWER),
        ADMIN: account("admin@registry.example", Role.ADMIN),
    }
    owner, reviewer = users[ENTERPRISE], users[REVIEWER]
    other_owner = account("owner@other.example", enterprise=other)
    deciding = account("decider@registry.example", Role.REVIEWER)

    def application(enterprise, user, with_file=False):
        created = make.application(enterprise, user)
        file = None
        if with_file:
            file = attachments.add_attachment(session, created, PDF, "a.pdf", user=user, via="web")
        return created, file

    nomination, _ = application(own, reviewer)
    apps.withdraw(session, nomination, user=reviewer, via="web")
    closed, closed_file = application(own, owner, with_file=True)
    apps.withdraw(session, closed, user=owner, via="web")
    draft, file = application(own, owner, with_file=True)
    in_notice, _ = application(other, other_owner)
    apps.submit(session, in_notice, user=other_owner, via="web", declaration=True)
    apps.claim(session, in_notice, user=deciding, via="web")
    decisions.decide(
        session, in_notice, "approve", user=deciding, via="web", manual_checks=TSME_CHECKS
    )
    objection = objections.file_objection(
        session,
        in_notice,
        name="张三",
        contact="13800000000",
        grounds="Not so.",
        client_address="203.0.113.5",
    )
    claim = accounts.sign_up(
        session,
        email="claimant@own.example",
        password=PASSWORD,
        uscc=own.uscc,
        enterprise_name=own.name,
    ).claim
    revoked, revoked_secret = tokens.create_token(session, owner, "registry:read", actor=TEST_ACTOR)
    tokens.revoke_token(session, revoked, actor=TEST_ACTOR)
    secrets = {
        (role, name): tokens.create_token(session, user, name, actor=TEST_ACTOR)[1]
        for role, user in users.items()
        for name in SCOPES
    }
    names = {
        "own": own.uscc,
        "other": other.uscc,
        "year": 2025,
        "tier": "tech_sme",
        "draft": draft.id,
        "closed": closed.id,
        "nomination": nomination.id,
        "in_notice": in_notice.id,
        "file": file.id,
        "closed_file": closed_file.id,
        "objection": objection.id,
        "claim": claim.id,
        "user": owner.id,
        "revoked_token": revoked.id,
        "missing": 999_999,
    }
    emails = {role: user.email for role, user in users.items()}
    session.commit()
    return {"names": names, "emails": emails, "secrets": secrets, "revoked": revoked_secret}


_addresses = itertools.count(1)


def _client(app, session, cookies: bool) -> ApiClient:
    """A test client with an address of its own."""
    client = ApiClient(app, app.response_class, use_cookies=cookies)
    client.session = session
    client.environ_base["REMOTE_ADDR"] = f"198.51.100.{next(_addresses) % 250 + 1}"
    return client


def _ask(client, method: str, path: str, entry, headers=None):
    kwargs = {"headers": {"Accept-Language": "en", **(headers or {})}}
    if isinstance(entry, Page) and entry.data is not None:
        kwargs["data"] = entry.data
    elif isinstance(entry, Api) and entry.multipart:
        kwargs["content_type"] = "multipart/form-data"
    elif isinstance(entry, Api) and entry.json is not None:
        kwargs["json"] = entry.json
    return client.open(path, method=method, **kwargs)


def _web_mismatch(response, expected) -> str | None:
    if expected == LOGIN:
        location = response.headers.get("Location", "")
        if response.status_code == 303 and urlsplit(location).path == "/login":
            return None
        return f"{response.status_code} {location}".strip()
    return None if response.status_code == expected else str(response.status_code)


def _api_mismatch(response, expected: int) -> str | None:
    status = response.status_code
    if status != expected:
        return f"{status} {response.get_data(as_text=True)[:120]}"
    if status >= 400:
        body = response.json or {}
        if response.mimetype != "application/problem+json":
            return f"{status} as {response.mimetype}"
        wanted = {401: "unauthenticated", 403: "forbidden"}.get(status)
        if wanted and body.get("code") != wanted:
            return f"{status} with code {body.get('code')}"
        if status == 401 and response.headers.get("WWW-Authenticate") != "Bearer":
            return "401 without WWW-Authenticate: Bearer"
    return None


def _table(app, kind) -> list[tuple[str, str, Page | Api]]:
    """The entries of one kind whose rule exists (the others fail the test above),
    ``POST /logout`` last."""
    found = rules(app)
    entries = [(m, r, e) for (m, r), e in MATRIX.items() if isinstance(e, kind)]
    return sorted(
        [(m, r, e) for m, r, e in entries if (m, r) in found], key=lambda x: x[1] == "/logout"
    )


def test_every_page_answers_each_role_as_the_matrix_says(app, session, world, auth):
    clients = {ANONYMOUS: _client(app, session, cookies=True)}
    for role, email in world["emails"].items():
        clients[role] = _client(app, session, cookies=True)
        signed_in = auth.login(email, client=clients[role])
        assert signed_in.status_code == 303, role
    mismatches = []
    for method, rule, entry in _table(app, Page):
        path = entry.path.format(**world["names"])
        for principal, client in clients.items():
            expected = getattr(entry, principal)
            with _ask(client, method, path, entry) as response:  # files: closed
                wrong = _web_mismatch(response, expected)
            if wrong is not None:
                mismatches.append(
                    f"{method} {rule} as {principal}: expected {expected}, got {wrong}"
                )
    assert not mismatches, "\n".join(mismatches)


def _api_expected(entry: Api, caller) -> int:
    """401 without a usable token (a web session is none); the route's answer for a
    public route or a (role, scope) it lets in; else 403."""
    if caller == "revoked":
        return 401
    if entry.allowed is not PUBLIC and caller in (None, "admin session"):
        return 401
    if entry.allowed is not PUBLIC and caller not in entry.allowed:
        return 403
    return entry.status


def test_every_api_route_answers_each_token_as_the_matrix_says(app, session, world, auth):
    # One client address per caller: anonymous calls are rate limited per address.
    callers = {None: (_client(app, session, cookies=False), {})}
    revoked = {"Authorization": f"Bearer {world['revoked']}"}
    callers["revoked"] = (_client(app, session, cookies=False), revoked)
    for caller, secret in world["secrets"].items():
        callers[caller] = (
            _client(app, session, cookies=False),
            {"Authorization": f"Bearer {secret}"},
        )
    # Only bearer tokens authenticate under /api/v1: an admin's web session is no one.
    signed_in = _client(app, session, cookies=True)
    assert auth.login(world["emails"][ADMIN], client=signed_in).status_code == 303
    callers["admin session"] = (signed_in, {})
    mismatches = []
    for method, rule, entry in _table(app, Api):
        path = entry.path.format(**world["names"])
        for caller, (asking, headers) in callers.items():
            expected = _api_expected(entry, caller)
            with _ask(asking, method, path, entry, headers) as response:
                wrong = _api_mismatch(response, expected)
            if wrong is not None:
                who = "no token" if caller is None else caller
                mismatches.append(f"{method} {rule} with {who}: expected {expected}, got {wrong}")
    assert not mismatches, "\n".join(mismatches)
