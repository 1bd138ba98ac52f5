"""``flask registry check-deploy`` (PRODUCT.md §9, QUALITY.md S12): every error and
warning on the setting or the database state that causes it, one line each starting
``error:`` or ``warning:``; exit status 1 on any error, 0 with warnings only; a correct
production configuration passes, and so does ``deploy/registry.env`` once its
placeholders are replaced."""

from __future__ import annotations

import os
import re
import runpy
import secrets
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import delete

from registry import create_app
from registry.accounts.models import Role
from registry.config import from_environment
from registry.core import clock
from registry.demo.applications import DEMO_USERS
from registry.enterprises.models import City
from registry.extensions import db
from registry.maintenance.deploy_check import check_deploy
from tests.conftest import ENGINE_URL
from tests.live import ROOT

#: A day the seeded calendar covers a year ahead of, with no provisional year in it.
COVERED = date(2025, 6, 1)


def keys() -> dict[str, str]:
    return {"SECRET_KEY": secrets.token_hex(32), "SYNC_SECRET_KEY": secrets.token_hex(32)}


def production(database_url: str) -> dict:
    """The settings of deploy/registry.env, as the tests' app can take them."""
    return {
        "TESTING": False,
        "DEBUG": False,
        "WTF_CSRF_ENABLED": True,
        "SESSION_COOKIE_SECURE": True,
        "EXTERNAL_URL": "https://registry.example.gov.cn",
        "TRUSTED_PROXIES": 1,
        "REGISTRY_FAKE_NOW": None,
        # Several servers share the counters in PostgreSQL; one SQLite registry keeps
        # its file.
        **({"RATELIMIT_STORAGE_URI": database_url} if ENGINE_URL else {}),
    }


def script() -> ScriptDirectory:
    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())


def lines(session, config: dict, environ: dict, today: date = COVERED) -> list[str]:
    return [str(f) for f in check_deploy(config, environ, session, script(), today)]


@pytest.fixture
def good(app, database_url) -> dict:
    return {**app.config, **production(database_url)}


def test_a_production_configuration_with_real_keys_passes(session, good):
    assert lines(session, good, keys()) == []


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("DEBUG", True, "error: debug is on"),
        ("TESTING", True, "error: TESTING is on"),
        ("WTF_CSRF_ENABLED", False, "error: CSRF protection is off"),
        ("SESSION_COOKIE_SECURE", False, "error: SESSION_COOKIE_SECURE is off"),
        ("REGISTRY_FAKE_NOW", "2026-03-02T10:00:00+08:00", "error: REGISTRY_FAKE_NOW"),
        ("EXTERNAL_URL", None, "error: EXTERNAL_URL is not set"),
        ("EXTERNAL_URL", "http://registry.example.gov.cn", "error: EXTERNAL_URL 'http:"),
        ("RATELIMIT_STORAGE_URI", "memory://", "error: RATELIMIT_STORAGE_URI is memory://"),
        ("RATELIMIT_ENABLED", False, "warning: RATELIMIT_ENABLED=0"),
        ("TRUSTED_PROXIES", 0, "warning: TRUSTED_PROXIES is not set"),
        ("FEED_RETENTION_DAYS", 3, "warning: FEED_RETENTION_DAYS is 3"),
    ],
)
def test_each_wrong_setting_is_one_line(session, good, setting, value, expected):
    found = lines(session, {**good, setting: value}, keys())
    assert len(found) == 1 and found[0].startswith(expected), found


@pytest.mark.parametrize("name", ["SECRET_KEY", "SYNC_SECRET_KEY"])
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "is not set"),  # the generated file in instance/ does not count
        ("dev", "is too short"),
        ("replace-with-64-random-hex-characters-replace-with-64-random-hex", "is the example"),
    ],
)
def test_a_key_the_operator_did_not_set_is_an_error(session, good, name, value, expected):
    environ = keys()
    if value is None:
        del environ[name]
    else:
        environ[name] = value
    (found,) = lines(session, good, environ)
    assert found.startswith(f"error: {name} {expected}")


@pytest.mark.postgres(reason="the SQLite counters' file beside PostgreSQL")
def test_a_counters_file_beside_postgresql_is_a_warning(session, good, tmp_path):
    config = {**good, "RATELIMIT_STORAGE_URI": f"sqlite:///{tmp_path / 'ratelimits.db'}"}
    (found,) = lines(session, config, keys())
    assert found.startswith("warning: RATELIMIT_STORAGE_URI is a SQLite file")


def test_an_old_schema_or_no_seed_is_an_error(session, good):
    class Ahead:
        def get_current_head(self) -> str:
            return "f00dfeedbeef"

    found = [str(f) for f in check_deploy(good, keys(), session, Ahead(), COVERED)]
    assert len(found) == 1 and "not the migrations' head f00dfeedbeef" in found[0]
    assert "flask --app wsgi db upgrade" in found[0]
    session.execute(delete(City))
    assert lines(session, good, keys()) == [
        "error: the reference data is not loaded: run flask --app wsgi registry seed."
    ]


