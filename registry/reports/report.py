"""The shape every report (PRODUCT.md §8, API.md "Report") is built in, once, for the
page, its charts, the API and the downloads alike.

A :class:`Report` is a table: columns with their keys, labels and types, rows keyed by
the columns' keys, the column totals, notes for the reader, the cells withheld from
this caller, and what a report adds beside its table (``extra``: the ``progress``
projection, the ``coverage`` intensities per tier and the plan's R&D intensity). Labels
and titles are in the request's language; keys never are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

#: How a column's values are written (API.md): integers, decimals, percents 0–100 with
#: up to 2 decimals, months ``YYYY-MM`` (Beijing), or text.
ColumnType = Literal["string", "integer", "decimal", "percent", "month"]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    type: ColumnType


@dataclass(frozen=True)
class Suppressed:
    """A cell withheld by the small-cell rule: row index and column key."""

    row: int
    key: str


@dataclass
class Report:
    """One report as a caller may see it (cells withheld already ``None``)."""

    name: str
    title: str
    as_of: datetime
    columns: list[Column]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    #: Keys a report adds beside its table, as API.md names them.
    extra: dict[str, Any] = field(default_factory=dict)

    def column(self, key: str) -> Column:
        """The column with ``key``."""
        return next(c for c in self.columns if c.key == key)
