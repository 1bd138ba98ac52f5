"""P5: ``flask registry demo --count N`` on a fresh SQLite database (QUALITY.md).

Run from the checkout, with the project's virtualenv::

    .venv/bin/python bench/demo.py                   # N = 1 000 000
    .venv/bin/python bench/demo.py --count 3000      # a quick one
    .venv/bin/python bench/demo.py --workers 2       # passed on to the command

Steps, all in a fresh temporary directory (removed afterwards unless ``--keep``):

1. ``flask --app wsgi db upgrade`` and ``flask --app wsgi registry seed`` (not timed);
2. the timed run: ``flask --app wsgi registry demo --count N --random-seed 1`` as its own
   process, from start to exit (what an operator waits for);
3. a sanity check of what it wrote (N enterprises, at least N reports, a feed and an
   audit entry for each record);
4. the reference, measured in the same run on the same disk: inserting N bare rows
   ``(id, uscc, name)`` with ``sqlite3`` ``executemany`` into a file database with the
   registry's settings (WAL, ``synchronous=FULL``), committing every 25 000 rows.

It prints both times and their ratio (the machines are shared and noisy: compare
ratios between runs, not seconds), and the P5 target (≤ 60 s for N = 1 000 000).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 60.0  # QUALITY.md P5, for 1 000 000 enterprises
BATCH = 25_000


def flask(database: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    env.pop("REGISTRY_FAKE_NOW", None)
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


def reference(path: Path, count: int) -> float:
    """Seconds to insert ``count`` bare rows with sqlite3 executemany (WAL, FULL)."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("CREATE TABLE bare (id INTEGER PRIMARY KEY, uscc TEXT, name TEXT)")
    started = time.perf_counter()
    for first in range(0, count, BATCH):
        rows = [
            (n, f"91360100{n:010d}", f"江西示例{n}有限公司")
            for n in range(first, min(count, first + BATCH))
        ]
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany("INSERT INTO bare VALUES (?, ?, ?)", rows)
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def written(database: Path) -> dict[str, int]:
    connection = sqlite3.connect(database)
    counts = {
        table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("enterprises", "annual_reports", "tier_events", "change_log", "audit_log")
    }
    connection.close()
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, help="passed on to the demo command")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    try:
        database = directory / "registry.db"
        flask(database, "db", "upgrade")
        flask(database, "registry", "seed")
        command = ["registry", "demo", "--count", str(args.count), "--random-seed", "1"]
        if args.workers is not None:
            command += ["--workers", str(args.workers)]
        started = time.perf_counter()
        result = flask(database, *command)
        demo_seconds = time.perf_counter() - started

        counts = written(database)
        events = counts["tier_events"]
        # At least one feed and one audit entry per record written (the applications and
        # the demo users add a few more; the seed its 5 tier settings).
        records = counts["enterprises"] + counts["annual_reports"] + events
        at_least = {
            "annual_reports": args.count,
            "change_log": records,
            "audit_log": records + 5,
        }
        wrong = {k: (counts[k], v) for k, v in at_least.items() if counts[k] < v}
        if counts["enterprises"] != args.count:
            wrong["enterprises"] = (counts["enterprises"], args.count)
        size = sum(f.stat().st_size for f in directory.glob("registry.db*"))

        reference_seconds = reference(directory / "reference.db", args.count)
    finally:
        if args.keep:
            print(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)

    print(result.stdout.strip())
    print(f"demo --count {args.count}: {demo_seconds:.1f} s ({args.count / demo_seconds:,.0f}/s),")
    reports = counts["annual_reports"]
    print(f"  database {size / 1e9:.2f} GB, {reports} annual reports, {events} tier events")
    print(
        f"reference, sqlite3 executemany of {args.count} bare rows: {reference_seconds:.2f} s"
        f" ({args.count / reference_seconds:,.0f}/s)"
    )
    print(f"ratio demo / reference: {demo_seconds / reference_seconds:.1f}")
    if args.count == 1_000_000:
        verdict = "met" if demo_seconds <= TARGET_SECONDS else "NOT met"
        print(f"P5 target ≤ {TARGET_SECONDS:.0f} s: {verdict}")
    if wrong:
        print(f"UNEXPECTED counts (found, expected at least): {wrong}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
