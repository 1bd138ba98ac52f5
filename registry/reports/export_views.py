"""Downloads of the enterprises (reviewers and admins, as their enterprise list page)
and of each tier's published list (public, as its page), as CSV or XLSX.

``GET /exports/enterprises?format=csv|xlsx[&tier=&city=&industry=&status=]`` (the API's
fields) and ``GET /exports/tiers/<code>?format=csv|xlsx[&city=&industry=&q=]`` (the list
as its page shows it, public_list). The rows are read in one consistent read-only
transaction, in keyset batches: CSV is streamed as it is read, XLSX is built in a
temporary file first (the format is a zip archive).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from flask import Blueprint, Response, abort, request, send_file, stream_with_context
from flask_babel import gettext as _
from sqlalchemy import Connection

from registry.core import access, clock
from registry.core.db import consistent_read
from registry.core.i18n import current_language
from registry.core.web import public
from registry.enterprises.models import Status
from registry.extensions import db
from registry.ladder import listing, queries
from registry.ladder.models import Tier
from registry.reports import exports, public_list

bp = Blueprint("exports", __name__, url_prefix="/exports")

ENTERPRISE_FILTERS = ("tier", "city", "industry", "status")
LIST_FILTERS = ("city", "industry")


@bp.app_template_global()
def export_choices() -> dict[str, list[tuple[str, str]]]:
    """The filter choices of the enterprises download form (on the reviewers' list)."""
    lang = current_language()
    return {
        "tier": [(t.code, t.name(lang)) for t in queries.tiers(db.session)]
        + [(exports.NONE, _("No tier"))],
        "city": [(c.code, c.name(lang)) for c in listing.cities(db.session)],
        "industry": [(i.code, i.name(lang)) for i in listing.industries(db.session)]
        + [(exports.NONE, _("Other industries"))],
        "status": [
            (str(Status.ACTIVE), _("Active")),
            (str(Status.DEREGISTERED), _("Deregistered")),
            (str(Status.MERGED), _("Merged")),
        ],
    }


#: The longest search the published list's download takes (as its page's form).
MAX_SEARCH = 100

Table = tuple[Sequence[str], Iterator[Sequence[Any]]]


def _download(table: Callable[[Connection], Table], name: str) -> Response:
    """``table``'s header and rows as an attachment in the requested format (422 for an
    unknown one), read in one consistent transaction of their own."""
    fmt = request.args.get("format", "csv")
    if fmt not in exports.FORMATS:
        abort(422)
    # The rows come from a transaction of their own; the request's ends here.
    db.session.rollback()
    filename = f"{name}-{clock.today().isoformat()}.{fmt}"
    if fmt == "xlsx":
        with consistent_read(db.engine) as connection:
            header, rows = table(connection)
            built = exports.xlsx_file(header, rows, name)
        return send_file(
            built, mimetype=exports.XLSX_MIMETYPE, as_attachment=True, download_name=filename
        )

    def body() -> Iterator[bytes]:
        with consistent_read(db.engine) as connection:
            header, rows = table(connection)
            yield from exports.csv_chunks(header, rows)

    return Response(
        stream_with_context(body()),
        mimetype=exports.CSV_MIMETYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Accel-Buffering": "no",
        },
    )


@bp.get("/enterprises")
@access.reviewer
def enterprises() -> Response:
    filters = {name: request.args.get(name) or None for name in ENTERPRISE_FILTERS}
    if exports.filter_errors(db.session, exports.ENTERPRISES, filters):
        abort(422)
    return _download(
        lambda connection: exports.export_rows(connection, exports.ENTERPRISES, filters),
        "enterprises",
    )


@bp.get("/tiers/<code>")
@public
def tier_list(code: str) -> Response:
    """The published list as on its page, in the page's language (public_list)."""
    db.get_or_404(Tier, code)
    filters = {name: request.args.get(name) or None for name in LIST_FILTERS}
    if exports.filter_errors(db.session, exports.PUBLISHED, {"tier": code, **filters}):
        abort(422)
    q = (request.args.get("q") or "").strip()
    if len(q) > MAX_SEARCH:
        abort(422)
    # Headers and names in the request's language, read before the rows are streamed.
    header = public_list.header(code)
    names = public_list.area_names(db.session, current_language())
    return _download(
        lambda connection: (
            header,
            public_list.rows(connection, code, {**filters, "q": q or None}, names),
        ),
        f"tier-{code}",
    )
