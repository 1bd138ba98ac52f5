"""Fixtures of the enterprises tests."""

from __future__ import annotations

import pytest

from tests.fixtures.enterprises_api import World


@pytest.fixture
def world(enterprises_world) -> World:
    """Enterprise A with its user, enterprise B with its user, a reviewer; a token each."""
    return enterprises_world
