"""Admin pages: users and roles, tier settings, the audit log (status and body)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import partial

import pytest
from sqlalchemy import select

from registry.accounts import operations as accounts
from registry.accounts.models import Role, User
from registry.core import clock
from registry.core.audit import Actor, record_audit
from registry.core.errors import QuotaFull
from registry.core.models import AuditEntry
from registry.extensions import db
from registry.ladder import operations as ladder
from registry.ladder.models import CalendarYear, PlanSettings, Tier
from registry.seeding import seed
from tests.conftest import make_app
from tests.factories import PASSWORD, TEST_ACTOR, tier_form
from tests.pages import field_error

NEW_PASSWORD = "Poyang-lake-2027"
PAGES = [
    "/admin/users",
    "/admin/users/new",
    "/admin/users/{admin_id}",
    "/admin/tiers",
    "/admin/tiers/champion",
    "/admin/plan",
    "/admin/audit",
]


@pytest.fixture
def admin(session, make):
    user = make.user("admin@example.com", Role.ADMIN, password=PASSWORD, name="Ada Admin")
    session.commit()
    return user


@pytest.fixture
def reviewer(session, make):
    user = make.user("reviewer@example.com", Role.REVIEWER, password=PASSWORD, name="Rui Reviewer")
    session.commit()
    return user


@pytest.fixture
def admin_client(auth, admin):
    return auth.signed_in(admin.email)


def audits(session, action) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# --- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_for_admins_only(app, session, make, admin, reviewer, admin_client, path, auth):
    path = path.format(admin_id=admin.id)
    enterprise_user = make.user(
        "e@example.com", Role.ENTERPRISE, password=PASSWORD, enterprise=make.enterprise()
    )
    session.commit()
    response = admin_client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"

    for who in (reviewer.email, enterprise_user.email):
        denied = auth.signed_in(who).get(path)
        assert denied.status_code == 403 and "Ada Admin" not in denied.text

    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 303
    assert anonymous.headers["Location"].startswith("/login?next=")


def test_posts_are_for_admins_only(app, admin, reviewer, auth):
    client = auth.signed_in(reviewer.email)
    assert client.post(f"/admin/users/{admin.id}", data={"action": "disable"}).status_code == 403
    assert client.post("/admin/tiers/champion", data={"quota": 1}).status_code == 403
    assert app.test_client().post("/admin/users/new", data={}).status_code == 303
    assert db.session.get(User, admin.id).active


def test_navigation_shows_the_admin_pages_to_admins_only(admin_client, reviewer, auth):
    html = admin_client.get("/admin/tiers?lang=en").text
    for href, label in [
        ("/admin/users", "Users"),
        ("/admin/tiers", "Tiers"),
        ("/admin/audit", "Audit log"),
    ]:
        assert f'href="{href}"' in html and label in html
    assert 'href="/admin/users"' not in auth.signed_in(reviewer.email).get("/account").text


def test_admins_land_on_the_users_page_and_reviewers_on_the_queue(app, admin, reviewer, auth):
    for email, home in [(admin.email, "/admin/users"), (reviewer.email, "/review")]:
        response = auth.login(email, client=app.test_client())
        assert response.status_code == 303 and response.headers["Location"] == home, email
    asked = app.test_client().post(
        "/login?next=/review", data={"email": admin.email, "password": PASSWORD}
    )
    assert asked.headers["Location"] == "/review"  # a page asked for still wins


@pytest.mark.parametrize(
    ("lang", "tier_name", "html_lang"),
    [("zh", "单项冠军企业", "zh-Hans"), ("en", "Specialised champion", "en")],
)
def test_pages_in_both_languages(admin_client, admin, lang, tier_name, html_lang):
    for path in (f"/admin/tiers?lang={lang}", f"/admin/tiers/champion?lang={lang}"):
        html = admin_client.get(path).text
        assert f'<html lang="{html_lang}">' in html and tier_name in html
    for path in ("/admin/users", f"/admin/users/{admin.id}", "/admin/audit"):
        response = admin_client.get(f"{path}?lang={lang}")
        assert response.status_code == 200 and f'<html lang="{html_lang}">' in response.text


# --- users ----------------------------------------------------------------------------------


def test_user_search_by_email_or_name_role_and_status(session, admin_client, admin, reviewer, make):
    other = make.user("zhang.wei@example.com", Role.REVIEWER, password=PASSWORD, name="张伟")
    accounts.update_user(session, other, actor=TEST_ACTOR, active=False)
    session.commit()

    def found(**query) -> list[str]:
        response = admin_client.get("/admin/users", query_string=query)
        assert response.status_code == 200
        return re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>', response.text)

    assert found() == ["zhang.wei@example.com", "reviewer@example.com", "admin@example.com"]
    assert found(q="ZHANG") == ["zhang.wei@example.com"]
    assert found(q="张") == ["zhang.wei@example.com"]
    assert found(q="rui rev") == ["reviewer@example.com"]
    assert found(q="%") == []
    assert found(role="reviewer") == ["zhang.wei@example.com", "reviewer@example.com"]
    assert found(role="reviewer", active="yes") == ["reviewer@example.com"]
    assert found(active="no") == ["zhang.wei@example.com"]


def test_the_user_list_names_each_users_enterprise(session, admin_client, make):
    enterprise = make.enterprise(name="赣江测试科技有限公司")
    make.user("owner@example.com", enterprise=enterprise)
    session.commit()
    html = admin_client.get("/admin/users").text
    row = re.search(r"owner@example.com</a></th>(.*?)</tr>", html, re.S)
    assert row and "赣江测试科技有限公司" in row.group(1) and enterprise.uscc in row.group(1)


def test_user_list_pages_by_keyset_and_refuses_bad_filters(
    app, database_url, session, admin, auth, make
):
    for n in range(4):
        make.user(f"user{n}@example.com", Role.REVIEWER, password=PASSWORD)
    session.commit()
    paged = make_app(database_url, PAGE_SIZE=2)
    session.close()  # the other app writes (the login): hold no transaction open here
    try:
        client = paged.test_client()
        assert auth.login("admin@example.com", client=client).status_code == 303
        seen, url = [], "/admin/users?role=reviewer"
        while url:
            html = client.get(url).text
            seen += re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>', html)
            match = re.search(r'<a class="pager__link" href="([^"]+)" rel="next">', html)
            url = match.group(1).replace("&amp;", "&") if match else None
        assert seen == [f"user{n}@example.com" for n in (3, 2, 1, 0)]
        assert client.get("/admin/users?after=garbage").status_code == 422
        bad = client.get("/admin/users?role=owner&lang=en")
        assert bad.status_code == 422 and "Choose one of the listed values." in bad.text
    finally:
        with paged.app_context():
            db.engine.dispose()


def test_role_change_ends_the_users_sessions_and_is_audited(session, admin_client, reviewer, auth):
    theirs = auth.signed_in(reviewer.email)
    response = admin_client.post(
        f"/admin/users/{reviewer.id}", data={"action": "role", "role": "admin"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/users/{reviewer.id}"
    assert db.session.get(User, reviewer.id).role == Role.ADMIN
    [entry] = audits(session, "user.update")
    assert entry.changes == {"role": ["reviewer", "admin"]} and entry.via == "web"
    assert entry.actor_name == "Ada Admin"
    assert theirs.get("/account").status_code == 303


def test_an_enterprise_user_cannot_become_a_reviewer(session, make, admin_client):
    user = make.user(
        "e@example.com", Role.ENTERPRISE, password=PASSWORD, enterprise=make.enterprise()
    )
    session.commit()
    response = admin_client.post(
        f"/admin/users/{user.id}?lang=en", data={"action": "role", "role": "reviewer"}
    )
    assert response.status_code == 422
    assert "cannot be a reviewer" in field_error(response.text, "role")
    assert db.session.get(User, user.id).role == Role.ENTERPRISE


def test_disabling_ends_the_session_at_once_and_blocks_login(
    app, session, admin_client, reviewer, auth
):
    theirs = auth.signed_in(reviewer.email)
    assert theirs.get("/account").status_code == 200
    response = admin_client.post(
        f"/admin/users/{reviewer.id}", data={"action": "disable", "confirm": "1"}
    )
    assert response.status_code == 303

    ended = theirs.get("/account")
    assert ended.status_code == 303 and ended.headers["Location"].startswith("/login")
    assert auth.login(reviewer.email, client=app.test_client()).status_code == 422
    [entry] = audits(session, "user.update")
    assert entry.changes == {"active": [True, False]}
    assert "Disabled" in admin_client.get(f"/admin/users/{reviewer.id}?lang=en").text

    assert (
        admin_client.post(f"/admin/users/{reviewer.id}", data={"action": "enable"}).status_code
        == 303
    )
    assert auth.login(reviewer.email, client=app.test_client()).status_code == 303


def test_an_admin_cannot_disable_or_demote_themself(session, admin_client, admin):
    page = admin_client.get(f"/admin/users/{admin.id}?lang=en").text
    assert 'value="disable"' not in page and "your own account" in page
    for data in ({"action": "disable"}, {"action": "role", "role": "reviewer"}):
        response = admin_client.post(f"/admin/users/{admin.id}?lang=en", data=data)
        assert response.status_code == 422
        assert "cannot change your own role or disable yourself" in response.text
    user = db.session.get(User, admin.id)
    assert user.active and user.role == Role.ADMIN
    assert audits(session, "user.update") == []
    assert admin_client.get("/admin/users").status_code == 200  # still signed in


def test_unknown_action_and_user(admin_client, reviewer):
    assert (
        admin_client.post(f"/admin/users/{reviewer.id}", data={"action": "delete"}).status_code
        == 400
    )
    assert admin_client.get("/admin/users/999999").status_code == 404


def test_password_reset(app, session, admin_client, reviewer, auth):
    theirs = auth.signed_in(reviewer.email)
    data = {"action": "password", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert admin_client.post(f"/admin/users/{reviewer.id}", data=data).status_code == 303
    assert theirs.get("/account").status_code == 303  # its session ended
    assert auth.login(reviewer.email, PASSWORD, client=app.test_client()).status_code == 422
    assert auth.login(reviewer.email, NEW_PASSWORD, client=app.test_client()).status_code == 303
    [entry] = audits(session, "user.password_reset")
    assert entry.object_id == str(reviewer.id) and NEW_PASSWORD not in str(entry.changes)


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("password123", "password123", "too common"),
        ("short", "short", "at least 8 characters"),
        (NEW_PASSWORD, "something-else", "The passwords differ."),
    ],
)
def test_password_reset_refusals(
    app, session, admin_client, reviewer, password, confirm, message, auth
):
    data = {"action": "password", "new_password": password, "confirm": confirm}
    response = admin_client.post(f"/admin/users/{reviewer.id}?lang=en", data=data)
    assert response.status_code == 422
    assert message in response.text
    assert audits(session, "user.password_reset") == []
    assert auth.login(reviewer.email, client=app.test_client()).status_code == 303


def test_every_reset_password_fault_is_shown_at_once(admin_client, reviewer):
    """U2: a common password and a different repetition in one 422."""
    data = {"action": "password", "new_password": "password123", "confirm": "password12"}
    response = admin_client.post(f"/admin/users/{reviewer.id}?lang=en", data=data)
    assert response.status_code == 422
    assert "too common" in field_error(response.text, "new_password")
    assert field_error(response.text, "confirm") == "The passwords differ."
    assert "password12" not in response.text


def test_a_weak_reset_password_shows_the_field_error(admin_client, reviewer):
    data = {"action": "password", "new_password": "password123", "confirm": "password123"}
    response = admin_client.post(f"/admin/users/{reviewer.id}?lang=en", data=data)
    assert "too common" in field_error(response.text, "new_password")


def test_create_users(app, session, make, admin_client, auth):
    enterprise = make.enterprise()
    session.commit()
    form = {
        "email": "Li.Na@Example.com",
        "name": "李娜",
        "role": "enterprise",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "uscc": enterprise.uscc.lower(),
    }
    response = admin_client.post("/admin/users/new", data=form)
    assert response.status_code == 303
    user = session.scalars(select(User).where(User.email == "li.na@example.com")).one()
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    assert user.enterprise_id == enterprise.id and user.role == Role.ENTERPRISE
    assert enterprise.name in admin_client.get(f"/admin/users/{user.id}").text
    assert auth.login("li.na@example.com", client=app.test_client()).status_code == 303
    [entry] = [e for e in audits(session, "user.create") if e.object_id == str(user.id)]
    assert entry.changes["enterprise"] == [None, enterprise.uscc] and entry.via == "web"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"uscc": "91360100MA00000000"}, "uscc", "Invalid USCC"),
        ({"role": "reviewer"}, "uscc", "Only enterprise users belong to an enterprise."),
        ({"email": "admin@example.com"}, "email", "exists"),
        ({"email": "not an email"}, "email", "valid email"),
        ({"password": "qwertyuiop", "confirm": "qwertyuiop"}, "password", "too common"),
    ],
)
def test_create_user_refusals(session, make, admin, admin_client, changes, field, message):
    enterprise = make.enterprise()
    session.commit()
    form = {
        "email": "new@example.com",
        "role": "enterprise",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "uscc": enterprise.uscc,
        **changes,
    }
    created = len(audits(session, "user.create"))
    response = admin_client.post("/admin/users/new?lang=en", data=form)
    assert response.status_code == 422
    assert message in field_error(response.text, field)
    assert len(audits(session, "user.create")) == created


def test_every_new_user_fault_is_shown_at_once(session, admin, admin_client):
    """U2: the form's own checks and the registry's (email, password, USCC) in one 422,
    the typed values kept and no password sent back."""
    form = {
        "email": "Admin@Example.com",
        "name": "李娜",
        "role": "enterprise",
        "password": "qwertyuiop",
        "confirm": "something-else",
        "uscc": "9136010055",
    }
    response = admin_client.post("/admin/users/new?lang=en", data=form)
    assert response.status_code == 422
    page = response.text
    assert "admin@example.com exists" in field_error(page, "email")
    assert "too common" in field_error(page, "password")
    assert field_error(page, "confirm") == "The passwords differ."
    assert "has 18 characters; this one has 10." in field_error(page, "uscc")
    assert page.count('class="field__error"') == 4
    assert 'value="Admin@Example.com"' in page and 'value="9136010055"' in page
    assert 'value="李娜"' in page
    assert "qwertyuiop" not in page and "something-else" not in page
    assert session.scalars(select(User.email)).all() == ["admin@example.com"]


def test_the_registrys_faults_of_a_new_user_come_together(session, admin, admin_client):
    """A form the form itself accepts: every fault the registry finds, not the first."""
    from tests.factories import new_uscc

    form = {
        "email": "admin@example.com",
        "role": "reviewer",
        "password": "short",
        "confirm": "short",
        "uscc": new_uscc(),
    }
    response = admin_client.post("/admin/users/new?lang=zh", data=form)
    assert response.status_code == 422
    assert "admin@example.com 的用户已存在" in field_error(response.text, "email")
    assert "至少为 8 个字符" in field_error(response.text, "password")
    assert field_error(response.text, "uscc") == "只有企业用户可以关联企业。"
    form["role"] = "enterprise"
    response = admin_client.post("/admin/users/new?lang=en", data=form)
    assert "No enterprise with USCC" in field_error(response.text, "uscc")
    assert "exists" in field_error(response.text, "email")


def test_create_user_with_an_unknown_enterprise(session, admin, admin_client):
    from tests.factories import new_uscc

    form = {
        "email": "new@example.com",
        "role": "enterprise",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "uscc": new_uscc(),
    }
    response = admin_client.post("/admin/users/new?lang=en", data=form)
    assert response.status_code == 422 and "No enterprise with USCC" in field_error(
        response.text, "uscc"
    )


# --- tiers ----------------------------------------------------------------------------------


def test_tier_list_shows_quota_occupancy_and_settings(session, make, admin_client):
    ladder.grant_tier(session, make.enterprise(), "chain_leader", actor=TEST_ACTOR, reason="g")
    session.commit()
    html = admin_client.get("/admin/tiers?lang=en").text
    row = re.search(r'<a href="/admin/tiers/chain_leader">.*?</tr>', html, re.S).group(0)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert [c.strip() for c in cells[:4]] == ["8", "1", "0", "7"]
    assert "3 years" in row and "JX-CL-{year}-{seq:05d}" in row and "Specialised champion" in row
    assert html.count('href="/admin/tiers/') == 5


@pytest.mark.parametrize(
    ("lang", "published", "provisional"),
    [("en", "Published", "Provisional"), ("zh", "已发布", "暂定")],
)
def test_tier_list_shows_the_years_the_calendar_covers(admin_client, lang, published, provisional):
    html = admin_client.get(f"/admin/tiers?lang={lang}").text
    section = html[html.index('id="calendar-title"') :]
    rows = re.findall(r'<th scope="row">(\d{4})</th>\s*<td>(.*?)</td>', section, re.S)
    shown = {int(year): re.sub(r"<[^>]+>", "", status).strip() for year, status in rows}
    # seeds/calendar.json: 2022–2026 from the State Council's notices, 2027 estimated.
    assert shown == {**dict.fromkeys(range(2022, 2027), published), 2027: provisional}
    assert "国办发明电〔2025〕7号" in section


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_calendar_years_speak_the_pages_language_after_seed(session, admin_client, lang):
    """A database loaded when the seed's 2027 source carried an English note shows none
    after ``seed``: the document's name is data (marked as Chinese), whether a year is
    provisional is a label in the page's language."""
    session.get_one(
        CalendarYear, 2027
    ).source = "《全国年节及纪念日放假办法》 (estimate; the 2027 notice is not yet published)"
    session.commit()
    seed(session)
    session.commit()
    html = admin_client.get(f"/admin/tiers?lang={lang}").text
    section = html[html.index('id="calendar-title"') :]
    rows = section[section.index("<tbody") : section.index("</tbody>")]
    assert "estimate" not in rows
    row_2027 = re.search(r'<th scope="row">2027</th>(.*?)</tr>', rows, re.S).group(1)
    assert '<span lang="zh-Hans">《全国年节及纪念日放假办法》</span>' in row_2027
    assert ("暂定" if lang == "zh" else "Provisional") in row_2027
    if lang == "zh":
        # Nothing in English but what is marked as another language.
        unmarked = re.sub(r'<span lang="zh-Hans">[^<]*</span>|<[^>]+>', " ", rows)
        assert not re.search(r"[A-Za-z]{3,}", unmarked), unmarked