def test_a_demo_account_with_its_published_password_is_an_error(session, make, good):
    demo = DEMO_USERS[0]
    user = make.user(demo.email, Role.ADMIN, password=demo.password)
    (found,) = lines(session, good, keys())
    assert found.startswith(f"error: the demo account {demo.email} is enabled")
    user.set_password("a-password-of-the-operators-own")
    assert lines(session, good, keys()) == []
    user.set_password(demo.password)
    user.active = False
    assert lines(session, good, keys()) == []


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        # 2027 is seeded, provisional.
        (date(2026, 12, 7), ["warning: the working-day calendar of 2027 is provisional"]),
        (
            date(2027, 3, 1),
            [
                "warning: the working-day calendar does not cover 2028, within the next 365",
                "warning: the working-day calendar of 2027 is provisional",
            ],
        ),
        (
            date(2027, 11, 15),
            [
                "error: the working-day calendar does not cover 2028, within the next 60",
                "warning: the working-day calendar of 2027 is provisional",
            ],
        ),
    ],
)
def test_the_calendar_must_reach_the_notices_ahead(session, good, today, expected):
    found = lines(session, good, keys(), today)
    assert len(found) == len(expected)
    assert all(line.startswith(start) for line, start in zip(found, expected, strict=True)), found


def test_the_command_prints_each_line_and_exits_1_on_an_error(runner):
    result = runner.invoke(args=["registry", "check-deploy"])
    assert result.exit_code == 1
    printed = result.output.strip().splitlines()
    assert printed and all(line.startswith(("error: ", "warning: ")) for line in printed)
    assert "error: TESTING is on: it is for the test suite only; remove it." in printed


def test_the_command_passes_a_production_configuration(app, database_url, other_app, monkeypatch):
    for name, value in keys().items():
        monkeypatch.setenv(name, value)
    served = other_app(**production(database_url))
    at = datetime(2025, 6, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    with served.app_context(), clock.pinned(at):
        result = served.test_cli_runner().invoke(args=["registry", "check-deploy"])
    assert (result.exit_code, result.output) == (0, "No problem found.\n")


def test_the_command_prints_warnings_and_exits_0_when_there_is_no_error(
    app, database_url, other_app, monkeypatch
):
    for name, value in keys().items():
        monkeypatch.setenv(name, value)
    served = other_app(**{**production(database_url), "TRUSTED_PROXIES": 0}, FEED_RETENTION_DAYS=3)
    at = datetime(2025, 6, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    with served.app_context(), clock.pinned(at):
        result = served.test_cli_runner().invoke(args=["registry", "check-deploy"])
    assert result.exit_code == 0, result.output
    printed = result.output.splitlines()
    assert len(printed) == 2, printed
    assert printed[0].startswith("warning: TRUSTED_PROXIES is not set")
    assert printed[1].startswith("warning: FEED_RETENTION_DAYS is 3")


EXAMPLE_ENVIRONMENT = ROOT / "deploy" / "registry.env"


def example_environment() -> dict[str, str]:
    """``deploy/registry.env``'s variables."""
    lines = EXAMPLE_ENVIRONMENT.read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return {name: value for name, value in pairs}


class _ReadEnvironment(dict):
    """An empty environment that records every name asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, name, default=None):
        self.asked.add(name)
        return super().get(name, default)

    def __getitem__(self, name):
        self.asked.add(name)
        return super().__getitem__(name)

    def __contains__(self, name):
        self.asked.add(name)
        return super().__contains__(name)


#: Read by the registry, and never to be set where it serves (check-deploy's error).
NOT_IN_PRODUCTION = {"REGISTRY_FAKE_NOW"}


def test_every_variable_the_servers_read_is_in_the_example_environment(monkeypatch, tmp_path):
    """Each variable that registry/config.py or deploy/gunicorn.conf.py reads is in
    ``deploy/registry.env``, set or (to keep its default) as a commented-out line."""
    environ = _ReadEnvironment()
    monkeypatch.setattr(os, "environ", environ)
    from_environment(str(tmp_path))
    runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    monkeypatch.undo()
    assert {"DATABASE_URL", "SECRET_KEY", "REGISTRY_WORKERS"} <= environ.asked
    text = EXAMPLE_ENVIRONMENT.read_text()
    named = set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", text, re.M))
    assert sorted(environ.asked - NOT_IN_PRODUCTION - named) == []
    assert not named & NOT_IN_PRODUCTION


@pytest.mark.parametrize("keys_replaced", [True, False])
def test_the_example_environment_passes_once_its_placeholders_are_replaced(
    app, database_url, monkeypatch, keys_replaced
):
    """The servers' app built from ``deploy/registry.env`` alone (its database and
    counters here the test's): as shipped, its placeholder keys are errors; with random
    keys it passes."""
    environ = {**example_environment(), "DATABASE_URL": database_url}
    environ["RATELIMIT_STORAGE_URI"] = database_url
    assert {"SECRET_KEY", "SYNC_SECRET_KEY", "EXTERNAL_URL", "TRUSTED_PROXIES"} <= set(environ)
    if keys_replaced:
        environ.update(keys())
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    served = create_app()
    at = datetime(2025, 6, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    try:
        with served.app_context(), clock.pinned(at):
            result = served.test_cli_runner().invoke(args=["registry", "check-deploy"])
    finally:
        with served.app_context():
            db.engine.dispose()
    if keys_replaced:
        assert (result.exit_code, result.output) == (0, "No problem found.\n")
    else:
        assert result.exit_code == 1
        assert result.output.splitlines() == [
            f"error: {name} is the example placeholder: set a random value of at least 32"
            " characters (python -c 'import secrets; print(secrets.token_hex(32))')."
            for name in ("SECRET_KEY", "SYNC_SECRET_KEY")
        ]


def test_a_tier_without_criteria_is_an_error(session, good):
    from registry.ladder.models import CriteriaVersion

    session.execute(delete(CriteriaVersion).where(CriteriaVersion.tier == "navigator"))
    session.commit()
    assert lines(session, good, keys()) == [
        "error: the tier navigator has no eligibility criteria: add its versions to"
        " seeds/criteria.json and run flask --app wsgi registry seed."
    ]
