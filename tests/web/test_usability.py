"""QUALITY.md U1 (one language per page), U3 (phone width), U4 (words, not codes) and
U7 (accessible) on every page of the route matrix, for each role, in both languages.

The pages are the matrix's (:mod:`tests.fixtures.route_matrix`) with the objects of its
world (:mod:`tests.fixtures.matrix_world`), plus the states of them a reader meets that
the matrix names once (an application in its notice period with its history, one whose
enterprise is not yet eligible). Forms are walked in their error
state too: the matrix's POSTs are requests a form refuses.

U1 and U4 read every page and every form's error state through the test client, in
both languages, on every run. U3 and U7 need the browser: ``make test`` walks each
role's pages in one language (the roles take turns, so both are seen); ``make
test-long`` walks every page in both. The browser walks also widen each page to 1280
px: there neither the page nor any table but a report's cross-tab scrolls sideways
(the audit log was once 316 px wider than a desktop's page).
"""

from __future__ import annotations

from collections.abc import Collection

import pytest
from sqlalchemy import select

from registry.accounts.models import AccountClaim, ApiToken, User
from registry.applications.models import Application, Attachment, Decision, Objection
from registry.enterprises.models import Enterprise
from tests.fixtures.route_matrix import ADMIN, ANONYMOUS, ENTERPRISE, MATRIX, REVIEWER, Page
from tests.web.usability import (
    POST_FORM,
    axe_faults,
    code_faults,
    desktop_faults,
    language_faults,
    phone_faults,
    reading_text,
    settle,
    unmarked_required,
)

pytestmark = pytest.mark.usefixtures("pinned_clock")
LANGS = ("zh", "en")
PHONE = 375
PRINCIPALS = (ANONYMOUS, ENTERPRISE, REVIEWER, ADMIN)
#: Rules of the matrix that are no page to read: health probes (JSON), the API
#: documentation's files, and downloads.
NOT_PAGES = {
    "/healthz",
    "/readyz",
    "/api/docs/assets/<path:filename>",
    "/exports/enterprises",
    "/exports/tiers/<code>",
    "/reports/<name>.csv",
    "/reports/<name>.xlsx",
    "/attachments/<int:attachment_id>",
    "/logout",
}
#: Pages the test client's walk (U1, U4) sets aside: the API's documentation, which U1
#: exempts (QUALITY.md). Swagger UI draws it in the browser from the API's own words
#: (operations, fields and codes); the browser walk sees it like every page (U3, U7).
NOT_READ_FOR_WORDS = {"/api/docs"}
#: Every report's page (the matrix names one rule for them), with a rung and a year
#: chosen.
REPORT_PAGES = [
    "/reports/quota",
    "/reports/tier-by-city",
    "/reports/tier-by-city?tier={tier}",
    "/reports/tier-by-industry",
    "/reports/moves",
    "/reports/progress",
    "/reports/coverage",
    "/reports/coverage?year=2024",
]
#: Pages in states the matrix does not reach: an application in its notice period, with
#: a decision and an objection in its history; a nomination whose enterprise is not yet
#: eligible, its page listing the checks not met; and the reports'.
MORE_PAGES = {
    ANONYMOUS: REPORT_PAGES,
    ENTERPRISE: REPORT_PAGES,
    REVIEWER: [
        "/review/applications/{in_notice}",
        "/applications/{not_eligible}",
        *REPORT_PAGES,
    ],
    ADMIN: [
        "/review/applications/{in_notice}",
        "/applications/{not_eligible}",
        "/admin/audit?limit=200",
        *REPORT_PAGES,
    ],
}
#: Form posts that show a page of their own beside the matrix's refusals: the
#: confirmation an action that cannot be undone asks for (U5).
MORE_POSTS = {
    ENTERPRISE: [("/applications/{draft}/withdraw", {})],
    ADMIN: [("/admin/users/{user}", {"action": "disable"})],
}
#: The values people entered, set aside by U1 and U4: (model, columns).
ENTERED = (
    (
        Enterprise,
        (
            "name",
            "name_en",
            "address",
            "legal_representative",
            "contact_name",
            "contact_email",
            "main_products",
            "county",
        ),
    ),
    (User, ("email", "name")),
    (AccountClaim, ("stated_name", "comment")),
    (ApiToken, ("prefix",)),
    (Application, ("closed_reason",)),
    (Decision, ("reviewer_name", "comment")),
    (Attachment, ("label",)),
    (Objection, ("name", "contact", "grounds", "resolution_comment")),
)


def entered_values(session) -> list[str]:
    """Every value people entered in the tables of :data:`ENTERED`."""
    values = []
    for model, columns in ENTERED:
        for row in session.execute(select(*(getattr(model, c) for c in columns))):
            values += [str(v) for v in row if v]
    return values


def in_language(path: str, lang: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}lang={lang}"


def pages(
    principal: str,
    names: dict,
    leaving_out: Collection[str] = (),
    rules_aside: Collection[str] = NOT_PAGES,
) -> list[str]:
    """The pages ``principal`` reads: the matrix's GET pages it gets (200) but those of
    ``rules_aside``, then :data:`MORE_PAGES`; none of those ``leaving_out``."""
    found = [
        entry.path
        for (method, rule), entry in MATRIX.items()
        if isinstance(entry, Page)
        and method == "GET"
        and rule not in rules_aside
        and getattr(entry, principal) == 200
    ]
    more = MORE_PAGES.get(principal, [])
    return [path.format(**names) for path in found + more if path not in leaving_out]


