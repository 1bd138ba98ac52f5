"""``make run-cluster`` (deploy/run-cluster.sh) as a person tries it: PostgreSQL, two app
servers and nginx in front with demo data, here on free ports (``CLUSTER_PORT``,
``CLUSTER_SERVER_PORTS``, ``CLUSTER_PG_PORT``) with a small demo (``DEMO_COUNT``). Once
nginx answers, pages and the API come through it from both servers; Ctrl-C (SIGINT to
the script's process group, as a terminal sends it) then leaves nothing running: no
process of the run, nothing listening on its ports, the PostgreSQL cluster's data
removed.

It starts its own PostgreSQL (tests/pg_server.sh) whatever the engine of the run, and
runs in ``make test-long`` only: a cluster, the demo data, two servers and nginx cost
about ten seconds of CPU.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess  # nosec B404 - the script under test
import time
from pathlib import Path

import pytest
import requests

from tests.live import NGINX, ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

SCRIPT = ROOT / "deploy" / "run-cluster.sh"
PG_SERVER = ROOT / "tests" / "pg_server.sh"


def _free_ports(count: int) -> list[int]:
    """``count`` different ports free on 127.0.0.1 (all held until all are chosen)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def _answers(port: int) -> bool:
    """Something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _processes() -> dict[int, tuple[int, int, int, str]]:
    """Every process: pid → (parent, process group, session, state)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            # The command's name, in parentheses, may hold spaces: fields follow its end.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            found[int(entry.name)] = (int(fields[1]), int(fields[2]), int(fields[3]), fields[0])
    return found


def _descendants(roots: set[int]) -> set[int]:
    processes = _processes()
    found, added = set(roots), True
    while added:
        children = {pid for pid, (parent, *_) in processes.items() if parent in found}
        added = bool(children - found)
        found |= children
    return found & set(processes)


def _left(pids: set[int], groups: set[int]) -> dict[int, tuple[int, int, int, str]]:
    """The live processes (zombies are not) among ``pids`` or in one of ``groups``
    (process groups and sessions)."""
    return {
        pid: info
        for pid, info in _processes().items()
        if info[3] != "Z" and (pid in pids or info[1] in groups or info[2] in groups)
    }


def _state(file: Path) -> dict[str, str]:
    """tests/pg_server.sh's state file (NAME=value lines)."""
    lines = file.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


@pytest.fixture
def cluster_ports():
    if not NGINX.exists():
        pytest.skip("nginx is not installed (apt-get install nginx)")
    found = subprocess.run(  # noqa: S603 - a fixed script
        ["bash", str(PG_SERVER), "bindir"], capture_output=True, check=False
    )
    if found.returncode != 0:
        pytest.skip("PostgreSQL 15 is not installed (apt-get install postgresql-15)")
    nginx, first, second, postgres = _free_ports(4)
    yield nginx, [first, second], postgres
    # The run's directory (tmp/cluster-PORT: its logs), once the test is done with it.
    shutil.rmtree(ROOT / "tmp" / f"cluster-{nginx}", ignore_errors=True)


def test_run_cluster_serves_through_nginx_and_ctrl_c_leaves_nothing_running(
    cluster_ports, tmp_path
):
    port, servers, pg_port = cluster_ports
    state = ROOT / "tmp" / f"cluster-{port}"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")},
        "CLUSTER_PORT": str(port),
        "CLUSTER_SERVER_PORTS": " ".join(map(str, servers)),
        "CLUSTER_PG_PORT": str(pg_port),
        "DEMO_COUNT": "20",
        "REGISTRY_WORKERS": "1",
        "REGISTRY_THREADS": "4",
    }
    env.pop("REGISTRY_FAKE_NOW", None)
    output = tmp_path / "run-cluster.out"
    with output.open("wb") as out:
        # In a session of its own, as in a terminal: Ctrl-C reaches its process group.
        script = subprocess.Popen(  # noqa: S603 - the script under test
            ["bash", str(SCRIPT)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pids: set[int] = {script.pid}
    groups: set[int] = {script.pid}
    pg: dict[str, str] = {}
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while "\nServing on " not in "\n" + output.read_text():
            assert script.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.25)

        # Pages and the API through nginx, from both servers, each ready on its own port.
        home = requests.get(url + "/", timeout=30)
        assert home.status_code == 200 and "text/html" in home.headers["Content-Type"]
        tiers = [requests.get(url + "/api/v1/tiers", timeout=30) for _ in range(6)]
        assert [t.status_code for t in tiers] == [200] * 6
        assert tiers[0].headers["Content-Type"].startswith("application/json")
        assert tiers[0].json()
        assert {t.headers["X-Upstream"] for t in tiers} == {f"127.0.0.1:{p}" for p in servers}
        for server in servers:
            assert requests.get(f"http://127.0.0.1:{server}/readyz", timeout=10).status_code == 200

        # What runs: the script's processes, and PostgreSQL's (pg_ctl detaches it).
        pg = _state(state / "pg_server.env")
        postmaster_pid = Path(pg["PGDATA_DIR"]) / "data" / "postmaster.pid"
        postmaster = int(postmaster_pid.read_text().split()[0])
        pids = _descendants({script.pid, postmaster})
        groups = {info[1] for pid, info in _processes().items() if pid in pids}
        ports = [port, *servers, int(pg["PGPORT_USED"])]
        assert all(_answers(p) for p in ports)
        commands = " ".join(Path(f"/proc/{pid}/cmdline").read_bytes().decode() for pid in pids)
        assert all(name in commands for name in ("gunicorn", "nginx", "postgres"))

        os.killpg(script.pid, signal.SIGINT)
        try:
            assert script.wait(60) == 130, output.read_text()
        except subprocess.TimeoutExpired:
            pytest.fail("still running 60 s after Ctrl-C:\n" + output.read_text())
        assert output.read_text().rstrip().endswith("Stopped the servers, nginx and PostgreSQL.")
        deadline = time.monotonic() + 10  # a process between its exit and its last close
        while _left(pids, groups) or any(_answers(p) for p in ports):
            assert time.monotonic() < deadline, (_left(pids, groups), output.read_text())
            time.sleep(0.1)
        assert not Path(pg["PGDATA_DIR"]).exists()
        assert not (state / "pg_server.env").exists()
        assert (state / f"server-{servers[0]}.log").exists()  # the logs stay
    finally:
        # Whatever failed: nothing of the run is left behind for the next test.
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                script.wait(60)
        for group in groups - {0, 1, os.getpgrp()}:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        script.wait()
        if (state / "pg_server.env").exists():
            subprocess.run(  # noqa: S603 - a fixed script
                ["bash", str(PG_SERVER), "stop"],
                env={**os.environ, "PG_SERVER_STATE": str(state / "pg_server.env")},
                capture_output=True,
                check=False,
            )
