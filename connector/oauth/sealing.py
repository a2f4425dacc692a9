"""Encryption of what the connector keeps that would act on GitHub: each signed-in user's GitHub tokens.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``, already a dependency through PyJWT
and Authlib) under ``CONNECTOR_OAUTH_ENCRYPTION_KEY_FILE``: one key per line, newest first. The
first key seals; every key opens, so a new key is rotated in by putting it on top, and the old one
removed once what it sealed has been re-sealed (each refresh re-seals) or has expired. The sandbox
uses a key made at start, since what it seals dies with it.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ..types import Secret

__all__ = ["Sealer", "Unsealable"]


class Unsealable(Exception):
    """Sealed with a key that is no longer configured, or altered."""


class Sealer:
    def __init__(self, keys: Secret | None) -> None:
        lines = keys.reveal().splitlines() if keys is not None else [Fernet.generate_key().decode()]
        self._fernet = MultiFernet([Fernet(line.strip()) for line in lines if line.strip()])

    def seal(self, value: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(value, separators=(",", ":")).encode()).decode("ascii")

    def open(self, sealed: str) -> dict[str, Any]:
        try:
            return json.loads(self._fernet.decrypt(sealed.encode("ascii")))
        except (InvalidToken, ValueError):
            raise Unsealable("sealed with a key that is not configured, or altered") from None
