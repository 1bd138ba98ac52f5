"""Admin pages: users and roles, tier settings and quotas, the audit log (PRODUCT.md "Web pages").

Every page is for admins only. Changes go through the operations of their domain,
which write the audit entries; each POST commits once and answers 303, or 422 with the
form's errors. Disabling a user and lowering a quota are asked first
(``registry.core.confirm``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from flask import Blueprint, abort, current_app, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import Form

from registry.accounts import checks, sessions
from registry.accounts import operations as accounts
from registry.accounts.models import Role, User
from registry.admin import next_steps as admin_next_steps
from registry.admin import queries, questions
from registry.admin.audit_view import audit_lines
from registry.admin.forms import (
    ROLE_LABELS,
    AuditFilterForm,
    NewUserForm,
    PasswordResetForm,
    RoleForm,
    StatusForm,
    UserSearchForm,
)
from registry.core import access
from registry.core.audit import Actor
from registry.core.clock import SHANGHAI
from registry.core.confirm import confirm_first
from registry.core.errors import DomainError
from registry.core.pagination import InvalidCursor, Page, decode_cursor, page_of
from registry.core.web import nav_item, refuse, refuse_also, see_other
from registry.enterprises.models import Enterprise
from registry.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")

nav_item("admin.users", _l("Users"), {"admin"}, order=60)
nav_item("admin.audit", _l("Audit log"), {"admin"}, order=62)


@bp.app_template_filter("shanghai_time")
def shanghai_time(at: datetime | None) -> str:
    """An instant as Asia/Shanghai wall time, to the second."""
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if at else ""


# --- keyset lists -------------------------------------------------------------------------


@dataclass
class Listing:
    """A filtered, keyset-paged list page; ``page`` is None when a filter or the cursor
    was refused (the page then answers 422 with the form's errors)."""

    form: Form
    page: Page | None
    page_number: int
    cursor_ok: bool
    first_url: str
    next_url: str | None

    @property
    def status(self) -> int:
        return 200 if self.page is not None else 422


def _listing(form: Form, endpoint: str, fetch: Callable[[int, int | None], Sequence]) -> Listing:
    """Validate the filters and the cursor (``after`` = last id and page number), then
    ``fetch(limit, before_id)``. Links keep the filters only when they are valid."""
    filters_ok = form.validate()
    before_id, page_number, cursor_ok = None, 1, True
    if "after" in request.args:
        try:
            before_id, page_number = decode_cursor(request.args["after"], int, int)
            cursor_ok = page_number >= 2
        except InvalidCursor:
            cursor_ok = False
        if not cursor_ok:
            before_id, page_number = None, 1
    params = (
        {f.name: f.raw_data[0] for f in form if f.raw_data and f.raw_data[0]} if filters_ok else {}
    )
    page, next_url = None, None
    if filters_ok and cursor_ok:
        size = current_app.config["PAGE_SIZE"]
        page = page_of(fetch(size + 1, before_id), size, lambda row: (row.id, page_number + 1))
        if page.next_cursor:
            next_url = url_for(endpoint, after=page.next_cursor, **params)
    return Listing(form, page, page_number, cursor_ok, url_for(endpoint, **params), next_url)


# --- users --------------------------------------------------------------------------------


@bp.get("/users")
@access.admin
def users() -> ResponseReturnValue:
    form = UserSearchForm(request.args)
    listing = _listing(
        form,
        ".users",
        lambda limit, before_id: queries.find_users(
            db.session,
            search=form.q.data or None,
            role=Role(form.role.data) if form.role.data else None,
            active={"yes": True, "no": False}.get(form.active.data),
            limit=limit,
            before_id=before_id,
        ),
    )
    linked = {u.enterprise_id for u in (listing.page.items if listing.page else [])} - {None}
    enterprises = {
        row.id: row
        for row in db.session.execute(
            select(Enterprise.id, Enterprise.uscc, Enterprise.name).where(Enterprise.id.in_(linked))
        )
    }
    html = render_template(
        "admin/users.html", listing=listing, enterprises=enterprises, roles=ROLE_LABELS
    )
    return html, listing.status


@bp.route("/users/new", methods=["GET", "POST"])
@access.admin
def new_user() -> ResponseReturnValue:
    form = NewUserForm()

    def check() -> Enterprise | None:
        """The registry's checks of every typed value (saving nothing)."""
        role = form.role.data if form.role.data in tuple(Role) else None
        return checks.check_new_user(
            db.session,
            email=form.email.data or "",
            role=Role(role) if role else None,
            password=form.password.data or "",
            uscc=form.uscc.data or "",
        )

    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                db.session,
                cast(str, form.email.data),  # required
                role=Role(form.role.data),
                actor=Actor.of(current_user, "web"),
                password=form.password.data,
                enterprise=check(),
                name=form.name.data or "",
            )
        except DomainError as error:
            db.session.rollback()
            refuse(form, error)
        else:
            db.session.commit()
            flash(_("The user %(email)s has been created.", email=user.email))
            admin_next_steps.after_new_user(user)
            return see_other(".user", user_id=user.id)
    elif form.is_submitted():
        refuse_also(form, check)
    status = 422 if form.errors else 200
    return render_template("admin/new_user.html", form=form), status