def test_tier_settings_change_is_audited_with_old_and_new_values(session, admin_client):
    form = tier_form(session, "chain_leader", notice_days="7", approvals_required="3", quota="10")
    response = admin_client.post("/admin/tiers/chain_leader", data=form)
    assert response.status_code == 303 and response.headers["Location"] == "/admin/tiers"
    [entry] = audits(session, "tier_settings.update")
    assert entry.changes == {
        "approvals_required": [2, 3],
        "notice_days": [5, 7],
        "quota": [8, 10],
    }
    assert entry.reason == "2026年第7号通知" and entry.actor_name == "Ada Admin"
    assert session.get(Tier, "chain_leader").edited_at is not None

    again = admin_client.post("/admin/tiers/chain_leader", data=tier_form(session, "chain_leader"))
    assert again.status_code == 303
    assert len(audits(session, "tier_settings.update")) == 1  # nothing changed, nothing written


def test_quota_below_occupancy_is_allowed_then_grants_are_refused(session, make, admin_client):
    holders = [make.enterprise() for _ in range(3)]
    for enterprise in holders[:2]:
        ladder.grant_tier(session, enterprise, "chain_leader", actor=TEST_ACTOR, reason="g")
    session.commit()
    response = admin_client.post(
        "/admin/tiers/chain_leader?lang=en",
        data={**tier_form(session, "chain_leader", quota="1"), "confirm": "1"},
    )
    assert response.status_code == 303
    [entry] = audits(session, "tier_settings.update")
    assert entry.changes == {"quota": [8, 1]}
    assert "Nobody has been demoted" in admin_client.get("/admin/tiers?lang=en").text
    with pytest.raises(QuotaFull) as refused:
        ladder.grant_tier(session, holders[2], "chain_leader", actor=TEST_ACTOR, reason="g")
    assert refused.value.code == "quota_full"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"prerequisite": "chain_leader"}, "prerequisite", "ranked below"),
        ({"prerequisite": "navigator"}, "prerequisite", "ranked below"),
        ({"registration_pattern": "JX-CL-{year}"}, "registration_pattern", "{seq}"),
        ({"registration_pattern": "JX-{seq:x}"}, "registration_pattern", "{seq}"),
        ({"quota": "-1"}, "quota", "from 0"),
        ({"quota": "many"}, "quota", "from 0"),
        ({"notice_days": "0"}, "notice_days", "from 1 to 60"),
        ({"validity": "forever"}, "validity", "Choose one of the listed values."),
        ({"reason": ""}, "reason", "required"),
    ],
)
def test_invalid_tier_settings_are_refused(session, admin_client, changes, field, message):
    response = admin_client.post(
        "/admin/tiers/navigator?lang=en", data=tier_form(session, "navigator", **changes)
    )
    assert response.status_code == 422
    assert message in field_error(response.text, field)
    assert audits(session, "tier_settings.update") == []
    assert session.get(Tier, "navigator").edited_at is None


