"""An import's work is bounded by what the file holds, never by what it declares (issue 14
finding 3): an XLSX sheet's ``<dimension>`` is ignored, rows are read only as far as the
header's last column, every row counts against the row limit, and a zip that would
unpack beyond the bound is refused before it is unpacked.

The files are built here part by part, small on disk; the work is measured by counting
the cells openpyxl hands over, not by timing."""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Iterator
from xml.sax.saxutils import escape

import pytest
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from sqlalchemy import func, select

from registry.accounts.models import Role
from registry.enterprises.models import Enterprise
from registry.imports import operations
from registry.imports.operations import MAX_XLSX_PARTS, MAX_XLSX_UNPACKED
from tests.factories import PASSWORD, new_uscc
from tests.imports.test_imports import PAGE, csv_file, report_rows, run, xlsx_file

_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
        "</Relationships>"
    ),
}


def crafted_xlsx(
    rows: dict[int, dict[int, str]],
    dimension: str | None = "A1:XFD1048576",
    extra_parts: dict[str, bytes] | None = None,
) -> bytes:
    """A minimal XLSX: ``rows`` maps a row number to its cells (column number → text),
    under the ``<dimension>`` given, whatever it says."""
    xml = ['<?xml version="1.0" encoding="UTF-8"?>']
    xml.append('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
    if dimension:
        xml.append(f'<dimension ref="{dimension}"/>')
    xml.append("<sheetData>")
    for number, cells in sorted(rows.items()):
        xml.append(f'<row r="{number}">')
        for column, text in sorted(cells.items()):
            ref = f"{get_column_letter(column)}{number}"
            xml.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>')
        xml.append("</row>")
    xml.append("</sheetData></worksheet>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", "".join(xml))
        for name, part in (extra_parts or {}).items():
            archive.writestr(name, part)
    return out.getvalue()


def declare_size(data: bytes, name: str, size: int) -> bytes:
    """``data`` with the uncompressed size of its part ``name`` declared as ``size``, in
    the local header and in the central directory, the content left as it is."""
    patched = bytearray(data)
    encoded = name.encode()
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pattern = re.escape(signature) + b".{%d}" % (offset - 4)
        for match in re.finditer(pattern, data, re.S):
            start = match.start()
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at : name_at + len(encoded)] == encoded:
                struct.pack_into("<I", patched, start + offset, size)
    return bytes(patched)


class CellCount:
    """The cells openpyxl's read-only sheet has handed over; beyond ``budget`` the read
    is stopped, so that a file that would take minutes fails at once."""

    def __init__(self, budget: int) -> None:
        self.cells = 0
        self.rows = 0
        self.budget = budget


class OverBudget(Exception):
    pass


@pytest.fixture
def read(monkeypatch) -> CellCount:
    count = CellCount(budget=1_000_000)
    original = ReadOnlyWorksheet._cells_by_row

    def counted(self, *args, **kwargs) -> Iterator[tuple]:
        for row in original(self, *args, **kwargs):
            count.rows += 1
            count.cells += len(row)
            if count.cells > count.budget:
                raise OverBudget(f"{count.cells} cells read")
            yield row

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", counted)
    return count


def header_and(*data: list[str], at: int = 2) -> dict[int, dict[int, str]]:
    rows = {1: {1: "uscc", 2: "name"}}
    for number, cells in enumerate(data, at):
        rows[number] = dict(enumerate(cells, 1))
    return rows


def enterprises(session) -> int:
    return session.scalar(select(func.count()).select_from(Enterprise))


# --- the declared dimension ----------------------------------------------------------------


def test_a_lying_dimension_does_not_widen_the_rows(session, read):
    rows = header_and([new_uscc(), "甲"], [new_uscc(), "乙"])
    outcome = run(session, crafted_xlsx(rows, "A1:XFD1048576"), "x.xlsx")
    assert outcome.applied, outcome.errors
    assert enterprises(session) == 2
    # The header as far as its last cell, then each data row as far as the header:
    # 3 rows of 2 cells, not 3 of 16 384.
    assert (read.rows, read.cells) == (3, 6)


