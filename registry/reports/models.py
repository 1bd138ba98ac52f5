"""The plan's 2025 targets the reports compare the ladder with (seeds/plan_targets.json)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import Model


class PlanTarget(Model):
    """One target of the plan (赣府厅字〔2022〕69号) for 2025: a scale target (``revenue``,
    in 元) of one industry or of several sharing it (TCM and biomedicine), or the R&D
    intensity (``rd_intensity``, percent) of the emerging industries, which covers every
    industry of the plan and so lists none. Seeded; nothing edits it."""

    __tablename__ = "plan_targets"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: The plan's industry codes the target covers (empty: all of them).
    industries: Mapped[list[str]] = mapped_column(JSON, default=list)
    revenue: Mapped[int | None] = mapped_column(BigInteger)
    rd_intensity: Mapped[float | None] = mapped_column(Numeric(5, 2, asdecimal=False))
