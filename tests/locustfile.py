"""The load of QUALITY.md R10, for Locust: run by tests/test_load.py as
``locust --headless`` in a process of its own (Locust patches the standard library for
gevent when it is imported, which pytest's process must never see). Not a test module.

Each simulated user signs in on the web as an enterprise user of its own (the login
form, CSRF token and all), then waits 0.5–1.5 s between tasks, drawn in the proportions
of R10:

- 80 % reads: a public page, one of its enterprise's own pages, or an API read with the
  token of the reviewer it is paired with (a list of enterprises, an application in
  review, the stats);
- 15 % form posts: its enterprise's profile or its last year's annual report, posted as
  the browser posts them (the session's CSRF token), answered 303;
- 5 % approvals: its reviewer's final approval (``POST /applications/{id}/decisions``)
  of the next application that reviewer has claimed; ten reviewers share the users, and
  the tier's quota is below the number of applications, so approvals meet other
  approvals of the same tier and, once the quota is used up, ``409 quota_full``. When a
  reviewer's queue is empty an approval is sent again, which is refused 409 too.

Every request is named by its kind (``read``, ``form post``, ``approval``, ``sign-in``),
so Locust's figures are per kind. An answer other than the one expected (200 for a
read; 303 to the next page for a form post or a sign-in; 200, or 409 ``quota_full`` /
``invalid_transition`` for an approval) is a failure. The plan (accounts, tokens,
applications) is the JSON file named by ``LOAD_PLAN``; the answers are counted per
kind, path and status into the JSON file named by ``LOAD_OUTCOMES`` when Locust quits.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from collections import Counter
from pathlib import Path

from locust import HttpUser, between, events, task

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
ACCOUNTS = itertools.cycle(PLAN["accounts"])
#: Per reviewer, the applications it has claimed and not yet approved (shared by the
#: users paired with it; Locust's users are greenlets of one thread).
QUEUES = [list(reviewer["applications"]) for reviewer in PLAN["reviewers"]]
#: (kind, path, status, problem code) → how many answers.
OUTCOMES: Counter[tuple[str, str, int, str]] = Counter()
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')

PUBLIC_PAGES = ["/", "/tiers/tech_sme", "/tiers/chain_leader", "/notices", "/reports"]
OWN_PAGES = ["/enterprise/profile", "/enterprise/reports", "/enterprise/eligibility"]
OWN_PAGES += ["/applications", "/account"]
API_READS = ["/api/v1/enterprises?limit=50", "/api/v1/stats", "/api/v1/tiers"]
APPROVE = {"decision": "approve", "manual_checks": PLAN["manual_checks"]}


def _outcome(kind: str, path: str, status: int, code: str = "") -> None:
    OUTCOMES[kind, path, status, code] += 1


@events.quitting.add_listener
def _write_outcomes(environment, **_kwargs) -> None:
    answers = [
        {"kind": kind, "path": path, "status": status, "code": code, "count": count}
        for (kind, path, status, code), count in sorted(OUTCOMES.items())
    ]
    Path(os.environ["LOAD_OUTCOMES"]).write_text(json.dumps(answers, indent=1))


class RegistryUser(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        account = next(ACCOUNTS)
        self.reviewer = account["reviewer"]
        self.api = {"Authorization": PLAN["reviewers"][self.reviewer]["authorization"]}
        token = self._csrf_token("/login")
        self._expect(
            "sign-in",
            "/login",
            "/",  # wherever it leads, not back to the login form
            data={"email": account["email"], "password": PLAN["password"], "csrf_token": token},
        )
        # One token per session, as a browser's open form has it.
        self.csrf_token = self._csrf_token("/enterprise/profile")
        self.profile = {**PLAN["profile"], "name": account["name"]}
        self.profile_edits = itertools.count(1)

    def _csrf_token(self, path: str) -> str:
        with self.client.get(path, name="sign-in form", catch_response=True) as response:
            _outcome("sign-in form", path, response.status_code)
            found = CSRF.search(response.text) if response.status_code == 200 else None
            if found is None:
                response.failure(f"no form on {path}: {response.status_code}")
                raise RuntimeError(f"no CSRF token on {path}")
            return found.group(1)

    def _expect(self, kind: str, path: str, then: str, **post) -> None:
        """A form posted: 303 to a page whose path starts with ``then`` (a form refused,
        or a session lost, which sends to /login, is a failure)."""
        with self.client.post(
            path, name=kind, allow_redirects=False, catch_response=True, **post
        ) as response:
            _outcome(kind, path, response.status_code)
            location = response.headers.get("Location", "")
            if response.status_code != 303 or not location.startswith(then):
                response.failure(f"{path}: {response.status_code} {location} {response.text[:300]}")
            elif location.startswith("/login"):
                response.failure(f"{path}: sent back to {location}")

    @task(80)
    def read(self) -> None:
        path = random.choice(PUBLIC_PAGES + OWN_PAGES + API_READS + ["/api/v1/applications/{id}"])
        page = path.format(id=random.choice(PLAN["applications"]))
        headers = self.api if page.startswith("/api/") else {}
        with self.client.get(page, name="read", headers=headers, catch_response=True) as r:
            _outcome("read", path.split("?")[0], r.status_code)
            if r.status_code != 200:
                r.failure(f"{page}: {r.status_code} {r.text[:300]}")

    @task(15)
    def form_post(self) -> None:
        if random.random() < 0.5:
            edit = next(self.profile_edits)
            form = {**self.profile, "contact_name": f"联系人{edit}"}
            path = then = "/enterprise/profile"
        else:
            form = {**PLAN["figures"], "employees": str(random.randint(100, 400))}
            path, then = f"/enterprise/reports/{PLAN['report_year']}", "/enterprise/reports"
        self._expect("form post", path, then, data={**form, "csrf_token": self.csrf_token})

    @task(5)
    def approval(self) -> None:
        queue = QUEUES[self.reviewer]
        claimed = PLAN["reviewers"][self.reviewer]["applications"]
        application = queue.pop(0) if queue else random.choice(claimed)
        path = f"/api/v1/applications/{application}/decisions"
        with self.client.post(
            path, name="approval", json=APPROVE, headers=self.api, catch_response=True
        ) as response:
            code = ""
            if response.status_code == 409:
                code = response.json().get("code", "")
            _outcome("approval", "/api/v1/applications/{id}/decisions", response.status_code, code)
            if response.status_code == 200 or code in ("quota_full", "invalid_transition"):
                response.success()  # a refusal of the rules, not a failure of the server
            else:
                response.failure(f"{path}: {response.status_code} {response.text[:300]}")
