"""Where the demo's enterprises are registered, and their USCCs.

95 % have a Jiangxi area — a city (``360100``) or one of its counties (``360121``) — and
5 % one of other provinces (city null), by the weights of ``registry.demo.words``. The
j-th of an area's k enterprises draws its organisation-code base from the j-th of k equal
slots of the 31⁸ possible bases, so the codes of a run never repeat and come out in
ascending order: inserts into the code-ordered indexes are appends (enterprise ids follow
code order).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass

from registry.demo.plan import DemoSpec
from registry.demo.words import ELSEWHERE, ELSEWHERE_SHARE, JIANGXI
from registry.enterprises import uscc as uscc_codes


@dataclass(frozen=True)
class Area:
    """A registration area: a city, one of its counties, or a district elsewhere."""

    code: str
    city_code: str | None
    city_zh: str  # as in an address (南昌市)
    pinyin: str
    phone: str
    counties: tuple[str, ...]  # county names to draw from
    prefixes: tuple[str, ...]  # name prefixes to draw from


def _areas(known_cities: frozenset[str]) -> tuple[list[Area], list[float]]:
    areas: list[Area] = []
    weights: list[float] = []
    total = sum(city[4] for city in JIANGXI)
    for code, short, pinyin, phone, weight, counties in JIANGXI:
        city = code if code in known_cities else None  # uscc.city_code of codes in this area
        names = tuple(name for _, name in counties)
        share = (1 - ELSEWHERE_SHARE) * weight / total
        # Registered at the city (60 %) or at one of its counties (40 %).
        areas.append(Area(code, city, short + "市", pinyin, phone, names, ("江西", short, short)))
        weights.append(share * 0.6)
        for county_code, county in counties:
            county_short = county[:-1] if len(county) > 2 else county
            prefixes = ("江西", short, county_short)
            areas.append(Area(county_code, city, short + "市", pinyin, phone, (county,), prefixes))
            weights.append(share * 0.4 / len(counties))
    for code, city, district, pinyin, phone in ELSEWHERE:
        areas.append(Area(code, None, city, pinyin, phone, (district,), (city[:-1],)))
        weights.append(ELSEWHERE_SHARE / len(ELSEWHERE))
    return areas, weights


_BASES = 31**8
_HALF = 31**4
_PAIRS = tuple(a + b for a in uscc_codes.ALPHABET for b in uscc_codes.ALPHABET)


def org_base(x: int) -> str:
    """The 8-character organisation-code base numbered ``x`` (0 … 31⁸−1), in code order."""
    hi, lo = divmod(x, _HALF)
    a, b = divmod(hi, 961)
    c, d = divmod(lo, 961)
    return _PAIRS[a] + _PAIRS[b] + _PAIRS[c] + _PAIRS[d]


def area_counts(count: int, known_cities: frozenset[str]) -> list[tuple[Area, int]]:
    """How many of the run's enterprises each area gets (weights, largest remainders),
    in code order."""
    areas, weights = _areas(known_cities)
    total = sum(weights)
    exact = [count * w / total for w in weights]
    counts = [int(x) for x in exact]
    for i in sorted(range(len(areas)), key=lambda i: counts[i] - exact[i])[: count - sum(counts)]:
        counts[i] += 1
    return sorted(
        ((a, n) for a, n in zip(areas, counts, strict=True) if n), key=lambda p: p[0].code
    )


def run_codes(
    rng: random.Random, areas: list[tuple[Area, int]], start: int, n: int
) -> Iterator[tuple[Area, str]]:
    """The codes of the run's positions ``start`` … ``start + n − 1``: the run's codes in
    ascending order. The j-th of an area's k enterprises draws its base from the j-th of k
    equal slots of the base range, so codes never repeat in a run and come out sorted
    (which keeps the inserts into the code-ordered indexes appends)."""
    offset = 0
    for area, k in areas:
        if offset + k > start and offset < start + n:
            for j in range(max(0, start - offset), min(k, start + n - offset)):
                low = j * _BASES // k
                high = (j + 1) * _BASES // k
                yield (
                    area,
                    uscc_codes.make_uscc(
                        area.code, org_base(low + int(rng.random() * (high - low)))
                    ),
                )
        offset += k


@functools.lru_cache(maxsize=8)
def layout(spec: DemoSpec) -> tuple[list[tuple[Area, int]], list[int]]:
    """The run's areas with their counts (code order), and the number of rows that may
    hold a tier (a Jiangxi city, or every row when none is known) before each batch."""
    areas = area_counts(spec.count, spec.known_cities)
    eligible = {a.code for a, _ in areas if a.city_code} or {a.code for a, _ in areas}
    boundaries = spec.starts
    before = []
    for boundary in boundaries:
        offset = seen = 0
        for area, k in areas:
            if area.code in eligible:
                seen += max(0, min(k, boundary - offset))
            offset += k
        before.append(seen)
    return areas, before


def holders_in(spec: DemoSpec, index: int) -> dict[str, int]:
    """Holders per tier in batch ``index``: each tier's total spread over the batches in
    proportion to the rows that may hold a tier (enterprises of a Jiangxi city)."""
    _, before = layout(spec)
    total, lo, hi = before[-1], before[index], before[index + 1]
    plan = {code: (hi * k // total - lo * k // total) if total else 0 for code, k in spec.plan}
    return {code: k for code, k in plan.items() if k}
