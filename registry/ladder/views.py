"""Public pages of the ladder: the home page and each tier's published list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Row
from wtforms import Form, SearchField, SelectField
from wtforms.validators import Length

from registry.core import access, clock
from registry.core.i18n import current_language
from registry.core.pagination import InvalidCursor, decode_cursor, encode_cursor
from registry.core.web import nav_item, one_of_the_choices, public, strip_text
from registry.enterprises.models import Enterprise
from registry.enterprises.views import with_enterprise
from registry.extensions import db
from registry.ladder import criteria_versions, dates, listing, queries
from registry.ladder.eligibility import label
from registry.ladder.labels import ROUTE_LABELS, STATUS_TEXT, evaluation_words
from registry.ladder.models import Tier

bp = Blueprint("ladder", __name__)

nav_item("ladder.self_check", _l("Self-check"), {"enterprise"}, order=12)


@bp.app_template_filter("percent")
def percent_text(value: float) -> str:
    """12.5 → "12.5", 100.0 → "100", 0.02 → "0.02" (at most two decimals)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


@bp.app_template_filter("last_day")
def last_day_filter(end: datetime) -> str:
    """An exclusive end (a designation's expiry, a notice's end) as the last day it
    covers, in ISO form: what people read as "valid until"."""
    return dates.last_day(end).isoformat()


@bp.app_template_global()
def tier_name(code: str) -> str:
    """A tier's name in the page's language, for any page that shows a rung."""
    tier = db.session.get(Tier, code)
    return tier.name(current_language()) if tier else code


@bp.get("/")
@public
def home() -> str:
    return render_template(
        "ladder/home.html",
        overview=queries.ladder_overview(db.session),
        period=queries.plan_period(db.session, clock.today()),
    )


class TierListFilter(Form):
    """The search and filters of a published list (GET, so no CSRF token; empty = all)."""

    q = SearchField(
        _l("Name or USCC"),
        filters=[strip_text],
        validators=[Length(max=100, message=_l("Type at most 100 characters."))],
    )
    city = SelectField(
        _l("City"),
        validate_choice=False,
        validators=[one_of_the_choices(_l("Unknown city: choose one from the list."))],
    )
    industry = SelectField(
        _l("Industry"),
        validate_choice=False,
        validators=[one_of_the_choices(_l("Unknown industry: choose one from the list."))],
    )

    def fill_choices(self, cities: dict[str, str], industries: dict[str, str]) -> None:
        self.city.choices = [("", _("All cities")), *cities.items()]
        self.industry.choices = [
            ("", _("All industries")),
            *industries.items(),
            (listing.OTHER_INDUSTRY, _("Other industries")),
        ]

    def values(self) -> dict[str, Any]:
        """The filters as the list and its download take them (None = all)."""
        return {name: self[name].data or None for name in ("q", "city", "industry")}


@dataclass(frozen=True)
class PagePosition:
    """Where a page of a published list starts: after a USCC (the next page), before one
    (the previous page), or at the start; and the number of the page shown."""

    number: int = 1
    after: str | None = None
    before: str | None = None


def _page_position(args: Mapping[str, str]) -> PagePosition:
    """The position the ``after`` or ``before`` cursor of a page link leads to; an
    ``after`` cursor leads to page 2 or later, a ``before`` cursor to page 1 or later."""
    if "after" in args and "before" in args:
        raise InvalidCursor("The page cursor is malformed.")
    for name, first in (("after", 2), ("before", 1)):
        if name in args:
            uscc, number = decode_cursor(args[name], str, int)
            if number < first:
                raise InvalidCursor("The page cursor is malformed.")
            return PagePosition(number, **{name: uscc})
    return PagePosition()


@dataclass
class ListPage:
    """One page of a published list with the links around it."""

    items: list[Row]
    number: int
    next_url: str | None = None
    previous_url: str | None = None


