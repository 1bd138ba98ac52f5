"""Accounts on the web: sign-up, login, logout, password change (S5–S8, S11)."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import select

from registry.accounts import operations as ops
from registry.accounts.models import EVERY_ADDRESS, LoginThrottle, Role, User
from registry.enterprises import uscc
from registry.enterprises.models import Enterprise
from registry.extensions import db
from tests.conftest import make_app
from tests.factories import PASSWORD, new_uscc
from tests.pages import field_error, value_of

OWNER = "owner@example.com"  # who signs up with the form below


def _signup_form(**overrides):
    form = {
        "email": OWNER,
        "password": PASSWORD,
        "confirm": PASSWORD,
        "uscc": new_uscc(),
        "enterprise_name": "赣江科技有限公司",
    }
    form.update(overrides)
    return form


@pytest.fixture
def reviewer(session, make):
    user = make.user("reviewer@example.com", Role.REVIEWER, password=PASSWORD)
    session.commit()
    return user


def test_sign_up_then_the_account_page(client, session):
    response = client.post("/signup", data=_signup_form())
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"
    page = client.get("/account?lang=en")
    assert page.status_code == 200
    assert "赣江科技有限公司" in page.text and "Unverified" in page.text
    assert page.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_sign_up_help_gives_a_valid_example_code(client, lang):
    page = client.get(f"/signup?lang={lang}").get_data(as_text=True)
    (example,) = re.findall(r"\b9[0-9A-Z]{17}\b", page)
    assert uscc.validate(example).warnings == ()


@pytest.mark.parametrize(
    ("lang", "changes", "field", "message"),
    [
        ("en", {"password": "password", "confirm": "password"}, "password", "too common"),
        ("zh", {"password": "password", "confirm": "password"}, "password", "过于常见"),
        ("en", {"confirm": "something-else"}, "confirm", "The passwords differ."),
        ("en", {"uscc": "91360100MA35F0XX1B"}, "uscc", "Invalid USCC"),
        ("en", {"email": "not an email"}, "email", "valid email"),
        ("zh", {"enterprise_name": ""}, "enterprise_name", "必填"),
    ],
)
def test_sign_up_errors_answer_422_on_the_field(client, session, lang, changes, field, message):
    response = client.post(f"/signup?lang={lang}", data=_signup_form(**changes))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert message in field_error(response.text, field)
    assert session.scalar(select(User.id)) is None
    assert session.scalar(select(Enterprise.id)) is None


def test_every_sign_up_fault_is_shown_at_once_with_the_values_kept(client, session):
    """U2: the form's own checks and the registry's (email, password, USCC) in one 422."""
    form = _signup_form(
        email="not an email",
        password="password",
        confirm="something-else",
        uscc="9136010055",
        enterprise_name="",
    )
    response = client.post("/signup?lang=en", data=form)
    assert response.status_code == 422
    page = response.text
    assert "valid email" in field_error(page, "email")
    assert "too common" in field_error(page, "password")
    assert field_error(page, "confirm") == "The passwords differ."
    assert "has 18 characters; this one has 10." in field_error(page, "uscc")
    assert field_error(page, "enterprise_name") == "This field is required."
    # One message per field, each also listed in the summary at the top.
    assert page.count('class="field__error"') == 5
    assert page.count('<li><a href="#') == 5
    assert value_of(page, "email") == "not an email"
    assert value_of(page, "uscc") == "9136010055"
    assert "something-else" not in page and 'value="password"' not in page
    assert session.scalar(select(User.id)) is None


def test_a_taken_email_is_shown_with_the_other_faults(client, session, make):
    make.user(OWNER, password=PASSWORD)
    session.commit()
    response = client.post(
        "/signup?lang=zh", data=_signup_form(email="Owner@Example.com", password="short")
    )
    assert response.status_code == 422
    assert "owner@example.com 的用户已存在" in field_error(response.text, "email")
    assert "至少为 8 个字符" in field_error(response.text, "password")
    assert value_of(response.text, "email") == "Owner@Example.com"


#: Three English words in a row: what a Chinese page must not show (QUALITY.md U1).
ENGLISH_RUN = re.compile(r"[A-Za-z]+(?:[\s,;:.()'-]+[A-Za-z]+){2,}")


@pytest.mark.parametrize(
    ("code", "zh", "en"),
    [
        ("9136010055", "应为18位，当前为10位", "has 18 characters; this one has 10."),
        ("91360100MAI5K8T29N", "第11位字符", "'I' at position 11 cannot appear"),
        ("91360100MA35K8T291", "校验位（第18位）不符", "check character (position 18)"),
    ],
)
def test_a_uscc_fault_is_shown_in_the_pages_language(client, session, code, zh, en):
    chinese = client.post("/signup?lang=zh", data=_signup_form(uscc=code))
    assert chinese.status_code == 422
    error = field_error(chinese.text, "uscc")
    assert zh in error
    assert not ENGLISH_RUN.search(error), error
    english = client.post("/signup?lang=en", data=_signup_form(uscc=code))
    error = field_error(english.text, "uscc")
    assert en in error
    assert not re.search(r"[\u4e00-\u9fff]", error), error


def test_login_wrong_password_answers_422_and_the_right_one_303(client, session, auth):
    client.post("/signup", data=_signup_form())
    auth.logout()
    wrong = auth.login(OWNER, "not-the-password")
    assert wrong.status_code == 422
    assert "The email or the password is not correct." in auth.login(OWNER, "nope", lang="en").text
    right = auth.login(OWNER)
    assert right.status_code == 303 and right.headers["Location"] == "/account"


@pytest.mark.parametrize(
    ("lang", "words", "time"),
    [
        ("zh", "密码错误次数过多，请在 10:15 之后", "10:15"),
        ("en", "Too many wrong passwords", "10:15\u202fAM"),
    ],
)
def test_a_locked_login_says_when_to_try_again_outside_the_error_summary(
    app, client, session, auth, monkeypatch, lang, words, time
):
    # The app outlives the test: the clock is pinned for this test only.
    monkeypatch.setitem(app.config, "REGISTRY_FAKE_NOW", "2026-03-02T10:00:00+08:00")
    client.post("/signup", data=_signup_form())
    auth.logout()
    for _attempt in range(5):
        auth.login(OWNER, "not-the-password")
    locked = auth.login(OWNER, lang=lang)
    assert locked.status_code == 429
    assert words in locked.text and time in locked.text
    assert "error-summary" not in locked.text


@pytest.mark.parametrize("behind_a_proxy", [False, True], ids=["direct", "behind-a-proxy"])
def test_a_strangers_wrong_passwords_do_not_lock_the_owner_out(
    app, database_url, session, behind_a_proxy
):
    """S8: five wrong passwords from one address lock the account name for that address
    only; the owner signs in from another. Behind a trusted proxy the address is the
    forwarded one."""
    ops.sign_up(session, email=OWNER, password=PASSWORD, uscc=new_uscc(), enterprise_name="x")
    session.commit()
    served = make_app(database_url, TRUSTED_PROXIES=1) if behind_a_proxy else app

    def login(address: str, password: str):
        if behind_a_proxy:
            where = {"headers": {"X-Forwarded-For": address}}
        else:
            where = {"environ_base": {"REMOTE_ADDR": address}}
        form = {"email": OWNER, "password": password}
        return served.test_client().post("/login", data=form, **where)

    for _attempt in range(5):
        assert login("198.51.100.7", "not-the-password").status_code == 422
    locked = login("198.51.100.7", PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    owner = login("203.0.113.20", PASSWORD)
    assert owner.status_code == 303 and owner.headers["Location"] == "/account"
    if behind_a_proxy:
        with served.app_context():
            db.engine.dispose()


def test_every_failed_login_costs_one_password_hash_like_a_wrong_password(
    client, session, make, monkeypatch
):
    """The time a refusal takes tells no account from another: an unknown name, a
    token-only user, a disabled user and a name that is no email each verify one hash
    of the same cost as a real user's wrong password (counted, not timed)."""
    from registry.accounts import models

    ops.sign_up(session, email=OWNER, password=PASSWORD, uscc=new_uscc(), enterprise_name="x")
    make.user("machine@example.com", Role.REVIEWER)  # no password: tokens only
    gone = make.user("gone@example.com", Role.REVIEWER, password=PASSWORD)
    gone.active = False
    session.commit()
    verified: list[str] = []
    real_check = models.check_password_hash

    def counting(stored: str, password: str) -> bool:
        verified.append(stored.partition("$")[0])  # the method and its cost
        return real_check(stored, password)

    monkeypatch.setattr(models, "check_password_hash", counting)
    owners_cost = session.scalars(select(User.password_hash).where(User.email == OWNER)).one()
    cost = owners_cost.partition("$")[0]
    for email, password in [
        (OWNER, "not-the-password"),
        ("nobody@example.com", "not-the-password"),
        ("machine@example.com", "not-the-password"),
        ("gone@example.com", PASSWORD),
        ("not an email", "not-the-password"),
    ]:
        verified.clear()
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 422, email
        assert verified == [cost], email
    verified.clear()
    assert client.post("/login", data={"email": OWNER, "password": PASSWORD}).status_code == 303
    assert verified == [cost]


