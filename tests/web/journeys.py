"""The people of the registry's journeys in a real browser, and the steps they take,
shared by the journey walks (``test_journeys``) and the keyboard walk
(``test_keyboard``).

A :class:`Person` works a page as people do: with the pointer (clicking a field,
typing into it, clicking a button) or with the keyboard alone (Tab and Shift+Tab from
field to field, typing, Space on a checkbox, arrow keys in a list or a group of
choices, Enter on a button or a link). Never a direct request: every change goes
through a form on the page. The keyboard person also looks at every element it stops
on and notes where the focus cannot be seen (QUALITY.md U7, by tests.web.focus).

An :class:`Album` keeps a full-page screenshot of each step for people to look at
(``tmp/screenshots/`` under the repository, or ``$SCREENSHOTS_DIR``), named
``<journey>-<step>-<lang>-<width>.png``, and checks at phone width that the page does
not scroll sideways (U3) and that no card shows a label without its value.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from flask_babel import gettext
from playwright.sync_api import expect

from tests.factories import ELIGIBLE_FIGURES, PASSWORD
from tests.web.focus import FOCUS_LOOK, focus_faults, rings
from tests.web.usability import HTML_LANG, phone_faults

#: The widest screen that is a phone's (QUALITY.md U3).
PHONE = 375
REPOSITORY = Path(__file__).resolve().parents[2]

#: What the profile needs before the figures (registry.applications.journey).
PROFILE = {
    "contact_name": "张经理",
    "contact_phone": "0791-88888888",
}
CITY, INDUSTRY, FOUNDED = "360100", "electronic_info", "2015-03-02"


def said(app, lang: str, message: str, **values) -> str:
    """``message`` as the registry says it in ``lang``."""
    with app.test_request_context(f"/?lang={lang}"):
        return gettext(message, **values)


def screenshots_dir() -> Path:
    """Where the screenshots go: ``$SCREENSHOTS_DIR``, or ``tmp/screenshots`` (ignored
    by git) under the repository."""
    return Path(os.environ.get("SCREENSHOTS_DIR") or REPOSITORY / "tmp" / "screenshots")


class Album:
    """The screenshots of one walk: ``journey`` in ``lang`` at ``width`` px."""

    def __init__(self, journey: str, lang: str, width: int) -> None:
        self.journey, self.lang, self.width = journey, lang, width
        self.folder = screenshots_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []

    def shoot(self, page, step: str) -> None:
        """Keep the page as it is now, then check what every page of a walk must be: in
        the walk's language and, on a phone, no wider than the screen."""
        name = f"{self.journey}-{len(self.taken) + 1:02d}-{step}-{self.lang}-{self.width}.png"
        path = self.folder / name
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[self.lang])
        if self.width <= PHONE:
            faults = phone_faults(page) + [
                f"the card label {label!r} has no value" for label in page.evaluate(BARE_LABELS)
            ]
            assert not faults, f"{name}: {faults}"


#: The labels of a table shown as cards at phone width (``table-wrap--stacked``) that
#: are seen without a value beside them.
BARE_LABELS = """() => [...document.querySelectorAll(".table-wrap--stacked td[data-label]")]
    .filter(cell => cell.getBoundingClientRect().height > 0 && !cell.textContent.trim())
    .map(cell => cell.dataset.label)"""
#: The cells of the tables matched that reach past the right edge of their frame or of
#: the window: cut off, to be scrolled to.
CUT_OFF = """(selector) => [...document.querySelectorAll(selector)].flatMap(table => {
    const frame = (table.closest(".table-wrap") || table.parentElement).getBoundingClientRect();
    const edge = Math.min(frame.right, window.innerWidth) + 1;
    return [...table.querySelectorAll("th, td")]
        .filter(cell => cell.getBoundingClientRect().width > 0)
        .filter(cell => cell.getBoundingClientRect().right > edge)
        .map(cell => cell.textContent.trim().slice(0, 30));
})"""


def cut_off(page, table: str) -> list[str]:
    """The cells of the tables ``table`` matches that a person would have to scroll to."""
    return page.evaluate(CUT_OFF, table)


# --- people -----------------------------------------------------------------------------