def test_every_tier_settings_fault_is_shown_at_once(session, admin_client):
    """U2: the pattern and the prerequisite, checked by the registry, come with the form's
    own faults, each beside its field, the typed values kept."""
    form = tier_form(
        session,
        "navigator",
        quota="many",
        notice_days="0",
        prerequisite="chain_leader",
        registration_pattern="JX-CL-{year}",
        reason="",
    )
    response = admin_client.post("/admin/tiers/navigator?lang=en", data=form)
    assert response.status_code == 422
    page = response.text
    assert field_error(page, "quota").startswith("Enter a whole number from 0 to 2")
    assert field_error(page, "notice_days") == "Enter a whole number from 1 to 60."
    assert "ranked below" in field_error(page, "prerequisite")
    assert "{seq}" in field_error(page, "registration_pattern")
    assert field_error(page, "reason") == "This field is required."
    assert page.count('class="field__error"') == 5
    assert re.search(r'<input[^>]*name="quota"[^>]*value="many"', page)
    assert 'value="JX-CL-{year}"' in page
    assert audits(session, "tier_settings.update") == []


def test_a_pattern_in_use_is_shown_with_the_other_faults(session, admin_client):
    taken = session.get(Tier, "chain_leader").registration_pattern
    form = tier_form(session, "navigator", registration_pattern=taken, approvals_required="10")
    response = admin_client.post("/admin/tiers/navigator?lang=zh", data=form)
    assert response.status_code == 422
    # The tier that uses the pattern by its name, never its code.
    assert field_error(response.text, "registration_pattern") == "链主企业已使用此格式。"
    assert field_error(response.text, "approvals_required") == "请输入 1 至 9 之间的整数。"
    response = admin_client.post("/admin/tiers/navigator?lang=en", data=form)
    assert response.status_code == 422
    pattern_taken = field_error(response.text, "registration_pattern")
    assert pattern_taken == "Chain leader already uses this pattern."


