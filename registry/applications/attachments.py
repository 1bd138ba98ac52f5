"""Attachments of an application: financial statements and certificates (PRODUCT.md "Applications
and review", QUALITY.md S10).

A file's type is what its content is, never what the client called it: PDF, PNG, JPEG
or XLSX, read to its end as that type (:mod:`registry.applications.file_types`);
anything else — an HTML page named ``.pdf``, an SVG, a PNG with a page appended, a
damaged file — is refused.
Files are stored in the database with their size and SHA-256. The client's file name
is kept, cleaned, as a display label only: downloads are named ``attachment-<id>.<ext>``
from the detected type.

Adding and deleting follow the application's rules: the applicant side only (the
enterprise's users for its own application, any reviewer for a nomination), in draft or
changes_requested. Both are audited on the application (``attachment.add`` /
``attachment.delete``, object_type ``application``) so that its history shows files
coming and going. They write no feed entry: attachments are not part of the
application's representation, so the application has not changed for a feed reader.
The access, lock and state checks are the state machine's own (``operations``), so
those rules live in one place.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from flask import Response

from registry.accounts.models import User
from registry.applications import file_types, operations
from registry.applications.models import Application, Attachment, State
from registry.core.audit import Actor, record_audit
from registry.core.dbsession import DbSession
from registry.core.errors import DomainError, ValidationFailed, refusal

MAX_SIZE = file_types.MAX_SIZE
LABEL_LENGTH = 200
EDITABLE_STATES = (State.DRAFT, State.CHANGES_REQUESTED)


class PayloadTooLarge(DomainError):
    code, status = "payload_too_large", 413


def _on_file(error: DomainError, code: str) -> DomainError:
    """``error`` as a refusal of the field ``file``. The message is written out in the
    refusal's own call so that the catalogue holds it and a page shows it in its
    reader's language."""
    error.errors = [refusal("file", code, error.template, **error.params)]
    return error


def clean_label(client_filename: str | None, extension: str) -> str:
    """The client's file name for display: its last path segment, without control or
    formatting characters (a right-to-left override could disguise the extension),
    at most 200 characters. A name left empty becomes ``attachment.<ext>``."""
    name = re.split(r"[/\\]", client_filename or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = " ".join(name.split())[:LABEL_LENGTH].strip()
    return name or f"attachment.{extension}"


def too_large() -> DomainError:
    """The refusal of a file over ``MAX_SIZE``, on the field ``file`` (413): whether the
    operation measured it or the request was too large to be read at all."""
    return _on_file(PayloadTooLarge("The file is larger than 10 MB."), "too_large")


def check_content(content: bytes) -> tuple[str, str]:
    """The detected ``(content type, extension)``; refuses a file too large (413),
    empty, of a type not accepted or not readable as its type (422, on the field
    ``file``)."""
    if len(content) > MAX_SIZE:
        raise too_large()
    if not content:
        raise _on_file(ValidationFailed("The file is empty."), "empty")
    return file_types.read_type(content)


def _lock_editable(session: DbSession, application: Application) -> Application:
    # The application's own lock order and state check: a concurrent submit or withdraw
    # either sees the file or the upload sees the new state.
    application = operations.lock_application(session, application)
    operations.require_state(application, *EDITABLE_STATES)
    return application


def add_attachment(
    session: DbSession,
    application: Application,
    upload_bytes: bytes,
    client_filename: str | None,
    *,
    user: User,
    via: str,
) -> Attachment:
    """Store a file for ``application`` (applicant side, draft or changes_requested)."""
    operations.require_applicant_side(application, user)
    content_type, extension = check_content(upload_bytes)
    application = _lock_editable(session, application)
    attachment = Attachment(
        application_id=application.id,
        label=clean_label(client_filename, extension),
        content_type=content_type,
        extension=extension,
        size=len(upload_bytes),
        sha256=hashlib.sha256(upload_bytes).hexdigest(),
        content=upload_bytes,
        uploaded_by=user.id,
    )
    session.add(attachment)
    session.flush()
    record_audit(
        session,
        Actor.of(user, via),
        "attachment.add",
        "application",
        application.id,
        {
            "attachment": [None, attachment.id],
            "label": [None, attachment.label],
            "size": [None, attachment.size],
            "sha256": [None, attachment.sha256],
        },
    )
    session.flush()
    return attachment


def delete_attachment(session: DbSession, attachment: Attachment, *, user: User, via: str) -> None:
    """Remove a file from its application (applicant side, draft or changes_requested)."""
    operations.require_applicant_side(attachment.application, user)
    application = _lock_editable(session, attachment.application)
    record_audit(
        session,
        Actor.of(user, via),
        "attachment.delete",
        "application",
        application.id,
        {
            "attachment": [attachment.id, None],
            "label": [attachment.label, None],
            "size": [attachment.size, None],
            "sha256": [attachment.sha256, None],
        },
    )
    session.delete(attachment)
    session.flush()


def download_response(attachment: Attachment) -> Response:
    """The file as stored, under a name of the registry's making and its detected type:
    always a download (never shown inline), never sniffed, never cached (web and API)."""
    return Response(
        attachment.content,
        mimetype=attachment.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{attachment.download_name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
