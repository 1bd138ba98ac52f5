"""A live registry on gunicorn with several worker processes, for the tests that must
show a property across processes (login throttling, quota races through HTTP).

The server runs ``wsgi:app`` with the production configuration (CSRF on), against the
test database given, on a free loopback port; its access log records the pid of the
worker that served each request, so a test can show that more than one did.
"""

from __future__ import annotations

import contextlib
import importlib.util
import multiprocessing
import os
import re
import signal
import socket
import subprocess  # nosec B404 - nginx, started by the tests
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import requests

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")


@dataclass
class LiveServer:
    url: str
    access_log: Path
    #: The master's pid, which is also its process group's (the workers are in it).
    pid: int
    port: int = 0

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once: the server dies mid-request,
        as in a crash (QUALITY.md R4); nothing of it runs after this returns."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)

    def worker_pids(self) -> set[str]:
        """The pids of the workers that have answered a request so far."""
        return set(re.findall(r"^pid=<?(\d+)>? ", self.access_log.read_text(), re.MULTILINE))

    def await_workers(self, count: int, timeout: float = 30) -> None:
        """Until ``count`` workers have answered: the server answers as soon as its
        first worker has loaded the application, while the others may still be loading."""
        deadline = time.monotonic() + timeout
        with ThreadPoolExecutor(count * 2) as pool:
            while len(self.worker_pids()) < count:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {len(self.worker_pids())} workers answered")
                list(
                    pool.map(
                        lambda _: requests.get(self.url + "/healthz", timeout=10), range(count * 2)
                    )
                )

    def session(self) -> requests.Session:
        return requests.Session()

    def csrf_token(self, http: requests.Session, path: str) -> str:
        """The CSRF token of the form on ``path`` (which sets the session cookie)."""
        page = http.get(self.url + path, timeout=10)
        page.raise_for_status()
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text) or (
            re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        )
        assert match, "no CSRF token on " + path
        return match.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(
    database_url: str,
    tmp_path: Path,
    *,
    workers: int = 2,
    threads: int = 1,
    environ: dict[str, str] | None = None,
    deployed: bool = False,
) -> Iterator[LiveServer]:
    """The server, up and each of its ``workers`` answering. ``threads`` above 1 runs
    them as the production configuration does (gthread workers, ``threads`` each);
    otherwise sync workers, one request at a time each. ``environ``: more of the
    server's environment (settings the registry reads from it, and the secret key and
    rate-limit store, which are otherwise this server's own). ``deployed``: with
    ``deploy/gunicorn.conf.py``, the configuration the project ships."""
    port = _free_port()
    tmp_path.mkdir(parents=True, exist_ok=True)
    if deployed:
        worker_class = ["--config", str(ROOT / "deploy" / "gunicorn.conf.py")]
    elif threads > 1:
        # Idle connections kept 75 s, as deploy/gunicorn.conf.py keeps them: with
        # gunicorn's 2 s a client that waits about that long between requests (a load
        # test's user on a busy machine) may send on a connection the server is closing.
        worker_class = ["--worker-class", "gthread", "--threads", str(threads)]
        worker_class += ["--keep-alive", "75"]
    else:
        worker_class = ["--worker-class", "sync"]
    log = tmp_path / "access.log"
    env = {
        **os.environ,
        "SECRET_KEY": "live-test-secret-" + str(port),
        # The workers' shared rate-limit counters: a file of this server's own.
        "RATELIMIT_STORAGE_URI": f"sqlite:///{tmp_path / 'ratelimits.db'}",
        "REGISTRY_WORKERS": str(workers),
        "REGISTRY_THREADS": str(threads),
        **(environ or {}),
        "DATABASE_URL": database_url,
    }
    env.pop("REGISTRY_FAKE_NOW", None)
    argv = [
        str(GUNICORN),
        *worker_class,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        str(log),
        "--access-logformat",
        "pid=%(p)s %(m)s %(U)s %(s)s",
        "--no-control-socket",
        # The master loads the app once and forks the workers: each is up at once
        # instead of importing it again (seconds each on two busy cores). create_app
        # opens no connection and the rate-limit store opens at first use, so every
        # worker still has its own connections and state.
        "--preload",
        "wsgi:app",
    ]
    # Started from the fork server, which has imported the registry already
    # (tests/conftest.py): the master only creates the app (a second of CPU less
    # than a new process importing it all).
    process = multiprocessing.get_context("forkserver").Process(
        target=_serve, args=(argv, env, str(tmp_path / "gunicorn.err")), daemon=True
    )
    process.start()
    pid = cast(int, process.pid)
    url = f"http://127.0.0.1:{port}"
    try:
        _await_up(url, lambda: process.exitcode is None, tmp_path / "gunicorn.err", 30)
        server = LiveServer(url, log, pid, port)
        server.await_workers(workers)
        yield server
    finally:
        # The test has its answers: the master and its workers are killed at once (a
        # graceful or even a quick stop takes a second or more, for nothing to finish).
        # (None left when the master failed to start.)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        process.join()