def test_tier_form_offers_lower_tiers_as_prerequisite(admin_client):
    html = admin_client.get("/admin/tiers/champion?lang=en").text
    select_html = re.search(r'<select[^>]*id="prerequisite".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option[^>]*value="(\w*)"', select_html) == ["", "tech_sme", "high_tech"]
    assert re.search(
        r'<option selected value="tech_sme">|<option value="tech_sme" selected>', select_html
    )
    assert admin_client.get("/admin/tiers/platinum").status_code == 404


# --- audit log ------------------------------------------------------------------------------


def record(session, at, action, object_type, object_id, actor=TEST_ACTOR, **changes):
    with clock.pinned(at):
        entry = record_audit(session, actor, action, object_type, object_id, changes or None)
    session.commit()
    return entry.id


def shown_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'<td class="num">(\d+)</td>', response.text)]


@pytest.fixture
def entries(session):
    clerk = Actor(42, "Clerk Chen", "api")
    return {
        "old": record(
            session,
            datetime(2026, 3, 3, 15, 59, tzinfo=UTC),
            "application.submit",
            "application",
            7,
        ),
        "early": record(
            session,
            datetime(2026, 3, 3, 16, 0, tzinfo=UTC),
            "application.decide",
            "application",
            7,
            state=["submitted", "in_notice"],
        ),
        "grant": record(
            session,
            datetime(2026, 3, 5, 15, 59, tzinfo=UTC),
            "tier.grant",
            "enterprise",
            "91360100X",
            clerk,
            tier=[None, "tech_sme"],
        ),
        "late": record(
            session,
            datetime(2026, 3, 5, 16, 0, tzinfo=UTC),
            "application.withdraw",
            "application",
            8,
            clerk,
        ),
    }


