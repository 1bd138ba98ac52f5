"""Eligibility of an enterprise for a tier: the self-check and the reviewer checklist.

PRODUCT.md "Eligibility". Pure Python (no Flask, no database): callers hand in plain objects — the
tier with its thresholds from ``seeds/criteria.json``, the enterprise context and its
annual reports — and get an :class:`Evaluation` whose :meth:`Evaluation.to_dict` is the
API's Eligibility shape. The per-tier rules live in :mod:`registry.ladder.criteria`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from registry.ladder.checks import (
    Check,
    Facts,
    Report,
    Score,
    ScorePart,
    Subject,
    TierRule,
)
from registry.ladder.criteria import RULES

__all__ = [
    "LABELS",
    "Check",
    "Evaluation",
    "Report",
    "Score",
    "ScorePart",
    "Subject",
    "TierRule",
    "evaluate",
    "label",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")

# code → (中文, English) for check codes, alternatives, score parts and info keys.
LABELS: dict[str, tuple[str, str]] = {
    # tech_sme
    "employees_max": ("职工总数", "Employees"),
    "revenue_max": ("年销售收入", "Annual revenue"),
    "total_assets_max": ("资产总额", "Total assets"),
    "industry_allowed": ("不属于禁止、限制类行业", "Not in a prohibited or restricted industry"),
    "clean_record": ("本年及上年无不良记录", "Clean record this year and last"),
    "tsme_score": ("科技型中小企业评价得分", "Tech-based SME evaluation score"),
    "direct_pass": ("直接认定条件", "Direct pass"),
    "staff": ("科技人员指标", "Technical staff"),
    "rd": ("研发投入指标", "R&D investment"),
    "ip": ("科技成果指标", "Intellectual property"),
    # high_tech
    "registered_days": ("注册成立天数", "Days since registration"),
    "core_ip": ("拥有核心知识产权", "Owns core intellectual property"),
    "tech_field": (
        "属于国家重点支持的高新技术领域",
        "In a high-tech field supported by the state",
    ),
    "tech_staff_ratio": ("科技人员占职工总数比例", "Technical staff share of employees"),
    "rd_revenue_ratio": ("研发费用占营业收入比例", "R&D expense to revenue"),
    "rd_domestic_ratio": ("境内研发费用占研发费用比例", "Domestic share of R&D expense"),
    "hightech_income_ratio": (
        "高新技术产品（服务）收入占总收入比例",
        "High-tech product income share of total income",
    ),
    "innovation_score": ("企业创新能力评价得分", "Innovation capability score"),
    "no_major_accident": (
        "上一年度无重大安全、质量事故或严重环境违法行为",
        "No major accident or serious violation last year",
    ),
    # champion
    "prerequisite": ("前置梯度", "Prerequisite rung"),
    "niche_years": ("从事特定细分市场年限", "Years in its niche market"),
    "rd_expense_min": ("研发费用总额", "R&D expense"),
    "revenue_min": ("营业收入总额", "Revenue"),
    "equity_financing": ("近两年新增股权融资", "Equity financing in the last two years"),
    "srdi_score": ("专精特新评价得分", "SRDI evaluation score"),
    "direct_route": ("直通条件", "Direct route"),
    "main_business_share": ("主营业务收入占营业收入比重", "Main business share of revenue"),
    "debt_ratio": ("资产负债率", "Debt ratio"),
    "rd_investment": ("研发费用投入", "R&D expense"),
    "rd_staff_ratio": ("研发人员占比", "R&D staff share of employees"),
    "global_market_rank": ("主导产品全球市场占有率排名", "Global market rank of main product"),
    # champion, route single_champion
    "manufacturing": ("属于制造业企业", "A manufacturing enterprise"),
    "years_in_field": ("从事相关领域年限", "Years in the product's field"),
    "new_product": ("新产品年限条件", "The new-product condition"),
    "product_revenue_share": (
        "申请产品销售收入占主营业务收入比重",
        "The product's share of main-business revenue",
    ),
    "main_revenue_avg": ("近三年平均主营业务收入", "Average main-business revenue, last 3 years"),
    "little_giant": (
        "经确认为专精特新“小巨人”企业",
        "Confirmed a little giant (national specialised and innovative SME)",
    ),
    "srdi_enterprise": (
        "省级以上专精特新中小企业条件",
        "The condition for a provincial or national SRDI enterprise",
    ),
    # navigator, chain_leader
    "chain_leadership": ("产业链引领地位", "Leadership of its industrial chain"),
    "chain_chief_endorsement": ("链长推荐", "Chain chief's endorsement"),
}


def label(code: str, lang: str = "zh") -> str:
    """The label of a code in ``lang`` ("zh" or "en"; anything else falls back to zh)."""
    zh, en = LABELS[code]
    return en if lang == "en" else zh


@dataclass(frozen=True)
class Evaluation:
    """An enterprise measured against one tier at one moment.

    ``info`` carries figures shown to reviewers that are not checks (champion:
    ``global_market_rank``).
    """

    tier: str
    year: int | None  # the latest report year used; None without reports
    evaluated_at: datetime
    eligible: bool
    checks: tuple[Check, ...]
    score: Score | None
    info: dict[str, Any] = field(default_factory=dict)
    route: str | None = None  # the champion rung's route; None for the other tiers
    criteria_version: date | None = None  # effective_from of the criteria applied
    # The thresholds applied (not in the API shape: an application keeps them).
    criteria: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The API's Eligibility JSON shape (``info`` only when there is some)."""
        data: dict[str, Any] = {
            "tier": self.tier,
            "year": self.year,
            "evaluated_at": self.evaluated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eligible": self.eligible,
            "checks": [
                {
                    "code": check.code,
                    "label": check.label,
                    "status": check.status,
                    "operator": check.operator,
                    "required": check.required,
                    "actual": check.actual,
                    "unit": check.unit,
                    "alternative": check.alternative,
                }
                for check in self.checks
            ],
            "score": None,
            "route": self.route,
            "criteria_version": (
                None if self.criteria_version is None else self.criteria_version.isoformat()
            ),
        }
        if self.score is not None:
            data["score"] = {
                "total": self.score.total,
                "pass_mark": self.score.pass_mark,
                "parts": [
                    {"code": part.code, "points": part.points, "max": part.max}
                    for part in self.score.parts
                ],
            }
        if self.info:
            data["info"] = dict(self.info)
        return data


