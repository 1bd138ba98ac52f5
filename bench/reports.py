"""P7 and P10 (QUALITY.md): the statistics and every report, as JSON and as a page, at 1M
enterprises, on SQLite or PostgreSQL.

Run from the checkout, with the project's virtualenv::

    .venv/bin/python bench/reports.py                          # SQLite, N = 1 000 000
    .venv/bin/python bench/reports.py --database tmp/r1m.db    # built once, then reused
    .venv/bin/python bench/reports.py --count 3000 --calls 10  # a quick one

    url=$(bash tests/pg_server.sh start)                       # a private PostgreSQL 15
    .venv/bin/python bench/reports.py --engine postgresql --database-url "$url"
    bash tests/pg_server.sh stop                               # and its data is gone

(``--database-url`` may also come from ``BENCH_DATABASE_URL``; ``--engine both`` runs
SQLite, then PostgreSQL.)

Steps, for each engine:

1. the registry: a SQLite file (``--database PATH``, kept and reused when it already
   holds enterprises; without it, one in a temporary directory removed afterwards
   unless ``--keep``) or the PostgreSQL database of the URL (reused when it holds
   enterprises; the one of ``tests/pg_server.sh`` goes with its ``stop``). An empty one
   is built with ``db upgrade``, ``seed`` and ``demo --count N --random-seed 1`` (not
   timed: that is P5, bench/demo.py; for N = 1 000 000 about 1 minute on SQLite and 4
   on PostgreSQL on a quiet machine, 2.7 GB of SQLite; the holders have annual reports
   for the last three completed years, so ``coverage`` has its data); one reused is
   brought to the latest migration. A reviewer with a password and a ``registry:read``
   token;
2. the registry served by gunicorn as ``make run`` serves it (gthread, 2 workers, 8
   threads), rate limiting on with the token limit raised above the offered load;
3. live HTTP, one client: for every route, one warm-up call, then ``--calls`` calls one
   after the other, each timed from the request to the last byte of the answer, and
   checked (200; a JSON report with its rows; a page with its inline SVG).
   ``/api/v1/stats`` and ``/api/v1/reports/<name>`` with the reviewer's bearer token,
   ``/reports`` and ``/reports/<name>`` signed in as the reviewer (one login through
   the form), so that ``pipeline`` is among them and ``coverage`` is in full;
4. the reference, in the same run on the same database: the SQL statements the
   route's report builders send (captured once from the registry's own code in this
   process, as its driver received them, parameters included), replayed with the raw
   driver (``sqlite3`` with the registry's connection settings, or ``psycopg``) on one
   connection in one transaction per call, every row fetched, timed the same way (a
   page has its report's reads; the overview those of quota, moves and tier-by-city).
   It is what the database alone costs for the figures, so the ratio tells a slow
   machine (both slow) from a slow registry (the ratio grows).

It prints, per route, the median, p95 and max in milliseconds, the target and whether
it is met, the workers' CPU time per call (from /proc: what a call costs the registry
whatever else the machine runs; on PostgreSQL without the database server's), and the
reference's p95 with the ratio p95 / reference p95, and the load average seen. Targets: P7
p95 ≤ 100 ms for the statistics, every report's JSON and page and the overview;
P10 p95 ≤ 500 ms for ``coverage`` (JSON and page). Machines are shared and noisy:
compare ratios between runs rather than milliseconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from served import (  # noqa: E402  (the benches' registry, served)
    SECRET,
    Registry,
    children,
    free_port,
    prepare,
    serve,
    signed_in,
)

P7_MS, P10_MS = 100.0, 500.0
#: The reports of the catalogue (registry.reports.catalogue), in its order.
REPORTS = ("quota", "tier-by-city", "tier-by-industry", "pipeline", "moves", "progress")
COVERAGE = "coverage"
#: The reports the overview page builds (registry.reports.page_views.OVERVIEW).
OVERVIEW = ("quota", "moves", "tier-by-city")


# -- What is measured ---------------------------------------------------------------------


@dataclass
class Route:
    label: str
    path: str
    page: bool  # HTML, signed in; else JSON with the bearer token
    target_ms: float
    #: The reports whose reads make the reference ("stats": the statistics' reads).
    reads: tuple[str, ...]


def routes() -> list[Route]:
    found = [Route("GET /api/v1/stats", "/api/v1/stats", False, P7_MS, ("stats",))]
    for name in (*REPORTS, COVERAGE):
        target = P10_MS if name == COVERAGE else P7_MS
        found.append(
            Route(f"GET /api/v1/reports/{name}", f"/api/v1/reports/{name}", False, target, (name,))
        )
        found.append(Route(f"page /reports/{name}", f"/reports/{name}", True, target, (name,)))
    found.append(Route("page /reports (overview)", "/reports", True, P7_MS, OVERVIEW))
    return found


def check(route: Route, answer: requests.Response) -> None:
    """Refuse a wrong answer: a fast error is no figure."""
    if answer.status_code != 200:
        raise RuntimeError(f"{route.path} answered {answer.status_code}")
    if route.page:
        if "<svg" not in answer.text:
            raise RuntimeError(f"{route.path}: no inline SVG on the page")
    elif route.reads == ("stats",):
        if not answer.json()["tiers"]:
            raise RuntimeError(f"{route.path}: no tiers")
    elif not answer.json()["rows"]:
        raise RuntimeError(f"{route.path}: no rows")


def timed(call: Callable[[], object], calls: int, *, warm_up: bool = True) -> list[float]:
    """Milliseconds of each of ``calls`` calls, after one warm-up call."""
    if warm_up:
        call()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def workers_cpu_ms(workers: list[int]) -> float:
    """CPU time (user + system, every thread) the server's workers have used so far."""
    total = 0
    for pid in workers:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total * 1000 / os.sysconf("SC_CLK_TCK")