def _list_page(tier: Tier, position: PagePosition, filters: dict[str, Any]) -> ListPage:
    """The holders of a page, read forwards from ``position`` or, for the page before,
    backwards; a walk back that reaches the start gives the first page."""
    size = current_app.config["PAGE_SIZE"]

    def link(**cursor: Any) -> str:
        return url_for(".tier_list", code=tier.code, **cursor, **filters)

    page = None
    if position.before is not None:
        rows = listing.published_rows(
            db.session, tier.code, limit=size + 1, before=position.before, **filters
        )
        if len(rows) > size:
            items, number = rows[:size][::-1], max(position.number, 2)
            page = ListPage(items, number, link(after=encode_cursor(items[-1].uscc, number + 1)))
    if page is None:
        after, number = (position.after, position.number) if position.before is None else (None, 1)
        rows = listing.published_rows(db.session, tier.code, limit=size + 1, after=after, **filters)
        page = ListPage(rows[:size], number)
        if len(rows) > size:
            page.next_url = link(after=encode_cursor(rows[size - 1].uscc, number + 1))
    # Page 2 leads back to the first page itself (so does an empty page past the end).
    if page.number > 2 and page.items:
        page.previous_url = link(before=encode_cursor(page.items[0].uscc, page.number - 1))
    elif page.number > 1:
        page.previous_url = link()
    return page


@bp.get("/tiers/<code>")
@public
def tier_list(code: str) -> ResponseReturnValue:
    tier = db.get_or_404(Tier, code)
    lang = current_language()
    cities = {c.code: c.name(lang) for c in listing.cities(db.session)}
    industries = {i.code: i.name(lang) for i in listing.industries(db.session)}
    form = TierListFilter(request.args)
    form.fill_choices(cities, industries)
    filters_ok = form.validate()
    try:
        position, cursor_ok = _page_position(request.args), True
    except InvalidCursor:
        position, cursor_ok = PagePosition(), False

    # Links on the page keep valid filters only; a refused filter is dropped from them.
    filters = form.values() if filters_ok else {}
    page, total = None, None
    if filters_ok and cursor_ok:
        page = _list_page(tier, position, filters)
        total = listing.published_count(db.session, tier.code, **filters)

    html = render_template(
        "ladder/tier_list.html",
        tier=tier,
        occupancy=queries.occupancy(db.session, tier),
        form=form,
        page=page,
        total=total,
        filtered=any(filters.values()),
        list_filters=filters,
        page_number=page.number if page else 1,
        cursor_ok=cursor_ok,
        city_names=cities,
        industry_names=industries,
        route_labels=ROUTE_LABELS,
        first_url=url_for(".tier_list", code=tier.code, **filters),
    )
    # A refused filter or cursor: the form with its errors, and no list.
    return html, (200 if page is not None else 422)


# --- the enterprise's eligibility self-check -------------------------------------------------


@bp.get("/enterprise/eligibility")
@access.enterprise_user
@with_enterprise
def self_check(enterprise: Enterprise) -> ResponseReturnValue:
    lang = current_language()
    now = clock.now()
    rank_names = queries.rank_names(db.session, lang)
    evaluations = []
    for tier, renewal in queries.applicable_tiers(db.session, enterprise):
        for route in criteria_versions.routes(tier.code):  # the champion rung's: both
            evaluation = queries.evaluate_enterprise(
                db.session, enterprise, tier.code, reference=now, lang=lang, route=route
            )
            words = evaluation_words(evaluation, tier=tier.code, rank_names=rank_names)
            evaluations.append((tier, renewal, evaluation, words))
    banned = enterprise.ban_until is not None and enterprise.ban_until > clock.today()
    return render_template(
        "ladder/self_check.html",
        enterprise=enterprise,
        evaluations=evaluations,
        banned=banned,
        lang=lang,
        label=label,
        status_text=STATUS_TEXT,
        route_labels=ROUTE_LABELS,
    )
