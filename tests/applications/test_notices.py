"""The public notice page with its objection forms, and the reviewers' objections page."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from registry.accounts.models import Role
from registry.applications.models import Objection, ObjectionState, State
from registry.core import clock
from registry.extensions import db
from tests.applications.test_objections import (
    ADDRESS,
    AFTER,
    DURING,
    ENDS,
    in_notice,
    object_to,
    two_in_notice,
)
from tests.conftest import make_app
from tests.factories import PASSWORD

XSS = "<img src=x onerror=alert(1)>"


def objection_form(application, **overrides) -> dict:
    prefix = f"objection-{application.id}-"
    values = {"name": "赵六", "contact": "zhao@example.com", "grounds": "Not an SME."}
    values.update(overrides)
    return {prefix + key: value for key, value in values.items()}


def post_objection(client, application, address=ADDRESS, at=DURING, **overrides):
    with clock.pinned(at):
        return client.post(
            f"/notices/{application.id}/objections?lang=en",
            data=objection_form(application, **overrides),
            environ_base={"REMOTE_ADDR": address},
        )


CHECKER = "checker@example.com"  # a reviewer


# --- the public notice -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "html_lang", "words"),
    [
        ("zh", "zh-Hans", ["科技型中小企业", "南昌市", "2026-03-18"]),
        ("en", "en", ["Public notice", "Technology-based SME", "Nanchang", "2026-03-18"]),
    ],
)
def test_notice_page_lists_applications_in_notice(client, session, world, lang, html_lang, words):
    application = in_notice(session, world)
    with clock.pinned(DURING):
        page = client.get(f"/notices?lang={lang}")
    assert page.status_code == 200
    assert f'<html lang="{html_lang}">' in page.text
    assert world["enterprise"].name in page.text and world["enterprise"].uscc in page.text
    for word in words:
        assert word in page.text
    assert f'action="/notices/{application.id}/objections"' in page.text
    assert f'id="objection-{application.id}-grounds"' in page.text
    assert page.headers.get("Cache-Control") != "no-store"  # public: the same for everyone


def test_notice_pages_follow_the_notice_order(app, client, session, make, world, monkeypatch):
    first, second = two_in_notice(session, make, world)
    monkeypatch.setitem(app.config, "PAGE_SIZE", 1)
    with clock.pinned(DURING):
        page_one = client.get("/notices?lang=en")
        cursor = re.search(r'href="/notices\?after=([^"]+)" rel="next"', page_one.text)
        page_two = client.get(f"/notices?after={cursor.group(1)}&lang=en")
        damaged = client.get("/notices?after=not-a-cursor")
    assert f'id="application-{first.id}"' in page_one.text
    assert f'id="application-{second.id}"' not in page_one.text
    assert f'id="application-{second.id}"' in page_two.text and "First page" in page_two.text
    assert damaged.status_code == 422


def test_notice_page_without_applications(client):
    page = client.get("/notices?lang=en")
    assert page.status_code == 200 and "No application is in public notice" in page.text


def test_names_are_rendered_literally(client, session, make, world):
    world["enterprise"].name = XSS
    application = in_notice(session, world)
    with clock.pinned(DURING):
        page = client.get("/notices")
    assert XSS not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert post_objection(client, application, name=XSS).status_code == 303


def test_an_objection_is_stored_and_thanked(client, session, world):
    application = in_notice(session, world)
    response = post_objection(client, application)
    assert response.status_code == 303 and response.headers["Location"] == "/notices"
    stored = session.scalars(select(Objection)).one()
    assert (stored.name, stored.client_address, stored.state) == (
        "赵六",
        ADDRESS,
        ObjectionState.OPEN,
    )
    with clock.pinned(DURING):
        page = client.get("/notices?lang=en")
    assert "Thank you" in page.text and "Objection under examination" in page.text


def test_a_blank_field_is_refused_on_that_applications_form(client, session, world):
    application = in_notice(session, world)
    response = post_objection(client, application, grounds="   ")
    assert response.status_code == 422
    assert re.search(rf'id="objection-{application.id}-grounds-error"', response.text)
    assert "赵六" in response.text  # what was typed is kept
    assert session.scalars(select(Objection)).all() == []


def test_an_objection_after_the_end_is_refused(client, session, world):
    application = in_notice(session, world)
    with clock.pinned(ENDS):
        response = client.post(
            f"/notices/{application.id}/objections?lang=en", data=objection_form(application)
        )
    assert response.status_code == 409
    assert "The notice of this application has ended." in response.text
    assert session.scalars(select(Objection)).all() == []


def test_sixth_objection_from_one_address_is_throttled(client, session, world):
    application = in_notice(session, world)
    for _ in range(5):
        assert post_objection(client, application).status_code == 303
    response = post_objection(client, application)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) == 3600
    assert "Too many objections from your address. Try again in 60 minutes." in response.text
    assert post_objection(client, application, address="198.51.100.7").status_code == 303
    assert len(session.scalars(select(Objection)).all()) == 6


def test_no_objection_to_an_application_not_in_notice(client, session, world):
    application = in_notice(session, world)
    assert client.post("/notices/999999/objections", data={}).status_code == 404
    application.state = State.REJECTED
    session.commit()
    assert post_objection(client, application).status_code == 404


def test_objection_form_carries_a_csrf_token(app, session, world, other_app):
    application = in_notice(session, world)
    path, data = f"/notices/{application.id}/objections", objection_form(application)
    token_field = f"objection-{application.id}-csrf_token"
    session.close()  # the other app below writes to the same database
    production = other_app(WTF_CSRF_ENABLED=True, TESTING=False)
    client = production.test_client()
    with clock.pinned(DURING):
        page = client.get("/notices")
        token = re.search(rf'name="{token_field}" type="hidden" value="([^"]+)"', page.text)
        assert client.post(path, data=data).status_code == 400
        response = client.post(path, data={**data, token_field: token.group(1)})
    assert response.status_code == 303


@pytest.mark.parametrize(
    ("lang", "message"),
    [("zh", "表单已过期，请重新提交。"), ("en", "The form has expired. Please submit it again.")],
)
def test_an_expired_token_gives_the_objection_back_to_send_again(
    app, session, world, lang, message, other_app
):
    application = in_notice(session, world)
    path = f"/notices/{application.id}/objections?lang={lang}"
    data = objection_form(application, name="钱七", grounds="该企业研发人员占比不实。")
    token_field = f"objection-{application.id}-csrf_token"
    session.close()  # the other app below writes to the same database
    production = other_app(WTF_CSRF_ENABLED=True, TESTING=False)
    # A session that ended while the objection was written: no token that holds.
    client = production.test_client()
    with clock.pinned(DURING):
        response = client.post(path, data={**data, token_field: "a-token-of-a-lost-session"})
        assert response.status_code == 400
        assert message in response.text
        # What was typed is there, in the form of its application, ready to send again.
        assert (
            'value="钱七"' in response.text
            and "该企业研发人员占比不实。</textarea>" in response.text
        )
        token = re.search(rf'name="{token_field}" type="hidden" value="([^"]+)"', response.text)
        with production.app_context():
            assert db.session.scalar(select(Objection.id)) is None
        again = client.post(path, data={**data, token_field: token.group(1)})
    assert again.status_code == 303
    with production.app_context():
        assert db.session.scalars(select(Objection.grounds)).all() == ["该企业研发人员占比不实。"]


def test_a_valid_token_refused_for_its_referrer_is_not_sent_again(
    app, database_url, session, world
):
    application = in_notice(session, world)
    path, data = f"/notices/{application.id}/objections?lang=en", objection_form(application)
    token_field = f"objection-{application.id}-csrf_token"
    session.close()  # the other app below writes to the same database
    production = make_app(database_url, WTF_CSRF_ENABLED=True, TESTING=False)
    client, https = production.test_client(), "https://localhost"
    with clock.pinned(DURING):
        page = client.get("/notices", base_url=https)
        token = re.search(rf'name="{token_field}" type="hidden" value="([^"]+)"', page.text)
        # Over HTTPS a post from another site (its referrer) is refused whatever its token.
        response = client.post(
            path,
            data={**data, token_field: token.group(1)},
            headers={"Referer": "https://elsewhere.example/"},
            base_url=https,
        )
    assert response.status_code == 400 and "Bad request" in response.text
    assert "The form has expired" not in response.text
    with production.app_context():
        assert db.session.scalar(select(Objection.id)) is None
    # Disposed once the session above has given its connection back.
    with production.app_context():
        db.engine.dispose()


# --- the reviewers' page -----------------------------------------------------------------------


def test_reviewers_only(client, session, world, auth):
    session.commit()
    response = client.get("/review/objections")
    assert response.status_code == 303 and "/login" in response.headers["Location"]
    owner = auth.signed_in_as_new(
        Role.ENTERPRISE, email="owner@example.com", enterprise=world["enterprise"], lang="en"
    )
    assert owner.get("/review/objections").status_code == 403


def test_reviewers_see_who_objected_and_resolve(session, world, auth):
    application = in_notice(session, world)
    objection = object_to(session, application, name=XSS)
    reviewer = auth.signed_in_as_new(Role.REVIEWER, email=CHECKER, name="Checker", lang="en")
    with clock.pinned(DURING):
        page = reviewer.get("/review/objections?lang=en")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert f'href="/review/applications/{application.id}"' in page.text
    assert "13800000000" in page.text and ADDRESS in page.text
    assert XSS not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
    prefix = f"resolve-{objection.id}-"
    with clock.pinned(DURING):
        response = reviewer.post(
            f"/review/objections/{objection.id}/resolution",
            data={
                prefix + "outcome": "upheld",
                prefix + "comment": "Confirmed by the tax office.",
                "confirm": "1",
            },
        )
    assert response.status_code == 303
    assert application.state == State.REJECTED
    # A second resolution: 409 and nothing changes.
    with clock.pinned(DURING):
        again = reviewer.post(
            f"/review/objections/{objection.id}/resolution?lang=en",
            data={prefix + "outcome": "dismissed", prefix + "comment": "again"},
        )
    assert again.status_code == 409 and "already been resolved" in again.text
    session.refresh(objection)
    assert objection.state == ObjectionState.UPHELD


def test_resolution_needs_a_comment(session, world, auth):
    objection = object_to(session, in_notice(session, world))
    reviewer = auth.signed_in_as_new(Role.REVIEWER, email=CHECKER, name="Checker", lang="en")
    prefix = f"resolve-{objection.id}-"
    with clock.pinned(DURING):
        response = reviewer.post(
            f"/review/objections/{objection.id}/resolution",
            data={prefix + "outcome": "dismissed", prefix + "comment": " "},
        )
    assert response.status_code == 422
    assert f'id="{prefix}comment-error"' in response.text


def test_resolver_linked_to_the_enterprise_gets_403(session, world, auth, make):
    objection = object_to(session, in_notice(session, world))
    checker = make.user(CHECKER, Role.REVIEWER, password=PASSWORD, name="Checker")
    checker.enterprise_id = world["enterprise"].id  # a reviewer of the enterprise itself
    session.commit()
    insider = auth.signed_in(CHECKER, lang="en")
    prefix = f"resolve-{objection.id}-"
    with clock.pinned(DURING):
        response = insider.post(
            f"/review/objections/{objection.id}/resolution?lang=en",
            data={prefix + "outcome": "dismissed", prefix + "comment": "fine"},
        )
    assert response.status_code == 403 and "belong to this enterprise" in response.text
    session.refresh(objection)
    assert objection.state == ObjectionState.OPEN


def test_dismissal_after_the_end_grants_and_says_so(session, world, auth):
    application = in_notice(session, world)
    objection = object_to(session, application)
    reviewer = auth.signed_in_as_new(Role.REVIEWER, email=CHECKER, name="Checker", lang="en")
    prefix = f"resolve-{objection.id}-"
    with clock.pinned(AFTER):
        response = reviewer.post(
            f"/review/objections/{objection.id}/resolution",
            data={prefix + "outcome": "dismissed", prefix + "comment": "Unfounded."},
        )
        assert response.status_code == 303
        page = reviewer.get("/review/objections?lang=en")
    assert "is granted" in page.text
    session.refresh(application)
    assert application.state == State.GRANTED
    assert world["enterprise"].tier_since == date(2026, 3, 20)


def test_tick_grants_after_an_early_dismissal(runner, session, world, auth):
    application = in_notice(session, world)
    objection = object_to(session, application)
    reviewer = auth.signed_in_as_new(Role.REVIEWER, email=CHECKER, name="Checker", lang="en")
    prefix = f"resolve-{objection.id}-"
    with clock.pinned(DURING):
        reviewer.post(
            f"/review/objections/{objection.id}/resolution",
            data={prefix + "outcome": "dismissed", prefix + "comment": "Unfounded."},
        )
    result = runner.invoke(
        args=["registry", "tick", "--now", (ENDS + timedelta(hours=1)).isoformat()]
    )
    assert result.exit_code == 0 and "granted 1 application" in result.output
    session.refresh(application)
    assert application.state == State.GRANTED
