"""Attachments at the operations layer: type by content, size, labels, who and when
(PRODUCT.md "Applications and review", QUALITY.md S10)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from registry.accounts.models import Role
from registry.applications import attachments
from registry.applications import operations as apps
from registry.applications.attachments import PayloadTooLarge
from registry.applications.models import Attachment
from registry.core import clock
from registry.core.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from registry.core.models import AuditEntry
from tests.fixtures.files import HTML, JPEG, PDF, PNG, SVG, XLSX, pdf_of_size, zip_of

NOW = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.pinned(NOW):
        yield


@pytest.fixture
def world(make):
    enterprise = make.enterprise(founded_on=date(2015, 1, 1))
    make.eligible_report(enterprise, 2025)
    owner = make.user(enterprise=enterprise)
    return {
        "enterprise": enterprise,
        "owner": owner,
        "application": make.application(enterprise, owner),
        "reviewer": make.user(role=Role.REVIEWER),
    }


def _add(session, world, content, name="file", user=None):
    return attachments.add_attachment(
        session, world["application"], content, name, user=user or world["owner"], via="web"
    )


def _stored(session) -> int:
    return session.scalar(select(func.count()).select_from(Attachment))


@pytest.mark.parametrize(
    ("content", "name", "content_type", "extension"),
    [
        (PDF, "年报.pdf", "application/pdf", "pdf"),
        (PNG, "licence.png", "image/png", "png"),
        (JPEG, "certificate.jpeg", "image/jpeg", "jpg"),
        (
            XLSX,
            "figures.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        # The client's name does not matter: the content decides.
        (PDF, "scan.png", "application/pdf", "pdf"),
        (PNG, "no-extension", "image/png", "png"),
    ],
)
def test_accepted_types_are_told_by_their_content(
    session, world, content, name, content_type, extension
):
    attachment = _add(session, world, content, name)
    assert (attachment.content_type, attachment.extension) == (content_type, extension)
    assert attachment.label == name
    assert attachment.size == len(content)
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.content == content
    assert attachment.uploaded_by == world["owner"].id
    assert attachment.download_name == f"attachment-{attachment.id}.{extension}"
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "attachment.add")).one()
    assert (audit.object_type, audit.object_id) == ("application", str(world["application"].id))
    assert audit.changes["attachment"] == [None, attachment.id]
    assert audit.changes["sha256"] == [None, attachment.sha256]


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (HTML, "report.pdf"),
        (SVG, "logo.svg"),
        (SVG, "logo.png"),
        (b"GIF89a\x01\x00\x01\x00", "image.gif"),
        (zip_of("word/document.xml", "[Content_Types].xml"), "letter.xlsx"),
        (zip_of("xl/workbook.xml"), "half.xlsx"),
        (b"PK\x03\x04 not really a zip", "broken.xlsx"),
        (b" %PDF-1.4 leading space", "shifted.pdf"),
    ],
)
def test_anything_else_is_refused_on_the_file_field(session, world, content, name):
    with pytest.raises(ValidationFailed) as refused:
        _add(session, world, content, name)
    assert refused.value.status == 422
    assert refused.value.errors[0]["field"] == "file"
    assert refused.value.errors[0]["code"] == "unsupported_type"
    assert _stored(session) == 0


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>", "scan.png"),
        (b"%PDF-1.4\n<html><script>alert(1)</script></html>", "report.pdf"),
        (PNG + b"<html><script>alert(1)</script></html>", "scan.png"),
        (PNG[:-20], "truncated.png"),
        (JPEG[:-100], "truncated.jpg"),
        (b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n", "a.pdf"),
    ],
)
def test_a_file_that_does_not_read_to_its_end_as_its_type_is_refused(session, world, content, name):
    with pytest.raises(ValidationFailed) as refused:
        _add(session, world, content, name)
    assert refused.value.status == 422
    assert refused.value.errors[0]["field"] == "file"
    assert refused.value.errors[0]["code"] == "invalid_format"
    assert _stored(session) == 0


def test_an_empty_file_is_refused(session, world):
    with pytest.raises(ValidationFailed) as refused:
        _add(session, world, b"", "empty.pdf")
    assert refused.value.errors[0] == {
        "field": "file",
        "code": "empty",
        "message": "The file is empty.",
    }


def test_ten_megabytes_are_accepted_one_byte_more_is_413(session, world):
    limit = 10 * 1024 * 1024
    assert _add(session, world, pdf_of_size(limit), "big.pdf").size == limit
    with pytest.raises(PayloadTooLarge) as refused:
        _add(session, world, PDF + b"\0" * (limit + 1 - len(PDF)), "bigger.pdf")
    assert (refused.value.status, refused.value.code) == (413, "payload_too_large")
    assert refused.value.errors[0]["field"] == "file"
    assert _stored(session) == 1


@pytest.mark.parametrize(
    ("client_name", "label"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\会计\\资产负债表.pdf", "资产负债表.pdf"),
        ("report\x00\x1b[31m.pdf", "report[31m.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # no right-to-left override
        ("  spaced   out .pdf  ", "spaced out .pdf"),
        ("x" * 300 + ".pdf", "x" * 200),
        ("", "attachment.pdf"),
        (None, "attachment.pdf"),
        ("dir/", "attachment.pdf"),
    ],
)
def test_the_label_is_the_cleaned_base_name_and_never_the_stored_name(
    session, world, client_name, label
):
    attachment = _add(session, world, PDF, client_name)
    assert attachment.label == label
    assert attachment.download_name == f"attachment-{attachment.id}.pdf"


def test_files_change_only_in_draft_or_changes_requested(session, world):
    kept = _add(session, world, PDF, "kept.pdf")
    apps.submit(session, world["application"], user=world["owner"], via="web", declaration=True)
    with pytest.raises(InvalidTransition):
        _add(session, world, PNG, "late.png")
    with pytest.raises(InvalidTransition):
        attachments.delete_attachment(session, kept, user=world["owner"], via="web")
    assert _stored(session) == 1


def test_only_the_applicant_side_adds_files(session, make, world):
    stranger = make.user(enterprise=make.enterprise())
    with pytest.raises(NotFound):
        _add(session, world, PDF, user=stranger)
    with pytest.raises(Forbidden):  # reviewers act on nominations only
        _add(session, world, PDF, user=world["reviewer"])
    assert _stored(session) == 0


def test_a_nomination_takes_files_from_reviewers_not_from_the_enterprise(session, make):
    enterprise = make.enterprise(founded_on=date(2015, 1, 1))
    owner = make.user(enterprise=enterprise)
    reviewer = make.user(role=Role.REVIEWER)
    nomination = apps.create(
        session, enterprise, "navigator", "promotion", user=reviewer, via="web"
    )
    with pytest.raises(Forbidden):
        attachments.add_attachment(session, nomination, PDF, "a.pdf", user=owner, via="web")
    attachment = attachments.add_attachment(
        session, nomination, PDF, "a.pdf", user=reviewer, via="web"
    )
    assert attachment.uploaded_by == reviewer.id


def test_deleting_a_file_is_audited(session, world):
    attachment = _add(session, world, PNG, "licence.png")
    attachment_id, digest = attachment.id, attachment.sha256
    attachments.delete_attachment(session, attachment, user=world["owner"], via="web")
    assert _stored(session) == 0
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "attachment.delete")
    ).one()
    assert audit.object_id == str(world["application"].id)
    assert audit.changes["attachment"] == [attachment_id, None]
    assert audit.changes["label"] == ["licence.png", None]
    assert audit.changes["sha256"] == [digest, None]
