# Enterprise Cultivation Registry: install, run and test.
#
#   make run        serve the registry on http://127.0.0.1:5000 with demo data (SQLite)
#   make run-cluster  PostgreSQL, two servers and nginx on http://127.0.0.1:8080, demo data
#   make test       lint, then the short test suite on SQLite and on PostgreSQL
#   make test-long  the same with the long forms (tests marked slow)
#   make check      lint, then the short test suite on SQLite only: the quick loop
#   make lint       ruff check + ruff format --check, bandit, mypy
#   make fmt        ruff format + ruff check --fix
#   make messages   extract messages into the 简体中文 catalogue, then compile it
#   make install    virtualenv, requirements-dev.txt, Debian packages the tests need

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
# Each recipe runs as one shell script, so traps and variables span its lines.
.ONESHELL:
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.requirements-installed
DEV_STAMP := $(VENV)/.requirements-dev-installed
PG_BIN ?= /usr/lib/postgresql/15/bin
CHROMIUM ?= /usr/bin/chromium
NGINX := /usr/sbin/nginx
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

HOST ?= 127.0.0.1
PORT ?= 5000
# Threaded workers: long-polling clients hold a thread, not a process.
GUNICORN_OPTS ?= --worker-class gthread --workers 2 --threads 8 --timeout 120 \
	--graceful-timeout 10 --access-logfile - --no-control-socket
TICK_EVERY ?= 60
DEMO_COUNT ?= 3000
COUNT_ENTERPRISES := 'from sqlalchemy import func, select; \
	from registry.enterprises.models import Enterprise; from registry.extensions import db; \
	from wsgi import app; app.app_context().push(); \
	print(db.session.scalar(select(func.count()).select_from(Enterprise)))'

.PHONY: messages help install system-packages python-packages run-packages run test test-long \
	run-cluster cluster-packages \
	check lint fmt test-engines apt-install clean

help:
	@sed -n '2,9s/^# \{0,1\}//p' Makefile

install: system-packages python-packages

# requirements.txt: what serving needs. requirements-dev.txt: that, and the tests' and
# the linters' packages.
run-packages: $(RUN_STAMP)
python-packages: $(DEV_STAMP)

$(BIN)/python:
	@if ! command -v $(PYTHON) >/dev/null || ! $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null; then
		$(MAKE) --no-print-directory APT_PACKAGES="python3.11 python3.11-venv" apt-install
	fi
	$(PYTHON) -m venv $(VENV)

