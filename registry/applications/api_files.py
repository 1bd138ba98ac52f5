"""Attachments of an application in the REST API (API.md): upload in draft or
changes_requested (multipart ``file``) → 201, the list, the download (always
``Content-Disposition: attachment`` and ``nosniff``) and delete → 204, through
:mod:`registry.applications.attachments` (its ``PayloadTooLarge`` → 413).

The applicant side uploads and deletes (``workflow:apply`` for an enterprise's users,
``workflow:review`` for reviewers on their nominations). An application's files are
read by an enterprise's users with ``workflow:apply`` and by reviewers with
``workflow:review`` or ``registry:read``, either is enough (API.md); an enterprise's
``registry:read`` does not open them. Another enterprise's application or file is 404
with nothing of it in the body (QUALITY.md S1).
"""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from marshmallow import RAISE
from werkzeug.datastructures import FileStorage

from registry.applications import api_schemas as schemas
from registry.applications import attachments, file_types, queries
from registry.applications.api import (
    APPLICANT,
    STAFF,
    VIA,
    Right,
    action_errors,
    caller,
    requires_any,
    with_application,
)
from registry.applications.models import Application, Attachment
from registry.core.api import (
    API_PREFIX,
    ApiBlueprint,
)
from registry.core.api_lists import (
    list_body,
    list_schema,
)
from registry.core.errors import found
from registry.extensions import db

blp = ApiBlueprint(
    "attachments_api", __name__, url_prefix=API_PREFIX, description="Files of applications."
)

#: API.md: an enterprise's files are part of applying (workflow:apply); reviewers read
#: them with workflow:review or registry:read. An enterprise's registry:read alone does
#: not open them.
FILE_READERS = ("workflow:apply", "workflow:review", Right("registry:read", STAFF))
FILE_TYPES = (file_types.PDF, file_types.PNG, file_types.JPEG, file_types.XLSX)
BINARY = {"type": "string", "format": "binary"}


def visible_attachment(attachment_id: int) -> Attachment:
    """The attachment if the caller may see its application, else 404 (S1)."""
    return found(
        db.session.get(Attachment, attachment_id),
        "No such attachment.",
        lambda attachment: attachment.application.visible_to(caller()),
    )


@blp.post("/applications/<int:application_id>/attachments")
@requires_any(*APPLICANT, accepts="multipart")
@with_application
@blp.arguments(schemas.UploadIn, location="files", unknown=RAISE)
@blp.response(201, schemas.AttachmentOut)
@blp.alt_response(413, description="The file is larger than 10 MB")
@action_errors
def upload_attachment(
    files: dict[str, FileStorage], application: Application
) -> tuple[Attachment, int, dict[str, str]]:
    """A PDF, PNG, JPEG or XLSX (by content, read to its end) in draft or changes_requested."""
    storage = files["file"]
    # One byte more than allowed is enough to know the file is too large.
    content = storage.read(attachments.MAX_SIZE + 1)
    attachment = attachments.add_attachment(
        db.session, application, content, storage.filename, user=caller(), via=VIA
    )
    db.session.commit()
    location = url_for(".download_attachment", attachment_id=attachment.id)
    return attachment, 201, {"Location": location}


@blp.get("/applications/<int:application_id>/attachments")
@requires_any(*FILE_READERS)
@with_application
@blp.response(200, list_schema(schemas.AttachmentOut, "AttachmentList"))
@blp.alt_response(404, description="No such application (or another enterprise's)")
def list_attachments(application: Application) -> dict[str, Any]:
    """An application's files, oldest first (one page)."""
    return list_body(queries.attachments(db.session, application.id), None)


@blp.get("/attachments/<int:attachment_id>")
@requires_any(*FILE_READERS)
@blp.response(200, description="The file as stored, of the type detected at upload")
@blp.doc(responses={200: {"content": {kind: {"schema": BINARY} for kind, _ext in FILE_TYPES}}})
@blp.alt_response(404, description="No such attachment (or another enterprise's)")
def download_attachment(attachment_id: int) -> Response:
    """Always a download under a name of the registry's making, never sniffed."""
    return attachments.download_response(visible_attachment(attachment_id))


@blp.delete("/attachments/<int:attachment_id>")
@requires_any(*APPLICANT)
@blp.response(204)
@action_errors
def delete_attachment(attachment_id: int) -> Response:
    """Remove a file (applicant side, draft or changes_requested)."""
    attachments.delete_attachment(
        db.session, visible_attachment(attachment_id), user=caller(), via=VIA
    )
    db.session.commit()
    return Response(status=204)
