"""/api/docs in a real browser: Swagger UI from the registry's own files renders the
OpenAPI document under the CSP, and nothing is fetched from elsewhere."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

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