def evaluate(
    tier: TierRule,
    subject: Subject,
    reports: Sequence[Report],
    *,
    reference: datetime,
    lang: str = "zh",
    year: int | None = None,
) -> Evaluation:
    """Evaluate ``subject`` for ``tier`` (DOMAIN.md "Tier criteria").

    ``reference`` is the aware moment of the evaluation (now for the self-check, the
    submission time for the snapshot); its Asia/Shanghai date counts the days since
    founding. ``year`` limits the reports to those up to that year. The latest report
    in range drives the one-year rules; three-year rules use the years latest−2 …
    latest that exist. ``eligible`` is true when no check is ``fail`` or ``unknown``.
    """
    if reference.tzinfo is None or reference.utcoffset() is None:
        raise ValueError("reference must be an aware datetime")
    rule = RULES.get(tier.code)
    if rule is None:
        raise ValueError(f"no eligibility rules for tier {tier.code!r}")

    by_year = {report.year: report for report in reports if year is None or report.year <= year}
    latest_year = max(by_year, default=None)
    window: tuple[Report, ...] = ()
    if latest_year is not None:
        window = tuple(by_year[y] for y in range(latest_year - 2, latest_year + 1) if y in by_year)
    facts = Facts(
        tier=tier,
        subject=subject,
        latest=None if latest_year is None else by_year[latest_year],
        window=window,
        today=reference.astimezone(SHANGHAI).date(),
        label=lambda code: label(code, lang),
    )
    outcome = rule(facts)
    return Evaluation(
        tier=tier.code,
        year=latest_year,
        evaluated_at=reference,
        eligible=all(check.status in ("pass", "manual") for check in outcome.checks),
        checks=outcome.checks,
        score=outcome.score,
        info=outcome.info,
        route=tier.route,
        criteria_version=tier.criteria_version,
        criteria=tier.criteria,
    )
