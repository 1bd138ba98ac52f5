"""The champion rung's two routes (DOMAIN.md "champion, route single_champion") and the
criteria versions they are judged by: every 单项冠军 threshold passes at its bound and
fails just past it, under the 2016 figures and the 2023 revision."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from registry.core.errors import ValidationFailed
from registry.ladder.criteria_versions import merged, route_of, seeded_versions
from registry.ladder.eligibility import evaluate, label
from tests.ladder.test_eligibility import (
    CHAMPION_OK,
    SEEDED,
    SUBJECT,
    check,
    report,
    tier,
)

VERSIONS = {when: criteria for when, criteria, _basis in seeded_versions(SEEDED["champion"])}
BASES = {when: basis for when, _criteria, basis in seeded_versions(SEEDED["champion"])}
V2016, V2023 = date(2022, 8, 1), date(2023, 9, 14)
# Noon in Shanghai on a day under each version.
UNDER_2016 = datetime(2023, 3, 1, 4, 0, tzinfo=UTC)
UNDER_2023 = datetime(2025, 3, 1, 4, 0, tzinfo=UTC)
#: Figures that meet every single-champion threshold of both versions.
SINGLE_OK = CHAMPION_OK | {
    "global_market_rank": 1,
    "years_in_field": 12,
    "product_revenue_share": 80,
    "revenue": 500_000_000,
    "main_business_share": 100,
}


def single(version: date, *reports, **kwargs):
    rule = replace(
        tier("champion"),
        criteria=VERSIONS[version],
        criteria_version=version,
        route="single_champion",
    )
    reference = UNDER_2016 if version == V2016 else UNDER_2023
    return evaluate(rule, SUBJECT, reports, reference=reference, **kwargs)


def test_the_seed_holds_both_versions_with_their_sources():
    assert list(VERSIONS) == [V2016, V2023]
    old, new = VERSIONS[V2016]["single_champion"], VERSIONS[V2023]["single_champion"]
    assert "105号" in BASES[V2016] and "138号" in BASES[V2023]
    assert (old["years_in_field_min"], old["new_product_years_min"]) == (10, 3)
    assert (new["years_in_field_min"], new["new_product_years_min"]) == (10, 5)
    assert (old["product_revenue_share_min"], new["product_revenue_share_min"]) == (70, None)
    assert (new["main_revenue_avg_min"], new["main_revenue_avg_srdi_min"]) == (
        400_000_000,
        200_000_000,
    )
    # The later version changes only the single-champion route: the SRDI thresholds stay.
    srdi = {k: v for k, v in VERSIONS[V2023].items() if k != "single_champion"}
    assert srdi == {k: v for k, v in VERSIONS[V2016].items() if k != "single_champion"}


def test_check_codes_of_each_version():
    codes_2016 = [c.code for c in single(V2016, report(**SINGLE_OK)).checks]
    assert codes_2016 == [
        "prerequisite",
        "manufacturing",
        "global_market_rank",
        "years_in_field",
        "product_revenue_share",
    ]
    codes_2023 = [c.code for c in single(V2023, report(**SINGLE_OK)).checks]
    assert codes_2023 == [
        "prerequisite",
        "manufacturing",
        "global_market_rank",
        "years_in_field",
        "main_revenue_avg",
    ]


@pytest.mark.parametrize("version", [V2016, V2023])
def test_all_good_is_eligible_with_the_reviewer_confirming(version):
    evaluation = single(version, report(**SINGLE_OK))
    assert evaluation.eligible
    manual = {c.code for c in evaluation.checks if c.status == "manual"}
    assert manual == {"manufacturing", "global_market_rank", "years_in_field"}
    shape = evaluation.to_dict()
    assert (shape["route"], shape["criteria_version"]) == ("single_champion", version.isoformat())


@pytest.mark.parametrize("version", [V2016, V2023])
@pytest.mark.parametrize(
    ("rank", "status"), [(1, "manual"), (3, "manual"), (4, "fail"), (None, "unknown")]
)
def test_global_rank_top_three(version, rank, status):
    c = check(
        single(version, report(**SINGLE_OK | {"global_market_rank": rank})), "global_market_rank"
    )
    assert (c.status, c.operator, c.required, c.actual) == (status, "<=", 3, rank)


@pytest.mark.parametrize(
    ("version", "years", "status", "alternative"),
    [
        (V2016, 10, "manual", None),
        (V2016, 9, "manual", "new_product"),
        (V2016, 3, "manual", "new_product"),
        (V2016, 2, "fail", None),
        (V2023, 10, "manual", None),
        (V2023, 9, "manual", "new_product"),
        (V2023, 5, "manual", "new_product"),
        (V2023, 4, "fail", None),
        (V2023, None, "unknown", None),
    ],
)
def test_years_in_field_and_the_new_product_bound(version, years, status, alternative):
    figures = report(**SINGLE_OK | {"years_in_field": years})
    c = check(single(version, figures), "years_in_field")
    assert (c.status, c.alternative, c.required) == (status, alternative, 10)


@pytest.mark.parametrize(
    ("share", "status", "actual"),
    [(70, "pass", 70), (100, "pass", 100), (69.99, "fail", 69.99), ("69.995", "fail", 69.99)],
)
def test_product_revenue_share_2016(share, status, actual):
    c = check(
        single(V2016, report(**SINGLE_OK | {"product_revenue_share": share})),
        "product_revenue_share",
    )
    assert (c.status, c.required, c.actual) == (status, 70, actual)


def test_product_revenue_share_missing_is_unknown_and_not_asked_from_2023():
    figures = report(**SINGLE_OK | {"product_revenue_share": None})
    assert check(single(V2016, figures), "product_revenue_share").status == "unknown"
    assert not single(V2016, figures).eligible
    assert "product_revenue_share" not in {c.code for c in single(V2023, figures).checks}
    assert single(V2023, figures).eligible


def _three_years(revenue_each: list[int], share: int = 100):
    return [
        report(year, **SINGLE_OK | {"revenue": revenue, "main_business_share": share})
        for year, revenue in zip((2022, 2023, 2024), revenue_each, strict=True)
    ]


@pytest.mark.parametrize(
    ("revenues", "share", "status", "alternative"),
    [
        ([400_000_000] * 3, 100, "pass", None),
        ([300_000_000, 400_000_000, 500_000_000], 100, "pass", None),  # the average
        ([800_000_000] * 3, 50, "pass", None),  # main business = revenue × share
        ([400_000_000, 400_000_000, 399_999_999], 100, "manual", "srdi_enterprise"),
        ([200_000_000] * 3, 100, "manual", "srdi_enterprise"),
        ([200_000_000, 200_000_000, 199_999_999], 100, "fail", None),
    ],
)
def test_main_revenue_average_2023(revenues, share, status, alternative):
    c = check(single(V2023, *_three_years(revenues, share)), "main_revenue_avg")
    assert (c.status, c.alternative, c.required, c.unit) == (
        status,
        alternative,
        400_000_000,
        "CNY",
    )


def test_main_revenue_average_needs_every_year_in_the_window():
    reports = _three_years([500_000_000] * 3)
    reports[0] = replace(reports[0], main_business_share=None)
    assert check(single(V2023, *reports), "main_revenue_avg").status == "unknown"
    # Missing years are skipped, never zero: one year on file is its own average.
    assert check(single(V2023, reports[-1]), "main_revenue_avg").status == "pass"


def test_prerequisite_holds_on_both_routes():
    off = replace(SUBJECT, current_rank=None)
    rule = replace(tier("champion"), criteria=VERSIONS[V2023], route="single_champion")
    evaluation = evaluate(rule, off, [report(**SINGLE_OK)], reference=UNDER_2023)
    assert check(evaluation, "prerequisite").status == "fail" and not evaluation.eligible


def test_srdi_route_is_the_default_and_unchanged():
    rule = replace(tier("champion"), criteria=VERSIONS[V2023], route="srdi")
    evaluation = evaluate(rule, SUBJECT, [report(**CHAMPION_OK)], reference=UNDER_2023)
    assert [c.code for c in evaluation.checks][-1] == "srdi_score"
    assert evaluation.to_dict()["route"] == "srdi"


def test_routes_by_name():
    assert route_of("champion", None) == "srdi" == route_of("champion", "")
    assert route_of("champion", "single_champion") == "single_champion"
    assert route_of("tech_sme", "single_champion") is None
    assert route_of("tech_sme", None) is None
    with pytest.raises(ValidationFailed) as refused:
        route_of("champion", "fast_track")
    assert refused.value.errors[0]["field"] == "route"


def test_a_later_version_lists_only_its_changes():
    assert merged({"a": 1, "b": {"x": 1, "y": 2}}, {"b": {"y": None}, "c": 3}) == {
        "a": 1,
        "b": {"x": 1, "y": None},
        "c": 3,
    }


def test_new_codes_have_labels_in_both_languages():
    for code in (
        "manufacturing",
        "years_in_field",
        "new_product",
        "product_revenue_share",
        "main_revenue_avg",
        "srdi_enterprise",
        "little_giant",
    ):
        assert label(code) and label(code, "en") and label(code) != label(code, "en")
