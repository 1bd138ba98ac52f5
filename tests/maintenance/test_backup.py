"""``flask registry backup`` and ``restore`` (PRODUCT.md §9 "Backup, restore"): every
table but a named few, one consistent read while writers commit (R8), an exact copy in
the other engine (R12). Refusals: test_restore.py."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, inspect, select, text

from registry.accounts.models import Role
from registry.applications import attachments, objections
from registry.applications.models import Application, State
from registry.core import clock
from registry.core.db import is_postgres
from registry.core.models import AuditEntry, ChangeLogEntry, FeedCounter, RegistryMeta
from registry.enterprises.models import Enterprise
from registry.enterprises.operations import create_enterprise
from registry.extensions import db
from registry.ladder import operations as ladder
from registry.ladder import queries
from registry.maintenance import backup_format as fmt
from registry.sync import feed, sources
from tests.enterprises.demo_runs import run_demo
from tests.factories import TEST_ACTOR, Factories, new_uscc
from tests.fixtures import files
from tests.fixtures.api import ApiClient, bearer
from tests.maintenance.backups import RUN_ENGINE, backup, digests, restore, row_counts

NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
#: One installation's key, carried to the other by its operator.
SYNC_KEY = "sync-key-of-the-province-" + "k" * 32


# --- what a backup holds ---------------------------------------------------------------


def test_every_table_is_backed_up_or_named_as_left_out(app):
    """A table added later is backed up unless it is added to the named list."""
    in_database = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    backed_up = {str(table.name) for table in fmt.backed_up_tables(db.metadata)}
    assert in_database - backed_up <= fmt.EXCLUDED_TABLES
    assert not backed_up & fmt.EXCLUDED_TABLES
    assert backed_up >= {"users", "api_tokens", "attachments", "audit_log", "change_log"}
    assert in_database >= backed_up


# --- R12: the other engine holds the same registry -------------------------------------


def populate(app: Flask) -> dict[str, str]:
    """Demo data with its workflow history, and the rows a demo does not write: a file's
    bytes, an objection, a sync source's encrypted token, an API token. The headers of
    that token's requests."""
    upgrade()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["registry", "seed"]).exit_code == 0
    run_demo(runner, "--count", "300", "--random-seed", "5")
    session = db.session
    make = Factories(session)
    enterprise = make.enterprise()
    user = make.user(role=Role.ENTERPRISE, enterprise=enterprise)
    application = make.application(enterprise, user)
    attachments.add_attachment(
        session, application, files.PDF, "营业执照.pdf", user=user, via="web"
    )
    in_notice = session.scalars(
        select(Application).where(Application.state == State.IN_NOTICE).limit(1)
    ).one()
    objections.file_objection(
        session,
        in_notice,
        name="张三",
        contact="13800000000",
        grounds="数据不实",
        client_address="192.0.2.7",
    )
    sources.add_source(
        session, "peer", "https://peer.example.org", "peer-token-" + "x" * 32, actor=TEST_ACTOR
    )
    admin = make.user(role=Role.ADMIN)
    session.commit()
    return bearer(session, admin, "registry:read,workflow:review,admin,changes:read")


ANSWERED = (
    "/api/v1/enterprises?limit=50",
    "/api/v1/enterprises?limit=20&city=360700",
    "/api/v1/tiers",
    "/api/v1/tiers/tech_sme/enterprises?limit=50",
    "/api/v1/applications/counts",
    "/api/v1/objections",
    "/api/v1/attachments/1",
    "/api/v1/reports",
    "/api/v1/applications?limit=50",
    "/api/v1/notices",
    "/api/v1/stats",
    "/api/v1/reports/progress",
    "/tiers/tech_sme",
    "/notices",
)


def answers(app: Flask, headers: dict[str, str]) -> dict[str, tuple]:
    client = ApiClient.of(app, db.session)
    found = {}
    for path in ANSWERED:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
        found[path] = (response.status_code, response.headers.get("ETag"), response.data)
    return found


