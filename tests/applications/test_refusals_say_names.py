"""Refusals name tiers and states by their names in the reader's language (issue 12,
QUALITY.md U4): the quota of a full tier, an action a state forbids, on the reviewer's
and the enterprise's pages and in an API problem's ``detail``. The codes stay in the
problem's machine fields."""

from __future__ import annotations

import re
from html import unescape

import pytest

from registry.ladder.models import Tier
from tests.fixtures.api import API, TSME_CHECKS, problem_of

pytestmark = pytest.mark.usefixtures("pinned_clock")

#: The decision form's confirmations of tech_sme's manual checks.
CONFIRMED = {f"confirm_{code}": "y" for code in TSME_CHECKS}
QUOTA_FULL = {
    "zh": "科技型中小企业名额已满（已占用 0 / 名额 0）。",
    "en": "The quota of Technology-based SME is full (0 of 0).",
}


def close_quota(session) -> None:
    session.get(Tier, "tech_sme").quota = 0
    session.commit()


def page_text(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_full_quota_on_the_reviewers_page_names_the_tier(session, auth, api_world, lang):
    application = api_world.in_review()
    close_quota(session)
    client = auth.client_of(api_world.wang, lang=lang)
    response = client.post(
        f"/review/applications/{application.id}/decision?lang={lang}",
        data={"decision": "approve", **CONFIRMED},
    )
    assert response.status_code == 409
    text = page_text(response)
    assert QUOTA_FULL[lang] in text
    assert "tech_sme" not in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_full_quota_in_an_api_problem_names_the_tier(session, api_world, api_client, lang):
    application = api_world.in_review()
    close_quota(session)
    response = api_client.post(
        f"{API}/applications/{application.id}/decisions",
        json={"decision": "approve", "manual_checks": TSME_CHECKS},
        headers={**api_world.headers["wang"], "Accept-Language": lang},
    )
    assert problem_of(response, 409, "quota_full")["detail"] == QUOTA_FULL[lang]


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("zh", "当前状态为“已提交”，暂不能执行此操作。"),
        ("en", "is Submitted; this action is not possible now."),
    ],
)
def test_an_action_the_state_forbids_names_the_state(session, auth, api_world, lang, said):
    application = api_world.submitted()
    client = auth.client_of(api_world.owner, lang=lang)
    response = client.post(
        f"/applications/{application.id}/submit?lang={lang}", data={"declaration": "y"}
    )
    assert response.status_code == 409
    text = page_text(response)
    assert said in text
    assert "submitted;" not in text and "“submitted”" not in text
