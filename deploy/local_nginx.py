"""nginx on this machine in front of app servers on loopback, as
``deploy/nginx/registry.conf`` puts it in front of machines: that file's serving block
without its TLS (``listen``, ``server_name``, ``ssl_*``), the checkout standing where
``/srv/registry`` is, and the checkout's ``registry-proxy.conf``, the file production
includes. Each answer carries ``X-Upstream``, the server that gave it.

``make run-cluster`` (deploy/run-cluster.sh) and the tests that put nginx in front of
live servers use it; it runs nginx as a program of its own (``nginx -p PREFIX -c
FILE``), not as the system's service::

    python deploy/local_nginx.py PREFIX LISTEN SERVER [SERVER ...] > PREFIX/nginx.conf
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "registry.conf"
PROXY = ROOT / "deploy" / "nginx" / "registry-proxy.conf"
#: Where production has the checkout, and where it copies registry-proxy.conf.
CHECKOUT = "/srv/registry"
INCLUDED = "/etc/nginx/registry-proxy.conf"
#: The serving block's lines that belong to TLS and the public name.
TLS = re.compile(r"\s*(listen|ssl_\w+|server_name)\b")


def serving_block() -> str:
    """The body of registry.conf's second server block (the one that serves)."""
    text = SITE.read_text()
    start = text.index("{", [m.start() for m in re.finditer(r"^server \{", text, re.M)][1])
    depth = 0
    for end, char in enumerate(text[start:], start):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            return text[start + 1 : end]
    raise ValueError(f"unbalanced braces in {SITE.name}")


def site() -> str:
    """The serving block as it runs here: no TLS, paths in the checkout."""
    kept = [line for line in serving_block().splitlines() if not TLS.match(line)]
    return "\n".join(kept).replace(CHECKOUT, str(ROOT)).replace(INCLUDED, str(PROXY))


def config(prefix: Path, listen: str, servers: list[str]) -> str:
    """A whole nginx.conf: its pid, logs and buffers in ``prefix``, listening on
    ``listen``, load balancing ``servers`` (host:port)."""
    # Started as root, nginx's workers would run as nobody, who cannot write in prefix.
    user = "user root;" if os.geteuid() == 0 else ""
    upstream = "\n".join(f"        server {s} max_fails=3 fail_timeout=10s;" for s in servers)
    temp = "\n".join(
        f"    {name}_temp_path {prefix / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
daemon off;
events {{
    worker_connections 512;
}}
http {{
    access_log {prefix}/access.log;
{temp}
    types {{ text/html html; text/css css; image/svg+xml svg; }}
    upstream registry {{
{upstream}
        keepalive 16;
    }}
    server {{
        listen {listen};
        add_header X-Upstream $upstream_addr always;
{site()}
    }}
}}
"""


if __name__ == "__main__":
    prefix, listen, *servers = sys.argv[1:]
    sys.stdout.write(config(Path(prefix), listen, servers))
