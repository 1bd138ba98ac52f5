"""What an attachment is, read from its content to its end (QUALITY.md S10).

The leading bytes name the type a file claims to be; the file is then read as that type
by a library that knows it, and refused unless it reads through:

- **PNG**: every chunk's checksum (Pillow's ``verify``), the pixels decoded, and nothing
  after the ``IEND`` chunk.
- **JPEG**: the pixels decoded to the end of the image (Pillow, at an eighth of the
  size: every byte of the image data is still decoded, in a small buffer).
- **PDF**: the ``%%EOF`` marker in its last 1024 bytes, then pypdf in strict mode reads
  ``startxref``, the cross-reference table or stream and the trailer, and resolves the
  document catalog (unless the file opens only with a password).
- **XLSX**: a ZIP holding ``[Content_Types].xml`` and ``xl/workbook.xml``, at most
  :data:`XLSX_MAX_PARTS` entries declaring at most :data:`XLSX_MAX_UNPACKED` bytes in
  all, each entry unpacked (in small pieces) to check its CRC, so that no declared size
  can lie.
- A PDF, PNG or JPEG holding an HTML page or a script tag anywhere (a polyglot: a
  browser that sniffs the file could run it) is refused.

The work is bounded: images by :data:`MAX_PIXELS` (checked before any pixel is
decoded), PDF streams by pypdf's limits lowered below, ZIP entries by their count and
declared sizes, checked before anything is unpacked. A crafted PDF can still cost a
pure-Python parser seconds (a chain of thousands of cross-reference sections), so
:func:`read_type` reads every file in a child process held to :data:`CPU_SECONDS` and
:data:`MEMORY_BYTES` (``core.bounded``); the worker serving the request allocates none
of it.

Refusals are field errors on ``file`` (API.md codes): ``unsupported_type`` when the
content is none of the four types, ``invalid_format`` when it claims one but does not
read as it, ``out_of_range`` past a bound.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from typing import Any

from registry.core.bounded import WorkTooLarge, run_bounded
from registry.core.errors import ValidationFailed, field_error

#: The decoders, imported by the checks' fork server once and never by the worker
#: serving requests (about 30 MB it would hold for nothing).
DECODERS = ("PIL.Image", "PIL.PngImagePlugin", "PIL.JpegImagePlugin", "pypdf")

PDF = ("application/pdf", "pdf")
PNG = ("image/png", "png")
JPEG = ("image/jpeg", "jpg")
XLSX = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")

#: The largest upload (413 beyond, see ``attachments``).
MAX_SIZE = 10 * 1024 * 1024
#: An A4 page scanned at 600 dpi is 35 million pixels. Decoding holds about 4 bytes a
#: pixel for a PNG; a JPEG is decoded at an eighth of its width and height.
MAX_PIXELS = 40_000_000
XLSX_MAX_PARTS = 1_000
XLSX_MAX_UNPACKED = 100 * 1024 * 1024
_XLSX_PARTS = frozenset({"[Content_Types].xml", "xl/workbook.xml"})
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IEND_CRC = zlib.crc32(b"IEND").to_bytes(4, "big")
_UNPACK_PIECE = 1024 * 1024
#: What reading one file may take, in its own process. The costliest accepted files
#: measured (a 40-megapixel PNG, a progressive 40-megapixel JPEG, an XLSX unpacking to
#: 99 MB) took about a second of CPU and at most 240 MB.
CPU_SECONDS = 4
MEMORY_BYTES = 768 * 1024 * 1024
#: pypdf's own limits on what a stream unpacks to are sized for files far larger than an
#: upload.
_PDF_UNPACKED = 20 * 1024 * 1024
_PDF_MAX_XREF_ENTRIES = 200_000
#: The tags that make a page a browser would render or run.
_MARKUP = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|script|iframe|svg|object|embed)[\s/>]", re.IGNORECASE
)


def _not_accepted() -> ValidationFailed:
    return field_error(
        "file", "unsupported_type", "Only PDF, PNG, JPEG and XLSX files are accepted."
    )


def _markup() -> ValidationFailed:
    return field_error(
        "file", "invalid_format", "The file holds an HTML page or a script: it is not accepted."
    )


def _damaged_image(kind: str) -> ValidationFailed:
    return field_error(
        "file",
        "invalid_format",
        "The %(kind)s image cannot be read to its end: the file is damaged or incomplete.",
        kind=kind,
    )


def _damaged_pdf() -> ValidationFailed:
    return field_error(
        "file",
        "invalid_format",
        "The PDF cannot be read: its cross-reference table or trailer is missing or damaged.",
    )


def _damaged_xlsx() -> ValidationFailed:
    return field_error(
        "file",
        "invalid_format",
        "The XLSX workbook cannot be unpacked: the file is damaged or incomplete.",
    )


def _too_many_parts() -> ValidationFailed:
    return field_error(
        "file",
        "out_of_range",
        "The XLSX workbook holds more than %(count)s parts.",
        count=XLSX_MAX_PARTS,
    )


def _too_many_pixels() -> ValidationFailed:
    return field_error(
        "file",
        "out_of_range",
        "The image has more than %(count)s million pixels.",
        count=MAX_PIXELS // 1_000_000,
    )


def _check_image(content: bytes, kind: str) -> None:
    from PIL import Image  # in the fork server, not the worker (DECODERS)

    # Any failure of the decoder (its errors are of many classes, Pillow's and the
    # codecs') means the file is not an image that reads to its end.
    try:
        with Image.open(io.BytesIO(content), formats=[kind]) as image:
            width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow's own, far higher, bound (a warning that a test run turns into an error)
        raise _too_many_pixels() from error
    except MemoryError:
        raise
    except Exception as error:
        raise _damaged_image(kind) from error
    if width * height > MAX_PIXELS:
        raise _too_many_pixels()
    try:
        if kind == "PNG":
            _verify_png(content)
        with Image.open(io.BytesIO(content), formats=[kind]) as image:
            if kind == "JPEG":
                image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
            image.load()
    except MemoryError:
        raise
    except Exception as error:
        raise _damaged_image(kind) from error


def _verify_png(content: bytes) -> None:
    """Every chunk's checksum up to ``IEND``, and nothing after it."""
    from PIL import Image

    stream = io.BytesIO(content)
    with Image.open(stream, formats=["PNG"]) as image:
        image.verify()  # stops after IEND's length and type
    if content[stream.tell() :] != _IEND_CRC:
        raise ValueError("data after the IEND chunk")


