"""The reports' tests: the builders read titles and labels in the request's language."""

from __future__ import annotations

import pytest


@pytest.fixture
def in_request(app):
    """A request in Chinese (the default language), for the report builders' labels."""
    with app.test_request_context("/", headers={"Accept-Language": "zh"}):
        yield
