"""The applicant side on the web: list, wizard, submission, withdrawal, timeline,
uploads and downloads (PRODUCT.md "Applications and review" and "Web pages", QUALITY.md S1, S10)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import partial
from html import unescape

import pytest
from sqlalchemy import func, select

from registry.accounts.models import Role
from registry.applications import attachments, decisions, notice_ends
from registry.applications import operations as apps
from registry.applications.models import Application, Attachment, Objection, State
from registry.core import clock
from registry.core.models import AuditEntry
from registry.ladder import operations as ladder
from tests.factories import PASSWORD, TEST_ACTOR
from tests.fixtures.files import HTML, JPEG, PDF, PNG, SVG

NOW = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)  # Wed 2026-03-04 in Shanghai
TSME_CONFIRMED = {"industry_allowed": True, "clean_record": True}
#: What the confirmation page adds when it posts an action again (QUALITY.md U5).
CONFIRM = {"confirm": "1"}


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.pinned(NOW):
        yield


@pytest.fixture
def world(session, make):
    """Enterprise A (eligible for tech_sme) with its user, enterprise B with its user,
    and two reviewers. Committed: every request ends its own transaction."""
    a = make.enterprise(name="赣江甲科技有限公司", founded_on=date(2015, 1, 1))
    for year in (2023, 2024, 2025):
        make.eligible_report(a, year)
    b = make.enterprise(name="抚河乙制造有限公司", founded_on=date(2015, 1, 1))
    user = partial(make.user, password=PASSWORD)
    world = {
        "a": a,
        "b": b,
        "owner": user("owner@a.example", enterprise=a, name="甲公司经办人"),
        "other": user("owner@b.example", enterprise=b),
        "reviewer": user("r1@example.com", Role.REVIEWER, name="Reviewer Wang"),
        "second": user("r2@example.com", Role.REVIEWER, name="Reviewer Li"),
    }
    session.commit()
    return world


def claimed(session, world) -> Application:
    """A draft submitted by its owner and claimed by the first reviewer."""
    application = draft(session, world)
    apps.submit(session, application, user=world["owner"], via="web", declaration=True)
    apps.claim(session, application, user=world["reviewer"], via="web")
    return application


def draft(session, world) -> Application:
    application = apps.create(
        session, world["a"], "tech_sme", "promotion", user=world["owner"], via="web"
    )
    session.commit()
    return application


def approve(session, world, application, who="reviewer", **fields) -> None:
    """``who`` approves, tech_sme's manual checks confirmed."""
    decisions.decide(
        session,
        application,
        "approve",
        user=world[who],
        via="web",
        manual_checks=TSME_CONFIRMED,
        **fields,
    )


def request_changes(session, world, application, comment: str) -> None:
    """The first reviewer asks for changes."""
    decisions.decide(
        session, application, "request_changes", user=world["reviewer"], via="web", comment=comment
    )


def upload(client, application_id, content, name="report.pdf", lang="en"):
    # The body is built here: the test client would spool a large one to a temporary
    # file that it never closes.
    boundary = "registry-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(
        f"/applications/{application_id}/attachments?lang={lang}",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def audit_count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AuditEntry))


def state_of(session, application_id) -> State:
    session.expire_all()
    return session.get(Application, application_id).state