def _check_pdf(content: bytes) -> None:
    from pypdf import PdfReader, apply_configuration
    from pypdf.generic import DictionaryObject

    # Readers look for the end marker near the end (the 1024 bytes are Acrobat's rule);
    # pypdf would read back line by line through any amount of trailing data.
    if b"%%EOF" not in content[-1024:]:
        raise _damaged_pdf()
    try:
        with apply_configuration(
            maximum_declared_stream_length=MAX_SIZE,
            zlib_maximum_output_length=_PDF_UNPACKED,
            lzw_maximum_output_length=_PDF_UNPACKED,
            run_length_maximum_output_length=_PDF_UNPACKED,
            array_based_stream_maximum_output_length=_PDF_UNPACKED,
        ):
            reader = PdfReader(
                io.BytesIO(content),
                strict=True,
                xref_stream_maximum_entries=_PDF_MAX_XREF_ENTRIES,
            )
            if reader.is_encrypted and not reader.decrypt(""):
                # The structure was read; the objects open only with the password.
                return
            catalog = reader.trailer["/Root"].get_object()
    except MemoryError:
        raise
    except Exception as error:  # any failure of the parser, whatever its class
        raise _damaged_pdf() from error
    if not isinstance(catalog, DictionaryObject) or "/Pages" not in catalog:
        raise _damaged_pdf()


def _check_xlsx(content: bytes) -> None:
    # Every entry has a header in the central directory, each starting with this
    # signature: counting them bounds the entries before zipfile reads them all.
    if content.count(b"PK\x01\x02") > XLSX_MAX_PARTS:
        raise _too_many_parts()
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        raise _not_accepted() from error
    with archive:
        entries = archive.infolist()
        if not _XLSX_PARTS <= {entry.filename for entry in entries}:
            raise _not_accepted()
        if len(entries) > XLSX_MAX_PARTS:
            raise _too_many_parts()
        if sum(entry.file_size for entry in entries) > XLSX_MAX_UNPACKED:
            raise field_error(
                "file",
                "out_of_range",
                "The XLSX workbook unpacks to more than %(size)s MB.",
                size=XLSX_MAX_UNPACKED // (1024 * 1024),
            )
        try:
            for entry in entries:
                # zipfile stops at the declared size and checks the CRC at the end.
                with archive.open(entry) as part:
                    while part.read(_UNPACK_PIECE):
                        pass
        except (
            zipfile.BadZipFile,
            EOFError,
            zlib.error,
            NotImplementedError,
            RuntimeError,
            ValueError,
            OSError,
        ) as error:
            raise _damaged_xlsx() from error


def read_type(content: bytes) -> tuple[str, str]:
    """:func:`detect_type` in a process of its own, bounded by :data:`CPU_SECONDS` and
    :data:`MEMORY_BYTES`; a file that needs more is refused too."""
    try:
        verdict = run_bounded(
            _verdict,
            content,
            cpu_seconds=CPU_SECONDS,
            memory_bytes=MEMORY_BYTES,
            preload=DECODERS,
        )
    except WorkTooLarge as error:
        raise field_error(
            "file",
            "out_of_range",
            "The file needs more time or memory to read than is allowed.",
        ) from error
    if verdict[0] == "refused":
        _, code, template, params = verdict
        raise field_error("file", code, template, **params)
    return verdict[1]


def _verdict(content: bytes) -> tuple[Any, ...]:
    """:func:`detect_type`'s answer as plain values, to cross from the child process."""
    try:
        return ("accepted", detect_type(content))
    except ValidationFailed as refusal:
        message = refusal.errors[0]["message"]
        return ("refused", refusal.errors[0]["code"], message.template, message.params)


def detect_type(content: bytes) -> tuple[str, str]:
    """``(content type, extension)`` of a file that reads to its end as a PDF, PNG, JPEG
    or XLSX; refuses anything else on the field ``file`` (422)."""
    if content.startswith(b"PK\x03\x04"):
        _check_xlsx(content)
        return XLSX
    if content.startswith(b"%PDF-"):
        detected = PDF
    elif content.startswith(_PNG_SIGNATURE):
        detected = PNG
    elif content.startswith(b"\xff\xd8\xff"):
        detected = JPEG
    else:
        raise _not_accepted()
    if _MARKUP.search(content):
        raise _markup()
    if detected == PDF:
        _check_pdf(content)
    else:
        _check_image(content, "PNG" if detected == PNG else "JPEG")
    return detected
