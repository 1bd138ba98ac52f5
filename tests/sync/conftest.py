"""Fixtures of the sync tests: the app with a sync key, and a fake peer registry."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.sync.fake_peer import FakePeer
from tests.sync.pull_world import SYNC_KEY


@pytest.fixture
def sync_app(app, monkeypatch):
    """The app with a sync key and a read timeout a busy two-core machine keeps within
    (a fake peer's thread can wait half a second for the CPU); the hanging-peer test
    shortens it."""
    monkeypatch.setitem(app.config, "SYNC_SECRET_KEY", SYNC_KEY)
    monkeypatch.setitem(app.config, "SYNC_READ_TIMEOUT_SECONDS", 5.0)
    monkeypatch.setitem(app.config, "SYNC_CONNECT_TIMEOUT_SECONDS", 2.0)
    return app


@pytest.fixture
def peer() -> Iterator[FakePeer]:
    """A fake peer on a loopback port."""
    peer = FakePeer()
    server = make_server("127.0.0.1", 0, peer, threaded=True)
    peer.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        peer.released.set()
        server.shutdown()
        server.server_close()
