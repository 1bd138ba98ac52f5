"""A live server and one Chromium for the browser tests (``-m browser``).

The server is the registry app on a real WSGI server (werkzeug, threaded) in a
background thread, against the test database that the ``app`` fixture resets and
seeds before each test. The browser is Debian's Chromium driven by Playwright's sync
API; one browser serves the whole run and each test gets a fresh context (cookies,
viewport, language).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from registry.extensions import db
from tests.conftest import make_app

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def live_server(_migrated_app, database_url) -> Iterator[str]:
    """The base URL of the registry served on 127.0.0.1 at a free port."""
    served = make_app(database_url)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    with served.app_context():
        db.engine.dispose()


#: The run's one Chromium. A test module elsewhere that imports these fixtures gets
#: session fixtures of its own; they share it, since Playwright's sync API can run only
#: once at a time in a thread.
_chromium: dict = {"users": 0}


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    if not _chromium["users"]:
        _chromium["playwright"] = sync_playwright().start()
        _chromium["browser"] = _chromium["playwright"].chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
    _chromium["users"] += 1
    yield _chromium["browser"]
    _chromium["users"] -= 1
    if not _chromium["users"]:
        _chromium.pop("browser").close()
        _chromium.pop("playwright").stop()


@pytest.fixture
def new_page(app, browser, live_server):
    """``new_page(width=1280, javascript=True)``: a page in a fresh browser context whose
    ``goto`` takes paths on the live server. The database is freshly seeded (``app``)."""
    contexts = []

    def open_page(*, width: int = 1280, height: int = 900, javascript: bool = True):
        context = browser.new_context(
            base_url=live_server,
            viewport={"width": width, "height": height},
            locale="zh-CN",
            java_script_enabled=javascript,
        )
        context.set_default_timeout(5000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
