"""QUALITY.md U7: an enterprise's way from sign-up to a submitted application works with
the keyboard alone, and the focus can always be seen (WCAG 2.1 AA, which GB/T
37668-2019 follows for web content).

The person of tests.web.journeys with ``keyboard=True`` takes the same steps as the
enterprise's journey: Tab and Shift+Tab to each field, typing, arrow keys in a list or
a group of choices, Space on a checkbox, Enter on a button or a link, and nothing
else. On every page it opens, the first Tab stop must be the skip link; at every stop
the focused element must be on the screen with a ring at least 2 px wide that stands
out 3:1 from the colour behind it (WCAG 1.4.11), and the element it left must lose
that ring (the ring is the focus's, not a border).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from registry.core import clock
from tests.factories import new_uscc
from tests.web.journeys import (
    PHONE,
    Person,
    complete_profile,
    file_figures,
    open_self_check,
    said,
    sign_up,
    start_application,
    submit_application,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("lang", "width"),
    [
        pytest.param("zh", 1280, id="zh-1280"),
        pytest.param("en", PHONE, id="en-375", marks=pytest.mark.slow),
    ],
)
def test_an_enterprise_applies_with_the_keyboard_alone(app, new_page, lang, width):
    firm = Person(new_page(width=width), keyboard=True)
    page = firm.page

    firm.go(f"/signup?lang={lang}")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    expect(page.locator(".skip-link")).to_have_text(said(app, lang, "Skip to main content"))

    sign_up(
        firm, lang, email="owner@ganjiang.example", uscc=new_uscc(), name="赣江光电科技有限公司"
    )
    complete_profile(firm)
    file_figures(firm, clock.today().year - 1)
    open_self_check(firm)
    application_id = start_application(firm)
    submit_application(firm, application_id)

    assert firm.stops > 40  # the walk went through every form
    assert not firm.focus_faults, "\n".join(dict.fromkeys(firm.focus_faults))