def test_one_cell_far_down_reads_the_rows_between_at_the_header_width(session, read):
    # The file of the finding: "A1:XFD20000", one data row at row 20 000.
    code = new_uscc()
    data = crafted_xlsx(header_and([code, "甲"], at=20_000), "A1:XFD20000")
    assert len(data) < 2_000
    outcome = run(session, data, "x.xlsx")
    assert outcome.applied, outcome.errors
    assert outcome.run.row_count == 1
    assert read.cells <= 20_000 * 2  # was 20 000 × 16 384 = 327 680 000


def test_cells_right_of_the_header_are_not_read(session, read):
    rows = header_and([new_uscc(), "甲"])
    rows[2][16_384] = "far away"
    rows[2][3] = "beside"
    outcome = run(session, crafted_xlsx(rows, dimension=None), "x.xlsx")
    assert outcome.applied, outcome.errors
    assert (read.rows, read.cells) == (2, 4)


def test_a_wide_header_row_is_read_once_to_its_last_cell(session, read):
    rows = {1: {1: "uscc", 2: "name", 16_384: "colour"}, 2: {1: new_uscc(), 2: "甲"}}
    outcome = run(session, crafted_xlsx(rows), "x.xlsx")
    assert [e.code for e in outcome.errors] == ["empty_column"]
    assert read.cells <= 16_384  # the header row alone, the data rows never read


def test_a_sheet_without_a_header_reads_no_data_rows(session, read):
    outcome = run(session, crafted_xlsx({50_000: {1: new_uscc(), 2: "甲"}}), "x.xlsx")
    assert [(e.row, e.code) for e in outcome.errors] == [(1, "empty_header")]
    assert read.cells == 0


# --- every row counts ----------------------------------------------------------------------


def test_a_cell_in_the_last_row_stops_at_the_row_limit(session, read, monkeypatch):
    monkeypatch.setattr(operations, "MAX_ROWS", 50)
    data = crafted_xlsx(header_and([new_uscc(), "甲"], at=1_048_576))
    outcome = run(session, data, "x.xlsx")
    assert [(e.row, e.code) for e in outcome.errors] == [(52, "too_many_rows")]
    assert read.rows <= 52 and read.cells <= 52 * 2
    assert enterprises(session) == 0


def test_the_real_row_limit_counts_blank_rows_of_an_xlsx(session, read):
    data = crafted_xlsx(header_and([new_uscc(), "甲"], at=1_048_576))
    outcome = run(session, data, "x.xlsx")
    assert [(e.row, e.code) for e in outcome.errors] == [(100_002, "too_many_rows")]
    assert read.cells <= 100_002 * 2


def test_blank_csv_rows_count_against_the_limit(session, monkeypatch):
    monkeypatch.setattr(operations, "MAX_ROWS", 3)
    rows = [["uscc", "name"], [new_uscc(), "甲"], [], ["", ""], [], [new_uscc(), "乙"]]
    outcome = run(session, csv_file(rows))
    assert [(e.row, e.code) for e in outcome.errors] == [(5, "too_many_rows")]
    [line] = report_rows(outcome.run, "zh")
    assert line["说明"] == "一个文件最多 3 行（空行也计入），请拆分为多个文件。"
    [line] = report_rows(outcome.run, "en")
    assert line["Message"] == (
        "A file may hold at most 3 rows, blank ones included; split it into several files."
    )


def test_blank_rows_within_the_limit_are_skipped_and_rows_keep_their_numbers(session, monkeypatch):
    monkeypatch.setattr(operations, "MAX_ROWS", 4)
    rows = header_and([new_uscc(), "甲"])
    rows[5] = {1: "not a uscc", 2: "乙"}  # rows 3 and 4 are not in the file
    outcome = run(session, crafted_xlsx(rows), "x.xlsx")
    assert [(e.row, e.code) for e in outcome.errors] == [(5, "invalid_uscc")]
    rows[5] = {1: new_uscc(), 2: "乙"}
    outcome = run(session, crafted_xlsx(rows), "x.xlsx")
    assert outcome.applied and outcome.run.row_count == 2