def test_audit_log_filters(session, admin_client, entries):
    def ids(**query):
        response = admin_client.get("/admin/audit", query_string=query)
        assert response.status_code == 200
        return [i for i in shown_ids(response) if i in entries.values()]

    e = entries
    assert ids() == [e["late"], e["grant"], e["early"], e["old"]]  # newest first
    assert ids(action="application.") == [e["late"], e["early"], e["old"]]
    assert ids(action="tier.") == [e["grant"]]
    assert ids(object_type="application", object_id="7") == [e["early"], e["old"]]
    assert ids(object_id="91360100X") == [e["grant"]]
    # Asia/Shanghai dates: 03-04 00:00 is 03-03T16:00Z, 03-05 ends at 03-05T16:00Z.
    assert ids(since="2026-03-04", until="2026-03-05") == [e["grant"], e["early"]]
    assert ids(since="2026-03-06") == [e["late"]]
    assert ids(until="2026-03-03") == [e["old"]]
    assert ids(actor="42") == [e["late"], e["grant"]]
    assert ids(actor="clerk") == [e["late"], e["grant"]]
    assert ids(actor="system") == []


def test_audit_rows_show_the_entry(session, admin_client, entries):
    html = admin_client.get("/admin/audit?action=tier.grant&lang=en").text
    assert "Clerk Chen" in html and "2026-03-05 23:59:00" in html and "REST API" in html
    assert "Tier granted" in html
    assert "Tier: <span>— → Technology-based SME</span>" in " ".join(html.split())
    assert "Enterprise 91360100X" in html


