"""What an attachment is, read to its end: PNG and JPEG decoded, PDF structure read,
XLSX unpacked within bounds, polyglots refused (QUALITY.md S10, issue 14 finding 4)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from PIL import Image
from pypdf import PdfWriter

from registry.applications import file_types
from registry.core.errors import ValidationFailed
from tests.fixtures.files import HTML, JPEG, PDF, PNG, XLSX, image, pdf_of_size, zip_of

SCRIPT = b"<html><script>alert(1)</script></html>"


def noisy_jpeg() -> bytes:
    """A JPEG whose image data is most of the file."""
    out = io.BytesIO()
    Image.effect_noise((200, 150), 60).convert("RGB").save(out, "JPEG")
    return out.getvalue()


NOISE = noisy_jpeg()


def refusal(content: bytes) -> tuple[str, str]:
    """The field error's code and English message for ``content``."""
    with pytest.raises(ValidationFailed) as refused:
        file_types.detect_type(content)
    (error,) = refused.value.errors
    assert (refused.value.status, error["field"]) == (422, "file")
    return error["code"], str(error["message"])


def png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` × ``height`` with almost no pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + png_chunk(b"IEND", b"")
    )


def xlsx_with(**contents: bytes) -> bytes:
    """A real workbook with more parts added."""
    source = zipfile.ZipFile(io.BytesIO(XLSX))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            archive.writestr(entry, source.read(entry))
        for name, content in contents.items():
            archive.writestr(name, content)
    return out.getvalue()


def zeros_entry(size: int) -> bytes:
    """A workbook holding an entry that unpacks to ``size`` zero bytes (streamed in, so
    that building it holds little memory)."""
    source = zipfile.ZipFile(io.BytesIO(XLSX))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            archive.writestr(entry, source.read(entry))
        with archive.open("xl/media/padding.bin", "w", force_zip64=True) as part:
            piece = b"\0" * (1024 * 1024)
            for _ in range(size // len(piece)):
                part.write(piece)
            part.write(b"\0" * (size % len(piece)))
    return out.getvalue()


def pypdf_written(**encryption: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    if encryption:
        writer.encrypt(**encryption)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "detected"),
    [
        (PDF, file_types.PDF),
        (pypdf_written(), file_types.PDF),
        (pypdf_written(user_password="", owner_password="o", algorithm="AES-128"), file_types.PDF),
        (pypdf_written(user_password="u", owner_password="o", algorithm="AES-256"), file_types.PDF),
        (pdf_of_size(file_types.MAX_SIZE), file_types.PDF),
        (PDF + b"\0" * 512, file_types.PDF),  # padding after %%EOF, near the end
        (PNG, file_types.PNG),
        (image("PNG", (2000, 1500)), file_types.PNG),
        (JPEG, file_types.JPEG),
        (image("JPEG", (2000, 1500)), file_types.JPEG),
        (XLSX, file_types.XLSX),
        (xlsx_with(**{"xl/media/image1.png": PNG}), file_types.XLSX),
    ],
)
def test_files_that_read_to_their_end_are_accepted(content, detected):
    assert file_types.detect_type(content) == detected


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"%PDF-1.4\n" + SCRIPT, "PDF: HTML right after the header"),
        (PDF[:9] + b"%" + SCRIPT + b"\n" + PDF[9:], "PDF: HTML in a comment, structure kept"),
        (PDF + SCRIPT, "PDF: HTML after %%EOF"),
        (b"\x89PNG\r\n\x1a\n" + SCRIPT, "PNG signature, then a page"),
        (PNG + SCRIPT, "a whole PNG, then a page"),
        (JPEG + SCRIPT, "a whole JPEG, then a page"),
        (b"\xff\xd8\xff\xe0" + HTML, "JPEG signature, then a page"),
        (PNG + b"<SVG onload=alert(1)>", "a whole PNG, then an SVG"),
    ],
)
def test_a_polyglot_holding_a_page_or_a_script_is_refused(content, kind):
    assert refusal(content) == (
        "invalid_format",
        "The file holds an HTML page or a script: it is not accepted.",
    ), kind


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (PNG[:-20], "PNG"),  # truncated inside the pixel data
        (PNG[:-4], "PNG"),  # IEND without its checksum
        (PNG[:40] + bytes([PNG[40] ^ 0xFF]) + PNG[41:], "PNG"),  # a checksum that fails
        (PNG + b"more", "PNG"),  # data after IEND
        (b"\x89PNG\r\n\x1a\n" + b"0" * 10, "PNG"),
        (NOISE[: len(NOISE) // 2], "JPEG"),  # truncated
        (NOISE[:-2000] + b"\x12\x34" * 1000, "JPEG"),  # garbage in place of image data
        (b"\xff\xd8\xff\xe0" + b"garbage" * 100, "JPEG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9", "JPEG"),
    ],
)
def test_a_damaged_image_is_refused(content, kind):
    assert refusal(content) == (
        "invalid_format",
        f"The {kind} image cannot be read to its end: the file is damaged or incomplete.",
    )


def test_an_image_over_the_pixel_bound_is_refused_before_it_is_decoded():
    side = int(file_types.MAX_PIXELS**0.5) + 1
    too_many = ("out_of_range", "The image has more than 40 million pixels.")
    # Both declare far more pixels than their few hundred bytes hold.
    assert refusal(png_declaring(side, side)) == too_many
    assert refusal(png_declaring(30_000, 30_000)) == too_many  # past Pillow's own bound


DAMAGED_PDF = (
    "invalid_format",
    "The PDF cannot be read: its cross-reference table or trailer is missing or damaged.",
)


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n", "no xref, no startxref"),
        (
            b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n",
            "no xref",
        ),
        (PDF[: PDF.index(b"xref")] + PDF[PDF.index(b"startxref") :], "no xref, no trailer"),
        (PDF.replace(b"/Root 1 0 R", b"/Info 1 0 R"), "a trailer without its catalog"),
        (PDF.replace(b"startxref\n", b"startxref\n9"), "startxref pointing elsewhere"),
        (PDF[:-30], "truncated"),
        (PDF + b"a\n" * 600, "%%EOF not in the last 1024 bytes"),
        (b"%PDF-1.4\n" + b"0" * 100, "a header and nothing else"),
    ],
)
def test_a_pdf_without_a_readable_structure_is_refused(content, kind):
    assert refusal(content) == DAMAGED_PDF, kind


def test_trailing_lines_after_the_end_are_not_read_back_through():
    # pypdf reads back line by line to find %%EOF: 5 million short lines took it 44 s.
    # The end marker must be in the last 1024 bytes, so this is refused at once.
    assert refusal(PDF + b"a\n" * (4 * 1024 * 1024)) == DAMAGED_PDF


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (zip_of("word/document.xml", "[Content_Types].xml"), "a Word document"),
        (zip_of("[Content_Types].xml", "xl/worksheets/sheet1.xml"), "no workbook part"),
        (zip_of("xl/workbook.xml"), "no content types"),
        (b"PK\x03\x04 not really a zip", "not a zip"),
    ],
)
def test_a_zip_that_is_not_a_workbook_is_not_accepted(content, name):
    assert refusal(content) == (
        "unsupported_type",
        "Only PDF, PNG, JPEG and XLSX files are accepted.",
    ), name


def test_a_workbook_holding_an_entry_that_unpacks_past_the_bound_is_refused():
    bomb = zeros_entry(file_types.XLSX_MAX_UNPACKED + 1)
    assert len(bomb) < 200_000
    assert refusal(bomb) == ("out_of_range", "The XLSX workbook unpacks to more than 100 MB.")


def test_a_declared_gibibyte_is_refused_from_the_directory_alone(monkeypatch):
    # A workbook declaring a 1 GiB entry (its sizes written into the headers): refused
    # before anything is unpacked.
    content = bytearray(xlsx_with(**{"xl/media/big.bin": b"\0" * 1000}))
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = content.rindex(signature)
        assert content[start + offset : start + offset + 4] == struct.pack("<I", 1000)
        content[start + offset : start + offset + 4] = struct.pack("<I", 2**30)

    def unpack(*args, **kwargs):
        raise AssertionError("an entry was unpacked")

    monkeypatch.setattr(zipfile.ZipFile, "open", unpack)
    assert refusal(bytes(content)) == (
        "out_of_range",
        "The XLSX workbook unpacks to more than 100 MB.",
    )


def test_a_size_that_lies_is_caught_by_the_checksum():
    # An entry of 1 MB whose headers say 1000 bytes: zipfile stops at 1000 bytes, whose
    # checksum is not the entry's.
    content = bytearray(xlsx_with(**{"xl/media/big.bin": b"\0" * 1_000_000}))
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = content.rindex(signature)
        content[start + offset : start + offset + 4] = struct.pack("<I", 1000)
    assert refusal(bytes(content)) == (
        "invalid_format",
        "The XLSX workbook cannot be unpacked: the file is damaged or incomplete.",
    )


def test_a_workbook_of_too_many_parts_is_refused():
    parts = {f"xl/media/{n}.bin": b"" for n in range(file_types.XLSX_MAX_PARTS)}
    assert refusal(xlsx_with(**parts)) == (
        "out_of_range",
        "The XLSX workbook holds more than 1000 parts.",
    )


def test_a_damaged_workbook_entry_is_refused():
    content = bytearray(xlsx_with(**{"xl/media/noise.bin": bytes(range(256)) * 40}))
    start = content.rindex(b"PK\x03\x04")
    name_length, extra_length = struct.unpack("<HH", content[start + 26 : start + 30])
    data = start + 30 + name_length + extra_length
    content[data + 10 : data + 20] = b"\xff" * 10
    assert refusal(bytes(content)) == (
        "invalid_format",
        "The XLSX workbook cannot be unpacked: the file is damaged or incomplete.",
    )


def test_the_valid_files_of_the_suite_read_through_the_bounded_process():
    for content, detected in (
        (PDF, file_types.PDF),
        (PNG, file_types.PNG),
        (JPEG, file_types.JPEG),
        (XLSX, file_types.XLSX),
    ):
        assert file_types.read_type(content) == detected


def test_a_refusal_crosses_from_the_bounded_process_with_its_message():
    with pytest.raises(ValidationFailed) as refused:
        file_types.read_type(b"\x89PNG\r\n\x1a\n" + SCRIPT)
    (error,) = refused.value.errors
    assert (error["field"], error["code"]) == ("file", "invalid_format")
    assert error["message"].template == (
        "The file holds an HTML page or a script: it is not accepted."
    )
    with pytest.raises(ValidationFailed) as refused:
        file_types.read_type(png_declaring(30_000, 30_000))
    assert refused.value.errors[0]["message"].params == {"count": 40}


def prev_chain(size: int) -> bytes:
    """A PDF of many revisions: a cross-reference section on every line, each pointing
    to the one before. pypdf reads them one by one: ~85 000 of them took it 8 s."""
    out = bytearray(b"%PDF-1.4\n")
    catalog = len(out)
    out += b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    pages = len(out)
    out += b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    previous = None
    while len(out) < size:
        offset = len(out)
        out += b"xref\n0 3\n0000000000 65535 f \n%010d 00000 n \n%010d 00000 n \n" % (
            catalog,
            pages,
        )
        out += b"trailer\n<< /Size 3 /Root 1 0 R"
        out += b" /Prev %d >>\n" % previous if previous is not None else b" >>\n"
        previous = offset
    return bytes(out + b"startxref\n%d\n%%%%EOF\n" % previous)


def test_a_pdf_that_would_take_seconds_to_read_is_stopped_at_its_cpu_bound(monkeypatch):
    monkeypatch.setattr(file_types, "CPU_SECONDS", 1)
    with pytest.raises(ValidationFailed) as refused:
        file_types.read_type(prev_chain(9 * 1024 * 1024))
    assert refused.value.errors[0]["code"] == "out_of_range"
    assert str(refused.value.errors[0]["message"]) == (
        "The file needs more time or memory to read than is allowed."
    )