# Each is reinstalled only when a file it reads is newer than its stamp. Installing the
# development set installs requirements.txt too, so it renews both stamps.
$(RUN_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(RUN_STAMP) $@

# PostgreSQL 15 (the test cluster), nginx (in front of several servers), Chromium
# (browser tests) and a CJK font (the pages are in Chinese), when missing.
system-packages: cluster-packages
	@missing=""
	[ -x "$(CHROMIUM)" ] || missing="$$missing chromium"
	[ -e "$(CJK_FONT)" ] || missing="$$missing fonts-noto-cjk"
	if [ -n "$$missing" ]; then
		$(MAKE) --no-print-directory APT_PACKAGES="$$missing" apt-install
	fi

# What `make run-cluster` needs beyond `make run`: PostgreSQL 15 and nginx.
cluster-packages:
	@missing=""
	[ -x "$(PG_BIN)/initdb" ] || missing="$$missing postgresql-15"
	[ -x "$(NGINX)" ] || missing="$$missing nginx"
	if [ -n "$$missing" ]; then
		$(MAKE) --no-print-directory APT_PACKAGES="$$missing" apt-install
	fi

# PostgreSQL, two app servers (deploy/gunicorn.conf.py) and nginx in front, with the demo
# data, in the foreground until Ctrl-C (deploy/run-cluster.sh). CLUSTER_PORT,
# CLUSTER_SERVER_PORTS and CLUSTER_PG_PORT from the environment choose other ports.
run-cluster: run-packages cluster-packages
	@DEMO_COUNT=$(DEMO_COUNT) TICK_EVERY=$(TICK_EVERY) bash deploy/run-cluster.sh

apt-install:
	@if [ "$$(id -u)" -ne 0 ]; then
		echo "Missing Debian packages: $(APT_PACKAGES)" >&2
		echo "Install them as root: apt-get install $(APT_PACKAGES)" >&2
		echo "(make test needs postgresql-15 for its PostgreSQL run, nginx in front of two servers, chromium for browser tests)" >&2
		exit 0
	fi
	echo "Installing Debian packages: $(APT_PACKAGES)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq $(APT_PACKAGES) </dev/null

# Serve on SQLite (instance/registry.db) with `tick` every $(TICK_EVERY) s beside the
# server. The ticker runs in its own process group so that stopping it also stops a
# `sleep` or `tick` in progress; the trap ends both on Ctrl-C, on TERM and when the
# server exits, so nothing is left behind.
run: run-packages
	@unset DATABASE_URL
	export PATH="$(CURDIR)/$(BIN):$$PATH"
	flask --app wsgi db upgrade
	flask --app wsgi registry seed
	enterprises=$$(python -c $(COUNT_ENTERPRISES))
	if [ "$$enterprises" -eq 0 ]; then
		echo "Loading demo data ($(DEMO_COUNT) enterprises)..."
		flask --app wsgi registry demo --count $(DEMO_COUNT)
	else
		echo "The database holds $$enterprises enterprises; no demo data loaded."
	fi
	setsid bash -c 'while :; do flask --app wsgi registry tick >>instance/tick.log || true; sleep $(TICK_EVERY); done' &
	ticker=$$!
	server=""
	stop() {
		trap - INT TERM EXIT
		kill -TERM -- "-$$ticker" 2>/dev/null || true
		if [ -n "$$server" ]; then kill -TERM "$$server" 2>/dev/null || true; fi
		wait 2>/dev/null || true
	}
	trap 'stop; exit 130' INT
	trap 'stop; exit 143' TERM
	trap stop EXIT
	echo "Serving on http://$(HOST):$(PORT) (tick every $(TICK_EVERY) s, log in instance/tick.log); Ctrl-C stops."
	gunicorn --bind $(HOST):$(PORT) $(GUNICORN_OPTS) wsgi:app &
	server=$$!
	wait "$$server"

# bandit and mypy read their settings from pyproject.toml. bandit reports every severity
# (a stricter run than QUALITY.md S14's `bandit -r registry -ll`) and any finding fails
# lint: its exit status passes the filter below through pipefail (.SHELLFLAGS), `|| true`
# covering only grep's when it has nothing left to print. The filter drops the warnings
# bandit gives about each other check that passes on a line marked nosec (a known bandit
# bug), never its findings.
lint: python-packages
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit --quiet -c pyproject.toml -r registry 2>&1 | { grep -v 'but no failed test' || true; }
	$(BIN)/mypy

fmt: python-packages
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The short forms: `make test` on a 2-core machine stays within 5 minutes.
test: install
	$(MAKE) --no-print-directory test-engines \
		SQLITE_MARK="not slow" POSTGRES_MARK="not slow and not browser"

# The quick loop: lint, then the short forms on SQLite only (no PostgreSQL server).
check: install lint
	env -u TEST_DATABASE_URL -u DATABASE_URL "$(BIN)/python" -m pytest -m "not slow"

# The long forms: every test on SQLite, every test but the browser ones on PostgreSQL.
test-long: install
	HYPOTHESIS_EXAMPLES=300 $(MAKE) --no-print-directory test-engines \
		SQLITE_MARK="slow or not slow" POSTGRES_MARK="not browser"

# The tests `make test` runs in a second pytest process per engine, beside the first:
# about half of each engine's CPU time, with the tests that wait on live servers and
# programs (Locust, gunicorn, pull clients, a killed server). The first runs the rest
# (--ignore). Files and directories under tests/.
OTHER_HALF := tests/applications tests/sync tests/test_load.py tests/test_crash_durability.py \
	tests/maintenance tests/test_several_servers.py tests/test_run_cluster.py

# The linters and five pytest runs at the same time, each to its end even when another
# fails; the target fails if any did. On SQLite: the tests but the browser ones and
# OTHER_HALF, printed as they go; OTHER_HALF; the browser tests (with Chromium's
# processes beside them). On PostgreSQL, each on a database of its own: the tests but
# OTHER_HALF; OTHER_HALF. The others print their output after the first. Each is a
# single process that at times waits on a live server or a program: together they keep
# both cores busy to the end. The PostgreSQL cluster is stopped (and its directory
# removed) whatever happens.
test-engines:
	@# A cluster and logs of this run's own, even if another run shares the checkout.
	export PG_SERVER_STATE="$(CURDIR)/tmp/pg_server.$$$$.env"
	names=(lint sqlite-other browser postgres postgres-other)
	declare -A mark paths url log pid status
	first_half="$(addprefix --ignore=,$(OTHER_HALF))"
	mark[sqlite]="($(SQLITE_MARK)) and not browser" paths[sqlite]=$$first_half
	mark[sqlite-other]="($(SQLITE_MARK)) and not browser" paths[sqlite-other]="$(OTHER_HALF)"
	mark[browser]="($(SQLITE_MARK)) and browser" paths[browser]=""
	mark[postgres]="$(POSTGRES_MARK)" paths[postgres]=$$first_half
	mark[postgres-other]="$(POSTGRES_MARK)" paths[postgres-other]="$(OTHER_HALF)"
	for name in "$${names[@]}"; do log[$$name]="$(CURDIR)/tmp/test-$$name.$$$$.log"; done
	interrupted=""
	finish() {
		trap - EXIT
		for name in "$${!pid[@]}"; do
			# Stopped early: the run ends as on Ctrl-C (its teardown stops its live
			# servers). Ctrl-C in a terminal has already reached it.
			[ -n "$$interrupted" ] || kill -INT "$${pid[$$name]}" 2>/dev/null || true
			wait "$${pid[$$name]}" 2>/dev/null || true
		done
		for name in "$${names[@]}"; do rm -f "$${log[$$name]}"; done
		bash tests/pg_server.sh stop
	}
	trap finish EXIT
	# Ctrl-C ends the whole run (pytest exits 2 on it, which would not stop the shell).
	trap 'interrupted=yes; exit 130' INT
	trap 'exit 143' TERM
	url[postgres]=$$(bash tests/pg_server.sh start)
	url[postgres-other]=$$(bash tests/pg_server.sh database registry_test_other)
	run() {  # $$1: a run's name. Its command, replacing the (sub)shell.
		[ "$$1" = lint ] && exec $(MAKE) --no-print-directory lint
		unset TEST_DATABASE_URL DATABASE_URL
		[ -z "$${url[$$1]:-}" ] || export TEST_DATABASE_URL="$${url[$$1]}"
		# A background job starts with SIGINT ignored; pytest needs it to stop cleanly.
		exec env --default-signal=INT "$(BIN)/python" -m pytest -m "$${mark[$$1]}" $${paths[$$1]}
	}
	describe() {  # $$1: a run's name
		[ "$$1" = lint ] && echo "== make lint" && return
		echo "== pytest: $$1 (-m \"$${mark[$$1]}\" $${paths[$$1]})"
	}
	ended() {  # $$1: a run's name, $$2: its exit status. pytest exits 5 when a marker
		# selects no test: not a failure for one run.
		status[$$1]=$$2
		if [ "$$1" != lint ] && [ "$$2" -eq 5 ]; then
			echo "(no test selected)"
			status[$$1]=0
		fi
	}
	for name in "$${names[@]}"; do
		(run "$$name") >"$${log[$$name]}" 2>&1 &
		pid[$$name]=$$!
	done
	describe sqlite
	echo "(and beside it: $${names[*]})"
	code=0
	(run sqlite) || code=$$?
	ended sqlite "$$code"
	for name in "$${names[@]}"; do
		code=0
		wait "$${pid[$$name]}" || code=$$?
		unset "pid[$$name]"
		describe "$$name"
		cat "$${log[$$name]}"
		ended "$$name" "$$code"
	done
	summary="" failed=0
	for name in sqlite "$${names[@]}"; do
		summary="$$summary $$name $${status[$$name]}"
		[ "$${status[$$name]}" -eq 0 ] || failed=1
	done
	echo "== exit status:$$summary"
	[ "$$failed" -eq 0 ]

# Translations (babel.cfg): extract every message, merge new ones into the 简体中文
# catalogue and compile it. Translate the entries left empty in
# translations/zh/LC_MESSAGES/messages.po, then run it again to compile them.
messages: python-packages
	flags=$$($(BIN)/python -m translations.keywords)
	PYTHONPATH=. $(BIN)/pybabel -q extract -F babel.cfg $$flags -o translations/messages.pot \
		--project "Enterprise Cultivation Registry" --version 0.1.0 \
		--copyright-holder "Enterprise Cultivation Registry maintainers" .
	$(BIN)/pybabel -q update -i translations/messages.pot -d translations \
		--no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d translations --statistics

clean:
	rm -rf .pytest_cache .ruff_cache .mypy_cache