def first_feed_cursor(app: Flask, headers: dict[str, str]) -> str:
    response = ApiClient.of(app, db.session).get("/api/v1/changes?limit=5", headers=headers)
    assert response.status_code == 200, response.json
    return response.json["next_cursor"]


def feed_position() -> int:
    """The last position the feed has handed out, where this engine keeps it: on
    PostgreSQL the feed_counter row; on SQLite change_log's AUTOINCREMENT counter (in
    sqlite_sequence, no table of the schema), the feed_counter row left as it is."""
    with db.engine.connect() as connection:
        if is_postgres(connection):
            return int(connection.scalar(select(FeedCounter.value)))
        counter = "SELECT seq FROM sqlite_sequence WHERE name = 'change_log'"
        return int(connection.scalar(text(counter)) or 0)


def copied() -> dict[str, object]:
    """What R12 compares: every backed-up table's digest over its canonical rows, but
    the feed-epoch row, which a restore writes afresh (the one row R12 excepts), and
    the feed_counter row, compared as the position it stands for.

    That row belongs to the epoch: a cursor is an epoch and a position, and the
    restore, which starts a new epoch, also sets where positions go on (past every one
    the source handed out). SQLite keeps that place in sqlite_sequence and never uses
    the row (0 as migrated, or whatever a backup brought), PostgreSQL keeps it in the
    row, so its canonical form cannot be the same from SQLite to PostgreSQL; the
    position, the same on both, is compared instead."""
    found: dict[str, object] = dict(digests())
    del found["feed_counter"]
    with db.engine.connect() as connection:
        meta = select(RegistryMeta.key, RegistryMeta.value).where(
            RegistryMeta.key != feed.EPOCH_KEY
        )
        found["registry_meta"] = {key: value for key, value in connection.execute(meta)}
    found["feed position"] = feed_position()
    return found


@pytest.mark.postgres(reason="a copy between the two engines")
@pytest.mark.parametrize(
    ("source", "target"),
    # Each goes there and back: the second, with its demo built on PostgreSQL, in the
    # long form only.
    [("sqlite", "postgresql"), pytest.param("postgresql", "sqlite", marks=pytest.mark.slow)],
)
def test_restore_into_the_other_engine_is_exact_and_back(empty_database, tmp_path, source, target):
    file, back = tmp_path / "registry.backup", tmp_path / "back.backup"
    with clock.pinned(NOW):
        with empty_database(source, SYNC_SECRET_KEY=SYNC_KEY) as app:
            headers = populate(app)
            backup(app, file)
            before, expected = copied(), answers(app, headers)
            assert before["feed position"] > 0
            cursor = first_feed_cursor(app, headers)
            epoch = feed.epoch(db.session.connection())
            db.session.rollback()
        with empty_database(target, SYNC_SECRET_KEY=SYNC_KEY) as app:
            upgrade()
            restored = restore(app, file)
            assert restored.warnings == []
            assert copied() == before
            assert answers(app, headers) == expected
            assert restored.feed_epoch != epoch
            gone = ApiClient.of(app, db.session).get(
                f"/api/v1/changes?after={cursor}", headers=headers
            )
            assert gone.status_code == 410
            assert gone.json["code"] == "cursor_expired"
            backup(app, back)
            sent_back = copied()  # the requests above marked the token as used
        with empty_database(source, SYNC_SECRET_KEY=SYNC_KEY) as app:
            upgrade()
            restore(app, back)
            assert copied() == sent_back


# --- R8: a backup taken while writers commit -------------------------------------------


class Writer(threading.Thread):
    """Commits new enterprises, every third granted tech_sme, until stopped."""

    def __init__(self, app: Flask) -> None:
        super().__init__(daemon=True)
        self.app, self.commits, self.error = app, 0, None
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            with self.app.app_context():
                session = db.session
                while not self.stop.is_set():
                    enterprise = create_enterprise(
                        session, new_uscc(), f"写入企业{self.commits}", actor=TEST_ACTOR
                    )
                    if self.commits % 3 == 0:
                        ladder.grant_tier(
                            session, enterprise, "tech_sme", actor=TEST_ACTOR, reason="r8"
                        )
                    session.commit()
                    self.commits += 1
                session.remove()
        except Exception as error:  # pragma: no cover - reported by the test
            self.error = error