def _await_up(url: str, alive: Callable[[], bool], errors: Path, timeout: float) -> None:
    """Until ``url`` answers ``/healthz``; its log's end raised if it stops first or
    ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url + "/healthz", timeout=5).ok:
                return
        except requests.RequestException:
            pass
        if not alive() or time.monotonic() > deadline:
            raise RuntimeError(errors.read_text()[-2000:] if errors.exists() else "no log")
        time.sleep(0.05)


NGINX = Path("/usr/sbin/nginx")


def _local_nginx() -> Any:
    """deploy/local_nginx.py, the nginx configuration ``make run-cluster`` runs."""
    spec = importlib.util.spec_from_file_location("local_nginx", ROOT / "deploy" / "local_nginx.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


local_nginx = _local_nginx()


@contextlib.contextmanager
def nginx(servers: list[LiveServer] | list[str], tmp_path: Path) -> Iterator[str]:
    """nginx (Debian's package) in front of ``servers`` (live servers, or host:port)
    as production has it (deploy/local_nginx.py); its URL. Stopped at the end."""
    prefix = tmp_path / "nginx"
    prefix.mkdir(parents=True)
    port = _free_port()
    config = prefix / "nginx.conf"
    config.write_text(
        local_nginx.config(
            prefix,
            f"127.0.0.1:{port}",
            [s if isinstance(s, str) else f"127.0.0.1:{s.port}" for s in servers],
        )
    )
    process = subprocess.Popen(  # noqa: S603 - a fixed program and arguments
        [str(NGINX), "-p", str(prefix), "-c", str(config), "-e", str(prefix / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _await_up(url, lambda: process.poll() is None, prefix / "error.log", 20)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _serve(argv: list[str], env: dict[str, str], errors: str) -> None:
    """gunicorn's command, run in this process as ``gunicorn`` would run it: in a
    session (and process group) of its own, in the checkout, with ``env`` as its whole
    environment and its standard error into the file ``errors``."""
    os.setsid()
    _as_program(env, os.devnull, errors)
    sys.argv = argv
    from gunicorn.app.wsgiapp import run

    run()


def _as_program(env: dict[str, str], output: str, errors: str) -> None:
    """This process as a program started from the checkout: ``env`` its whole
    environment, its standard output and error into the files named."""
    os.chdir(ROOT)
    os.environ.clear()
    os.environ.update(env)
    for fd, name in ((1, output), (2, errors)):
        with open(name, "ab") as file:
            os.dup2(file.fileno(), fd)


@dataclass
class Command:
    """A ``flask --app wsgi`` command of the registry running in a child of the fork
    server (:func:`flask_command`)."""

    process: multiprocessing.process.BaseProcess
    output: Path

    def poll(self) -> int | None:
        """Its exit status, or None while it runs."""
        return self.process.exitcode

    def signal(self, number: int) -> None:
        os.kill(cast(int, self.process.pid), number)

    def kill(self) -> None:
        """SIGKILL, as a crash would; returns once it has ended."""
        self.process.kill()
        self.process.join()

    def finished(self, timeout: float = 120) -> tuple[int, str]:
        """(exit status, standard output and error) once it has ended; killed after
        ``timeout`` seconds."""
        self.process.join(timeout)
        if self.process.exitcode is None:
            self.kill()
            raise TimeoutError(f"still running after {timeout} s: {self.output.read_text()}")
        return self.process.exitcode, self.output.read_text()


def flask_command(
    args: list[str], env: dict[str, str], output: Path, prepare: Callable[[], None] | None = None
) -> Command:
    """``flask --app wsgi *args`` run from the checkout with ``env`` as its whole
    environment, its output into the file ``output``. Started from the fork server,
    which has imported the registry (tests/conftest.py): about a second of CPU less than
    a new process. ``prepare`` (picklable: a module's function, or a partial of one) runs
    in it first."""
    process = multiprocessing.get_context("forkserver").Process(
        target=_flask, args=(args, env, str(output), prepare), daemon=True
    )
    process.start()
    return Command(process, output)


def _flask(
    args: list[str], env: dict[str, str], output: str, prepare: Callable[[], None] | None
) -> None:
    _as_program(env, output, output)
    if prepare is not None:
        prepare()
    sys.argv = ["flask", "--app", "wsgi", *args]
    from flask.cli import main

    main()