class Person:
    """Someone at the browser, with the pointer or (``keyboard=True``) the keyboard
    alone. ``focus_faults`` lists, for the keyboard, every stop where the focus could
    not be seen and every page whose first Tab stop is not the skip link."""

    #: More Tab presses than any page of the registry needs to reach a field.
    MAX_TABS = 120

    def __init__(self, page, *, keyboard: bool = False) -> None:
        self.page = page
        self.keyboard = keyboard
        self.focus_faults: list[str] = []
        self.stops = 0
        #: The element left by the last Tab, with its rings while focused: once left,
        #: its rings must change (the indicator is the focus's, not a border).
        self._left = None

    # The pointer and the keyboard differ in how they reach and work a control.

    def go(self, path: str) -> None:
        """Type an address into the browser."""
        self.page.goto(path)
        self._left = None

    def type_into(self, selector: str, text: str) -> None:
        """Replace what a field holds with ``text``, typed."""
        self._reach(selector)
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(text)

    def type_date(self, selector: str, day: str) -> None:
        """Type an ISO day into a date field. The field shows its parts in the order of
        the browser's own language: the person types them in that order, found by
        looking at what the field then holds."""
        if not self.keyboard:
            self.page.locator(selector).fill(day)
            return
        year, month, date = day.split("-")
        for attempt, order in enumerate(
            ((month, date, year), (year, month, date), (date, month, year))
        ):
            self._reach(selector, again=attempt > 0)
            self.page.keyboard.type("".join(order))
            if self.page.locator(selector).input_value() == day:
                return
        raise AssertionError(f"{selector} does not take {day} typed")

    def select(self, selector: str, value: str) -> None:
        """Choose the option ``value`` of a list."""
        if not self.keyboard:
            self.page.locator(selector).select_option(value)
            return
        self._reach(selector)
        where = self.page.locator(selector).evaluate(
            "(s, v) => [s.selectedIndex, [...s.options].findIndex(o => o.value === v)]", value
        )
        for _ in range(abs(where[1] - where[0])):
            self.page.keyboard.press("ArrowDown" if where[1] > where[0] else "ArrowUp")
        expect(self.page.locator(selector)).to_have_value(value)

    def tick(self, selector: str) -> None:
        """Tick a checkbox."""
        if not self.keyboard:
            self.page.locator(selector).check()
            return
        self._reach(selector)
        self.page.keyboard.press("Space")
        expect(self.page.locator(selector)).to_be_checked()

    def choose(self, selector: str) -> None:
        """Choose one radio button of a group: the keyboard enters the group with Tab
        and moves to the choice with the arrow keys."""
        if not self.keyboard:
            self.page.locator(selector).check()
            return
        target = self.page.locator(selector)
        name = target.get_attribute("name")
        self._reach(f"input[type=radio][name='{name}']", group=True)
        for _ in range(self.MAX_TABS):
            if target.evaluate("el => el === document.activeElement"):
                break
            self.page.keyboard.press("ArrowDown")
        self.page.keyboard.press("Space")
        expect(target).to_be_checked()

    def press(self, selector: str, *, navigates: bool = True) -> None:
        """Press a button or follow a link; by default it leads to another page."""
        if not self.keyboard:
            if navigates:
                with self.page.expect_navigation():
                    self.page.locator(selector).click()
            else:
                self.page.locator(selector).click()
            return
        self._reach(selector)
        if navigates:
            with self.page.expect_navigation():
                self.page.keyboard.press("Enter")
            self._left = None
        else:
            self.page.keyboard.press("Enter")

    # The keyboard's way to a control.

    def _reach(self, selector: str, *, group: bool = False, again: bool = False) -> None:
        """Bring the focus to the control: the pointer clicks it; the keyboard tabs to it
        (Shift+Tab when it lies before the focus), from the skip link when the page was
        just opened. ``group``: any control the selector matches will do. ``again``:
        leave the control and come back, to start at its beginning."""
        target = self.page.locator(selector).first
        if not self.keyboard:
            target.click()
            return
        if again:
            for _ in range(self.MAX_TABS):
                if not target.evaluate("el => el === document.activeElement"):
                    break
                self.page.keyboard.press("Shift+Tab")
                self._looked_at()
        elif self._at_page_start():
            self._skip_to_main(target)
        matches = (
            "(el, s) => [...document.querySelectorAll(s)].includes(document.activeElement)"
            if group
            else "el => el === document.activeElement"
        )
        for _ in range(self.MAX_TABS):
            if target.evaluate(matches, selector) if group else target.evaluate(matches):
                return
            after = target.evaluate(
                "el => !!(document.activeElement.compareDocumentPosition(el)"
                " & Node.DOCUMENT_POSITION_FOLLOWING)"
            )
            self.page.keyboard.press("Tab" if after else "Shift+Tab")
            self._looked_at()
        raise AssertionError(f"Tab never reaches {selector} on {self.page.url}")

    def _at_page_start(self) -> bool:
        return self.page.evaluate("document.activeElement === document.body && !location.hash")

    def _skip_to_main(self, target) -> None:
        """A page just opened: the first Tab stop is the skip link (U7); a control in
        the main content is reached through it."""
        self.page.keyboard.press("Tab")
        look = self._looked_at()
        skip = self.page.locator(".skip-link")
        if not skip.evaluate("el => el === document.activeElement"):
            self.focus_faults.append(f"{self.page.url}: the first Tab stop is {look['name']}")
        elif target.evaluate("el => !!el.closest('main')"):
            self.page.keyboard.press("Enter")
            self._left = None

    def _looked_at(self) -> dict:
        """Look at the element the focus is on: can it be seen, and did the one it left
        lose its ring?"""
        self.stops += 1
        handle = self.page.evaluate_handle("document.activeElement")
        look = handle.evaluate(FOCUS_LOOK)
        where = self.page.url
        for fault in focus_faults(look):
            self.focus_faults.append(f"{where}: {look['name']} {fault}")
        if self._left is not None:
            left, left_rings, left_name = self._left
            if left.evaluate("el => el.isConnected && el !== document.activeElement"):
                if rings(left.evaluate(FOCUS_LOOK)) == left_rings:
                    self.focus_faults.append(
                        f"{where}: {left_name} looks the same with and without the focus"
                    )
        self._left = (handle, rings(look), look["name"])
        return look


