"""The snapshot's spool (registry.sync.spool): every record reads back equal to the one
written and of the same types — dates, None, whole numbers up to the largest amount,
percentages as floats, strings with newlines, quotes, NUL and characters beyond the BMP —
and reading it only parses JSON."""

from __future__ import annotations

import os
import pickle
import tempfile
from datetime import date

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.enterprises.api_schemas import MAX_AMOUNT
from registry.enterprises.batches import REPORT_FIELDS
from registry.enterprises.forms import MAX_COUNT
from registry.enterprises.models import MONEY_FIELDS, PERCENT_FIELDS
from registry.sync.schemas import (
    ENTERPRISE_DATES,
    ENTERPRISE_VALUES,
    Record,
    ReportValues,
    check_record,
)
from registry.sync.spool import read_batch, write_batch
from tests.factories import new_uscc
from tests.sync.fake_peer import enterprise_data, report_data

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "50"))

AWKWARD = [
    "",
    " ",
    "line\nbreak\r\nand\rreturn",
    'quote " and \\ backslash, \\n as text',
    "NUL \x00 inside",
    "\x01\x1f\x7f controls\t tab",
    "😀 𠀀 𝄞 beyond the BMP",
    "\u2028\u2029 line and paragraph separators",
    "\ufeff byte order mark",
    "</script><script>alert(1)</script>",
    "江西远方精密制造有限公司",
    '["not", "an", "array"]',
    "]",
]


def round_trip(*batches: list[Record]) -> list[list[Record]]:
    with tempfile.TemporaryFile() as spool:
        for batch in batches:
            write_batch(spool, batch)
        spool.seek(0)
        back = [read_batch(spool) for _ in batches]
        with pytest.raises(orjson.JSONDecodeError):
            read_batch(spool)  # nothing after the last batch
    return back


def assert_exact(back: list[Record], records: list[Record]) -> None:
    assert back == records
    # repr tells a tuple from a list, a date from its text, 1 from 1.0 and -0.0 from 0.0.
    assert [repr(r) for r in back] == [repr(r) for r in records]


def enterprise(**fields) -> Record:
    code = fields.pop("uscc", None) or new_uscc()
    return check_record("enterprise", code, 7, enterprise_data(code, 7, **fields))


def report(year: int = 2024, **figures) -> Record:
    code = new_uscc()
    return check_record("annual_report", f"{code}/{year}", 3, report_data(code, year, 3, **figures))


def test_checked_records_read_back_exactly():
    full = dict.fromkeys(
        ("name_en", "county", "legal_representative", "contact_name", "address"), "x\ny"
    )
    merged_into = new_uscc()
    records = [
        # Every member present, then every nullable one null.
        enterprise(founded_on="0001-01-01", contact_email="a@b.example", **full),
        enterprise(founded_on="9999-12-31", status="merged", merged_into=merged_into),
        enterprise(founded_on=None, city_code=None, industry_code=None),
        report(
            employees=MAX_COUNT,
            revenue=MAX_AMOUNT,
            main_business_share=12.5,
            debt_ratio=100,
            national_market_share=0,
            years_in_field=12,
            product_revenue_share=70.5,
        ),
        report(main_business_share=33.333333333333336, debt_ratio=1e-7, total_income=0),
        report(year=1990, employees=None),
    ]
    assert type(records[0].values[ENTERPRISE_DATES[0]]) is date
    assert type(records[3].values) is ReportValues
    percents = records[3].values.figures[-5:-2] + records[3].values.figures[-1:]
    assert [type(v) for v in percents] == [float, float, float, float]
    [back] = round_trip(records)
    assert_exact(back, records)


def test_awkward_strings_read_back_exactly():
    dates = set(ENTERPRISE_DATES)
    records = [
        Record(
            "enterprise",
            text,
            1,
            tuple(date(2000, 2, 29) if i in dates else text for i in range(len(ENTERPRISE_VALUES))),
        )
        for text in AWKWARD
    ]
    records.append(Record("annual_report", AWKWARD[4], 1, ReportValues(AWKWARD[6], (2024,))))
    [back] = round_trip(records)
    assert_exact(back, records)


def test_batches_read_back_in_order_and_an_empty_one_too():
    first, second = [enterprise(), report()], [report(), enterprise(), enterprise()]
    back = round_trip(first, [], second)
    assert back == [first, [], second]


def test_the_spool_is_one_json_line_per_batch_and_runs_no_code(tmp_path):
    with tempfile.TemporaryFile() as spool:
        write_batch(spool, [enterprise(main_products="a\nb"), report()])
        write_batch(spool, [report()])
        spool.seek(0)
        lines = spool.read().split(b"\n")
    assert len(lines) == 3 and lines[2] == b""
    assert [len(orjson.loads(line)) for line in lines[:2]] == [2, 1]

    # A pickle where the spool's line should be is refused, and nothing of it runs.
    witness = tmp_path / "ran"
    payload = pickle.dumps(_Exploit(str(witness)))
    with tempfile.TemporaryFile() as spool:
        spool.write(payload + b"\n")
        spool.seek(0)
        with pytest.raises(orjson.JSONDecodeError):
            read_batch(spool)
    assert not witness.exists()


class _Exploit:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


# --- any values of the right types ------------------------------------------------------------

# Any Unicode text but lone surrogates, which no peer's JSON can carry (orjson refuses them).
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
enterprise_values = st.tuples(
    *(
        st.none() | (st.dates() if i in ENTERPRISE_DATES else text)
        for i in range(len(ENTERPRISE_VALUES))
    )
)
figure = {
    **{name: st.none() | st.integers(0, MAX_COUNT) for name in REPORT_FIELDS},
    **{name: st.none() | st.integers(0, MAX_AMOUNT) for name in MONEY_FIELDS},
    **{
        name: st.none() | st.floats(0, 100, allow_nan=False, allow_infinity=False)
        for name in PERCENT_FIELDS
    },
    "year": st.integers(1990, 9999),
}
report_values = st.builds(ReportValues, text, st.tuples(*(figure[name] for name in REPORT_FIELDS)))
records = st.lists(
    st.builds(Record, st.just("enterprise"), text, st.integers(1, 2**31 - 1), enterprise_values)
    | st.builds(Record, st.just("annual_report"), text, st.integers(1, 2**31 - 1), report_values),
    max_size=8,
)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True)
@given(first=records, second=records)
def test_any_records_read_back_exactly(first, second):
    back = round_trip(first, second)
    assert_exact(back[0], first)
    assert_exact(back[1], second)