def measure(
    url: str, token: str, calls: int, workers: list[int]
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Each route's times, and the workers' CPU time per call while they were taken."""
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    pages = signed_in(url)
    times, cpu = {}, {}
    for route in routes():
        http = pages if route.page else api

        def call(route: Route = route, http: requests.Session = http) -> None:
            answer = http.get(url + route.path, timeout=60)
            check(route, answer)

        call()  # the warm-up, outside the CPU count too
        before = workers_cpu_ms(workers)
        times[route.label] = timed(call, calls, warm_up=False)
        cpu[route.label] = (workers_cpu_ms(workers) - before) / calls
    return times, cpu


# -- The reference: the same reads with the raw driver ------------------------------------

Statement = tuple[str, Any]


def captured_reads(registry: Registry) -> dict[str, list[Statement]]:
    """The statements each report's builder (and the statistics) send, as the driver
    receives them: built in this process with the registry's own code, in full."""
    from sqlalchemy import event

    from registry import create_app
    from registry.extensions import db
    from registry.reports import catalogue, stats

    app = create_app({"SQLALCHEMY_DATABASE_URI": registry.url, "SECRET_KEY": SECRET})
    reads: dict[str, list[Statement]] = {}
    with app.test_request_context("/"):
        sent: list[Statement] = []

        def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
            if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
                sent.append((statement, params))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            builders: dict[str, Callable[[], object]] = {
                "stats": lambda: stats.registry_stats(db.session)
            }
            for entry in catalogue.REPORTS:
                builders[entry.name] = lambda entry=entry: catalogue.build(
                    db.session, entry, staff=True
                )
            for name, build in builders.items():
                sent.clear()
                build()
                db.session.rollback()
                reads[name] = list(sent)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
            db.session.remove()
            db.engine.dispose()
    return reads


def reference(
    registry: Registry, reads: dict[str, list[Statement]], calls: int
) -> dict[str, list[float]]:
    connection = registry.connect()
    sqlite = registry.path is not None
    found = {}
    try:
        for route in routes():
            statements = [s for name in route.reads for s in reads[name]]

            def call(statements: Sequence[Statement] = statements) -> None:
                if sqlite:
                    connection.execute("BEGIN")
                for sql, params in statements:
                    connection.execute(sql, params).fetchall()
                if sqlite:
                    connection.execute("COMMIT")
                else:
                    connection.rollback()

            found[route.label] = timed(call, calls)
    finally:
        connection.close()
    return found


# -- The figures --------------------------------------------------------------------------


def p95(times: Sequence[float]) -> float:
    """The 95th percentile, nearest rank (of 40 calls: the 38th)."""
    ordered = sorted(times)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def report(
    served: dict[str, list[float]], cpu: dict[str, float], raw: dict[str, list[float]]
) -> list[str]:
    """Print the table and the verdicts; the routes that miss their target."""
    missed = []
    print(
        f"{'route':<38} {'median':>7} {'p95':>7} {'max':>7}  {'target':>7}  {'':<7}"
        f" {'cpu':>6} {'ref p95':>8} {'ratio':>6}"
    )
    for route in routes():
        times = served[route.label]
        mine, theirs = p95(times), p95(raw[route.label])
        met = mine <= route.target_ms
        if not met:
            missed.append(route.label)
        print(
            f"{route.label:<38} {statistics.median(times):7.1f} {mine:7.1f} {max(times):7.1f}"
            f"  ≤{route.target_ms:5.0f}  {'met' if met else 'NOT met':<7}"
            f" {cpu[route.label]:6.1f} {theirs:8.1f} {mine / theirs:6.1f}"
        )
    for target, what in ((P7_MS, "P7, p95 ≤ 100 ms"), (P10_MS, "P10 (coverage), p95 ≤ 500 ms")):
        labels = [r.label for r in routes() if r.target_ms == target]
        failed = [label for label in labels if label in missed]
        verdict = f"NOT met on {len(failed)} of {len(labels)} routes" if failed else "met"
        print(f"{what}: {verdict}")
    return missed


def describe(registry: Registry) -> str:
    held = {
        "enterprises": "SELECT count(*) FROM enterprises",
        "on the ladder": "SELECT count(*) FROM enterprises WHERE tier IS NOT NULL",
        "annual reports": "SELECT count(*) FROM annual_reports",
        "tier events": "SELECT count(*) FROM tier_events",
        "applications": "SELECT count(*) FROM applications",
    }
    return ", ".join(f"{registry.scalar(sql):,} {what}" for what, sql in held.items())


def run(registry: Registry, directory: Path, args: argparse.Namespace) -> list[str]:
    token = prepare(registry, args.count)
    print(f"{registry.engine}: {describe(registry)}", flush=True)
    reads = captured_reads(registry)
    port = free_port()
    server = serve(registry, directory, port)
    load = os.getloadavg()[0]
    try:
        served, cpu = measure(f"http://127.0.0.1:{port}", token, args.calls, children(server.pid))
    finally:
        server.terminate()
        server.wait(timeout=30)
    raw = reference(registry, reads, args.calls)
    load = max(load, os.getloadavg()[0])
    server_cpu = "" if registry.path else ", the database server's not included"
    print(
        f"{args.calls} calls per route after a warm-up, one client, live HTTP through"
        f" gunicorn (gthread, 2 workers × 8 threads); ms. cpu: the workers' CPU time per"
        f" call{server_cpu}. Reference: the same reads with the raw driver"
        f" ({'sqlite3' if registry.path else 'psycopg'}); ratio = p95 / ref p95."
        f" Load average up to {load:.1f} on {os.cpu_count()} CPUs."
    )
    return report(served, cpu, raw)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--count", type=int, default=1_000_000, help="enterprises to build")
    parser.add_argument("--calls", type=int, default=40, help="timed calls per route")
    parser.add_argument("--database", type=Path, help="SQLite file to build once and reuse")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="PostgreSQL URL (default: $BENCH_DATABASE_URL); built when empty, kept",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    if "postgresql" in engines and not args.database_url:
        parser.error("PostgreSQL needs --database-url or BENCH_DATABASE_URL")

    directory = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    missed = []
    try:
        for engine in engines:
            registry = Registry.of(engine, args, directory)
            missed += [f"{engine} {label}" for label in run(registry, directory, args)]
    finally:
        if args.keep:
            print(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    print("targets missed: " + (", ".join(missed) if missed else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
