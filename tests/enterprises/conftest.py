"""Fixtures of the enterprises tests."""

from __future__ import annotations

import pytest

from tests.enterprises.api_world import World


@pytest.fixture
def world(app, session, make) -> World:
    """Enterprise A with its user, enterprise B with its user, a reviewer; a token each."""
    return World(session, make)
