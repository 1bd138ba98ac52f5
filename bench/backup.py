"""P9 (QUALITY.md): ``flask registry backup`` of the 1M demo while a client reads pages
and writes a change a second, then ``restore`` of that file into an empty SQLite and
into an empty PostgreSQL.

Run from the checkout, with the project's virtualenv::

    .venv/bin/python bench/backup.py --database tmp/r1m.db     # built once, then reused
    .venv/bin/python bench/backup.py --count 3000              # a quick one

Steps:

1. the registry: the SQLite file ``--database`` (built with ``demo --count N`` when it
   holds no enterprise, as bench/reports.py builds it; without ``--database``, in a
   temporary directory), a reviewer with tokens;
2. the registry served by gunicorn as ``make run`` serves it, and one client that, for
   as long as the backup runs, reads pages and the API (the home page, a published
   list, an API page of enterprises) one after the other and PATCHes an enterprise's
   address once a second;
3. ``flask registry backup --out FILE`` in a process of its own: its time, its rows
   (from its output) and its peak RSS (``wait4``);
4. the reference, in the same run on the same file: Python's ``sqlite3`` reading every
   table (``SELECT *``) into JSON lines (orjson), gzip'd at the same level, in one
   transaction: what reading and writing the rows costs without the registry;
5. ``restore`` of the file into a new SQLite file and into a new database of a private
   PostgreSQL 15 (``tests/pg_server.sh``, removed afterwards), each migrated first (not
   timed), the restore timed as a process of its own.

It prints rows/s for each with its target (backup ≥ 50 000 rows/s and RSS ≤ 150 MB,
restore ≥ 25 000 rows/s into either engine), the reference's rows/s and the ratio, what
the client did meanwhile, and the load average. Machines are shared and noisy: compare
ratios between runs rather than seconds.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from served import ROOT, Registry, flask, free_port, prepare, serve  # noqa: E402

from registry.config import normalise_database_url  # noqa: E402

BACKUP_ROWS_PER_S, BACKUP_RSS_MB, RESTORE_ROWS_PER_S = 50_000, 150, 25_000
EMAIL = "reports@bench.example"  # bench/reports.py's reviewer


class Client(threading.Thread):
    """Reads one page after another; PATCHes an enterprise once a second."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.headers = url, {"Authorization": f"Bearer {token}"}
        self.stop = threading.Event()
        self.reads = self.writes = 0
        self.failures: list[str] = []

    def run(self) -> None:
        http = requests.Session()
        first = http.get(f"{self.url}/api/v1/enterprises?limit=1", headers=self.headers)
        uscc = first.json()["data"][0]["uscc"]
        target = f"{self.url}/api/v1/enterprises/{uscc}"
        paths = ("/", "/tiers/tech_sme", "/api/v1/enterprises?limit=50")
        next_write, n = time.monotonic(), 0
        while not self.stop.is_set():
            if time.monotonic() >= next_write:
                next_write += 1
                etag = http.get(target, headers=self.headers).headers["ETag"]
                answer = http.patch(
                    target,
                    data=orjson.dumps({"address": f"南昌市红谷滩区第{n}号"}),
                    headers={
                        **self.headers,
                        "If-Match": etag,
                        "Content-Type": "application/merge-patch+json",
                    },
                )
                self._count(answer, write=True)
                n += 1
            self._count(http.get(self.url + paths[n % 3], headers=self.headers), write=False)

    def _count(self, answer: requests.Response, *, write: bool) -> None:
        if answer.status_code != 200:
            self.failures.append(f"{answer.request.method} {answer.status_code}")
        elif write:
            self.writes += 1
        else:
            self.reads += 1


