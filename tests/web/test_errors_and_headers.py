"""HTML error pages in both languages and the security headers (QUALITY.md S11)."""

from __future__ import annotations

import pytest
from flask import abort

from registry.extensions import db
from tests.conftest import make_app


def text_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def failing_app(app, database_url):
    """An app that renders unhandled errors as a real deployment does."""
    failing = make_app(database_url, PROPAGATE_EXCEPTIONS=False)

    @failing.get("/boom")
    def boom():
        raise RuntimeError("boom")

    @failing.get("/refuse")
    def refuse():
        abort(422)

    yield failing
    with failing.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    ("lang", "html_lang", "title"),
    [("zh", "zh-Hans", "页面不存在"), ("en", "en", "Page not found")],
)
def test_not_found_page_in_each_language(client, lang, html_lang, title):
    response = client.get(f"/no/such/page?lang={lang}")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = text_of(response)
    assert f'<html lang="{html_lang}">' in html
    assert f"<h1>{title}</h1>" in html
    assert 'href="/"' in html


def test_method_not_allowed_page_keeps_the_allow_header(client):
    response = client.post("/?lang=en")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "Method not allowed" in text_of(response)
    assert "请求方式不被允许" in text_of(client.post("/?lang=zh"))


def test_unprocessable_page(failing_app):
    response = failing_app.test_client().get("/refuse?lang=zh")
    assert response.status_code == 422
    assert "无法处理该请求" in text_of(response)


def test_server_error_page_quotes_the_request_id(failing_app):
    client = failing_app.test_client()
    response = client.get("/boom?lang=zh", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    html = text_of(response)
    assert "系统出现错误" in html and "req-42" in html
    assert "RuntimeError" not in html and "Traceback" not in html
    assert "Something went wrong" in text_of(client.get("/boom?lang=en"))


def test_api_paths_are_left_to_the_api(client):
    response = client.get("/api/v1/no-such-thing?lang=zh")
    assert response.status_code == 404
    assert "页面不存在" not in text_of(response)


def test_security_headers_on_pages_errors_and_static_files(client):
    for path in ("/", "/tiers/nope", "/static/css/registry.css"):
        response = client.get(path)
        response.close()  # the static file is streamed from an open file
        csp = response.headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert directives["object-src"] == "'none'"
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "Strict-Transport-Security" not in response.headers


def test_hsts_only_over_tls(client):
    response = client.get("/", base_url="https://registry.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_vary_with_the_language_asked_for(client):
    assert "Accept-Language" in client.get("/").headers["Vary"]


def test_pages_have_no_inline_script_or_style(client, session, make):
    from registry.ladder import operations as ops
    from tests.factories import TEST_ACTOR

    ops.grant_tier(session, make.enterprise(), "tech_sme", actor=TEST_ACTOR, reason="x")
    session.commit()
    for path in ("/", "/tiers/tech_sme", "/tiers/tech_sme?city=bad", "/nowhere"):
        html = text_of(client.get(path)).lower()
        assert "<script" not in html and "<style" not in html
        assert " style=" not in html and " onclick=" not in html