def test_a_visitor_sent_to_the_login_page_is_told_why(client):
    response = client.get("/enterprise/profile")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert "请登录后查看此页面。" in client.get(response.headers["Location"]).text
    # Told once: the login page opened directly says nothing of it.
    assert "请登录后查看此页面。" not in client.get("/login").text


def test_login_goes_back_to_the_page_asked_for_but_never_to_another_site(client, session):
    client.post("/signup", data=_signup_form())
    client.post("/logout")
    assert client.get("/account").headers["Location"].startswith("/login?next=/account")
    back = client.post(
        "/login?next=/account", data={"email": "owner@example.com", "password": PASSWORD}
    )
    assert back.headers["Location"] == "/account"
    client.post("/logout")
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        away = client.post(
            "/login",
            query_string={"next": target},
            data={"email": "owner@example.com", "password": PASSWORD},
        )
        assert away.headers["Location"] == "/account", target
        client.post("/logout")


def test_a_new_session_on_login(app, client, session, auth):
    client.post("/signup", data=_signup_form())
    auth.logout()
    client.get("/login?lang=en")
    with client.session_transaction() as before:
        before["planted"] = "by an attacker"
    auth.login(OWNER)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after["lang"] == "en"  # the language choice survives
        first_sid = after["sid"]
    auth.logout()
    auth.login(OWNER)
    with client.session_transaction() as again:
        assert again["sid"] != first_sid


