"""Enterprise self-service forms: the profile and one year's annual report.

Shape and units only; the rules live in ``operations``. Money is entered in 万元 with at
most four decimals and converted exactly (``Decimal``) to the integer 元 the registry
stores; counts are whole numbers; percentages 0–100 with at most two decimals.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    EmailField,
    Field,
    Form,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from registry.core import clock
from registry.core.forms import REQUIRED, NumberField, RegistryForm
from registry.core.web import strip_text
from registry.enterprises.checks import MAX_COUNT, PHONE_FAULT, PHONE_PATTERN, least_count
from registry.enterprises.models import COUNT_FIELDS, MONEY_FIELDS, PERCENT_FIELDS
from registry.enterprises.money import YUAN_PER_WAN

#: 元 in one 万元.
MONEY_DECIMALS = 4
PERCENT_DECIMALS = 2
# The largest amount a BIGINT column holds, in whole 万元; counts fit an INTEGER column
# (checks.MAX_COUNT).
MAX_WAN = 900_000_000_000_000


def _code(value: Any) -> str:
    """A select's value: a stored None is the empty choice (not the text "None")."""
    return "" if value is None else str(value)


def _not_in_the_future(_form: Form, field: Field) -> None:
    if field.data is not None and field.data > clock.today():
        raise ValidationError(_l("The founding date cannot be in the future."))


class ProfileForm(RegistryForm):
    """What an enterprise keeps current itself (PROFILE_FIELDS). The USCC is not here:
    it is shown, never changed."""

    name = StringField(
        _l("Enterprise name"),
        filters=[strip_text],
        validators=[DataRequired(REQUIRED), Length(max=200)],
    )
    name_en = StringField(
        _l("English name"), filters=[strip_text], validators=[Optional(), Length(max=200)]
    )
    city_code = SelectField(_l("City"), coerce=_code)
    county = StringField(
        _l("County or district"), filters=[strip_text], validators=[Optional(), Length(max=64)]
    )
    industry_code = SelectField(_l("Industry"), coerce=_code)
    founded_on = DateField(_l("Founding date"), validators=[Optional(), _not_in_the_future])
    legal_representative = StringField(
        _l("Legal representative"), filters=[strip_text], validators=[Optional(), Length(max=100)]
    )
    contact_name = StringField(
        _l("Contact person"), filters=[strip_text], validators=[Optional(), Length(max=100)]
    )
    contact_phone = StringField(
        _l("Phone"),
        filters=[strip_text],
        validators=[
            Optional(),
            Length(max=40),
            Regexp(PHONE_PATTERN, message=_l(PHONE_FAULT)),
        ],
    )
    contact_email = EmailField(
        _l("Email"), filters=[strip_text], validators=[Optional(), Email(), Length(max=254)]
    )
    address = StringField(
        _l("Address"), filters=[strip_text], validators=[Optional(), Length(max=300)]
    )
    main_products = TextAreaField(
        _l("Main products"), filters=[strip_text], validators=[Optional(), Length(max=2000)]
    )

    def fill_choices(
        self, cities: list[tuple[str, str]], industries: list[tuple[str, str]]
    ) -> None:
        """The seeded cities and industries as (code, name in the page language), after
        an explicit empty choice that a stored None selects: an unset field is shown as
        unset, never as the first city or industry."""
        self.city_code.choices = [("", _l("Not set")), *cities]
        self.industry_code.choices = [
            ("", _l("Not set, or none of the plan's industries")),
            *industries,
        ]
        for select in (self.city_code, self.industry_code):
            select.data = select.data or ""


