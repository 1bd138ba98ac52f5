"""The public notice's dates written one way on every page (the day it was published and
its last day, inclusive), the notice list's rung filter, and the last day of validity on
the reviewers' enterprise page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from registry.accounts.models import Role
from registry.core import clock
from registry.ladder import operations as ladder
from tests.applications.test_objections import DURING, in_notice, object_to, two_in_notice
from tests.factories import TEST_ACTOR

# Approved Wed 2026-03-04 (Beijing), ten working days: stored end 2026-03-19 00:00 Beijing.
PERIOD = {
    "en": "2026-03-04 to 2026-03-18 (the last day included, Beijing time)",
    "zh": "2026-03-04 至 2026-03-18（含最后一日，北京时间）",
}


def pages(session, world, auth, lang: str) -> dict[str, str]:
    """The pages that show the notice of one application, in ``lang``."""
    application = in_notice(session, world)
    object_to(session, application)
    reviewer = auth.signed_in_as_new(Role.REVIEWER, lang=lang)
    owner = auth.signed_in_as_new(Role.ENTERPRISE, enterprise=world["enterprise"], lang=lang)
    urls = {
        "notice": (auth.signed_in_as_new(Role.ADMIN, lang=lang), "/notices"),
        "objections": (reviewer, "/review/objections"),
        "review": (reviewer, f"/review/applications/{application.id}"),
        "enterprise": (owner, f"/applications/{application.id}"),
    }
    shown = {}
    with clock.pinned(DURING):
        for name, (client, url) in urls.items():
            response = client.get(url)
            assert response.status_code == 200, name
            shown[name] = response.get_data(as_text=True)
    return shown


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_notice_is_written_one_way_on_every_page(session, world, auth, lang):
    for name, html in pages(session, world, auth, lang).items():
        assert PERIOD[lang] in html, name
        # The stored end (00:00 of the day after) is never shown as the end.
        assert "2026-03-19" not in html, name
    label = {"en": "Notice period", "zh": "公示期"}[lang]
    assert label in html


def test_the_notice_list_filters_by_rung(app, client, session, world, make):
    application = in_notice(session, world)
    with clock.pinned(DURING):
        chosen = client.get("/notices?tier=tech_sme&lang=en").get_data(as_text=True)
        other = client.get("/notices?tier=high_tech&lang=en").get_data(as_text=True)
        every = client.get("/notices?tier=&lang=en").get_data(as_text=True)
        refused = client.get("/notices?tier=gold&lang=zh")
    assert f'id="application-{application.id}"' in chosen
    assert re.search(r'<select[^>]*name="tier"', chosen)
    assert '<option selected value="tech_sme">' in chosen
    assert f'id="application-{application.id}"' not in other
    assert "No application for this rung is in public notice" in other
    assert f'id="application-{application.id}"' in every
    assert refused.status_code == 422 and "层级无效" in refused.get_data(as_text=True)


def test_the_rung_rides_along_the_notice_pages(app, client, session, world, make, monkeypatch):
    first, second = two_in_notice(session, make, world)
    monkeypatch.setitem(app.config, "PAGE_SIZE", 1)
    with clock.pinned(DURING):
        html = client.get("/notices?tier=tech_sme&lang=en").get_data(as_text=True)
        link = re.search(r'href="(/notices\?[^"]+)" rel="next"', html).group(1)
        assert "tier=tech_sme" in link
        page_two = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert f'id="application-{first.id}"' in html
    assert f'id="application-{second.id}"' in page_two
    assert 'href="/notices?tier=tech_sme">' in page_two  # the first page, same rung


def test_the_reviewers_enterprise_page_shows_the_last_day_of_validity(session, make, auth):
    enterprise = make.enterprise()
    with clock.pinned(datetime(2026, 3, 5, 2, 0, tzinfo=UTC)):
        ladder.grant_tier(session, enterprise, "tech_sme", actor=TEST_ACTOR, reason="x")
    session.commit()
    reviewer = auth.signed_in_as_new(Role.REVIEWER, lang="en")
    html = reviewer.get(f"/review/enterprises/{enterprise.uscc}").get_data(as_text=True)
    assert "until 2026-12-31" in html and "2027-01-01" not in html