def test_logout_ends_every_web_session_of_the_user(app, session, auth):
    first, second = app.test_client(), app.test_client()
    first.post("/signup", data=_signup_form())
    auth.login(OWNER, client=second)
    assert second.get("/account").status_code == 200
    stolen = first.get_cookie("session").value
    auth.logout(client=first)
    assert second.get("/account").status_code == 303  # ended too
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/account")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")


def test_password_change_ends_the_other_sessions_only(app, session, auth):
    mine, other = app.test_client(), app.test_client()
    mine.post("/signup", data=_signup_form())
    auth.login(OWNER, client=other)
    changed = mine.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "Poyang-lake-88",
            "confirm": "Poyang-lake-88",
        },
    )
    assert changed.status_code == 303
    assert mine.get("/account").status_code == 200
    assert other.get("/account").status_code == 303
    assert auth.login(OWNER, "Poyang-lake-88", client=other).status_code == 303


def test_password_change_errors(client, session):
    client.post("/signup", data=_signup_form())
    wrong = client.post(
        "/account/password?lang=en",
        data={
            "current_password": "nope",
            "new_password": "Poyang-lake-88",
            "confirm": "Poyang-lake-88",
        },
    )
    assert wrong.status_code == 422 and "The current password is not correct." in wrong.text
    weak = client.post(
        "/account/password?lang=en",
        data={"current_password": PASSWORD, "new_password": "12345678", "confirm": "12345678"},
    )
    assert weak.status_code == 422 and "too common" in weak.text