def error_states(principal: str, names: dict) -> list[tuple[str, dict]]:
    """The matrix's form posts that ``principal`` gets a page for (a refusal, not a
    redirect): the forms in their error state; then :data:`MORE_POSTS`."""
    found = [
        (entry.path.format(**names), entry.data)
        for (method, rule), entry in MATRIX.items()
        if isinstance(entry, Page)
        and method == "POST"
        and rule not in NOT_PAGES
        and getattr(entry, principal) in (400, 409, 422)
    ]
    return found + [(path.format(**names), data) for path, data in MORE_POSTS.get(principal, [])]


def _faults(html: str, lang: str, entered: list[str]) -> list[str]:
    pieces = reading_text(html, lang, entered)
    return [f"U1 {f!r}" for f in language_faults(pieces, lang)] + [
        f"U4 {f!r}" for f in code_faults(pieces)
    ]


@pytest.mark.sqlite_only(reason="a page's words do not depend on the engine")
@pytest.mark.parametrize("lang", LANGS)
def test_every_page_speaks_its_language_in_words(app, session, matrix_world, auth, lang):
    """U1 and U4 on every page and form error state of the matrix, for each role; U2 on
    each form sent back: every required field left empty is marked beside it."""
    entered = entered_values(session)
    names = matrix_world["names"]
    failures = []
    for principal in PRINCIPALS:
        client = app.test_client()
        if principal != ANONYMOUS:
            email = matrix_world["emails"][principal]
            assert auth.login(email, client=client, lang=lang).status_code == 303
        read = pages(principal, names, rules_aside=NOT_PAGES | NOT_READ_FOR_WORDS)
        asked = [("GET", path, None) for path in read]
        asked += [("POST", path, data) for path, data in error_states(principal, names)]
        for method, path, data in asked:
            response = client.open(in_language(path, lang), method=method, data=data)
            assert response.mimetype == "text/html", (method, path, response.mimetype)
            html = response.get_data(as_text=True)
            faults = _faults(html, lang, entered)
            if response.status_code == 422:
                faults += [
                    f"U2 {name!r} left empty, not marked" for name in unmarked_required(html, path)
                ]
            for fault in faults:
                failures.append(f"{principal} {method} {path}: {fault}")
    assert not failures, "\n".join(dict.fromkeys(failures))


def _browser_walks(kept: set[tuple[str, str]] | None = None):
    """(principal, language) pairs: in ``make test`` those ``kept`` (by default each
    principal in one language, the languages taking turns), the others in ``make
    test-long``."""
    for i, principal in enumerate(PRINCIPALS):
        for j, lang in enumerate(LANGS):
            short = (principal, lang) in kept if kept is not None else (i + j) % 2 == 0
            marks = [] if short else [pytest.mark.slow]
            yield pytest.param(principal, lang, marks=marks, id=f"{principal}-{lang}")


def _signed_in_page(new_page, signed_in, matrix_world, principal: str, lang: str):
    page = new_page(width=PHONE)
    if principal != ANONYMOUS:
        signed_in(page, matrix_world["emails"][principal], lang=lang)
    return page


def _browser_faults(page, label: str) -> list[str]:
    """U3 and U7 on the page shown at phone width, once it has drawn what it draws with
    script; and the page at a desktop's width (1280 px), where no table but a report's
    cross-tab scrolls in its frame."""
    settle(page)
    return (
        [f"{label}: U3 {fault}" for fault in phone_faults(page)]
        + [f"{label}: U7 {fault}" for fault in axe_faults(page)]
        + [f"{label}: at 1280px {fault}" for fault in desktop_faults(page)]
    )


@pytest.mark.browser
@pytest.mark.parametrize(("principal", "lang"), list(_browser_walks()))
def test_every_page_fits_a_phone_and_is_accessible(
    request, new_page, signed_in, matrix_world, principal, lang
):
    """U3 and U7 on every page of the matrix, at 375 px. The report pages and the API's
    documentation, alike for every role but for the header, are walked by the public's
    walk of ``make test`` and by every walk of ``make test-long``; the other short walks
    leave them out (their own browser tests see them in both languages)."""
    page = _signed_in_page(new_page, signed_in, matrix_world, principal, lang)
    failures = []
    short = request.node.get_closest_marker("slow") is None
    alike = {*REPORT_PAGES, "/api/docs"}
    skipped = alike if short and principal != ANONYMOUS else set()
    for path in pages(principal, matrix_world["names"], leaving_out=skipped):
        page.goto(in_language(path, lang))
        failures += _browser_faults(page, f"GET {path}")
    assert not failures, "\n".join(failures)


@pytest.mark.browser
@pytest.mark.parametrize(("principal", "lang"), list(_browser_walks({(ENTERPRISE, "zh")})))
def test_every_form_in_its_error_state_fits_and_is_accessible(
    new_page, signed_in, matrix_world, principal, lang
):
    """U3 and U7 on every form of the matrix sent back with its errors (and on the
    confirmation pages), at 375 px: the enterprise's in ``make test``, every role's in
    both languages in ``make test-long``."""
    page = _signed_in_page(new_page, signed_in, matrix_world, principal, lang)
    failures = []
    for path, data in error_states(principal, matrix_world["names"]):
        page.goto(f"/?lang={lang}")
        with page.expect_navigation():
            page.evaluate(POST_FORM, [path, data or {}])
        failures += _browser_faults(page, f"POST {path}")
    assert not failures, "\n".join(failures)