# --- the steps of the journeys ----------------------------------------------------------


def sign_in(person: Person, email: str, lang: str) -> None:
    """Sign in through the login form in ``lang``."""
    person.go(f"/login?lang={lang}")
    person.type_into("#email", email)
    person.type_into("#password", PASSWORD)
    person.press("form.form button[type=submit]")
    expect(person.page.locator(".account-menu")).to_be_visible()


def sign_up(person: Person, lang: str, *, email: str, uscc: str, name: str) -> None:
    """Register a new enterprise at /signup; the account page then lists the steps."""
    person.go(f"/signup?lang={lang}")
    person.type_into("#email", email)
    person.type_into("#password", PASSWORD)
    person.type_into("#confirm", PASSWORD)
    person.type_into("#uscc", uscc)
    person.type_into("#enterprise_name", name)
    person.press("form.form button[type=submit]")
    expect(person.page).to_have_url(re.compile(r"/account(#\w+)?$"))
    expect(person.page.locator("[data-next-step] [data-step=profile]")).to_be_visible()


def complete_profile(person: Person) -> None:
    """From the steps on the page, open the profile and give what the checks need:
    city, industry, founding date, a contact person with a phone number."""
    person.press("[data-next-step] [data-step=profile] a")
    person.select("#city_code", CITY)
    person.select("#industry_code", INDUSTRY)
    person.type_date("#founded_on", FOUNDED)
    for field, value in PROFILE.items():
        person.type_into(f"#{field}", value)
    person.press("form.form button[type=submit]")
    expect(person.page.locator("[data-next-step]")).to_be_visible()


def file_figures(person: Person, year: int) -> None:
    """Follow the next step to the annual report of ``year`` and file its figures."""
    person.press("[data-next-step] a.next-step__link")
    expect(person.page).to_have_url(re.compile(rf"/enterprise/reports/{year}(#\w+)?$"))
    for field, value in ELIGIBLE_FIGURES.items():
        person.type_into(f"#{field}", value)
    person.press("form.form button[type=submit]")
    expect(person.page.locator("[data-next-step]")).to_be_visible()


def open_self_check(person: Person) -> None:
    """Open the self-check from the navigation: tech_sme is met."""
    person.press("nav a[href='/enterprise/eligibility']")
    expect(person.page).to_have_url(re.compile(r"/enterprise/eligibility(#\w+)?$"))
    tech_sme = person.page.locator("section[aria-labelledby=tier-tech_sme]")
    expect(tech_sme.locator("p .badge--pass")).to_be_visible()


def start_application(person: Person) -> int:
    """From the self-check, start a tech_sme application; returns its number."""
    person.press("section[aria-labelledby=tier-tech_sme] a.button")
    person.choose("input[name=target][value='promotion:tech_sme']")
    person.press("form.form button[type=submit]")
    expect(person.page).to_have_url(re.compile(r"/applications/\d+(#[\w-]+)?$"))
    expect(person.page.locator(".page-head .badge--draft")).to_be_visible()
    return int(re.search(r"/applications/(\d+)", person.page.url)[1])


def submit_application(person: Person, application_id: int) -> None:
    """Give the declaration and submit: the application is with the reviewers."""
    person.tick("#declaration")
    person.press(f"form[action$='/applications/{application_id}/submit'] button[type=submit]")
    expect(person.page.locator(".page-head .badge--submitted")).to_be_visible()
    expect(person.page.locator("[data-next-step]")).to_be_visible()
