"""Fixtures of the ladder's tests."""

from __future__ import annotations

import pytest

from registry.extensions import db
from tests.conftest import make_app


@pytest.fixture
def small_pages(app, database_url):
    """An app serving the same database with three enterprises per page."""
    paged = make_app(database_url, PAGE_SIZE=3)
    yield paged
    with paged.app_context():
        db.engine.dispose()
