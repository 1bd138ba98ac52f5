"""A report's table as its page shows it: names for codes (:mod:`registry.reports.cells`),
figures with the language's separators, "—" for a figure withheld or absent.

Most reports are shown as they download. The two over time (``moves`` and
``progress``) are one row per month and tier in the downloads, where a spreadsheet
filters them; on the page that is 120 rows, so they are laid out one row per month
with the tiers side by side (each tier's moves on, off and net under its name), which
reads at a glance and scrolls sideways inside its frame on a phone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from registry.core.i18n import number
from registry.reports import cells
from registry.reports.report import Column, Report

#: The column types written as figures (right aligned, with separators).
FIGURES = ("integer", "decimal", "percent")
#: The reports laid out one row per month, the tiers side by side.
BY_MONTH = ("moves", "progress")


@dataclass(frozen=True)
class Cell:
    """A cell as the page writes it: its text, whether it is a figure (right aligned),
    whether the small-cell rule withheld it; in a header, the columns or rows it spans
    and what it heads (``col`` or ``colgroup``)."""

    text: str
    figure: bool = False
    withheld: bool = False
    columns: int = 1
    rows: int = 1
    scope: str = "col"


@dataclass
class PageTable:
    """Header rows, body rows (each led by its row header), and whether the last body
    row closes the table (the totals, or the targets)."""

    head: list[list[Cell]]
    body: list[list[Cell]] = field(default_factory=list)
    closed: bool = False


def page_table(report: Report, names: cells.Names) -> PageTable:
    """``report``'s table for its page."""
    return _by_month(report, names) if report.name in BY_MONTH else _as_downloaded(report, names)


def _figure(value: Any, *, withheld: bool = False) -> Cell:
    return Cell("—" if value is None else number(value), True, withheld)


def _as_downloaded(report: Report, names: cells.Names) -> PageTable:
    """The rows of the downloads, the totals row last."""
    header, rows = cells.table(report, names)
    withheld = {(s.row, s.key) for s in report.suppressed}
    totals_at = len(report.rows) if report.totals is not None else None
    table = PageTable(
        head=[
            [
                Cell(label, c.type in FIGURES)
                for label, c in zip(header, report.columns, strict=True)
            ]
        ],
        closed=totals_at is not None,
    )
    for index, values in enumerate(rows):
        line = []
        for column, value in zip(report.columns, values, strict=True):
            if column.type not in FIGURES:
                # A text without a value (the group of "other") is blank.
                line.append(Cell("" if value is None else str(value)))
            elif index == totals_at and value is None:
                # A column that does not add up has no total; a total the small-cell
                # rule withholds (only ever a sum, when a cell is withheld) is "—".
                hidden = bool(report.suppressed) and column.type != "percent"
                line.append(Cell("—", True, True) if hidden else Cell("", True))
            else:
                line.append(_figure(value, withheld=(index, column.key) in withheld))
        table.body.append(line)
    return table


def _by_month(report: Report, names: cells.Names) -> PageTable:
    """One row per month, the tiers side by side: one column each for a single figure
    (``progress``' holders, closed by the targets), a group of columns for several
    (``moves``' on, off and net, closed by their totals)."""
    month = report.column("month")
    tiers = list(dict.fromkeys(row["tier"] for row in report.rows))
    figures: list[Column] = [c for c in report.columns if c.type in FIGURES and c.key != "target"]
    at = {(row["month"], row["tier"]): row for row in report.rows}
    months = list(dict.fromkeys(row["month"] for row in report.rows))
    tier_names = [str(names.text("tier", tier)) for tier in tiers]
    if len(figures) == 1:
        head = [[Cell(month.label), *(Cell(name, True) for name in tier_names)]]
    else:
        head = [
            [
                Cell(month.label, rows=2),
                *(Cell(name, columns=len(figures), scope="colgroup") for name in tier_names),
            ],
            [Cell(c.label, True) for _tier in tiers for c in figures],
        ]
    table = PageTable(head)
    for when in months:
        rows = [at.get((when, tier), {}) for tier in tiers]
        table.body.append([Cell(when), *(_figure(r.get(c.key)) for r in rows for c in figures)])
    if not months:
        return table
    if any(c.key == "target" for c in report.columns):
        latest = [at.get((months[-1], tier), {}) for tier in tiers]
        closing = [Cell(report.column("target").label), *(_figure(r.get("target")) for r in latest)]
    else:
        closing = [
            Cell(_("Total")),
            *(
                _figure(sum(at.get((when, tier), {}).get(c.key) or 0 for when in months))
                for tier in tiers
                for c in figures
            ),
        ]
    table.body.append(closing)
    table.closed = True
    return table
