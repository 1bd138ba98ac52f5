"""A file too large for the registry, sent through nginx as production runs it
(deploy/nginx/): the person lands on a page of the registry that names the 10 MB limit
and leads back, never on nginx's bare 413.

nginx's request body limit is the registry's own (``MAX_CONTENT_LENGTH``): a larger
body nginx refuses unread, with the registry's page for that (``error_page 413``), a
static page in both languages that nginx serves from the checkout. An attachment's
upload alone takes bodies well over it, so that the registry answers those itself (the
application comes back with the limit beside the file field). Under /api/ nginx's 413
is the registry's problem document for a body too large, not a page. The configuration's
tests run everywhere; the live ones where nginx is installed (Debian's package), in
front of the tests' live server.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import g
from playwright.sync_api import expect

from registry.accounts.models import Role
from registry.config import Config
from registry.core.problems import problem
from tests import live
from tests.factories import PASSWORD
from tests.fixtures.api import PDF
from tests.live import NGINX, ROOT, local_nginx
from tests.web.usability import axe_faults, phone_faults

SITE, CHECKOUT = local_nginx.SITE, local_nginx.CHECKOUT
MB = 1024 * 1024
LIMIT_MB = Config.MAX_CONTENT_LENGTH // MB


def _size(value: str) -> int:
    units = {"k": 1024, "m": MB, "g": 1024 * MB}
    return int(value[:-1]) * units[value[-1].lower()] if value[-1].isalpha() else int(value)


def _directive(body: str, name: str) -> list[str]:
    found = re.search(rf"^\s*{name}\s+([^;]+);", body, re.M)
    assert found, f"no {name} in {SITE.name}"
    return found.group(1).split()


def _answers_to_413() -> tuple[str, str]:
    """What nginx answers its 413 with: the URI of a page, and under /api/ a named
    location (``error_page 413 $too_large``, the variable set for the request's path)."""
    body = local_nginx.serving_block()
    assert _directive(body, "error_page") == ["413", "$too_large"]
    page, api = re.findall(r"^\s*set \$too_large (\S+);", body, re.M)
    assert re.search(r"if \(\$uri ~ \^/api/\) \{\s*set \$too_large " + re.escape(api), body)
    return page, api


def _api_answers_to_413() -> dict[str, str]:
    """The problem documents nginx returns under /api/, by language (English when asked
    for first, else Chinese), as the texts in its configuration."""
    body = local_nginx.serving_block()
    _, api = _answers_to_413()
    location = body[body.index(f"location {api} {{") :]
    english, chinese = re.findall(r"return 413 '([^']*)';", location)
    assert re.search(r"if \(\$http_accept_language ~\* \^\\s\*en\) \{\s*return 413", location)
    return {"en": english, "zh": chinese}


def _page_for_413() -> tuple[str, Path]:
    """The URI nginx shows for its 413 and the file it serves there."""
    body = local_nginx.serving_block()
    uri, _ = _answers_to_413()
    location = re.search(rf"location = {re.escape(uri)} \{{([^}}]*)\}}", body)
    assert location, f"no location serves {uri}"
    (root,) = _directive(location.group(1), "root")
    assert root == CHECKOUT
    return uri, ROOT / uri.lstrip("/")


def _upload_location() -> tuple[str, str]:
    """The pattern and the body of the one location with a limit of its own."""
    body = local_nginx.serving_block()
    found = re.findall(r"location ~ (\S+) \{([^}]*client_max_body_size[^}]*)\}", body)
    assert len(found) == 1, f"one location of {SITE.name} has a larger limit"
    return found[0]


def _upload_limit() -> int:
    (limit,) = _directive(_upload_location()[1], "client_max_body_size")
    return _size(limit)


UPLOADS = ("/applications/7/attachments", "/api/v1/applications/7/attachments")
NOT_UPLOADS = (
    "/admin/imports",
    "/login",
    "/applications/7",
    "/applications/7/attachmentsx",
    "/api/v1/applications/7/attachments/3",
    "/x/applications/7/attachments",
)


def test_nginx_takes_what_the_registry_takes_and_more_only_for_an_attachment():
    """nginx's limit is the registry's; an attachment's upload, page or API, alone takes
    bodies well over it (what lies between gets the registry's own answer)."""
    body = local_nginx.serving_block()
    (limit,) = _directive(body, "client_max_body_size")
    assert _size(limit) == Config.MAX_CONTENT_LENGTH
    pattern, _ = _upload_location()
    assert _upload_limit() >= 2 * Config.MAX_CONTENT_LENGTH
    assert all(re.search(pattern, path) for path in UPLOADS)
    assert not any(re.search(pattern, path) for path in NOT_UPLOADS)
    assert body.count("client_max_body_size") == 2
    assert "client_max_body_size" not in local_nginx.PROXY.read_text()


def test_nginx_shows_the_registrys_page_for_its_413(client):
    """nginx's 413 is the registry's page, which the registry serves at the same
    address, in both languages with the limit and the way back."""
    uri, file = _page_for_413()
    assert file.is_file()
    served = client.get(uri)
    assert served.status_code == 200 and served.get_data() == file.read_bytes()
    html = file.read_text()
    chinese, english = html.split('lang="en" aria-labelledby', 1)
    assert f"不能超过 {LIMIT_MB} MB" in chinese and "后退" in chinese
    assert f"at most {LIMIT_MB} MB" in english and "Back button" in english
    for part in (chinese, english):
        assert 'href="/applications"' in part and 'href="/"' in part


def _as_sent(text: str, request_id: str) -> dict:
    """A problem document of nginx's configuration as nginx sends it."""
    return json.loads(text.replace("$request_id", request_id).replace("\\n", "\n"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_nginx_refuses_an_api_body_with_the_registrys_problem_document(app, lang):
    """Under /api/ nginx's 413 is the problem document the registry gives a body too
    large: the same fields, type, title (in the language asked for), status and code."""
    sent = _as_sent(_api_answers_to_413()[lang], "0f" * 16)
    with app.test_request_context("/api/v1/enterprises", headers={"Accept-Language": lang}):
        g.request_id = "0f" * 16
        registry = problem(413).get_json()
    assert sent.keys() == registry.keys()
    assert {k: v for k, v in sent.items() if k != "detail"} == {
        k: v for k, v in registry.items() if k != "detail"
    }
    assert sent["code"] == "payload_too_large" and sent["errors"] == []
    assert ("10 MB + 64 KB" in sent["detail"]) and (lang == "en") == sent["detail"].isascii()


@pytest.fixture
def nginx(live_server, tmp_path):
    """nginx on a free loopback port in front of the live server, as production has it
    (registry.conf's serving block but its TLS, registry-proxy.conf, the checkout where
    /srv/registry stands: deploy/local_nginx.py)."""
    if not NGINX.exists():
        pytest.skip("nginx is not installed (apt-get install nginx)")
    with live.nginx([live_server.removeprefix("http://")], tmp_path) as url:
        yield url


def _upload(page, folder: Path, size: int):
    """Choose a PDF of ``size`` bytes (from a file: a path is not copied through the
    driver) and send it; the response to the form's post."""
    file = folder / f"年报-{size}.pdf"
    with file.open("wb") as out:
        out.write(PDF)
        out.truncate(size)
    page.set_input_files("#file", str(file))
    form = page.locator("form[enctype='multipart/form-data']")
    with page.expect_response(lambda r: r.request.method == "POST", timeout=30_000) as answer:
        form.locator("button[type=submit]").click(timeout=30_000)
    return answer.value


def _send(
    url: str, path: str, size: int, method: str = "POST", headers: dict[str, str] | None = None
) -> tuple[int, Message, bytes]:
    """A request with a body of ``size`` bytes: the status, the headers and the body."""
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    try:
        connection.putrequest(method, path)
        for name, value in {"Content-Type": "application/octet-stream", **(headers or {})}.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(size))
        connection.endheaders()
        chunk = bytes(MB)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # refused unread
            for start in range(0, size, MB):
                connection.send(chunk[: min(MB, size - start)])
        answer = connection.getresponse()
        return answer.status, answer.headers, answer.read()
    finally:
        connection.close()


def _post(url: str, path: str, size: int) -> tuple[int, str | None, bytes]:
    """A POST of ``size`` bytes: the status, the server that answered (None: nginx
    itself) and the body."""
    status, headers, body = _send(url, path, size)
    return status, headers.get("X-Upstream"), body


def test_through_nginx_a_body_over_the_limit_reaches_the_registry_only_as_an_upload(nginx):
    limit = Config.MAX_CONTENT_LENGTH
    status, upstream, _ = _post(nginx, "/login", limit)
    assert status != 413 and upstream
    status, upstream, body = _post(nginx, "/login", limit + 1)
    assert (status, upstream) == (413, None)
    assert "文件过大".encode() in body
    for path in UPLOADS:  # the registry's own answer (here: sign in first)
        status, upstream, _ = _post(nginx, path, limit + 1)
        assert upstream and status in (303, 401, 413), (path, status)


def test_through_nginx_an_api_body_over_the_limit_gets_a_problem_document(nginx):
    """nginx's own 413 under /api/ is the API's problem document, in the language asked
    for, its request id also in X-Request-ID; elsewhere it stays the page."""
    over_upload = _upload_limit() + 1
    for method, path, size, lang in (
        ("POST", "/api/v1/enterprises", Config.MAX_CONTENT_LENGTH + 1, "zh-CN,zh;q=0.9"),
        ("PATCH", "/api/v1/enterprises/91360100MA35XXXX0X", 20 * MB, "en-GB,en;q=0.8"),
        ("POST", "/api/v1/applications/7/attachments", over_upload, "en"),
        ("POST", "/api/v1/applications/7/attachments", over_upload, ""),
    ):
        status, headers, body = _send(nginx, path, size, method, {"Accept-Language": lang})
        assert (status, headers.get("X-Upstream")) == (413, None), (method, path)
        assert headers["Content-Type"] == "application/problem+json"
        document = json.loads(body)
        assert document == _as_sent(
            _api_answers_to_413()["en" if lang.startswith("en") else "zh"],
            headers["X-Request-ID"],
        )
        assert re.fullmatch(r"[0-9a-f]{32}", document["request_id"])
    status, headers, body = _send(nginx, "/applications/7/attachments", over_upload)
    assert status == 413 and headers["Content-Type"].startswith("text/html")
    assert "文件过大".encode() in body


@pytest.mark.browser
def test_a_file_too_large_through_nginx_gets_a_page_of_the_registry(
    nginx, new_page, signed_in, session, make, tmp_path
):
    enterprise = make.enterprise()
    owner = make.user(
        "owner@large.example", Role.ENTERPRISE, password=PASSWORD, enterprise=enterprise
    )
    here = f"{nginx}/applications/{make.application(enterprise, owner).id}"
    session.commit()
    page = new_page()
    signed_in(page, "owner@large.example", lang="zh")

    # Over the registry's limit, within nginx's: the application again, the limit named
    # beside the file field, in the page's language.
    page.goto(here)
    answer = _upload(page, tmp_path, 12 * MB)
    assert answer.status == 413 and answer.url.startswith(nginx)
    expect(page.locator("#file-error")).to_contain_text(f"文件超过 {LIMIT_MB} MB")

    # Over nginx's limit for uploads too: the registry's page for it, both languages,
    # the way back.
    page.goto(here)
    answer = _upload(page, tmp_path, _upload_limit() + MB)
    assert answer.status == 413
    expect(page.locator("h1")).to_have_text("文件过大")
    expect(page.locator("main")).to_contain_text(f"上传的文件不能超过 {LIMIT_MB} MB")
    expect(page.locator("main [lang=en]")).to_contain_text(f"A file may be at most {LIMIT_MB} MB")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgba(0, 0, 0, 0)"
    page.set_viewport_size({"width": 375, "height": 900})
    assert phone_faults(page) == [] and axe_faults(page) == []
    page.locator("main a.button").first.click()
    expect(page).to_have_url(f"{nginx}/applications")
