"""An import's error report (PRODUCT.md "Operation"), in its reader's language.

A refused run keeps its errors themselves (JSON in ``import_runs.report``): each row
number, column and code, and each message with its English template and values
(``core.errors.Message``), or as marshmallow wrote it. The report is written when it
is read: a CSV of row, column, the column's label, code and message in the language of
the page that downloads it (the command line's is English), the messages said by
``core.field_messages.say``. A report stored as a CSV by an earlier version of the
registry is served as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from flask_babel import lazy_gettext as _l

from registry.admin.audit_view import field_label
from registry.core.errors import Message
from registry.core.field_messages import say
from registry.core.i18n import current_language
from registry.imports.rows import RowError
from registry.reports.exports import csv_bytes

HEADER = (_l("Row"), _l("Column"), _l("Field"), _l("Code"), _l("Message"))
#: Column labels of the import files where the pages' label of the field says less.
_COLUMN_LABELS = {
    "uscc": _l("Unified social credit code"),
    "year": _l("Year"),
    "merged_into": _l("Merged into (USCC)"),
}


class Named:
    """A name kept in both languages (a tier's: data, not the catalogue's), said in the
    reader's; as a value of a :class:`~registry.core.errors.Message`."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en

    @property
    def template(self) -> str:
        return self.en if current_language() == "en" else self.zh

    @property
    def params(self) -> dict[str, Any]:
        return {}

    def __str__(self) -> str:
        return self.en


def _encoded(value: Any) -> Any:
    if isinstance(value, Named):
        return {"zh": value.zh, "en": value.en}
    template, params = getattr(value, "template", None), getattr(value, "params", None)
    if isinstance(template, str) and isinstance(params, dict):
        return {"template": template, "params": {k: _encoded(v) for k, v in params.items()}}
    return value if value is None or isinstance(value, int | float) else str(value)


def _decoded(value: Any) -> Any:
    if isinstance(value, dict) and "template" in value:
        return Message(value["template"], **{k: _decoded(v) for k, v in value["params"].items()})
    if isinstance(value, dict):
        return Named(value["zh"], value["en"])
    return value


def stored(errors: list[RowError]) -> bytes:
    """The errors as a run keeps them, in the order the report lists them."""
    ordered = sorted(errors, key=lambda e: (e.row or 0, e.column))
    return json.dumps(
        [[e.row, e.column, e.code, _encoded(e.message)] for e in ordered], ensure_ascii=False
    ).encode("utf-8")


def errors_of(report: bytes) -> list[RowError] | None:
    """The errors a run keeps; None for a report an earlier version stored as a CSV."""
    if not report.startswith(b"["):
        return None
    return [
        RowError(row, column, code, _decoded(message))
        for row, column, code, message in json.loads(report)
    ]


def column_label(column: str) -> str:
    """The label of an import file's column, as the pages name the field."""
    return str(_COLUMN_LABELS.get(column) or field_label(column)) if column else ""


def lines(errors: Iterable[RowError]) -> Iterator[tuple[Any, ...]]:
    """The report's lines in the request's language (the header apart)."""
    for error in errors:
        row = error.row if error.row is not None else ""
        yield row, error.column, column_label(error.column), error.code, say(error.message)


def report_csv(report: bytes) -> bytes:
    """The report as a CSV (UTF-8 with BOM) in the request's language."""
    errors = errors_of(report)
    if errors is None:
        return report
    return csv_bytes([str(word) for word in HEADER], lines(errors))
