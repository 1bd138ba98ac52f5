"""The admin's thresholds page (/admin/tiers/<code>/criteria): a save is a criteria
version effective that day, shown with the tier's versions; wrong values are all
answered at once; a form opened before another admin's save is refused, never undoing
that save."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from registry.accounts.models import Role
from registry.core import clock
from registry.ladder import criteria_versions
from tests.factories import PASSWORD, thresholds_form

NOW = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)  # Wed 2026-03-04 in Shanghai


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.pinned(NOW):
        yield


@pytest.fixture
def admins(session, make, auth):
    for email in ("ada@example.com", "bo@example.com"):
        make.user(email, Role.ADMIN, password=PASSWORD, name=email.split("@")[0])
    session.commit()
    return auth.signed_in("ada@example.com"), auth.signed_in("bo@example.com")


def in_force(session, code="champion"):
    session.rollback()
    return criteria_versions.in_force(session, code, date(2026, 3, 4))


def test_a_save_is_a_new_version_from_today_shown_on_the_tier_page(session, admins):
    ada, _bo = admins
    page = ada.get("/admin/tiers/champion/criteria?lang=en")
    assert page.status_code == 200
    assert "The version in force from 2023-09-14." in page.text
    assert "Single champion: fewest years for a new product" in page.text
    field = re.search(r'<input[^>]*name="revenue_min"[^>]*>', page.text).group(0)
    assert 'value="1000"' in field  # 万元
    form = thresholds_form(session, "champion", revenue_min="1500")
    session.rollback()
    saved = ada.post("/admin/tiers/champion/criteria?lang=en", data=form)
    assert saved.status_code == 303 and saved.headers["Location"] == "/admin/tiers/champion"
    version = in_force(session)
    assert (version.effective_from, version.criteria["revenue_min"]) == (
        date(2026, 3, 4),
        15_000_000,
    )
    tier_page = ada.get("/admin/tiers/champion?lang=en").text
    assert "2026-03-04" in tier_page and "An administrator's edit" in tier_page
    assert "省工信厅2026年第3号通知" in tier_page  # the reason is the version's basis
    zh = ada.get("/admin/tiers/champion?lang=zh").text
    assert "认定条件版本" in zh and "管理员修改" in zh


def test_every_wrong_value_is_answered_at_once_and_nothing_changes(session, admins):
    ada, _bo = admins
    form = thresholds_form(session, "champion", revenue_min="many", niche_years_min="-1", reason="")
    session.rollback()
    refused = ada.post("/admin/tiers/champion/criteria?lang=zh", data=form)
    assert refused.status_code == 422
    errors = re.findall(r'<p class="field__error" id="([^"]+)-error">', refused.text)
    assert set(errors) == {"revenue_min", "niche_years_min", "reason"}
    assert "many" in refused.text  # the typed value is shown back
    assert in_force(session).effective_from == date(2023, 9, 14)


def test_a_form_opened_before_another_save_is_refused(session, admins):
    ada, bo = admins
    stale = thresholds_form(session, "champion", rd_revenue_ratio_min="4")
    session.rollback()
    first = thresholds_form(session, "champion", revenue_min="1200")
    session.rollback()
    assert bo.post("/admin/tiers/champion/criteria", data=first).status_code == 303
    refused = ada.post("/admin/tiers/champion/criteria?lang=en", data=stale)
    assert refused.status_code == 422
    assert "The thresholds were changed after this page was opened" in refused.text
    version = in_force(session)
    assert (version.criteria["revenue_min"], version.criteria["rd_revenue_ratio_min"]) == (
        12_000_000,
        3,
    )
