"""Sync sources: the peers this registry pulls from (PRODUCT.md "Sync with other registries").
Their names, base URLs and tokens are checked alike by the CLI and the admin page; the token is
stored encrypted and never shown again. Flushes, never commits.
"""

from __future__ import annotations

import re
from typing import cast
from urllib.parse import urlsplit

from sqlalchemy import select

from registry.core.audit import Actor, diff, record_audit
from registry.core.dbsession import DbSession
from registry.core.errors import NotFound, Refusals, field_error, required
from registry.enterprises.models import LOCAL_ORIGIN
from registry.sync.crypto import encrypt_token
from registry.sync.models import SyncSource

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}\Z")
MAX_URL_LENGTH = 500
MAX_TOKEN_LENGTH = 1000


def check_name(session: DbSession, name: str) -> str:
    """A new source's name: a slug of 1–64 characters (lowercase letters, digits, ``-``,
    ``_``), not ``local`` and not taken. It becomes its records' ``origin``."""
    name = (name or "").strip().lower()
    if not name:
        raise required("name")
    if not NAME_PATTERN.match(name):
        raise field_error(
            "name",
            "invalid_format",
            "A source name is 1 to 64 lowercase letters, digits, - or _, starting with a "
            "letter or digit.",
        )
    if name == LOCAL_ORIGIN:
        raise field_error("name", "invalid_choice", '"local" is the origin of local records.')
    if session.scalar(select(SyncSource.id).where(SyncSource.name == name)):
        raise field_error("name", "taken", "A source named %(name)s exists.", name=name)
    return name


def check_base_url(url: str) -> str:
    """The peer's base URL: http or https, a host, an optional port and path prefix
    (without ``/api/v1``), no credentials, query or fragment; trailing slashes removed."""
    url = (url or "").strip()
    problem = None
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if not url:
        raise required("base_url")
    if len(url) > MAX_URL_LENGTH or any(c.isspace() for c in url):
        problem = "Give a URL of at most 500 characters, without spaces."
    elif parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        problem = "Give an http:// or https:// URL with a host."
    elif not port_ok:
        problem = "The port is not valid."
    elif "?" in url or "#" in url:
        problem = "The URL may not have a query or a fragment."
    elif parts.username is not None or parts.password is not None:
        problem = "Give the token separately, not in the URL."
    elif parts.path.rstrip("/").endswith("/api/v1"):
        problem = "Give the base URL without /api/v1: the client appends it."
    if problem:
        raise field_error("base_url", "invalid_format", problem)
    return url.rstrip("/")


def check_token(token: str) -> str:
    """The bearer token the peer issued: printable, without spaces, at most 1000
    characters."""
    token = (token or "").strip()
    if not token:
        raise required("token")
    if len(token) > MAX_TOKEN_LENGTH or not token.isprintable() or " " in token:
        raise field_error("token", "invalid_format", "Give the bearer token the peer issued.")
    return token


def check_source(session: DbSession, name: str, base_url: str, token: str) -> tuple[str, str, str]:
    """A new source's name, base URL and token, all checked before any refusal
    (QUALITY.md U2), as they would be stored. Saves nothing."""
    refusals = Refusals()
    checked = (
        refusals.check(check_name, session, name),
        refusals.check(check_base_url, base_url),
        refusals.check(check_token, token),
    )
    refusals.raise_any()
    return cast(tuple[str, str, str], checked)


def add_source(
    session: DbSession, name: str, base_url: str, token: str, *, actor: Actor
) -> SyncSource:
    """A new peer to pull from. The token is stored encrypted (``SYNC_SECRET_KEY``) and
    never shown again; the audit entry names the source and its URL, not the token."""
    name, base_url, token = check_source(session, name, base_url, token)
    source = SyncSource(
        name=name,
        base_url=base_url,
        token_encrypted=encrypt_token(token),
        records_applied=0,
    )
    session.add(source)
    session.flush()
    record_audit(
        session,
        actor,
        "sync_source.create",
        "sync_source",
        source.name,
        diff({}, {"name": source.name, "base_url": source.base_url}),
    )
    return source


def replace_token(session: DbSession, source: SyncSource, token: str, *, actor: Actor) -> None:
    """Store a new token for a source (e.g. the peer issued another, or the key changed)."""
    source.token_encrypted = encrypt_token(check_token(token))
    record_audit(session, actor, "sync_source.token", "sync_source", source.name)
    session.flush()


def source_named(session: DbSession, name: str) -> SyncSource:
    """The source of that name (case and surrounding spaces ignored), else not_found."""
    source = session.scalars(
        select(SyncSource).where(SyncSource.name == (name or "").strip().lower())
    ).one_or_none()
    if source is None:
        raise NotFound("No sync source named %(name)s.", name=name)
    return source


def sync_actor(source: SyncSource) -> Actor:
    """Who the audit log names for what a pull from ``source`` writes."""
    return Actor(None, f"sync:{source.name}", "sync")
