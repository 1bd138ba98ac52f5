"""Peers' bearer tokens at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key derived
from ``SYNC_SECRET_KEY`` by HKDF-SHA256.

Production sets ``SYNC_SECRET_KEY``; unset, a random one is generated once and kept in
the instance folder (``registry.config``). Changing it makes the stored tokens
unreadable: each source's token must then be given again.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from flask import current_app

from registry.core.errors import DomainError

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

# Separates this key from any other derived from the same secret.
_PURPOSE = b"registry sync source token v1"


class TokenUnreadable(DomainError):
    code, status = "token_unreadable", 409


def _fernet(secret: str | None = None) -> Fernet:
    # Loaded when a token is stored or read, not with the app (~7 MB a web worker of a
    # registry that pulls nothing never needs).
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    secret = secret if secret is not None else current_app.config.get("SYNC_SECRET_KEY")
    if not secret:
        raise RuntimeError("SYNC_SECRET_KEY is not configured")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        secret.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_token(token: str, secret: str | None = None) -> bytes:
    """The token encrypted with the configured key (or ``secret``)."""
    return _fernet(secret).encrypt(token.encode("utf-8"))


def decrypt_token(encrypted: bytes, secret: str | None = None) -> str:
    """The token back; a token encrypted under another key is a clear refusal."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(secret).decrypt(bytes(encrypted)).decode("utf-8")
    except InvalidToken:
        raise TokenUnreadable(
            "The stored token cannot be decrypted with SYNC_SECRET_KEY (was the key "
            "changed?): give the source's token again."
        ) from None
