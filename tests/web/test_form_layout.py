"""The one-column forms (sign-in, sign-up, password, the admin's user pages, nominate)
at phone and desktop width: each field is as tall as what it holds — label, help,
error and control — with no gap grown out of the flex basis."""

from __future__ import annotations

import pytest

from registry.accounts.models import Role
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

#: What a field may add to its label, help, error and control: their margins.
SLACK = 24
#: Each field's height and the sum of its children's heights (margins left out).
MEASURE = """() => [...document.querySelectorAll("form.form--narrow .field")].map(field => [
    field.getBoundingClientRect().height,
    [...field.children].reduce((sum, child) => sum + child.getBoundingClientRect().height, 0),
])"""
PAGES = {
    None: ["/login", "/signup"],
    Role.ENTERPRISE: ["/account/password"],
    Role.REVIEWER: ["/review/nominate"],
    Role.ADMIN: ["/admin/users/new", "/admin/users/{user}"],
}


@pytest.mark.parametrize("role", list(PAGES), ids=lambda role: str(role or "anonymous"))
@pytest.mark.parametrize("width", [375, 1280])
def test_narrow_form_fields_are_as_tall_as_their_content(
    new_page, signed_in, session, make, role, width
):
    user = make.user("someone@example.com", Role.ENTERPRISE, password=PASSWORD)
    if role is not None:
        make.user(f"{role}@example.com", role, password=PASSWORD)
    session.commit()
    page = new_page(width=width)
    if role is not None:
        signed_in(page, f"{role}@example.com")
    for path in PAGES[role]:
        page.goto(path.format(user=user.id))
        fields = page.evaluate(MEASURE)
        assert fields, f"no field on {path}"
        for height, content in fields:
            assert height <= content + SLACK, (path, width, height, content)
