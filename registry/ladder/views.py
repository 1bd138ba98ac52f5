"""Public pages of the ladder: the home page and each tier's published list."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Form, SelectField

from registry.core import access, clock
from registry.core.i18n import current_language
from registry.core.pagination import InvalidCursor, decode_cursor, page_of
from registry.core.web import nav_item, one_of_the_choices, public
from registry.enterprises.models import Enterprise
from registry.enterprises.views import with_enterprise
from registry.extensions import db
from registry.ladder import listing, queries
from registry.ladder.eligibility import label
from registry.ladder.labels import STATUS_TEXT, check_words
from registry.ladder.models import Tier

bp = Blueprint("ladder", __name__)

nav_item("ladder.self_check", _l("Self-check"), {"enterprise"}, order=12)


@bp.app_template_filter("percent")
def percent_text(value: float) -> str:
    """12.5 → "12.5", 100.0 → "100", 0.02 → "0.02" (at most two decimals)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


@bp.app_template_global()
def tier_name(code: str) -> str:
    """A tier's name in the page's language, for any page that shows a rung."""
    tier = db.session.get(Tier, code)
    return tier.name(current_language()) if tier else code


@bp.get("/")
@public
def home() -> str:
    return render_template("ladder/home.html", overview=queries.ladder_overview(db.session))


class TierListFilter(Form):
    """The filters of a published list (GET, so no CSRF token; empty = all)."""

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


def _cursor_position(raw: str | None) -> tuple[str | None, int]:
    """The USCC to continue after and the page number the cursor leads to."""
    if raw is None:
        return None, 1
    after, number = decode_cursor(raw, str, int)
    if number < 2:
        raise InvalidCursor("The page cursor is malformed.")
    return after, number


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
        after, page_number = _cursor_position(request.args.get("after"))
        cursor_ok = True
    except InvalidCursor:
        after, page_number, cursor_ok = None, 1, False

    # Links on the page keep valid filters only; a refused filter is dropped from them.
    filters = (
        {"city": form.city.data or None, "industry": form.industry.data or None}
        if filters_ok
        else {}
    )
    page, next_url = None, None
    if filters_ok and cursor_ok:
        size = current_app.config["PAGE_SIZE"]
        rows = listing.published_rows(db.session, tier.code, limit=size + 1, after=after, **filters)
        page = page_of(rows, size, lambda row: (row.uscc, page_number + 1))
        if page.next_cursor:
            next_url = url_for(".tier_list", code=tier.code, after=page.next_cursor, **filters)

    html = render_template(
        "ladder/tier_list.html",
        tier=tier,
        occupancy=queries.occupancy(db.session, tier),
        form=form,
        page=page,
        page_number=page_number,
        cursor_ok=cursor_ok,
        city_names=cities,
        industry_names=industries,
        first_url=url_for(".tier_list", code=tier.code, **filters),
        next_url=next_url,
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
    rank_names = {t.rank: t.name(lang) for t in queries.tiers(db.session)}
    evaluations = []
    for tier, renewal in queries.applicable_tiers(db.session, enterprise):
        evaluation = queries.evaluate_enterprise(
            db.session, enterprise, tier.code, reference=now, lang=lang
        )
        shape = evaluation.to_dict()
        words = {
            check["code"]: check_words(
                check,
                tier=tier.code,
                score=shape["score"],
                rank_names=rank_names,
                criteria=tier.criteria,
            )
            for check in shape["checks"]
        }
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
    )