def test_audit_rows_speak_in_words_not_codes(session, admin_client, make, reviewer):
    """The audit log as people read it (QUALITY.md U4): fields by their labels, states
    in words and a user by name, not ``state: open → dismissed`` nor ``claimed_by: — →
    1``."""
    enterprise = make.enterprise(name="赣江科技有限公司")
    on_the_day = partial(record, session, datetime(2026, 3, 5, tzinfo=UTC))
    on_the_day("objection.resolve", "objection", 3, state=["open", "dismissed"])
    on_the_day(
        "application.claim",
        "application",
        4,
        claimed_by=[None, reviewer.id],
        state=["submitted", "in_review"],
    )
    on_the_day("enterprise.update", "enterprise", enterprise.uscc, city_code=["360100", "360700"])
    text = " ".join(admin_client.get("/admin/audit?lang=en").text.split())
    assert "State: <span>Open → Dismissed</span>" in text
    assert f"Reviewer: <span>— → {reviewer.display_name}</span>" in text
    assert "<span>Nanchang → Ganzhou</span>" in text
    assert "Enterprise 赣江科技有限公司" in text and "Objection resolved" in text
    assert "状态: <span>待处理 → 不成立</span>" in " ".join(
        admin_client.get("/admin/audit?lang=zh").text.split()
    )


@pytest.mark.parametrize(
    ("lang", "shown"),
    [
        ("en", "Criteria: <span>2 thresholds or notes changed</span>"),
        ("zh", "认定条件: <span>2 项阈值或说明已更改</span>"),
    ],
)
def test_a_change_of_criteria_says_how_many_thresholds_changed(session, admin_client, lang, shown):
    """A tier's criteria (written by ``seed``) are a set of thresholds and notes: the log
    says how many changed, not the two sets as the registry stores them."""
    before = {"_basis": "63号", "revenue_min": 10_000_000, "rd_revenue_ratio_min": 3}
    after = {**before, "revenue_min": 20_000_000, "_debt_ratio_below": "50 % 以下含 50 %"}
    record(
        session, datetime(2026, 3, 5, tzinfo=UTC), "tier_settings.update", "tier", "champion",
        criteria=[before, after],
    )  # fmt: skip
    text = " ".join(admin_client.get(f"/admin/audit?lang={lang}").text.split())
    assert shown in text
    assert "revenue_min" not in text and "_basis" not in text and "{'" not in text


