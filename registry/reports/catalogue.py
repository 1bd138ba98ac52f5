"""The reports (PRODUCT.md §8) in their order, with who may see each: the one list the
API, the pages and the downloads all read.

Every report is public but ``pipeline`` (reviewers and admins). ``coverage`` is public
too, with small cells withheld for everyone but reviewers and admins (``full``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import LazyString

from registry.core.dbsession import DbSession
from registry.reports import coverage, ladder_reports, progress
from registry.reports.report import Report


@dataclass(frozen=True)
class Options:
    """How a report is asked for: in full (a reviewer or admin asks) or as the public
    sees it, and ``coverage``'s year (None: the last completed one)."""

    full: bool = False
    year: int | None = None


@dataclass(frozen=True)
class Entry:
    name: str
    title: LazyString
    #: False: reviewers and admins only.
    public: bool
    build: Callable[[DbSession, Options], Report]


def _ladder(name: str, public: bool = True) -> Entry:
    builder = getattr(ladder_reports, name.replace("-", "_"))
    return Entry(name, ladder_reports.TITLES[name], public, lambda session, _o: builder(session))


REPORTS: tuple[Entry, ...] = (
    _ladder("quota"),
    _ladder("tier-by-city"),
    _ladder("tier-by-industry"),
    _ladder("pipeline", public=False),
    _ladder("moves"),
    Entry("progress", progress.TITLE, True, lambda session, _o: progress.progress(session)),
    Entry(
        "coverage",
        coverage.LIST_TITLE,
        True,
        lambda session, o: coverage.coverage(session, full=o.full, year=o.year),
    ),
)
_BY_NAME = {entry.name: entry for entry in REPORTS}


def find(name: str) -> Entry | None:
    """The report called ``name``, or None."""
    return _BY_NAME.get(name)


def visible(entry: Entry, *, staff: bool) -> bool:
    """Whether a caller may see ``entry``: every public report, and all of them for a
    reviewer or admin (``staff``)."""
    return entry.public or staff


def build(session: DbSession, entry: Entry, *, staff: bool, year: int | None = None) -> Report:
    """``entry`` as a caller sees it: in full for a reviewer or admin (``staff``), else
    with small cells withheld. The caller checks :func:`visible` first."""
    return entry.build(session, Options(full=staff, year=year))