# --- the unpacked size ---------------------------------------------------------------------


def test_a_part_declared_huge_is_refused_before_it_is_unpacked(session, read, monkeypatch):
    good = crafted_xlsx(header_and([new_uscc(), "甲"]))
    data = declare_size(good, "xl/worksheets/sheet1.xml", 2**32 - 1)
    assert zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml").file_size == (
        2**32 - 1
    )
    unpacked = []
    original = zipfile.ZipFile.open

    def opened(self, name, *args, **kwargs):
        unpacked.append(getattr(name, "filename", name))
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", opened)
    outcome = run(session, data, "bomb.xlsx")
    assert [(e.row, e.code) for e in outcome.errors] == [(None, "xlsx_too_large")]
    assert unpacked == [] and read.cells == 0
    [line] = report_rows(outcome.run, "zh")
    assert line["说明"] == (
        "该 XLSX 文件解压后超过 256 MB 或包含超过 1000 个内部文件，请拆分为多个文件。"
    )


def test_a_zip_bomb_is_refused_by_its_total_unpacked_size(session, read, monkeypatch):
    monkeypatch.setattr(operations, "MAX_XLSX_UNPACKED", 1024 * 1024)
    bomb = b"\x00" * (2 * 1024 * 1024)  # packs to about 2 KB
    data = crafted_xlsx(header_and([new_uscc(), "甲"]), extra_parts={"xl/media/a.bin": bomb})
    assert len(data) < 10_000
    outcome = run(session, data, "bomb.xlsx")
    assert [e.code for e in outcome.errors] == ["xlsx_too_large"]
    assert read.cells == 0
    assert MAX_XLSX_UNPACKED == 256 * 1024 * 1024


def test_a_zip_of_too_many_parts_is_refused(session, read):
    extra = {f"xl/media/{i}.bin": b"" for i in range(MAX_XLSX_PARTS)}
    outcome = run(session, crafted_xlsx(header_and([new_uscc(), "甲"]), None, extra), "x.xlsx")
    assert [e.code for e in outcome.errors] == ["xlsx_too_large"]
    assert read.cells == 0


def test_a_part_bigger_than_declared_is_not_unpacked_beyond_it(session):
    good = crafted_xlsx(header_and([new_uscc(), "甲"], [new_uscc(), "乙"]))
    data = declare_size(good, "xl/worksheets/sheet1.xml", 100)
    outcome = run(session, data, "x.xlsx")
    assert [e.code for e in outcome.errors] == ["invalid_xlsx"]
    assert enterprises(session) == 0


def test_an_ordinary_xlsx_is_well_within_the_bounds(session, read):
    rows = [["uscc", "name"]] + [[new_uscc(), f"企业{i}"] for i in range(200)]
    outcome = run(session, xlsx_file(rows), "x.xlsx")
    assert outcome.applied, outcome.errors[:3]
    assert (read.rows, read.cells) == (201, 402)


# --- where the refusal is said -------------------------------------------------------------


def test_the_page_names_the_refusal_in_its_language(session, auth, make, runner, tmp_path):
    make.user("admin@example.com", Role.ADMIN, password=PASSWORD)
    session.commit()
    admin = auth.signed_in("admin@example.com")
    good = crafted_xlsx(header_and([new_uscc(), "甲"]))
    data = declare_size(good, "xl/worksheets/sheet1.xml", 2**32 - 1)
    answer = admin.post(PAGE, data={"file": (io.BytesIO(data), "bomb.xlsx")})
    assert answer.status_code == 303
    page = admin.get(f"{PAGE}?lang=zh").get_data(as_text=True)
    assert "bomb.xlsx 未能导入的原因" in page
    assert "该 XLSX 文件解压后超过 256 MB" in page
    english = admin.get(f"{PAGE}?lang=en").get_data(as_text=True)
    assert "The XLSX file unpacks to more than 256 MB" in english
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(data)
    result = runner.invoke(args=["registry", "import", str(path)])
    assert result.exit_code == 1
    assert "xlsx_too_large,The XLSX file unpacks to more than 256 MB" in result.stderr
    assert enterprises(session) == 0
