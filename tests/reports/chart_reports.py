"""Hand-made reports in the shape of API.md's "Report" table, and the names of the
seeded codes, for the chart tests: the charts are drawn from these, not from a database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from registry.reports.names import Names
from registry.reports.report import Column, Report, Suppressed

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
AS_OF = datetime(2025, 7, 14, 2, 0, tzinfo=UTC)
TIERS = ["tech_sme", "high_tech", "champion", "navigator", "chain_leader"]
STATES = ["draft", "submitted", "in_review", "changes_requested", "in_notice"]
#: The 24 months of the moves and progress reports, oldest first (as_of's last).
MONTHS = [f"{2023 + (7 + i) // 12}-{(7 + i) % 12 + 1:02d}" for i in range(24)]

LABELS = {
    "en": {
        "tier": "Rung",
        "quota": "Quota",
        "holders": "Holders",
        "reserved": "In notice",
        "occupancy": "Taken",
        "remaining": "Remaining",
        "percent_of_quota": "% of quota",
        "month": "Month",
        "moved_on": "Moved on",
        "moved_off": "Moved off",
        "net": "Net",
        "target": "Target",
        "city_code": "City",
        "industry_code": "Industry",
        "group": "Group",
        "total": "Total",
        "reporting": "Reporting",
        "revenue": "Revenue",
        "revenue_target": "2025 target",
        "rd_expense": "R&D expense",
        "rd_intensity": "R&D intensity",
        "draft": "Draft",
        "submitted": "Submitted",
        "in_review": "In review",
        "changes_requested": "Changes requested",
        "in_notice": "In public notice",
    },
    "zh": {
        "tier": "梯次",
        "quota": "名额",
        "holders": "在册",
        "reserved": "公示中",
        "occupancy": "已占用",
        "remaining": "剩余名额",
        "percent_of_quota": "占名额比例",
        "month": "月份",
        "moved_on": "进入",
        "moved_off": "退出",
        "net": "净变化",
        "target": "目标",
        "city_code": "设区市",
        "industry_code": "产业领域",
        "group": "产业类别",
        "total": "合计",
        "reporting": "报送企业数",
        "revenue": "营业收入",
        "revenue_target": "2025年规模目标",
        "rd_expense": "研发费用",
        "rd_intensity": "研发投入强度",
        "draft": "草稿",
        "submitted": "已提交",
        "in_review": "审核中",
        "changes_requested": "待补正",
        "in_notice": "公示中",
    },
}


def _seed(name: str) -> Any:
    return json.loads((SEEDS / name).read_text(encoding="utf-8"))


def names(lang: str) -> Names:
    """The seeded tiers, cities and industries named in ``lang``."""
    key = f"name_{lang}"
    return Names(
        tiers={t["code"]: t[key] for t in _seed("tiers.json")["tiers"]},
        cities={c["code"]: c[key] for c in _seed("cities.json")},
        industries={i["code"]: i[key] for i in _seed("industries.json")["industries"]},
    )


def _report(name: str, lang: str, keys: list[tuple[str, str]], rows, **more) -> Report:
    labels = LABELS[lang]
    columns = [Column(key, labels.get(key, names(lang).tier(key)), kind) for key, kind in keys]  # type: ignore[arg-type]
    return Report(name=name, title=name, as_of=AS_OF, columns=columns, rows=rows, **more)


def quota(lang: str = "en") -> Report:
    figures = [(5000, 3120, 45), (3000, 1500, 30), (100, 62, 3), (15, 9, 1), (8, 8, 0)]
    rows = [
        {
            "tier": tier,
            "quota": q,
            "holders": h,
            "reserved": r,
            "occupancy": h + r,
            "remaining": q - h - r,
            "percent_of_quota": round(100 * (h + r) / q, 2),
        }
        for tier, (q, h, r) in zip(TIERS, figures, strict=True)
    ]
    keys = ["tier", "quota", "holders", "reserved", "occupancy", "remaining", "percent_of_quota"]
    return _report("quota", lang, [(k, "integer") for k in keys], rows)


def pipeline(lang: str = "en") -> Report:
    rows = []
    for rank, tier in enumerate(TIERS):
        counts = {state: (7 * (rank + 1) + 3 * i) % 11 for i, state in enumerate(STATES)}
        rows.append({"tier": tier, **counts, "total": sum(counts.values())})
    keys = [("tier", "string"), *((s, "integer") for s in STATES), ("total", "integer")]
    return _report("pipeline", lang, keys, rows)


def moves(lang: str = "en") -> Report:
    rows = []
    for m, month in enumerate(MONTHS):
        for rank, tier in enumerate(TIERS):
            scale = [60, 30, 4, 1, 1][rank]
            on = (m * 7 + rank * 3) % (scale + 1)
            off = (m * 5 + rank) % (scale // 2 + 1)
            rows.append(
                {"month": month, "tier": tier, "moved_on": on, "moved_off": off, "net": on - off}
            )
    keys = [
        ("month", "month"),
        ("tier", "string"),
        ("moved_on", "integer"),
        ("moved_off", "integer"),
        ("net", "integer"),
    ]
    return _report("moves", lang, keys, rows)


#: Each tier's holders at the first point, its monthly change, and its projection.
PROGRESS = {
    "tech_sme": (2100, 40, {"status": "projected", "month": "2026-02"}),
    "high_tech": (1200, 12, {"status": "projected", "month": "2035-04"}),
    "champion": (90, 1, {"status": "reached", "month": None}),
    "navigator": (12, -0.2, {"status": "not_at_this_pace", "month": None}),
    "chain_leader": (2, 0.3, {"status": "projected", "month": "2025-10"}),
}
TARGETS = {"tech_sme": 5000, "high_tech": 3000, "champion": 100, "navigator": 15, "chain_leader": 8}


def progress(lang: str = "en") -> Report:
    rows = [
        {
            "month": month,
            "tier": tier,
            "holders": round(PROGRESS[tier][0] + PROGRESS[tier][1] * m),
            "target": TARGETS[tier],
        }
        for m, month in enumerate(MONTHS)
        for tier in TIERS
    ]
    projection = [{"tier": tier, **PROGRESS[tier][2]} for tier in TIERS]
    keys = [("month", "month"), ("tier", "string"), ("holders", "integer"), ("target", "integer")]
    return _report("progress", lang, keys, rows, extra={"projection": projection})


def tier_by_city(lang: str = "en") -> Report:
    codes = [c["code"] for c in _seed("cities.json")] + ["unknown"]
    rows = []
    for i, code in enumerate(codes):
        counts = {
            tier: (i * 37 + rank * 11) % [900, 400, 20, 4, 2][rank]
            for rank, tier in enumerate(TIERS)
        }
        if code == "360100":
            counts["tech_sme"] = 1480
        rows.append({"city_code": code, **counts, "total": sum(counts.values())})
    keys = [("city_code", "string"), *((t, "integer") for t in TIERS), ("total", "integer")]
    return _report("tier-by-city", lang, keys, rows)


def tier_by_industry(lang: str = "en") -> Report:
    industries = _seed("industries.json")["industries"]
    entries = [(i["code"], i["group"]) for i in industries] + [("other", None), ("unknown", None)]
    rows = []
    for n, (code, group) in enumerate(entries):
        counts = {
            tier: (n * 53 + rank * 7) % [500, 250, 12, 3, 2][rank]
            for rank, tier in enumerate(TIERS)
        }
        rows.append(
            {"industry_code": code, "group": group, **counts, "total": sum(counts.values())}
        )
    keys = [
        ("industry_code", "string"),
        ("group", "string"),
        *((t, "integer") for t in TIERS),
        ("total", "integer"),
    ]
    return _report("tier-by-industry", lang, keys, rows)


#: Coverage rows: code, reporting, revenue (元), 2025 target (元), R&D (元).
COVERAGE = [
    ("aviation", 14, 42_000_000_000, 260_000_000_000, 1_050_000_000),
    ("electronic_info", 120, 380_000_000_000, 1_200_000_000_000, 9_100_000_000),
    ("equipment", 95, 210_000_000_000, 800_000_000_000, 4_900_000_000),
    ("tcm_biomedicine", 40, 96_000_000_000, 200_000_000_000, 2_600_000_000),
    ("new_energy", 2, None, 250_000_000_000, None),
    ("new_materials", 77, 150_000_000_000, 600_000_000_000, 2_400_000_000),
    ("new_digital", 30, 18_000_000_000, None, 720_000_000),
    ("smart_equipment", 25, 12_500_000_000, None, 310_000_000),
    ("energy_saving_env", 18, 9_000_000_000, None, 150_000_000),
    ("hydrogen", 1, None, None, None),
    ("life_health", 5, 3_000_000_000, None, 90_000_000),
    ("flexible_electronics", 2, None, None, None),
    ("micro_nano_optics", 3, 1_200_000_000, None, 60_000_000),
    ("quantum", 1, None, None, None),
    ("other", 210, 95_000_000_000, None, 1_100_000_000),
]


def coverage(lang: str = "en", *, suppress: bool = True) -> Report:
    rows, suppressed = [], []
    for index, (code, reporting, revenue, target, rd) in enumerate(COVERAGE):
        rows.append(
            {
                "industry_code": code,
                "reporting": reporting,
                "revenue": revenue,
                "revenue_target": target,
                "rd_expense": rd,
                "rd_intensity": None if revenue is None else round(100 * rd / revenue, 2),
            }
        )
        if revenue is None and suppress:
            suppressed += [
                Suppressed(index, key) for key in ("revenue", "rd_expense", "rd_intensity")
            ]
    keys = [
        ("industry_code", "string"),
        ("reporting", "integer"),
        ("revenue", "integer"),
        ("revenue_target", "integer"),
        ("rd_expense", "integer"),
        ("rd_intensity", "percent"),
    ]
    by_tier = [
        {"tier": tier, "reporting": n, "rd_intensity": v}
        for tier, n, v in zip(TIERS, [400, 180, 40, 9, 2], [1.4, 2.6, 3.1, 2.2, None], strict=True)
    ]
    extra = {"by_tier": by_tier, "plan_rd_intensity": 2}
    return _report("coverage", lang, keys, rows, suppressed=suppressed, extra=extra)


def empty(name: str, lang: str = "en") -> Report:
    """``name``'s report with its columns and no row (nothing recorded yet)."""
    full = globals()[name.replace("-", "_")](lang)
    full.rows = []
    full.extra = {}
    return full
