"""The dedicated serializers of the lists clients page through write what the output
schemas dump (QUALITY.md allows them on that condition), for any values: Hypothesis
draws enterprises with arbitrary text (quotes, backslashes, control characters, line
separators, astral characters), absent values, dates and instants, and compares

- the feed's ``enterprise_data`` (the enterprise list, ``/changes`` and ``/export``),
  given the values typed and as SQLite stores them (ISO text), with the JSON text of
  ``enterprise_out``'s dump, byte for byte;
- the public list's ``published_json`` with ``PublishedOut``'s dump.

The same serializers over real pages of stored records: tests/enterprises/test_api_list.py
and tests/ladder/test_api.py."""

from __future__ import annotations

import os
from collections import namedtuple
from datetime import UTC, date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.core.changes import dumps
from registry.core.schemas import rfc3339
from registry.enterprises.batches import ENTERPRISE_FIELDS
from registry.enterprises.feed_json import enterprise_data
from registry.enterprises.models import Enterprise
from registry.enterprises.schemas import enterprise_out
from registry.ladder.api import PublishedOut, published_json
from registry.ladder.listing import LISTED_COLUMNS
from tests.factories import new_uscc

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "60"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

#: Any text a column may hold: no NUL (refused on the way in) and no lone surrogate
#: (not UTF-8, so no driver returns one).
text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
some_text = st.none() | text
dates = st.dates(date(1900, 1, 1), date(2200, 12, 31))
instants = st.datetimes(datetime(1970, 1, 2), datetime(2200, 1, 1)).map(
    lambda at: at.replace(tzinfo=UTC)
)
#: Valid codes, some of whose inner organisation-code check fails (a USCC warning).
codes = st.builds(new_uscc) | st.just("91360100MA35K8T20T")

enterprises = st.fixed_dictionaries(
    {
        "uscc": codes,
        "name": text,
        "name_en": some_text,
        "city_code": some_text,
        "county": some_text,
        "industry_code": some_text,
        "founded_on": st.none() | dates,
        "legal_representative": some_text,
        "contact_name": some_text,
        "contact_phone": some_text,
        "contact_email": some_text,
        "address": some_text,
        "main_products": some_text,
        "status": st.sampled_from(["active", "deregistered", "merged"]),
        "merged_into": st.none() | codes,
        "origin": text,
        "source_version": st.none() | st.integers(0, 2**31 - 1),
        "verified": st.booleans(),
        "tier": some_text,
        "tier_since": st.none() | dates,
        "tier_expires_at": st.none() | instants,
        "registration_number": some_text,
        "ban_until": st.none() | dates,
        "version": st.integers(1, 2**31 - 1),
        "created_at": instants,
        "updated_at": instants,
    }
)


def stored(value: object) -> object:
    """A value as SQLite's driver returns it: dates and UTC instants as ISO text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


@SETTINGS
@given(values=enterprises, as_sqlite_stores=st.booleans())
def test_the_feed_serializer_writes_the_output_schemas_json(values, as_sqlite_stores):
    expected = dumps(enterprise_out.dump(Enterprise(**values)))
    row = [values[name] for name in ENTERPRISE_FIELDS]
    if as_sqlite_stores:
        row = [stored(value) for value in row]
    written = enterprise_data(
        row, rfc3339(values["created_at"]), rfc3339(values["updated_at"]), values["version"]
    )
    assert written == expected


Holder = namedtuple("Holder", [column.key for column in LISTED_COLUMNS])  # type: ignore[misc]

holders = st.builds(
    Holder,
    uscc=codes,
    name=text,
    name_en=some_text,
    city_code=some_text,
    industry_code=some_text,
    tier_since=st.none() | dates,
    tier_expires_at=st.none() | instants,
    registration_number=some_text,
    route=st.none() | st.sampled_from(["srdi", "single_champion"]),
    little_giant=st.booleans(),
)


@SETTINGS
@given(holder=holders)
def test_the_published_holder_serializer_writes_the_output_schemas_json(holder):
    assert published_json(holder).decode() == dumps(PublishedOut().dump(holder._asdict()))
