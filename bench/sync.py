"""P3, P4 and P6 (QUALITY.md): the change feed, the snapshot and a pull, at 1M enterprises.

Run from the checkout, with the project's virtualenv::

    .venv/bin/python bench/sync.py                  # N = 1 000 000 (about 10 minutes)
    .venv/bin/python bench/sync.py --count 50000    # a quick one
    .venv/bin/python bench/sync.py --skip-pull      # P3 and P4 only

Steps, in a fresh temporary directory (removed afterwards unless ``--keep``):

1. registry A: ``db upgrade``, ``seed``, ``demo --count N`` on SQLite (not timed: that
   is P5, bench/demo.py), a reviewer with a ``changes:read`` token;
2. A served by gunicorn as ``make run`` serves it (gthread, 2 workers, 8 threads);
3. P3: one client reads ``/changes?limit=1000`` from the start of history to the end;
   entries/s, and the RSS of the worker processes (idle before, highest while serving,
   sampled every 50 ms from /proc);
4. P4: one client reads ``/export`` (no gzip) to its end line; lines/s and RSS likewise;
5. the references, measured in the same run on the same database file: ``sqlite3``
   reading the same rows (change_log by id, pages of 1 000; enterprises by USCC) and
   writing the same JSON text to nowhere — the fastest the data can leave SQLite in
   Python — so that each figure is also given as a ratio to it;
6. P6: registry B, empty (migrated and seeded), ``sync add A <url> --token …`` and
   ``sync pull A`` timed from process start to exit; records/s (enterprises + annual
   reports mirrored), and B's counts checked against A's.

The targets: P3 ≥ 30 000 entries/s with worker RSS ≤ 100 MB; P4 ≥ 50 000 lines/s with
RSS ≤ 100 MB and flat (≤ idle + 50 MB); P6 ≥ 10 000 records/s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from served import children, free_port  # noqa: E402  (the benches' server helpers)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GUNICORN_OPTS = ["--worker-class", "gthread", "--workers", "2", "--threads", "8"]
GUNICORN_OPTS += ["--timeout", "120", "--no-control-socket"]


def flask(database: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    env.pop("REGISTRY_FAKE_NOW", None)
    env.setdefault("SYNC_SECRET_KEY", "bench-sync-secret")
    return subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        input=stdin,
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class RssWatch:
    """The highest RSS of each worker while a block runs (sampled every 50 ms)."""

    def __init__(self, workers: list[int]) -> None:
        self.workers = workers
        self.idle = {pid: rss_mb(pid) for pid in workers}
        self.peak = dict(self.idle)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            for pid in self.workers:
                self.peak[pid] = max(self.peak[pid], rss_mb(pid))

    def __enter__(self) -> RssWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> str:
        return ", ".join(
            f"worker {pid}: idle {self.idle[pid]:.0f} MB, peak {self.peak[pid]:.0f} MB"
            for pid in self.workers
        )

    def within(self, limit_mb: float, growth_mb: float) -> bool:
        return all(
            self.peak[p] <= limit_mb and self.peak[p] - self.idle[p] <= growth_mb
            for p in self.workers
        )


def serve(database: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    env.pop("REGISTRY_FAKE_NOW", None)
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", *GUNICORN_OPTS, "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).ok:
                # Each worker loads the app; let both finish before measuring idle RSS.
                time.sleep(3)
                return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


def read_feed(url: str, headers: dict) -> tuple[int, float]:
    http = requests.Session()
    count, after = 0, None
    started = time.perf_counter()
    while True:
        params = {"limit": 1000, **({"after": after} if after else {})}
        body = http.get(f"{url}/api/v1/changes", params=params, headers=headers, timeout=60)
        body.raise_for_status()
        page = body.json()
        count += len(page["data"])
        after = page["next_cursor"]
        if not page["has_more"]:
            return count, time.perf_counter() - started


def read_export(url: str, headers: dict) -> tuple[int, float]:
    """Lines counted in the raw stream (the client does not parse them); the last one
    must be the end line."""
    started = time.perf_counter()
    lines = 0
    tail = b""
    with requests.get(
        f"{url}/api/v1/export",
        headers={**headers, "Accept-Encoding": "identity"},
        stream=True,
        timeout=60,
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_content(chunk_size=1 << 16):
            lines += chunk.count(b"\n")
            tail = (tail + chunk)[-4096:]
    if not json.loads(tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]).get("end"):
        raise RuntimeError("the snapshot has no end line")
    return lines, time.perf_counter() - started


def reference_feed(database: Path) -> tuple[int, float]:
    """sqlite3 reading change_log in pages of 1 000 and building the same JSON text."""
    connection = sqlite3.connect(database)
    started = time.perf_counter()
    after, count = 0, 0
    while True:
        rows = connection.execute(
            "SELECT id, type, key, op, version, occurred_at, data FROM change_log"
            " WHERE id > ? ORDER BY id LIMIT 1000",
            (after,),
        ).fetchall()
        if not rows:
            break
        "".join(
            f'{{"cursor":"{i}","type":"{t}","key":"{k}","op":"{o}","version":{v},'
            f'"occurred_at":"{a}","data":{d}}}'
            for i, t, k, o, v, a, d in rows
        ).encode()
        count += len(rows)
        after = rows[-1][0]
    connection.close()
    return count, time.perf_counter() - started


def reference_export(database: Path) -> tuple[int, float]:
    """sqlite3 streaming enterprises by USCC as JSON lines (the P4 reference)."""
    connection = sqlite3.connect(database)
    cursor = connection.execute("SELECT * FROM enterprises ORDER BY uscc")
    names = [d[0] for d in cursor.description]
    started = time.perf_counter()
    count = 0
    while rows := cursor.fetchmany(2000):
        "".join(
            json.dumps(dict(zip(names, r, strict=True)), ensure_ascii=False) + "\n" for r in rows
        )
        count += len(rows)
    connection.close()
    return count, time.perf_counter() - started


def counts(database: Path) -> dict[str, int]:
    connection = sqlite3.connect(database)
    found = {
        t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("enterprises", "annual_reports", "change_log")
    }
    connection.close()
    return found


def token_for(database: Path) -> str:
    flask(
        database, "registry", "create-user", "peer@bench.example", "--role", "reviewer",
        "--password", "Gan-river-2026",
    )  # fmt: skip
    created = flask(
        database, "registry", "token", "create", "peer@bench.example",
        "--scopes", "registry:read,changes:read",
    )  # fmt: skip
    return next(w for w in created.stdout.split() if w.startswith("ecr_"))


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--skip-pull", action="store_true", help="P3 and P4 only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    server = None
    try:
        a = directory / "a.db"
        flask(a, "db", "upgrade")
        flask(a, "registry", "seed")
        print(f"building registry A: demo --count {args.count} …", flush=True)
        flask(a, "registry", "demo", "--count", str(args.count), "--random-seed", "1")
        token = token_for(a)
        headers = {"Authorization": f"Bearer {token}"}
        port = free_port()
        server = serve(a, port)
        url = f"http://127.0.0.1:{port}"
        workers = children(server.pid)

        with RssWatch(workers) as feed_rss:
            entries, feed_seconds = read_feed(url, headers)
        with RssWatch(workers) as export_rss:
            lines, export_seconds = read_export(url, headers)
        ref_entries, ref_feed_seconds = reference_feed(a)
        ref_lines, ref_export_seconds = reference_export(a)

        feed_rate = entries / feed_seconds
        export_rate = lines / export_seconds
        ref_feed_rate = ref_entries / ref_feed_seconds
        ref_export_rate = ref_lines / ref_export_seconds
        print(f"A: {counts(a)}")
        print(
            f"P3 feed: {entries:,} entries in {feed_seconds:.1f} s = {feed_rate:,.0f}/s; "
            f"reference (sqlite3, same pages) {ref_feed_rate:,.0f}/s; "
            f"ratio {feed_rate / ref_feed_rate:.2f}"
        )
        print(f"   RSS: {feed_rss.summary()}")
        print(
            f"   target ≥ 30 000/s: {verdict(feed_rate >= 30_000)}; RSS ≤ 100 MB: "
            f"{verdict(feed_rss.within(100, 50))}"
        )
        print(
            f"P4 export: {lines:,} lines in {export_seconds:.1f} s = {export_rate:,.0f}/s; "
            f"reference (sqlite3 streaming enterprises) {ref_export_rate:,.0f}/s; "
            f"ratio {export_rate / ref_export_rate:.2f}"
        )
        print(f"   RSS: {export_rss.summary()}")
        print(
            f"   target ≥ 50 000/s: {verdict(export_rate >= 50_000)}; RSS ≤ 100 MB and flat: "
            f"{verdict(export_rss.within(100, 50))}"
        )

        if not args.skip_pull:
            b = directory / "b.db"
            flask(b, "db", "upgrade")
            flask(b, "registry", "seed")
            flask(b, "registry", "sync", "add", "a", url, "--token-stdin", stdin=token + "\n")
            started = time.perf_counter()
            pulled = flask(b, "registry", "sync", "pull", "a")
            pull_seconds = time.perf_counter() - started
            held_a, held_b = counts(a), counts(b)
            records = held_b["enterprises"] + held_b["annual_reports"]
            rate = records / pull_seconds
            print(pulled.stdout.strip())
            print(
                f"P6 pull: {records:,} records (enterprises + annual reports) in "
                f"{pull_seconds:.1f} s = {rate:,.0f}/s; ratio to the P3 feed read "
                f"{rate / feed_rate:.2f}"
            )
            same = all(held_a[t] == held_b[t] for t in ("enterprises", "annual_reports"))
            print(f"   B: {held_b}; copy complete: {same}")
            print(f"   target ≥ 10 000/s: {verdict(rate >= 10_000)}")
            if not same:
                return 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if args.keep:
            print(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
