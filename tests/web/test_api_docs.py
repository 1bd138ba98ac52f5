"""/api/docs in a real browser: Swagger UI from the registry's own files renders the
OpenAPI document under the CSP, nothing is fetched from elsewhere, and the page fits a
phone and is accessible with its operations unfolded."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.usability import axe_faults, phone_faults, settle

pytestmark = pytest.mark.browser


def test_the_docs_page_lists_the_operations_with_no_internet(new_page, live_server):
    page = new_page()
    elsewhere: list[str] = []
    problems: list[str] = []

    def route(request_route) -> None:
        url = request_route.request.url
        if url.startswith(live_server) or url.startswith("data:"):
            request_route.continue_()
        else:
            elsewhere.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto("/api/docs?lang=en")

    expect(page.get_by_role("heading", level=1)).to_have_text("API documentation")
    operations = page.locator("#swagger-ui .opblock")
    expect(operations.first).to_be_visible()
    expect(page.locator("#swagger-ui")).to_contain_text("/api/v1/tiers")
    expect(page.locator("#swagger-ui")).to_contain_text("Enterprise Cultivation Registry")
    # Swagger UI's stylesheet applied (a GET operation has its coloured frame).
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.opblock')).borderStyle") == "solid"
    )
    # Unfold an operation: the interactive part runs too.
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert elsewhere == []
    assert problems == []


@pytest.mark.parametrize(
    ("lang", "methods"),
    # In the long forms: the short walk over the route matrix sees /api/docs folded
    # (U3, U7). Swagger UI's part is the same in both languages: English unfolds the
    # operations of the other methods too.
    [
        pytest.param("zh", ("get", "post"), marks=pytest.mark.slow),
        pytest.param("en", ("get", "post", "put", "patch", "delete"), marks=pytest.mark.slow),
    ],
)
def test_the_docs_fit_a_phone_and_are_accessible_unfolded(new_page, lang, methods):
    """QUALITY.md U3 and U7 on /api/docs as a reader uses it, at 375 px: operations
    unfolded, "Try it out" pressed on a POST (the walk over the route matrix sees the
    page as it opens). Swagger UI's markup is kept as it is drawn: no axe rule is set
    aside for it."""
    page = new_page(width=375)
    page.goto(f"/api/docs?lang={lang}")
    settle(page)
    for method in methods:
        page.locator(f".opblock-{method} .opblock-summary-control").first.click()
    page.locator(".opblock-post .try-out__btn").first.click()
    expect(page.locator(".opblock-post .btn.execute").first).to_be_visible()
    assert phone_faults(page) == []
    assert axe_faults(page) == []