@pytest.mark.parametrize(
    ("lang", "shown", "hidden"),
    [
        (
            "en",
            [
                "No application until: <span>— → 2027-03-01</span>",
                "User: <span>— → e@example.com</span>",
                "Token prefix: <span>— → ecr_ab12</span>",
                "Enterprise: <span>— → 赣江科技有限公司</span>",
                "Merged into: <span>— → 赣江科技有限公司</span>",
                "Status: <span>Active → Merged</span>",
                "Scopes: <span>— → Read the registry (enterprise users: public data",
                "Account enabled: <span>Yes → No</span>",
            ],
            ["> ban_until:", "> prefix:", "> merged_into:", "> user:", "registry:read"],
        ),
        (
            "zh",
            [
                "在此日期前不得申报: <span>— → 2027-03-01</span>",
                "用户: <span>— → e@example.com</span>",
                "令牌前缀: <span>— → ecr_ab12</span>",
                "企业: <span>— → 赣江科技有限公司</span>",
                "状态: <span>存续 → 已合并</span>",
                "账号已启用: <span>是 → 否</span>",
            ],
            ["> ban_until:", "> prefix:", "Token prefix", "企业名称", "registry:read", "存续: <"],
        ),
    ],
)
def test_audit_rows_label_the_fields_of_revocations_tokens_and_links(
    session, admin_client, make, lang, shown, hidden
):
    """A revocation's ban, a token's owner and prefix and a user's enterprise (stored as
    its id) by their labels and names, in both languages."""
    enterprise = make.enterprise(name="赣江科技有限公司")
    other = make.enterprise()
    on_the_day = partial(record, session, datetime(2026, 3, 5, tzinfo=UTC))
    on_the_day("tier.revoke", "enterprise", other.uscc, ban_until=[None, "2027-03-01"])
    on_the_day(
        "token.create",
        "token",
        5,
        user=[None, "e@example.com"],
        scopes=[None, "registry:read"],
        prefix=[None, "ecr_ab12"],
    )
    on_the_day("user.link", "user", 9, enterprise=[None, enterprise.id])
    on_the_day(
        "enterprise.status",
        "enterprise",
        other.uscc,
        status=["active", "merged"],
        merged_into=[None, enterprise.uscc],
    )
    on_the_day("user.update", "user", 9, active=[True, False])
    text = " ".join(admin_client.get(f"/admin/audit?lang={lang}").text.split())
    for words in shown:
        assert words in text
    for words in hidden:
        assert words not in text


def test_an_enterprise_is_called_one_not_its_name_in_chinese(session, admin_client, auth, make):
    """The kind of object "enterprise" reads 企业 in the audit filter and heads the
    account page's section: 企业名称 is the label of the enterprise's name."""
    html = admin_client.get("/admin/audit?lang=zh").text
    assert '<option value="enterprise">企业</option>' in html
    assert "企业名称" not in html
    make.user("e@example.com", Role.ENTERPRISE, password=PASSWORD, enterprise=make.enterprise())
    session.commit()
    account = auth.signed_in("e@example.com").get("/account?lang=zh").text
    assert '<h2 id="enterprise-title">企业</h2>' in account


def test_what_the_registry_did_itself_is_said_in_words(session, admin_client, make):
    """The system's own reasons and the end of a designation as the last day it is valid,
    not "system", "notice ended" nor an instant of the next year."""
    enterprise = make.enterprise()
    with clock.pinned(datetime(2026, 3, 5, tzinfo=UTC)):
        record_audit(
            session,
            Actor.system("tick"),
            "tier.grant",
            "enterprise",
            enterprise.uscc,
            {"tier_expires_at": [None, "2026-12-31T16:00:00Z"]},
            reason="notice ended",
        )
    session.commit()
    text = " ".join(admin_client.get("/admin/audit?lang=zh").text.split())
    assert "理由： 公示期满" in text
    assert "有效期至: <span>— → 2026-12-31</span>" in text
    assert "notice ended" not in text and ">system<" not in text


def test_audit_entries_of_web_requests_carry_request_id_and_address(
    session, admin_client, reviewer
):
    admin_client.post(
        f"/admin/users/{reviewer.id}",
        data={"action": "disable", "confirm": "1"},
        headers={"X-Request-ID": "req-abc-123"},
    )
    html = admin_client.get(f"/admin/audit?object_type=user&object_id={reviewer.id}&lang=en").text
    assert "req-abc-123" in html and "127.0.0.1" in html and "User changed" in html


@pytest.mark.parametrize(
    "query",
    [
        {"since": "2026-13-01"},
        {"since": "2026-03-05", "until": "2026-03-04"},
        {"action": "x" * 61},
        {"after": "not-a-cursor"},
    ],
)
def test_invalid_audit_filters_answer_422(admin_client, entries, query):
    response = admin_client.get("/admin/audit", query_string={**query, "lang": "en"})
    assert response.status_code == 422
    assert "There is a problem" in response.text
    assert not shown_ids(response)


def test_invalid_date_shows_the_field_error(admin_client):
    response = admin_client.get("/admin/audit?since=yesterday&lang=en")
    assert response.status_code == 422
    assert "YYYY-MM-DD" in field_error(response.text, "since")


def test_audit_log_pages_newest_first(app, database_url, session, admin, entries, auth):
    paged = make_app(database_url, PAGE_SIZE=2)
    session.close()  # the other app writes (the login): hold no transaction open here
    try:
        client = paged.test_client()
        assert auth.login("admin@example.com", client=client).status_code == 303
        seen, url = [], "/admin/audit?action=application."
        while url:
            response = client.get(url)
            seen += shown_ids(response)
            match = re.search(r'<a class="pager__link" href="([^"]+)" rel="next">', response.text)
            url = match.group(1).replace("&amp;", "&") if match else None
        assert seen == [entries["late"], entries["early"], entries["old"]]
    finally:
        with paged.app_context():
            db.engine.dispose()


