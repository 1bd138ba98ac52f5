"""The record of each bulk import: its file, kind, outcome and error report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from registry.core import clock
from registry.core.db import Model, UtcDateTime


class ImportRun(Model):
    """One bulk import of a CSV or XLSX file (PRODUCT.md "Operation"): all rows or none.

    ``status`` is ``applied`` or ``refused``; a refused run keeps its errors for the error
    report, written in the reader's language when it is downloaded
    (``registry.imports.report``).
    """

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    via: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
