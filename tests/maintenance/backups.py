"""What the backup and restore tests share: the operations on a test's app, and the
database's tables as the backup sees them."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from registry.extensions import db
from registry.maintenance import backup_format as fmt
from registry.maintenance.backup import write_backup
from registry.maintenance.restore import Restored, restore_backup
from tests.conftest import ENGINE_URL

RUN_ENGINE = "postgresql" if ENGINE_URL else "sqlite"


def backup(app: Flask, path: Path) -> fmt.Trailer:
    return write_backup(db.engine, db.metadata, path, sync_key=app.config.get("SYNC_SECRET_KEY"))


def restore(app: Flask, path: Path) -> Restored:
    return restore_backup(db.engine, db.metadata, path, sync_key=app.config.get("SYNC_SECRET_KEY"))


def digests() -> dict[str, dict]:
    with db.engine.connect() as connection:
        return {
            str(table.name): fmt.table_digest(connection, table)
            for table in fmt.backed_up_tables(db.metadata)
        }


def row_counts() -> dict[str, int]:
    with db.engine.connect() as connection:
        return {
            str(table.name): connection.scalar(select(func.count()).select_from(table))
            for table in fmt.backed_up_tables(db.metadata)
        }


def rewrite(source: Path, target: Path, change: Callable[[list[bytes]], list[bytes]]) -> Path:
    """``source`` with its lines (without their newlines) changed by ``change``."""
    with gzip.open(source, "rb") as file:
        lines = file.read().splitlines()
    with gzip.open(target, "wb") as file:
        file.write(b"\n".join(change(lines)) + b"\n")
    return target