def timed_command(registry: Registry, *args: str) -> tuple[float, int, str]:
    """(seconds, peak RSS in MB, output) of ``flask --app wsgi *args`` in its own process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=registry.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = process.stdout.read() if process.stdout else ""
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(output)
    return elapsed, usage.ru_maxrss // 1024, output


def rows_of(output: str) -> tuple[int, float]:
    """(rows, seconds) the command reports: its own time, without starting Python."""
    found = re.search(r"(Backed up|Restored) ([\d,]+) rows .* in ([\d.]+) s", output)
    if found is None:
        raise RuntimeError(output)
    return int(found.group(2).replace(",", "")), float(found.group(3))


def reference(path: Path, out: Path) -> tuple[float, int]:
    """Every table read with sqlite3 into gzip'd JSON lines: (seconds, rows)."""
    started = time.perf_counter()
    rows = 0
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN")
    tables = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    with gzip.open(out, "wb", compresslevel=1) as file:
        for table in tables:
            cursor = connection.execute(f'SELECT * FROM "{table}"')  # nosec B608 - its tables
            while batch := cursor.fetchmany(2000):
                file.write(b"".join(orjson.dumps(row, default=str) + b"\n" for row in batch))
                rows += len(batch)
    connection.execute("COMMIT")
    connection.close()
    return time.perf_counter() - started, rows


def restore_into(registry: Registry, backup: Path) -> tuple[int, float]:
    flask(registry, "db", "upgrade")
    _elapsed, _rss, output = timed_command(registry, "registry", "restore", str(backup))
    return rows_of(output)


def postgres(directory: Path) -> tuple[str, dict[str, str]]:
    env = {**os.environ, "PG_SERVER_STATE": str(directory / "pg.env")}
    env.setdefault("PG_TEST_PORT", "55460")
    started = subprocess.run(
        ["bash", "tests/pg_server.sh", "start"], cwd=ROOT, env=env, check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    return started.stdout.strip().splitlines()[-1], env


def line(what: str, rows: int, seconds: float, target: int | None, extra: str = "") -> str:
    rate = rows / seconds
    verdict = "" if target is None else ("met" if rate >= target else "NOT met")
    goal = f"≥ {target:,}" if target else ""
    return f"{what:<28} {rows:>11,} {seconds:>8.1f} {rate:>10,.0f} {goal:>10} {verdict:<7} {extra}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="enterprises to build")
    parser.add_argument("--database", type=Path, help="SQLite file to build once and reuse")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="registry-bench-backup-"))
    path = args.database or directory / "registry.db"
    registry = Registry("sqlite", normalise_database_url(f"sqlite:///{path.resolve()}"), path)
    server = pg_env = None
    try:
        prepare(registry, args.count)
        created = flask(
            registry, "registry", "token", "create", EMAIL,
            "--scopes", "registry:read,registry:write",
        )  # fmt: skip
        port = free_port()
        server = serve(registry, directory, port)
        client = Client(f"http://127.0.0.1:{port}", created.stdout.strip())
        client.start()
        time.sleep(2)
        backup = directory / "registry.backup"
        _elapsed, rss, output = timed_command(registry, "registry", "backup", "--out", str(backup))
        client.stop.set()
        client.join(30)
        server.terminate()
        server.wait(30)
        server = None
        rows, seconds = rows_of(output)
        ref_seconds, ref_rows = reference(path, directory / "reference.jsonl.gz")
        into_sqlite = restore_into(
            Registry("sqlite", f"sqlite:///{directory / 'restored.db'}", directory / "restored.db"),
            backup,
        )
        url, pg_env = postgres(directory)
        into_postgres = restore_into(Registry("postgresql", normalise_database_url(url)), backup)
    finally:
        if server is not None:
            server.kill()
        if pg_env is not None:
            subprocess.run(
                ["bash", "tests/pg_server.sh", "stop"], cwd=ROOT, env=pg_env, check=False
            )
    ratio = (rows / seconds) / (ref_rows / ref_seconds)
    print(f"{'':<28} {'rows':>11} {'s':>8} {'rows/s':>10} {'target':>10}")
    memory = f"RSS {rss} MB (≤ {BACKUP_RSS_MB}: {'met' if rss <= BACKUP_RSS_MB else 'NOT met'})"
    print(line("backup (while serving)", rows, seconds, BACKUP_ROWS_PER_S, memory))
    print(line("reference (sqlite3 → JSON)", ref_rows, ref_seconds, None, f"ratio {ratio:.2f}"))
    print(line("restore into SQLite", *into_sqlite, RESTORE_ROWS_PER_S))
    print(line("restore into PostgreSQL", *into_postgres, RESTORE_ROWS_PER_S))
    print(
        f"during the backup the client read {client.reads} pages and wrote {client.writes} "
        f"changes; failures: {client.failures or 'none'}; load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    if not args.keep:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
