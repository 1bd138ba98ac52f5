"""A revoked token against a live server of two workers that know it (API.md): each
worker keeps a token's lookup for at most a second, so a revocation made elsewhere (here:
by this process, as another server would) is refused by every worker within 1 s."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import requests

from registry.accounts import tokens
from registry.accounts.models import ApiToken, Role
from tests.factories import TEST_ACTOR
from tests.fixtures.api import API
from tests.live import gunicorn


def test_every_worker_refuses_a_revoked_token_within_a_second(
    database_url, tmp_path, session, make
):
    reviewer = make.user("machine@peer.example", Role.REVIEWER)
    token, secret = tokens.create_token(session, reviewer, "registry:read", actor=TEST_ACTOR)
    session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    with gunicorn(database_url, tmp_path, workers=2) as server:

        def status(_=None) -> int:
            return requests.get(f"{server.url}{API}/tiers", headers=headers, timeout=30).status_code

        with ThreadPoolExecutor(8) as pool:  # both workers look the token up and keep it
            assert sorted(pool.map(status, range(16))) == [200] * 16
        assert len(server.worker_pids()) == 2
        tokens.revoke_token(session, session.get(ApiToken, token.id), actor=TEST_ACTOR)
        session.commit()
        revoked = time.monotonic()
        seen = []
        while (elapsed := time.monotonic() - revoked) < 1.6:
            seen.append((elapsed, status()))
    late = [code for elapsed, code in seen if elapsed > 1.05]
    assert late and set(late) == {401}, seen