# --- anonymous and navigation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/applications"),
        ("get", "/applications/new"),
        ("get", "/applications/1"),
        ("get", "/attachments/1"),
        ("post", "/applications/1/submit"),
        ("post", "/applications/1/withdraw"),
        ("post", "/applications/1/attachments"),
        ("post", "/attachments/1/delete"),
    ],
)
def test_anonymous_visitors_are_sent_to_login(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")


def test_enterprise_users_see_applications_in_the_navigation(client, world, auth):
    assert auth.login("owner@a.example").status_code == 303
    page = client.get("/account?lang=en")
    assert 'href="/applications"' in page.text and "Applications" in page.text


def test_reviewers_cannot_use_the_enterprise_wizard(client, world, auth):
    assert auth.login("r1@example.com").status_code == 303
    assert client.get("/applications").status_code == 403
    assert client.get("/applications/new").status_code == 403


# --- the wizard ----------------------------------------------------------------------------


def test_wizard_offers_the_champion_rung_by_either_route(client, session, world, auth):
    ladder.grant_tier(session, world["a"], "tech_sme", actor=TEST_ACTOR, reason="x")
    session.commit()
    assert auth.login("owner@a.example").status_code == 303
    step1 = client.get("/applications/new?lang=en").text
    assert 'value="promotion:champion:srdi"' in step1
    assert 'value="promotion:champion:single_champion"' in step1
    assert "route: Manufacturing single champion" in step1
    zh = client.get("/applications/new?lang=zh").text
    assert "认定途径：制造业单项冠军" in zh
    for refused in ("promotion:champion:gold", "promotion:champion:"):
        response = client.post("/applications/new?lang=en", data={"target": refused})
        assert response.status_code == 422 and 'id="target-error"' in response.text
    created = client.post(
        "/applications/new", data={"target": "promotion:champion:single_champion"}
    )
    assert created.status_code == 303
    application = session.scalars(select(Application)).one()
    assert (application.tier, application.route) == ("champion", "single_champion")
    detail = client.get(f"/applications/{application.id}?lang=en").text
    assert "Manufacturing single champion" in detail
    assert "Years in the product&#39;s field" in detail  # judged by its own route's rules


def test_wizard_create_upload_submit(client, session, world, auth):
    assert auth.login("owner@a.example").status_code == 303
    index = client.get("/applications?lang=en")
    assert index.status_code == 200 and "No applications yet." in index.text
    assert 'href="/applications/new"' in index.text

    step1 = client.get("/applications/new?lang=en")
    assert step1.status_code == 200
    assert 'value="promotion:tech_sme"' in step1.text
    assert 'value="promotion:high_tech"' in step1.text
    assert "needs at least Technology-based SME" in step1.text  # champion's prerequisite
    assert 'value="promotion:navigator"' not in step1.text
    assert "Navigator enterprise is reached by nomination only." in step1.text
    assert "renewal:" not in step1.text  # not on the ladder

    created = client.post("/applications/new", data={"target": "promotion:tech_sme"})
    assert created.status_code == 303
    application = session.scalars(select(Application)).one()
    assert created.headers["Location"] == f"/applications/{application.id}"
    assert (application.state, application.tier) == (State.DRAFT, "tech_sme")

    detail = client.get(f"/applications/{application.id}?lang=en")
    assert detail.status_code == 200
    assert 'href="/enterprise/reports"' in detail.text
    assert "Every automatic check is met." in detail.text
    assert 'enctype="multipart/form-data"' in detail.text
    assert "the figures and the attachments of this application are true and complete" in (
        detail.text
    )

    added = upload(client, application.id, PDF, "资产负债表.pdf")
    assert added.status_code == 303
    detail = client.get(f"/applications/{application.id}?lang=en")
    stored = session.scalars(select(Attachment)).one()
    assert "资产负债表.pdf" in detail.text
    assert f'href="/attachments/{stored.id}"' in detail.text

    refused = client.post(f"/applications/{application.id}/submit?lang=en", data={})
    assert refused.status_code == 422
    assert "Accept the declaration to submit." in refused.text
    # The declaration is written once (beside its checkbox), not again in the error summary.
    assert refused.text.count("attachments of this application are true and complete") == 1
    assert state_of(session, application.id) == State.DRAFT

    submitted = client.post(f"/applications/{application.id}/submit", data={"declaration": "y"})
    assert submitted.status_code == 303
    assert state_of(session, application.id) == State.SUBMITTED
    detail = client.get(f"/applications/{application.id}?lang=en")
    assert "Submitted" in detail.text and "Withdraw the application" in detail.text
    assert 'enctype="multipart/form-data"' not in detail.text  # no more uploads
    assert "资产负债表.pdf" in detail.text  # still listed and downloadable
    late = upload(client, application.id, PNG, "late.png")
    assert late.status_code == 409 and "this action is not possible now" in late.text
    assert session.scalar(select(func.count()).select_from(Attachment)) == 1

    index = client.get("/applications?lang=en")
    assert "is still open" in index.text and "disabled" in index.text


def test_a_choice_the_enterprise_may_not_make_is_refused(client, session, world, auth):
    assert auth.login("owner@a.example").status_code == 303
    for target in ("promotion:navigator", "renewal:tech_sme", "anything"):
        response = client.post("/applications/new?lang=en", data={"target": target})
        assert response.status_code == 422
        assert 'id="target-error"' in response.text
    assert client.post("/applications/new?lang=en", data={}).status_code == 422
    assert session.scalar(select(func.count()).select_from(Application)) == 0


def test_a_second_open_application_is_refused_with_409(client, session, world, auth):
    draft(session, world)
    assert auth.login("owner@a.example").status_code == 303
    assert "is still open" in client.get("/applications/new?lang=en").text
    response = client.post("/applications/new?lang=en", data={"target": "promotion:high_tech"})
    assert response.status_code == 409
    assert "already has an open application" in response.text
    assert session.scalar(select(func.count()).select_from(Application)) == 1


def test_renewal_is_offered_in_the_window_only(client, session, world, auth):
    from registry.ladder import operations as ladder

    with clock.pinned(datetime(2025, 3, 1, tzinfo=UTC)):
        ladder.grant_tier(session, world["a"], "tech_sme", actor=TEST_ACTOR, reason="x")
    session.commit()  # expires 2026-01-01: the window was Oct–Dec 2025
    assert auth.login("owner@a.example").status_code == 303
    assert "renewal:tech_sme" not in client.get("/applications/new?lang=en").text
    with clock.pinned(datetime(2025, 11, 1, tzinfo=UTC)):
        page = client.get("/applications/new?lang=en")
        assert 'value="renewal:tech_sme"' in page.text
        assert "promotion:tech_sme" not in page.text  # the rung held
        assert (
            client.post("/applications/new", data={"target": "renewal:tech_sme"}).status_code == 303
        )


def test_not_eligible_is_refused_listing_the_failing_checks(client, session, make, world, auth):
    weak = make.enterprise(founded_on=date(2015, 1, 1))
    make.report(weak, 2025, employees=100, revenue=1_000_000, rd_expense=0)
    make.user("weak@example.com", password=PASSWORD, enterprise=weak)
    session.commit()
    assert auth.login("weak@example.com").status_code == 303
    client.post("/applications/new", data={"target": "promotion:tech_sme"})
    application = session.scalars(select(Application)).one()
    detail = client.get(f"/applications/{application.id}?lang=en")
    assert "Not yet eligible" in detail.text
    # Each rule as the self-check says it: its label and its threshold in the page's
    # words, never its code or the amount in yuan as stored.
    said = {"en": "≤ 20,000 × 10,000 yuan", "zh": "≤ 20,000 万元"}
    for lang, threshold in said.items():
        html = unescape(client.get(f"/applications/{application.id}?lang={lang}").text)
        assert threshold in html
        for code in ("total_assets_max", "tsme_score", "200000000", "<="):
            assert code not in html, (lang, code)
    before = audit_count(session)
    response = client.post(
        f"/applications/{application.id}/submit?lang=en", data={"declaration": "y"}
    )
    assert response.status_code == 422
    message = re.search(
        r"cannot be submitted while these checks are not met: ([^<]*)\.", response.text
    )
    assert message and message.group(1) == "Total assets; Tech-based SME evaluation score"
    assert state_of(session, application.id) == State.DRAFT
    assert audit_count(session) == before


def test_double_submit_from_two_tabs_changes_nothing_the_second_time(client, session, world, auth):
    application = draft(session, world)
    assert auth.login("owner@a.example").status_code == 303
    path = f"/applications/{application.id}/submit?lang=en"
    assert client.post(path, data={"declaration": "y"}).status_code == 303
    before = audit_count(session)
    again = client.post(path, data={"declaration": "y"})
    assert again.status_code == 409
    assert "this action is not possible now" in again.text
    assert state_of(session, application.id) == State.SUBMITTED
    assert audit_count(session) == before


def test_withdraw_then_withdraw_again_is_409(client, session, world, auth):
    application = draft(session, world)
    assert auth.login("owner@a.example").status_code == 303
    assert client.post(f"/applications/{application.id}/withdraw", data=CONFIRM).status_code == 303
    assert state_of(session, application.id) == State.WITHDRAWN
    before = audit_count(session)
    again = client.post(f"/applications/{application.id}/withdraw?lang=en")
    assert again.status_code == 409
    assert audit_count(session) == before
    page = client.get(f"/applications/{application.id}?lang=en")
    assert "Withdraw the application" not in page.text
    # Closed: a new one may be started.
    assert 'href="/applications/new"' in client.get("/applications").text


def test_the_disabled_start_button_looks_disabled_and_says_why(client, session, world, auth):
    application = draft(session, world)
    session.commit()
    assert auth.login("owner@a.example").status_code == 303
    html = client.get("/applications?lang=en").text
    button = re.search(
        r"<button[^>]*disabled[^>]*>Start an application</button>\s*<span[^>]*>([^<]*)", html
    )
    assert button and f"Not available while application {application.id} is open." in button.group(
        1
    )
    assert 'href="/applications/new"' not in html
    css = client.get("/static/css/registry.css").text
    assert ".button:disabled" in css and "cursor: not-allowed" in css


def _granted(session, world) -> Application:
    application = claimed(session, world)
    approve(session, world, application, comment="Figures verified.")
    notice_ends.end_notice(session, application.id, datetime(2026, 4, 1, tzinfo=UTC))
    session.commit()
    return application


def test_withdrawing_a_granted_application_changes_nothing(client, session, world, auth):
    application = _granted(session, world)
    assert application.state == State.GRANTED
    assert auth.login("owner@a.example").status_code == 303
    before = audit_count(session)
    response = client.post(f"/applications/{application.id}/withdraw?lang=en")
    assert response.status_code == 409
    assert state_of(session, application.id) == State.GRANTED
    assert audit_count(session) == before


def test_the_reason_for_changes_comes_first_on_the_application(client, session, world, auth):
    application = claimed(session, world)
    request_changes(session, world, application, "请补充 2025 年审计报告。")
    session.commit()
    assert auth.login("owner@a.example").status_code == 303
    html = client.get(f"/applications/{application.id}").text
    reason = html.index("请补充 2025 年审计报告。")
    assert reason < html.index('id="facts-title"')
    assert "请按要求修改，然后在本页底部重新提交申请。" in html


# --- timeline ------------------------------------------------------------------------------


def test_the_timeline_hides_reviewers_and_objectors_from_the_enterprise(
    client, session, world, auth
):
    application = claimed(session, world)
    request_changes(session, world, application, "Add the 2025 audit report.")
    apps.submit(session, application, user=world["owner"], via="web", declaration=True)
    approve(session, world, application, "second")
    session.add(
        Objection(
            application_id=application.id,
            name="Objector Zhang",
            contact="zhang@objector.example",
            grounds="The R&D staff count is overstated.",
            client_address="203.0.113.9",
        )
    )
    session.commit()
    assert auth.login("owner@a.example").status_code == 303
    page = client.get(f"/applications/{application.id}?lang=en")
    html = page.text
    for expected in (
        "Started",
        "A reviewer took up the review",
        "Changes requested",
        "Add the 2025 audit report.",
        "Submitted again after changes",
        "Approved",
        "Notice period: 2026-03-04 to 2026-03-18 (the last day included, Beijing time)",
        "Objection received",
        "The R&amp;D staff count is overstated.",
        "by a reviewer",
        "by 甲公司经办人",
    ):
        assert expected in html, expected
    for hidden in (
        "Reviewer Wang",
        "Reviewer Li",
        "Objector Zhang",
        "zhang@objector",
        "203.0.113.9",
    ):
        assert hidden not in html, hidden
    # Reviewers see who decided.
    client.post("/logout")
    assert auth.login("r1@example.com").status_code == 303
    assert "Reviewer Li" in client.get(f"/applications/{application.id}?lang=en").text


def test_a_nomination_is_read_by_the_enterprise_and_acted_on_by_reviewers(
    client, session, world, auth
):
    nomination = apps.create(
        session, world["a"], "navigator", "promotion", user=world["reviewer"], via="web"
    )
    session.commit()
    assert auth.login("owner@a.example").status_code == 303
    page = client.get(f"/applications/{nomination.id}?lang=en")
    assert page.status_code == 200
    assert "Reviewers nominated your enterprise" in page.text
    assert "Withdraw the application" not in page.text and "multipart" not in page.text
    assert "Nominated" in page.text and "Reviewer Wang" not in page.text
    assert upload(client, nomination.id, PDF).status_code == 403
    assert client.post(f"/applications/{nomination.id}/withdraw").status_code == 403
    assert state_of(session, nomination.id) == State.DRAFT
    client.post("/logout")
    assert auth.login("r2@example.com").status_code == 303
    assert upload(client, nomination.id, PDF).status_code == 303
    assert client.post(f"/applications/{nomination.id}/withdraw", data=CONFIRM).status_code == 303
    assert state_of(session, nomination.id) == State.WITHDRAWN


# --- uploads and downloads (S10) ----------------------------------------------------------


@pytest.mark.parametrize(("content", "name"), [(HTML, "report.pdf"), (SVG, "logo.svg")])
def test_upload_of_a_file_that_is_not_accepted_is_422_on_the_field(
    client, session, world, content, name, auth
):
    application = draft(session, world)
    assert auth.login("owner@a.example").status_code == 303
    response = upload(client, application.id, content, name)
    assert response.status_code == 422
    assert 'id="file-error"' in response.text
    assert "Only PDF, PNG, JPEG and XLSX files are accepted." in response.text
    assert session.scalar(select(func.count()).select_from(Attachment)) == 0


@pytest.mark.parametrize(
    ("content", "chinese", "english"),
    [
        (HTML, "只接受 PDF、PNG、JPEG 和 XLSX 文件。", "Only PDF, PNG, JPEG and XLSX"),
        (b"", "文件是空的。", "The file is empty."),
        (
            PDF + b"\0" * (attachments.MAX_SIZE + 1 - len(PDF)),
            "文件超过 10 MB。",
            "The file is larger than 10 MB.",
        ),
    ],
)
def test_an_upload_refusal_is_in_the_pages_language(
    client, session, world, auth, content, chinese, english
):
    application = draft(session, world)
    assert auth.login("owner@a.example").status_code == 303
    response = upload(client, application.id, content, "report.pdf", lang="zh")
    assert response.status_code in (413, 422)
    error = re.search(r'id="file-error"[^>]*>(.*?)</', response.text, re.S).group(1)
    assert chinese in error and english not in response.text


@pytest.mark.parametrize(
    ("content", "chinese", "english"),
    [
        (
            PNG + b"<html><script>alert(1)</script></html>",
            "文件中含有 HTML 网页或脚本，不予接受。",
            "The file holds an HTML page or a script: it is not accepted.",
        ),
        (
            JPEG[:-100],
            "JPEG 图片无法完整读取：文件已损坏或不完整。",
            "The JPEG image cannot be read to its end: the file is damaged or incomplete.",
        ),
    ],
)
def test_a_file_that_does_not_read_as_its_type_is_refused_beside_the_field(
    client, session, world, auth, content, chinese, english
):
    application = draft(session, world)
    assert auth.login("owner@a.example").status_code == 303
    for lang, expected, other in (("zh", chinese, english), ("en", english, chinese)):
        response = upload(client, application.id, content, "scan", lang=lang)
        assert response.status_code == 422
        error = re.search(r'id="file-error"[^>]*>(.*?)</', response.text, re.S).group(1)
        assert expected in error and other not in response.text
    assert session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_upload_without_a_file_is_422(client, session, world, auth):
    application = draft(session, world)
    assert auth.login("owner@a.example").status_code == 303
    response = client.post(
        f"/applications/{application.id}/attachments?lang=en",
        data={},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and 'id="file-error"' in response.text


def test_upload_over_ten_megabytes_is_413(client, session, world, auth):
    application = draft(session, world)
    assert auth.login("owner@a.example").status_code == 303
    # Within the request limit: the operation refuses it on the form.
    over = PDF + b"\0" * (attachments.MAX_SIZE + 1 - len(PDF))
    response = upload(client, application.id, over, "big.pdf")
    assert response.status_code == 413
    assert "The file is larger than 10 MB." in response.text and 'id="file-error"' in response.text
    # Beyond the request limit, which no view reads: the application all the same.
    far_over = PDF + b"\0" * (11 * 1024 * 1024)
    response = upload(client, application.id, far_over, "bigger.pdf")
    assert response.status_code == 413
    assert "The file is larger than 10 MB." in response.text and 'id="file-error"' in response.text
    assert session.scalar(select(func.count()).select_from(Attachment)) == 0


FAR_OVER = PDF + b"\0" * (11 * 1024 * 1024)


@pytest.mark.parametrize(
    ("lang", "message", "other"),
    [
        ("zh", "文件超过 10 MB。", "The file is larger"),
        ("en", "The file is larger than 10 MB.", "文件"),
    ],
)
def test_a_request_over_the_limit_comes_back_to_the_application(
    client, session, world, auth, lang, message, other
):
    application = draft(session, world)
    assert auth.login("owner@a.example").status_code == 303
    response = upload(client, application.id, FAR_OVER, "bigger.pdf", lang=lang)
    assert response.status_code == 413 and response.mimetype == "text/html"
    # The application page, the limit named beside the file field, in the page's language.
    assert f'action="/applications/{application.id}/attachments"' in response.text
    error = re.search(r'id="file-error"[^>]*>(.*?)</', response.text, re.S).group(1)
    assert message in error and other not in error
    assert 'aria-describedby="file-help file-error"' in response.text


def test_a_request_over_the_limit_with_the_production_configuration(app, session, world, other_app):
    application_id = draft(session, world).id
    session.close()  # the other app below writes to the same database
    production = other_app(WTF_CSRF_ENABLED=True, TESTING=False)
    client = production.test_client()
    login = client.get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login.text).group(1)
    data = {"email": "owner@a.example", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 303
    with clock.pinned(NOW):
        response = upload(client, application_id, FAR_OVER, "bigger.pdf")
    assert response.status_code == 413 and 'id="file-error"' in response.text
    # The page is ready for the next try: a fresh token on its forms.
    assert 'name="csrf_token" type="hidden" value="' in response.text
    # Elsewhere a body over the limit still gets the plain 413 page.
    response = client.post("/enterprise/profile?lang=en", data={"name": "x" * (11 * 1024 * 1024)})
    assert response.status_code == 413 and "Request too large" in response.text


def test_download_headers_and_a_name_of_our_making(client, session, world, auth):
    application = draft(session, world)
    stored = attachments.add_attachment(
        session, application, PNG, '"; evil=.html', user=world["owner"], via="web"
    )
    session.commit()
    for email in ("owner@a.example", "r1@example.com"):
        assert auth.login(email).status_code == 303
        response = client.get(f"/attachments/{stored.id}")
        assert response.status_code == 200
        assert response.data == PNG
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="attachment-{stored.id}.png"'
        )
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        client.post("/logout")


def test_deleting_a_file_from_the_page(client, session, world, auth):
    application = draft(session, world)
    stored = attachments.add_attachment(
        session, application, JPEG, "licence.jpg", user=world["owner"], via="web"
    )
    session.commit()
    assert auth.login("owner@a.example").status_code == 303
    assert client.post(f"/attachments/{stored.id}/delete").status_code == 303
    assert session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert "File removed: licence.jpg" in client.get(f"/applications/{application.id}?lang=en").text


def test_labels_render_literally(client, session, world, auth):
    application = draft(session, world)
    attachments.add_attachment(
        session,
        application,
        PDF,
        "<img src=x onerror=alert(1)>{{7*7}}.pdf",
        user=world["owner"],
        via="web",
    )
    session.commit()
    assert auth.login("owner@a.example").status_code == 303
    html = client.get(f"/applications/{application.id}").text
    assert "&lt;img src=x onerror=alert(1)&gt;{{7*7}}.pdf" in html
    assert "<img src=x" not in html and "49.pdf" not in html


# --- S1: another enterprise's application and files ----------------------------------------


def test_another_enterprises_application_and_files_answer_404(client, session, world, auth):
    application = draft(session, world)
    stored = attachments.add_attachment(
        session, application, PDF, "机密财务报表.pdf", user=world["owner"], via="web"
    )
    session.commit()
    before = audit_count(session)
    assert auth.login("owner@b.example").status_code == 303
    responses = [
        client.get(f"/applications/{application.id}"),
        client.get(f"/attachments/{stored.id}"),
        client.post(f"/applications/{application.id}/submit", data={"declaration": "y"}),
        client.post(f"/applications/{application.id}/withdraw"),
        upload(client, application.id, PNG, "planted.png"),
        client.post(f"/attachments/{stored.id}/delete"),
        client.get("/applications/999999"),
        client.get("/attachments/999999"),
    ]
    for response in responses:
        assert response.status_code == 404
        body = response.get_data()
        for secret in ("赣江甲科技有限公司", world["a"].uscc, "机密财务报表", "tech_sme"):
            assert secret.encode() not in body
        assert PDF not in body
    assert state_of(session, application.id) == State.DRAFT
    assert session.scalar(select(func.count()).select_from(Attachment)) == 1
    assert audit_count(session) == before
    # B's own list does not show A's application.
    assert "赣江甲科技有限公司" not in client.get("/applications").text


# --- mass assignment (S2) ---------------------------------------------------------------------

FORGED = {
    "tier": "chain_leader",
    "state": "granted",
    "status": "deregistered",
    "version": "99",
    "kind": "renewal",
    "claimed_by": "3",
    "nominated_by": "3",
    "approvals_required": "0",
    "notice_ends_at": "2026-01-01T00:00:00Z",
    "enterprise_id": "2",
    "reviewer_id": "3",
}


def test_fields_the_applicant_forms_do_not_declare_change_nothing(client, session, world, auth):
    """S2: the wizard and the submit form take their declared fields only; reviewer
    fields, states, versions and another enterprise's id posted beside them are ignored."""
    assert auth.login("owner@a.example").status_code == 303
    created = client.post("/applications/new", data={"target": "promotion:tech_sme", **FORGED})
    assert created.status_code == 303
    application = session.scalars(select(Application)).one()
    assert (application.enterprise_id, application.tier, application.kind) == (
        world["a"].id,
        "tech_sme",
        "promotion",
    )
    assert (application.state, application.version, application.claimed_by) == (
        State.DRAFT,
        1,
        None,
    )
    submitted = client.post(
        f"/applications/{application.id}/submit", data={"declaration": "y", **FORGED}
    )
    assert submitted.status_code == 303
    session.expire_all()
    application = session.get(Application, application.id)
    assert (application.state, application.tier, application.approvals_required) == (
        State.SUBMITTED,
        "tech_sme",
        1,  # copied from the tier, not from the form
    )
    assert (application.claimed_by, application.nominated_by, application.notice_ends_at) == (
        None,
        None,
        None,
    )
    b = session.get(type(world["b"]), world["b"].id)
    assert (
        b.version == 1
        and session.scalar(
            select(func.count()).select_from(Application).where(Application.enterprise_id == b.id)
        )
        == 0
    )


def test_an_upheld_objection_has_its_line_on_the_timeline(client, session, world, auth):
    from registry.applications import objections

    application = claimed(session, world)
    approve(session, world, application)
    objection = objections.file_objection(
        session,
        application,
        name="张三",
        contact="x",
        grounds="Figures are false.",
        client_address="192.0.2.1",
    )
    objections.resolve(
        session, objection, "upheld", user=world["second"], via="web", comment="Confirmed."
    )
    session.commit()
    assert auth.login("owner@a.example").status_code == 303
    page = client.get(f"/applications/{application.id}?lang=en").text
    assert "Rejected: an objection was upheld" in page
    assert "Figures are false." in page and "张三" not in page


def test_a_nomination_only_rung_is_not_offered_for_renewal(client, session, world, auth):
    from registry.ladder import operations as ladder

    with clock.pinned(datetime(2023, 3, 20, tzinfo=UTC)):
        ladder.grant_tier(session, world["a"], "navigator", actor=TEST_ACTOR, reason="x")
    session.commit()  # expires 2026-03-20: NOW (03-04) is inside the renewal window
    assert auth.login("owner@a.example").status_code == 303
    page = client.get("/applications/new?lang=en").text
    assert "renewal:navigator" not in page
    assert "A renewal of Navigator enterprise is by nomination only." in page
