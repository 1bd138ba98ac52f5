"""A file too large for the registry, sent through nginx as production runs it
(deploy/nginx/): the person lands on a page of the registry that names the 10 MB limit
and leads back, never on nginx's bare 413.

nginx's request body limit is the registry's own (``MAX_CONTENT_LENGTH``): a larger
body nginx refuses unread, with the registry's page for that (``error_page 413``), a
static page in both languages that nginx serves from the checkout. An attachment's
upload alone takes bodies well over it, so that the registry answers those itself (the
application comes back with the limit beside the file field). The configuration's
tests run everywhere; the live ones where nginx is installed (Debian's package), in
front of the tests' live server.
"""

from __future__ import annotations

import contextlib
import http.client
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from registry.accounts.models import Role
from registry.config import Config
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


def _page_for_413() -> tuple[str, Path]:
    """The URI nginx shows for its 413 and the file it serves there."""
    body = local_nginx.serving_block()
    code, uri = _directive(body, "error_page")
    assert code == "413"
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


def _post(url: str, path: str, size: int) -> tuple[int, str | None, bytes]:
    """A POST of ``size`` bytes: the status, the server that answered (None: nginx
    itself) and the body."""
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", "application/octet-stream")
        connection.putheader("Content-Length", str(size))
        connection.endheaders()
        chunk = bytes(MB)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # refused unread
            for start in range(0, size, MB):
                connection.send(chunk[: min(MB, size - start)])
        answer = connection.getresponse()
        return answer.status, answer.getheader("X-Upstream"), answer.read()
    finally:
        connection.close()


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
