"""Admin pages for sync sources (PRODUCT.md "Sync with other registries"): every peer this registry
pulls from, with its cursor, last run, lag and last error; a form that adds one (its token is never
shown again); and each source's conflict report."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from flask import Blueprint, flash, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

from registry.core import access, clock
from registry.core.audit import Actor
from registry.core.errors import DomainError
from registry.core.forms import REQUIRED
from registry.core.next_step import flash_next_step
from registry.core.web import form_page, nav_item, refuse, refuse_also, see_other, strip_text
from registry.extensions import db
from registry.sync import operations
from registry.sync.models import SyncConflict, SyncSource
from registry.sync.sources import add_source, check_source

bp = Blueprint("sync", __name__, url_prefix="/admin/sync")

nav_item("sync.sources", _l("Sync sources"), {"admin"}, order=64)


class SourceForm(FlaskForm):
    """Shape only: the name, URL and token are checked by ``add_source``,
    as for ``flask registry sync add``."""

    name = StringField(_l("Name"), validators=[InputRequired(REQUIRED)], filters=[strip_text])
    base_url = StringField(
        _l("Base URL"), validators=[InputRequired(REQUIRED)], filters=[strip_text]
    )
    token = PasswordField(_l("Token"), validators=[InputRequired(REQUIRED)])


def lag_seconds(source: SyncSource, now: datetime) -> int | None:
    """now − when the peer wrote the last entry applied (None before the first)."""
    if source.last_entry_at is None:
        return None
    return max(0, int((now - source.last_entry_at).total_seconds()))


@bp.route("", methods=["GET", "POST"])
@access.admin
def sources() -> ResponseReturnValue:
    form = SourceForm()
    if form.validate_on_submit():
        try:
            source = add_source(
                db.session,
                cast(str, form.name.data),
                cast(str, form.base_url.data),
                cast(str, form.token.data),
                actor=Actor.of(current_user, "web"),
            )
        except DomainError as error:
            db.session.rollback()
            refuse(form, error)
        else:
            db.session.commit()
            flash(_("The sync source %(name)s has been added.", name=source.name))
            flash_next_step(
                _(
                    "Its records arrive once a pull of %(name)s runs on the server (the sync "
                    "pull command); this page then shows its cursor, last run and lag.",
                    name=source.name,
                ),
                url_for(".sources", _anchor="sources-title"),
                _("See the sources"),
            )
            return see_other(".sources")
    elif form.is_submitted():
        refuse_also(
            form,
            lambda: check_source(
                db.session, form.name.data or "", form.base_url.data or "", form.token.data or ""
            ),
        )
    rows = db.session.scalars(select(SyncSource).order_by(SyncSource.name)).all()
    conflicts = dict(
        db.session.execute(
            select(SyncConflict.source_id, func.count()).group_by(SyncConflict.source_id)
        ).all()
    )
    now = clock.now()
    return form_page(
        "sync/sources.html",
        form,
        sources=rows,
        conflicts=conflicts,
        lags={source.id: lag_seconds(source, now) for source in rows},
    )


@bp.get("/<name>/conflicts")
@access.admin
def conflicts(name: str) -> str:
    source = db.one_or_404(select(SyncSource).where(SyncSource.name == name))
    rows, total = operations.conflicts_of(db.session, source)
    return render_template("sync/conflicts.html", source=source, conflicts=rows, total=total)