def test_every_password_change_fault_is_shown_at_once(client, session):
    """U2: a wrong current password, a common new one and a different repetition in one
    422, each beside its field; no password is sent back."""
    client.post("/signup", data=_signup_form())
    response = client.post(
        "/account/password?lang=en",
        data={"current_password": "nope-nope", "new_password": "12345678", "confirm": "1234"},
    )
    assert response.status_code == 422
    page = response.text
    assert field_error(page, "current_password") == "The current password is not correct."
    assert "too common" in field_error(page, "new_password")
    assert field_error(page, "confirm") == "The passwords differ."
    assert page.count('class="field__error"') == 3
    assert "nope-nope" not in page and 'value="12345678"' not in page
    # The wrong guess is counted like a failed login although the form was refused
    # (the test client's address is 127.0.0.1).
    assert session.get(LoginThrottle, (OWNER, "127.0.0.1")).failures == 1
    assert session.get(LoginThrottle, (OWNER, EVERY_ADDRESS)).failures == 1


def test_a_password_change_names_both_passwords_faults(client, session):
    client.post("/signup", data=_signup_form())
    response = client.post(
        "/account/password?lang=zh",
        data={"current_password": "nope-nope", "new_password": "short", "confirm": "short"},
    )
    assert response.status_code == 422
    assert field_error(response.text, "current_password") == "当前密码不正确。"
    assert "至少为 8 个字符" in field_error(response.text, "new_password")


def test_disabling_a_user_ends_its_sessions_at_once(app, session, reviewer, auth):
    client = app.test_client()
    auth.login("reviewer@example.com", client=client)
    assert client.get("/account").status_code == 200
    reviewer = db.session.get(User, reviewer.id)
    reviewer.active = False
    db.session.commit()
    assert client.get("/account").status_code == 303
    assert auth.login("reviewer@example.com", client=client).status_code == 422


def test_csrf_with_the_production_configuration(app, session, other_app):
    production = other_app(WTF_CSRF_ENABLED=True, TESTING=False)
    client, other = production.test_client(), production.test_client()
    missing = client.post("/signup", data=_signup_form())
    assert missing.status_code == 400
    page = other.get("/signup")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    client.get("/signup")
    foreign = client.post("/signup", data=_signup_form(csrf_token=token))
    assert foreign.status_code == 400
    with production.app_context():
        assert db.session.scalar(select(User.id)) is None
    own = re.search(r'value="([^"]+)"', client.get("/signup").text.split('name="csrf_token"')[1])
    assert client.post("/signup", data=_signup_form(csrf_token=own.group(1))).status_code == 303
    assert client.post("/logout").status_code == 400  # logout is a form post like any other


def test_an_expired_token_gives_the_sign_up_form_back(app, session, other_app):
    production = other_app(WTF_CSRF_ENABLED=True, TESTING=False)
    client = production.test_client()
    typed = _signup_form()
    response = client.post("/signup?lang=en", data={**typed, "csrf_token": "expired"})
    assert response.status_code == 400
    assert "The form has expired. Please submit it again." in response.text
    for name in ("email", "uscc", "enterprise_name"):
        assert f'value="{typed[name]}"' in response.text
    assert PASSWORD not in response.text  # passwords are typed again, never sent back
    # The login form keeps its email the same way; other posts get the plain 400 page.
    response = client.post("/login?lang=en", data={"email": OWNER, "password": PASSWORD})
    assert response.status_code == 400 and f'value="{OWNER}"' in response.text
    assert "Bad request" in client.post("/logout?lang=en").text
    with production.app_context():
        assert db.session.scalar(select(User.id)) is None


