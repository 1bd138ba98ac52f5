"""The snapshot's spool: the checked records of a snapshot, kept in a temporary file
while the rest of it downloads and is checked, then read back one batch at a time to be
applied (:mod:`registry.sync.client`).

One line of JSON per batch: an array of records, each a flat array ``[type, key,
version, *values]`` (an annual report's values as ``uscc, *figures``). Reading it back
only parses data: nothing in the file can run code, as unpickling it could. What JSON
does not keep is restored on reading — the tuples, the dates of
:data:`~registry.sync.schemas.ENTERPRISE_DATES`, :class:`~registry.sync.schemas.ReportValues`
— so that a record reads back equal to the one written and of the same types.

A snapshot spools millions of records. Flat arrays are what keeps reading them about as
fast as unpickling plain tuples was: fewer containers to build, and to collect.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import IO, Any

import orjson

from registry.sync.schemas import ENTERPRISE_DATES, Record, ReportValues


def write_batch(spool: IO[bytes], records: Sequence[Record]) -> None:
    """Append ``records`` to ``spool`` as one line."""
    spool.write(orjson.dumps([_flat(record) for record in records]))
    spool.write(b"\n")


def read_batch(spool: IO[bytes]) -> list[Record]:
    """The records of the next line :func:`write_batch` wrote; orjson.JSONDecodeError
    when there is none."""
    records = orjson.loads(spool.readline())
    # In place: each array is freed as soon as its record is built.
    for i, flat in enumerate(records):
        records[i] = _record(flat)
    return records


def _flat(record: Record) -> tuple[Any, ...]:
    type_, key, version, values = record
    if type(values) is ReportValues:
        return (type_, key, version, values.uscc, *values.figures)
    return (type_, key, version, *values)


#: Where the dates of an enterprise's values are in its flat array.
_DATES = tuple(3 + i for i in ENTERPRISE_DATES)


def _record(flat: list[Any]) -> Record:
    type_ = flat[0]
    if type_ == "enterprise":
        for i in _DATES:
            if flat[i] is not None:
                flat[i] = date.fromisoformat(flat[i])
        return Record(type_, flat[1], flat[2], tuple(flat[3:]))
    return Record(type_, flat[1], flat[2], ReportValues(flat[3], tuple(flat[4:])))
