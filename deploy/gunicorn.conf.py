"""gunicorn's settings for one app server of the registry (``gunicorn -c
deploy/gunicorn.conf.py --bind 127.0.0.1:8001 wsgi:app``; the systemd unit gives the
port). Threads, not processes, carry the concurrency: most of a request's time is the
database's, and a long-poll of the change feed (API.md: up to 30 s) holds a thread,
not a worker."""

import multiprocessing
import os

# One process per core (at least two, so that one busy process never stops a server),
# eight threads each: 16 requests at once on a 2-core machine, as the load test runs.
workers = int(os.environ.get("REGISTRY_WORKERS", max(2, multiprocessing.cpu_count())))
worker_class = "gthread"
threads = int(os.environ.get("REGISTRY_THREADS", 8))
# A worker silent this long is restarted. A long-poll answers within 30 s (the feed's
# cap), an export streams as it goes: 120 s leaves room for a slow client.
timeout = 120
# A restart (systemctl reload) lets requests finish: a long-poll's 30 s and a margin.
graceful_timeout = 35
# nginx keeps connections to the servers open (upstream keepalive).
keepalive = 75
accesslog = "-"
errorlog = "-"
# The access log as nginx's combined format, with the time taken (µs) and the worker.
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(D)s "%(a)s" pid=%(p)s'
# Each server is its own master (PRODUCT.md §9: as on separate machines); no control
# socket is needed for systemd's stop and reload signals.
control_socket_disable = True