def test_private_pages_carry_the_security_headers(client, session):
    client.post("/signup", data=_signup_form())
    for path in ("/account", "/account/password", "/"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    client.post("/logout")
    assert "Cache-Control" not in client.get("/").headers  # public, anonymous
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def _session_cookie(response) -> str:
    """The ``Set-Cookie`` line of the session cookie."""
    (line,) = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    return line


def test_the_session_cookie_is_secure_whenever_the_request_came_over_https(app, session, other_app):
    """S11: a request over TLS gets a ``Secure`` cookie even with SESSION_COOKIE_SECURE
    off; behind a trusted proxy, its ``X-Forwarded-Proto`` says whether it was TLS."""
    ops.sign_up(session, email=OWNER, password=PASSWORD, uscc=new_uscc(), enterprise_name="x")
    session.commit()
    login = {"email": OWNER, "password": PASSWORD}
    assert app.config["SESSION_COOKIE_SECURE"] is False
    plain = app.test_client().post("/login", data=login)
    assert plain.status_code == 303 and "Secure" not in _session_cookie(plain)
    tls = app.test_client().post("/login", data=login, base_url="https://localhost")
    cookie = _session_cookie(tls)
    assert tls.status_code == 303 and "; Secure" in cookie and "HttpOnly" in cookie
    # The language, the CSRF token and the signed-in user all live in that one cookie.
    anonymous = app.test_client().get("/login?lang=en", base_url="https://localhost")
    assert "; Secure" in _session_cookie(anonymous)
    assert [h for h in anonymous.headers.getlist("Set-Cookie") if "Secure" not in h] == []

    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}
    behind = other_app(TRUSTED_PROXIES=1)
    proxied = behind.test_client().post("/login", data=login, headers=forwarded)
    assert "; Secure" in _session_cookie(proxied)
    # Without a trusted proxy, anybody could send the header: it is not believed.
    spoofed = app.test_client().post("/login", data=login, headers=forwarded)
    assert "Secure" not in _session_cookie(spoofed)


def test_the_production_setting_marks_every_session_cookie_secure(
    session, monkeypatch, tmp_path, other_app
):
    """SESSION_COOKIE_SECURE (production sets it) covers requests whose scheme the
    registry cannot see, such as TLS ended by a proxy it does not trust."""
    from registry.config import from_environment

    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    assert from_environment(str(tmp_path))["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    assert from_environment(str(tmp_path))["SESSION_COOKIE_SECURE"] is False
    production = other_app(SESSION_COOKIE_SECURE=True)
    response = production.test_client().get("/login?lang=en")
    assert "; Secure" in _session_cookie(response)


def test_names_are_shown_literally(client, session):
    name = "<img src=x onerror=alert(1)>{{7*7}}"
    client.post("/signup", data=_signup_form(enterprise_name=name))
    page = client.get("/account")
    assert "&lt;img src=x onerror=alert(1)&gt;{{7*7}}" in page.text
    assert "<img src=x" not in page.text and ">49<" not in page.text


def test_login_throttling_holds_across_worker_processes(app, session, database_url, tmp_path):
    """S8: ten wrong passwords sent at once to a two-worker server lock the account for
    every worker: the counter is in the database."""
    from tests.live import gunicorn

    ops.sign_up(
        session, email="owner@example.com", password=PASSWORD, uscc=new_uscc(), enterprise_name="x"
    )
    session.commit()
    with gunicorn(database_url, tmp_path, workers=2) as server:
        statuses: list[int] = []

        def attempt() -> None:
            http = server.session()
            token = server.csrf_token(http, "/login")
            response = http.post(
                server.url + "/login",
                data={"email": "owner@example.com", "password": "wrong-guess", "csrf_token": token},
                allow_redirects=False,
                timeout=30,
            )
            statuses.append(response.status_code)

        threads = [threading.Thread(target=attempt) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(server.worker_pids()) == 2, "both workers answered"
        assert sorted(set(statuses)) == [422, 429]
        http = server.session()
        token = server.csrf_token(http, "/login")
        right = http.post(
            server.url + "/login",
            data={"email": "owner@example.com", "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
            timeout=30,
        )
        assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    ("lang", "line"),
    [("zh", "电子邮箱：此项为必填项。"), ("en", "Email: This field is required.")],
)
def test_the_error_summary_writes_label_and_message_as_the_language_does(client, lang, line):
    """Each problem is "label: message", with Chinese's full-width colon on a Chinese page."""
    page = client.post(f"/signup?lang={lang}", data=_signup_form(email=""))
    assert page.status_code == 422
    summary = page.text.split('class="error-summary"', 1)[1].split("</ul>", 1)[0]
    assert line in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", summary))