class ReportYearForm(RegistryForm):
    """The year of a new annual report (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    year = SelectField(_l("Year"), coerce=int)


# One message per figure, whatever is wrong with it (not a number, negative, too many
# decimals): what the field accepts.


def _count(label: str, help_text: str, *, least: int = 0) -> NumberField:
    return NumberField(
        label,
        validators=[Optional()],
        description=help_text,
        message=_l("Enter a whole number of %(min)s or more.", min=least),
        minimum=least,
        maximum=MAX_COUNT,
        too_large=_l("Enter a whole number of at most %(max)s.", max=f"{MAX_COUNT:,}"),
    )


def _money(label: str, help_text: str) -> NumberField:
    return NumberField(
        label,
        validators=[Optional()],
        description=help_text,
        message=_l(
            "Enter an amount of 0 or more in 10,000 yuan, with at most %(places)s decimals.",
            places=MONEY_DECIMALS,
        ),
        minimum=0,
        maximum=MAX_WAN,
        places=MONEY_DECIMALS,
        too_large=_l("Enter an amount of at most %(max)s in 10,000 yuan.", max=f"{MAX_WAN:,}"),
    )


def _percent(label: str, help_text: str) -> NumberField:
    return NumberField(
        label,
        validators=[Optional()],
        description=help_text,
        message=_l(
            "Enter a percentage from 0 to 100, with at most %(places)s decimals.",
            places=PERCENT_DECIMALS,
        ),
        minimum=0,
        maximum=100,
        places=PERCENT_DECIMALS,
    )


class AnnualReportForm(RegistryForm):
    """The figures of one completed year (API.md, Annual report). Every figure is
    optional: a missing one leaves the checks that need it *unknown*."""

    # Staff
    employees = _count(
        _l("Employees"), _l("Average number of employees during the year, in persons.")
    )
    tech_staff = _count(
        _l("Technical staff"),
        _l(
            "Employees doing research, development or technical work, in persons. "
            "At most the number of employees."
        ),
    )
    rd_staff = _count(
        _l("R&D staff"),
        _l(
            "Employees working directly on research and development, in persons. "
            "At most the number of employees."
        ),
    )
    # Money
    revenue = _money(
        _l("Revenue"),
        _l("Operating revenue of the year, in 10,000 yuan. At most the total income."),
    )
    total_income = _money(
        _l("Total income"),
        _l("All income of the year (operating revenue and other income), in 10,000 yuan."),
    )
    total_assets = _money(
        _l("Total assets"), _l("Total assets at the end of the year, in 10,000 yuan.")
    )
    net_assets = _money(
        _l("Net assets"),
        _l(
            "Total assets less liabilities at the end of the year, in 10,000 yuan. "
            "At most the total assets."
        ),
    )
    total_cost = _money(
        _l("Total cost"), _l("Total costs and expenses of the year, in 10,000 yuan.")
    )
    rd_expense = _money(
        _l("R&D expense"),
        _l("Research and development expense of the year, in 10,000 yuan. At most the total cost."),
    )
    rd_domestic_expense = _money(
        _l("R&D expense in China"),
        _l(
            "The part of the R&D expense spent within China, in 10,000 yuan."
            " At most the R&D expense."
        ),
    )
    hightech_income = _money(
        _l("High-tech product income"),
        _l(
            "Income from high-tech products and services, in 10,000 yuan. At most the total income."
        ),
    )
    # Percentages
    main_business_share = _percent(
        _l("Main business share"),
        _l("Main business revenue as a percentage of revenue, 0 to 100, up to 2 decimals."),
    )
    debt_ratio = _percent(
        _l("Debt ratio"),
        _l("Liabilities as a percentage of total assets at the end of the year, 0 to 100."),
    )
    national_market_share = _percent(
        _l("National market share"),
        _l("Share of the main product in the national market, in percent, 0 to 100."),
    )
    product_revenue_share = _percent(
        _l("Main product's share of main-business revenue"),
        _l(
            "Sales of the product a single-champion application is for, in percent of "
            "main-business revenue, 0 to 100."
        ),
    )
    # Intellectual property and market
    ip_class1 = _count(
        _l("Class I intellectual property"),
        _l(
            "Number of invention patents, plant varieties, new drugs, integrated circuit "
            "layout designs and the like owned."
        ),
    )
    ip_class2 = _count(
        _l("Class II intellectual property"),
        _l("Number of utility models, designs and software copyrights owned."),
    )
    ip_transfers = _count(
        _l("Technology transfers"),
        _l("Number of scientific and technological achievements transferred in the year."),
    )
    niche_years = _count(
        _l("Years in the niche market"),
        _l("Whole years the enterprise has served its specialised market segment."),
    )
    global_market_rank = _count(
        _l("Global market rank of the main product"),
        _l("The main product's rank by global market share (1 = first). Empty if not known."),
        least=least_count("global_market_rank"),
    )
    years_in_field = _count(
        _l("Years in the main product's field"),
        _l("Whole years the enterprise has worked in the field of its main product."),
    )

    GROUPS = (
        (_l("Staff"), COUNT_FIELDS[:3]),
        (_l("Finances, in 10,000 yuan"), MONEY_FIELDS),
        (_l("Shares, in percent"), PERCENT_FIELDS),
        (_l("Intellectual property and market"), COUNT_FIELDS[3:]),
    )

    @classmethod
    def initial(cls, figures: Mapping[str, Any]) -> dict[str, Any]:
        """A stored report's figures in form units (money back to 万元, exactly)."""
        data: dict[str, Any] = {}
        for name, value in figures.items():
            if value is None:
                data[name] = None
            elif name in MONEY_FIELDS:
                data[name] = Decimal(value) / YUAN_PER_WAN
            elif name in PERCENT_FIELDS:
                data[name] = Decimal(str(value))  # the float's shortest form: 12.5, not 12.50…1
            else:
                data[name] = value
        return data

    def figures(self) -> dict[str, Any]:
        """The figures in registry units: money in integer 元, counts as integers,
        percentages as decimals; empty fields, and fields refused, are None."""
        values: dict[str, Any] = {}
        for name in COUNT_FIELDS + MONEY_FIELDS + PERCENT_FIELDS:
            value = None if self[name].errors else self[name].data
            if value is not None and name in MONEY_FIELDS:
                # At most four decimals (validated), so the product is a whole number.
                value = int(value * YUAN_PER_WAN)
            values[name] = value
        return values
