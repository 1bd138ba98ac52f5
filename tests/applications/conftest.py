"""Fixtures of the applications tests."""

from __future__ import annotations

from datetime import date

import pytest

from registry.accounts.models import Role


@pytest.fixture
def world(make) -> dict:
    """An enterprise eligible for tech_sme with its user, and two reviewers (flushed):
    the operations tests' world. Modules that need another define their own ``world``."""
    enterprise = make.enterprise(founded_on=date(2015, 1, 1))
    make.eligible_report(enterprise, 2025)
    return {
        "enterprise": enterprise,
        "owner": make.user(enterprise=enterprise),
        "reviewer": make.user(role=Role.REVIEWER, name="reviewer one"),
        "second": make.user(role=Role.REVIEWER, name="reviewer two"),
    }