def test_the_forms_carry_a_working_csrf_token(database_url, session, admin, reviewer):
    page = f"/admin/users/{reviewer.id}"
    protected = make_app(database_url, WTF_CSRF_ENABLED=True)
    session.close()  # the other app writes: hold no transaction open here

    def token(html: str) -> str:
        return re.search(r'name="csrf_token"[^>]* value="([^"]+)"', html).group(1)

    try:
        client = protected.test_client()
        form = {"email": "admin@example.com", "password": PASSWORD}
        form["csrf_token"] = token(client.get("/login").text)
        assert client.post("/login", data=form).status_code == 303
        disable = {"action": "disable"}
        assert client.post(page, data=disable).status_code == 400
        asked = client.post(page, data={**disable, "csrf_token": token(client.get(page).text)})
        assert asked.status_code == 200 and "data-confirm" in asked.text
        confirmed = {**disable, "csrf_token": token(asked.text), "confirm": "1"}
        assert client.post(page, data=confirmed).status_code == 303
        tier = {
            "quota": "9",
            "validity": "3",
            "notice_days": "5",
            "approvals_required": "2",
            "prerequisite": "champion",
            "registration_pattern": "JX-CL-{year}-{seq:05d}",
            "reason": "r",
        }
        tier["csrf_token"] = token(client.get("/admin/tiers/chain_leader").text)
        assert client.post("/admin/tiers/chain_leader", data=tier).status_code == 303
    finally:
        with protected.app_context():
            db.engine.dispose()


# --- the plan's period ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", "The plan's period, 2022–2025, ended on 2025-12-31."),
        ("zh", "规划期为2022—2025年，已于2025-12-31结束。"),
    ],
)
def test_the_tiers_page_shows_the_plans_period_with_the_quotas(admin_client, lang, words):
    html = admin_client.get(f"/admin/tiers?lang={lang}").text
    section = html[html.index('id="plan-title"') : html.index('id="calendar-title"')]
    assert words in section and "2025-12-31" in section
    assert 'href="/admin/plan"' in section


def test_the_plans_period_end_is_changed_and_audited(session, admin_client):
    form = {"plan_period_end": "2027-12-31", "reason": "The province extended the plan"}
    response = admin_client.post("/admin/plan?lang=en", data=form)
    assert response.status_code == 303 and response.headers["Location"] == "/admin/tiers"
    session.expire_all()
    settings = session.get_one(PlanSettings, 1)
    assert settings.plan_period_end == date(2027, 12, 31) and settings.edited_at is not None
    [entry] = audits(session, "plan.update")
    assert (entry.object_type, entry.object_id) == ("plan", "1")
    assert entry.changes == {"plan_period_end": ["2025-12-31", "2027-12-31"]}
    assert entry.reason == "The province extended the plan"
    html = admin_client.get("/admin/tiers?lang=en").text
    assert "The plan's period is 2022–2027, to 2027-12-31" in html
    log = admin_client.get("/admin/audit?lang=en&object_type=plan").text
    assert "Plan period changed" in log and "Last day of the plan&#39;s period" in log

    again = admin_client.post("/admin/plan?lang=en", data=form, follow_redirects=True)
    assert "Nothing was changed." in again.text  # the same day again: no second entry
    assert len(audits(session, "plan.update")) == 1
    # Seeding again keeps the admin's day.
    seed(session)
    session.commit()
    assert session.get_one(PlanSettings, 1).plan_period_end == date(2027, 12, 31)


@pytest.mark.parametrize(
    ("lang", "value", "message"),
    [
        ("en", "2021-12-31", "The plan's period ends on a day from 2022-01-01 to 2099-12-31."),
        ("zh", "2021-12-31", "规划期截止日须在 2022-01-01 至 2099-12-31 之间。"),
        ("en", "end of 2025", "Enter a date as YYYY-MM-DD."),
        ("zh", "end of 2025", "请按 YYYY-MM-DD 格式输入日期。"),
        ("zh", "", "此项为必填项。"),
    ],
)
def test_a_wrong_plan_period_end_is_refused_in_the_pages_language(
    session, admin_client, lang, value, message
):
    form = {"plan_period_end": value, "reason": "test"}
    response = admin_client.post(f"/admin/plan?lang={lang}", data=form)
    assert response.status_code == 422
    assert field_error(response.text, "plan_period_end") == message
    assert audits(session, "plan.update") == []
    assert session.get_one(PlanSettings, 1).plan_period_end == date(2025, 12, 31)


def test_a_changed_plan_period_end_needs_a_reason(session, admin_client):
    response = admin_client.post(
        "/admin/plan?lang=en", data={"plan_period_end": "2026-12-31", "reason": ""}
    )
    assert response.status_code == 422 and field_error(response.text, "reason")
    assert audits(session, "plan.update") == []
