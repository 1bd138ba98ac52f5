"""``flask registry restore`` refusing a file or a database (PRODUCT.md §9 "Backup,
restore"): one line saying why, nothing written; killed midway, an empty database."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import orjson
import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from registry.accounts.models import LoginThrottle
from registry.core.models import IdempotencyRecord
from registry.extensions import db
from registry.ladder import operations as ladder
from registry.maintenance import backup_format as fmt
from tests.factories import TEST_ACTOR
from tests.live import flask_command
from tests.maintenance.backups import RUN_ENGINE, backup, restore, rewrite, row_counts

# --- refusals: one line, nothing written ------------------------------------------------


@pytest.fixture
def small_backup(app, make, session, tmp_path) -> Path:
    enterprise = make.enterprise(address="南昌市红谷滩区丰和中大道 1 号")
    ladder.grant_tier(session, enterprise, "tech_sme", actor=TEST_ACTOR, reason="r")
    session.commit()
    file = tmp_path / "small.backup"
    backup(app, file)
    session.rollback()
    return file


def refused(app_factory, file: Path) -> str:
    with app_factory(RUN_ENGINE) as other:
        upgrade()
        before = row_counts()
        with pytest.raises(fmt.BackupRefused) as refusal:
            restore(other, file)
        assert row_counts() == before
        return str(refusal.value)


def test_a_cut_short_file_is_refused(empty_database, small_backup, tmp_path):
    data = small_backup.read_bytes()
    cut = tmp_path / "cut.backup"
    cut.write_bytes(data[: len(data) // 2])
    assert "not a whole backup" in refused(empty_database, cut)
    no_trailer = rewrite(small_backup, tmp_path / "t.backup", lambda lines: lines[:-1])
    assert "ends before its trailer" in refused(empty_database, no_trailer)


def test_an_altered_row_is_refused(empty_database, small_backup, tmp_path):
    def alter(lines):
        index = next(i for i, line in enumerate(lines) if b"\xe6\xb5\x8b\xe8\xaf\x95" in line)
        lines[index] = lines[index].replace("测试".encode(), "伪造".encode())
        return lines

    altered = rewrite(small_backup, tmp_path / "altered.backup", alter)
    assert "does not match the trailer" in refused(empty_database, altered)


def swapped_columns(lines: list[bytes]) -> list[bytes]:
    """The enterprises' names read as their addresses and the other way round."""
    index = next(i for i, line in enumerate(lines) if b'"table":"enterprises"' in line)
    control = orjson.loads(lines[index])
    columns = control["columns"]
    name, address = columns.index("name"), columns.index("address")
    columns[name], columns[address] = "address", "name"
    lines[index] = orjson.dumps(control)
    return lines


def another_header(lines: list[bytes]) -> list[bytes]:
    header = orjson.loads(lines[0])
    header["engine"] = "oracle" if header["engine"] == "sqlite" else "sqlite"
    header["created_at"] = "2020-01-01T00:00:00+00:00"
    lines[0] = orjson.dumps(header)
    return lines


@pytest.mark.parametrize("change", [swapped_columns, another_header])
def test_an_altered_header_or_column_list_is_refused(
    empty_database, small_backup, tmp_path, change
):
    """Every line of the file is covered by the trailer, not only the rows: a column
    list read in another order would load each value into another column."""
    altered = rewrite(small_backup, tmp_path / "altered.backup", change)
    message = refused(empty_database, altered)
    assert "header or its column lists do not match the trailer" in message


def test_a_value_the_database_refuses_is_refused(empty_database, small_backup, tmp_path):
    """A file altered with its trailer made to match (by hand or by a faulty copy): a
    value that is no time is refused before anything is committed."""

    def impossible_time(lines):
        start = lines.index(next(line for line in lines if b'"table":"enterprises"' in line))
        row = orjson.loads(lines[start + 1])
        row[-1] = "the day after tomorrow"
        lines[start + 1] = orjson.dumps(row)
        total = fmt.TableSum()
        for line in lines[start + 1 :]:
            if not line.startswith(b"["):
                break
            total.add(line + b"\n")
        trailer = orjson.loads(lines[-1])
        trailer["trailer"]["tables"]["enterprises"] = total.as_json()
        lines[-1] = orjson.dumps(trailer)
        return lines

    message = refused(empty_database, rewrite(small_backup, tmp_path / "t.backup", impossible_time))
    assert "enterprises" in message
    assert "the day after tomorrow" in message or "cannot be read" in message