def test_a_backup_taken_while_writers_commit_restores_consistent(
    app, session, make, empty_database, tmp_path
):
    file = tmp_path / "live.backup"
    for _ in range(20):
        make.enterprise()
    session.commit()
    writer = Writer(app)
    writer.start()
    try:
        while writer.commits < 5 and writer.error is None:
            threading.Event().wait(0.01)
        at_start = writer.commits
        trailer = backup(app, file)
        while writer.commits < at_start + 5 and writer.error is None:
            threading.Event().wait(0.01)
    finally:
        writer.stop.set()
        writer.join(30)
    assert writer.error is None
    live_enterprises = session.scalar(select(func.count()).select_from(Enterprise))
    session.rollback()

    with empty_database(RUN_ENGINE) as other:
        upgrade()
        restored = restore(other, file)
        counts = row_counts()
        assert {name: total.rows for name, total in trailer.tables.items()} == counts
        assert counts == restored.rows
        written = db.session
        # One consistent read: each writer's commit is there whole or not at all.
        assert counts["enterprises"] < live_enterprises
        created = written.scalar(
            select(func.count()).where(AuditEntry.action == "enterprise.create")
        )
        in_feed = written.scalar(
            select(func.count(ChangeLogEntry.key.distinct())).where(
                ChangeLogEntry.type == "enterprise"
            )
        )
        grants = written.scalar(select(func.count()).where(AuditEntry.action == "tier.grant"))
        assert created == in_feed == counts["enterprises"] - 20 > 0
        assert grants == counts["tier_events"] > 0
        for enterprise in written.scalars(select(Enterprise)):
            events = queries.tier_events(written, enterprise.id)
            assert queries.replay(events) == queries.ladder_fields(enterprise)
        for tier, occupancy in queries.ladder_overview(written):
            assert occupancy.occupancy <= tier.quota
        # The restored feed continues, in its new epoch.
        last = written.scalar(select(func.max(ChangeLogEntry.id)))
        headers = bearer(written, Factories(written).user(role=Role.ADMIN), "changes:read")
        new = create_enterprise(written, new_uscc(), "恢复后的企业", actor=TEST_ACTOR)
        written.commit()
        page = ApiClient.of(other, written).get(
            f"/api/v1/changes?after={feed.cursor(restored.feed_epoch, last)}", headers=headers
        )
        assert page.status_code == 200
        assert [entry["key"] for entry in page.json["data"]] == [new.uscc]


# --- the commands -------------------------------------------------------------------------


def test_backup_and_restore_commands(app, runner, empty_database, tmp_path):
    file = tmp_path / "cli.backup"
    made = runner.invoke(args=["registry", "backup", "--out", str(file)])
    assert made.exit_code == 0, made.output
    assert "Backed up" in made.output
    assert file.stat().st_mode & 0o077 == 0  # password hashes inside: owner only
    with empty_database(RUN_ENGINE) as other:
        upgrade()
        cli = other.test_cli_runner()
        loaded = cli.invoke(args=["registry", "restore", str(file)])
        assert loaded.exit_code == 0, loaded.output
        assert "Restored" in loaded.output
        again = cli.invoke(args=["registry", "restore", str(file)])
        assert again.exit_code == 1
        assert again.output.startswith("error: restore refused, nothing written: ")
        assert len(again.output.strip().splitlines()) == 1


def test_a_terminal_sees_one_progress_line(monkeypatch, capsys):
    from registry.maintenance import cli

    monkeypatch.setattr(cli.sys.stderr, "isatty", lambda: True, raising=False)
    progress = cli._ProgressLine("backup")
    progress("audit_log", 20_000, 45_000)
    progress("audit_log", 40_000, 65_000)  # within half a second: not shown again
    progress.done()
    shown = capsys.readouterr().err
    assert shown.startswith("\rbackup: audit_log 20,000 rows, 45,000 in all, 0 s")
    assert "40,000" not in shown
    assert shown.endswith("\r\033[K")