#: The buttons of the user page: which form each belongs to.
USER_ACTIONS = {
    "role": "role",
    "enable": "status",
    "disable": "status",
    "password": "password",  # nosec B105 # a button's and a form's name
}


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@access.admin
def user(user_id: int) -> ResponseReturnValue:
    target = db.get_or_404(User, user_id)
    action = request.form.get("action") if request.method == "POST" else None
    if action is not None and action not in USER_ACTIONS:
        abort(400)
    posted = USER_ACTIONS[action] if action is not None else None

    def formdata(name: str) -> ImmutableMultiDict[str, str] | None:
        return request.form if posted == name else None

    forms: dict[str, FlaskForm] = {
        "role": RoleForm(formdata=formdata("role"), role=str(target.role)),
        "status": StatusForm(formdata=formdata("status")),
        "password": PasswordResetForm(formdata=formdata("password")),
    }
    if posted is not None:
        form = forms[posted]
        if form.validate():
            try:
                message = _apply_user_action(target, cast(str, action), form)
            except DomainError as error:
                db.session.rollback()
                # The password rules name "password"; this form calls it "new_password".
                refuse(form, error, field="new_password" if posted == "password" else None)
            else:
                if action == "disable" and (
                    asked := confirm_first(db.session, lambda: questions.disable_user(target))
                ):
                    return asked
                db.session.commit()
                flash(message)
                admin_next_steps.after_user_action(target, cast(str, action))
                return see_other(".user", user_id=target.id)
        elif posted == "password":
            refuse_also(
                form,
                lambda: checks.check_password_rules(form.new_password.data or "", "new_password"),
            )
    enterprise = db.session.get(Enterprise, target.enterprise_id) if target.enterprise_id else None
    claim = accounts.pending_claim(db.session, target) if enterprise is None else None
    html = render_template(
        "admin/user.html",
        target=target,
        enterprise=enterprise,
        claim=claim,
        roles=ROLE_LABELS,
        is_self=target.id == current_user.id,
        **{f"{name}_form": form for name, form in forms.items()},
    )
    return html, (422 if posted is not None else 200)


def _apply_user_action(target: User, action: str, form: Any) -> str:
    """Run the operation behind ``action`` with its form (of USER_ACTIONS' kinds); the
    flash message of its success."""
    actor = Actor.of(current_user, "web")
    if action == "role":
        accounts.update_user(db.session, target, actor=actor, role=Role(form.role.data))
        return _("The role has been changed. The user's sessions have ended.")
    if action in ("enable", "disable"):
        accounts.update_user(db.session, target, actor=actor, active=action == "enable")
        if action == "enable":
            return _("The user has been enabled.")
        return _("The user has been disabled and signed out everywhere.")
    accounts.reset_password(db.session, target, form.new_password.data, actor=actor)
    if target.id == current_user.id:
        # One's own reset ends one's other sessions; this one continues.
        sessions.start_session(target)
    return _("The password has been reset. The user's sessions have ended.")


# --- audit log ----------------------------------------------------------------------------


@bp.get("/audit")
@access.admin
def audit() -> ResponseReturnValue:
    form = AuditFilterForm(request.args)
    listing = _listing(
        form,
        ".audit",
        lambda limit, before_id: queries.audit_entries(
            db.session,
            queries.AuditFilter(
                actor=form.actor.data or None,
                action=form.action.data or None,
                object_type=form.object_type.data or None,
                object_id=form.object_id.data or None,
                since=form.since.data,
                until=form.until.data,
            ),
            limit=limit,
            before_id=before_id,
        ),
    )
    lines = audit_lines(db.session, listing.page.items) if listing.page is not None else []
    html = render_template("admin/audit.html", listing=listing, lines=lines)
    return html, listing.status
