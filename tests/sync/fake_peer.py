"""A fake peer registry for the pull client's tests: a small WSGI app (served on a
loopback thread by the ``peer`` fixture) that speaks API.md "Sync" (``/api/v1/export``
and ``/api/v1/changes``) over a history the test writes, and misbehaves on demand
(``peer.misbehave[path] = answer``).
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug.wrappers import Request, Response

from registry.core.pagination import decode_cursor, encode_cursor
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.models import COUNT_FIELDS, FIGURE_FIELDS

AT = "2026-03-01T08:00:00Z"


def enterprise_data(uscc: str, version: int = 1, **fields) -> dict:
    """An enterprise as a reviewer's GET shows it (every member of EnterpriseOut)."""
    data = {
        "uscc": uscc,
        "name": "远方企业有限公司",
        "name_en": None,
        "city_code": "360100",
        "county": None,
        "industry_code": "electronic_info",
        "founded_on": "2015-06-01",
        "legal_representative": None,
        "contact_name": None,
        "contact_phone": None,
        "contact_email": None,
        "address": None,
        "main_products": None,
        "status": "active",
        "merged_into": None,
        "uscc_warnings": list(uscc_codes.validate(uscc).warnings),
        "origin": "local",
        "source_version": None,
        "tier": None,
        "tier_since": None,
        "tier_expires_at": None,
        "registration_number": None,
        "version": version,
        "created_at": AT,
        "updated_at": AT,
    }
    data.update(fields)
    return data


def report_data(uscc: str, year: int, version: int = 1, **figures) -> dict:
    data = {
        "enterprise_uscc": uscc,
        "year": year,
        "version": version,
        "created_at": AT,
        "updated_at": AT,
    }
    data.update({name: None for name in FIGURE_FIELDS})
    data.update({name: 10 for name in COUNT_FIELDS[:1]})
    data.update(figures)
    return data


#: A canned answer: (status, content type, body bytes), or a callable given the request.
Answer = tuple[int, str, bytes] | Callable[[Request], Response]


@dataclass
class FakePeer:
    url: str = ""
    epoch: str = "epoch-1"
    #: (type, key) → (version, data): what a snapshot shows.
    state: dict = field(default_factory=dict)
    #: The feed: entries without their cursor (position = index + 1).
    log: list = field(default_factory=list)
    misbehave: dict[str, Answer] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    token: str = "peer-token"

    # --- writing the peer's history ---------------------------------------------------

    def put(self, type_: str, key: str, data: dict) -> None:
        self.state[(type_, key)] = (data["version"], data)
        self.log.append(
            {
                "type": type_,
                "key": key,
                "op": "upsert",
                "version": data["version"],
                "occurred_at": AT,
                "data": data,
            }
        )

    def enterprise(self, uscc: str, version: int = 1, **fields) -> dict:
        data = enterprise_data(uscc, version, **fields)
        self.put("enterprise", uscc, data)
        return data

    def report(self, uscc: str, year: int, version: int = 1, **figures) -> dict:
        data = report_data(uscc, year, version, **figures)
        self.put("annual_report", f"{uscc}/{year}", data)
        return data

    def cursor(self, position: int | None = None) -> str:
        return encode_cursor(self.epoch, len(self.log) if position is None else position)

    # --- answering ----------------------------------------------------------------------

    def snapshot_lines(self) -> list[bytes]:
        as_of = self.cursor()
        records = sorted(self.state.items(), key=lambda kv: (kv[0][0] != "enterprise", kv[0][1]))
        lines = [{"as_of": as_of}]
        lines += [{"type": t, "key": k, "version": v, "data": d} for (t, k), (v, d) in records]
        lines.append({"end": True, "as_of": as_of, "count": len(records)})
        return [json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in lines]

    def _export(self, request: Request) -> Response:
        body = b"".join(self.snapshot_lines())
        headers = {}
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            body, headers = gzip.compress(body), {"Content-Encoding": "gzip"}
        return Response(body, mimetype="application/x-ndjson", headers=headers)

    def _changes(self, request: Request) -> Response:
        epoch, after = decode_cursor(request.args["after"], str, int)
        if epoch != self.epoch:
            return problem(410, "cursor_expired")
        limit = int(request.args.get("limit", 100))
        deadline = time.monotonic() + float(request.args.get("wait", 0))
        while len(self.log) <= after and time.monotonic() < deadline:
            if self.released.wait(0.05):  # a long-poll: until an entry or the wait is over
                break
        entries = self.log[after : after + limit]
        position = after + len(entries)
        body = {
            "data": [{"cursor": self.cursor(after + i + 1), **e} for i, e in enumerate(entries)],
            "next_cursor": self.cursor(position),
            "has_more": position < len(self.log),
        }
        return Response(json.dumps(body), mimetype="application/json")

    def __call__(self, environ, start_response):
        request = Request(environ)
        path = request.path.removeprefix("/api/v1/")
        self.requests.append(path)
        self.queries.append(request.query_string.decode())
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            response = problem(401, "unauthenticated")
        elif path in self.misbehave:
            answer = self.misbehave[path]
            response = answer(request) if callable(answer) else Response(answer[2], answer[0])
            if not callable(answer):
                response.headers["Content-Type"] = answer[1]
        elif path == "export":
            response = self._export(request)
        elif path == "changes":
            response = self._changes(request)
        else:
            response = problem(404, "not_found")
        return response(environ, start_response)


def problem(status: int, code: str) -> Response:
    body = {"type": "x", "title": code, "status": status, "detail": code, "code": code}
    return Response(json.dumps(body), status, mimetype="application/problem+json")


def hang(peer: FakePeer) -> Callable[[Request], Response]:
    """An answer that never comes (until the test ends)."""

    def answer(_request):
        peer.released.wait(30)
        return problem(503, "unavailable")

    return answer