def test_another_schema_revision_is_refused(empty_database, small_backup, tmp_path):
    def older(lines):
        header = orjson.loads(lines[0])
        header["schema_revision"] = "0010"
        return [orjson.dumps(header), *lines[1:]]

    message = refused(empty_database, rewrite(small_backup, tmp_path / "old.backup", older))
    assert "schema revision 0010" in message
    assert "flask db upgrade 0010" in message


def test_a_database_that_is_not_empty_is_refused(app, small_backup):
    """The run's own database is seeded: restoring over it would mix two registries."""
    before = row_counts()
    with pytest.raises(fmt.BackupRefused, match="not empty"):
        restore(app, small_backup)
    assert row_counts() == before


def test_rows_of_the_tables_left_out_do_not_make_a_database_full(empty_database, small_backup):
    """Empty is migrated and not seeded (PRODUCT.md §9): a failed sign-in or an anonymous
    request with an Idempotency-Key answered before the restore leaves its row, which
    refers to no row of the registry and expires on its own; the restore keeps it."""
    with empty_database(RUN_ENGINE) as other:
        upgrade()
        session = db.session
        at = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
        session.add(
            LoginThrottle(
                email="someone@example.org",
                client_address="192.0.2.7",
                failures=1,
                first_failure_at=at,
            )
        )
        session.add(
            IdempotencyRecord(
                caller="address:192.0.2.7",
                method="POST",
                path="/api/v1/objections",
                key="k-1",
                request_digest="0" * 64,
                status=404,
                created_at=at,
            )
        )
        session.commit()
        restore(other, small_backup)
        assert row_counts()["enterprises"] == 1
        assert session.scalar(select(func.count()).select_from(LoginThrottle)) == 1
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


def _stalled_restore(marker: str) -> None:
    """In the restore's process: batches of 10 rows, and a stop after the 30th row, its
    rows inserted and not committed, with ``marker`` written for the test to see."""
    from registry.maintenance import restore as restoring

    restoring.BATCH = 10
    real = restoring.fmt.RowReader.row
    seen = [0]

    def row(self, line):
        seen[0] += 1
        if seen[0] == 30:
            Path(marker).write_text("stalled")
            time.sleep(60)
        return real(self, line)

    restoring.fmt.RowReader.row = row


def test_a_restore_killed_midway_leaves_the_database_empty(empty_database, small_backup, tmp_path):
    """SIGKILL while rows are being inserted: nothing was committed, and a second restore
    of the same file succeeds."""
    with empty_database(RUN_ENGINE) as other:
        upgrade()
        empty = row_counts()
        marker = tmp_path / "stalled"
        env = {**os.environ, "DATABASE_URL": str(db.engine.url.render_as_string(False))}
        env.pop("REGISTRY_FAKE_NOW", None)
        command = flask_command(
            ["registry", "restore", str(small_backup)],
            env,
            tmp_path / "restore.log",
            partial(_stalled_restore, str(marker)),
        )
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert command.poll() is None, command.output.read_text()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        command.kill()
        db.engine.dispose()
        assert row_counts() == empty
        assert restore(other, small_backup).rows["enterprises"] >= 1


def test_another_sync_key_is_a_warning(empty_database, small_backup):
    with empty_database(RUN_ENGINE, SYNC_SECRET_KEY="another-" + "k" * 40) as other:
        upgrade()
        restored = restore(other, small_backup)
    assert len(restored.warnings) == 1
    assert "sync set-token" in restored.warnings[0]
