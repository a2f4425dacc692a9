"""Bearer API keys for callers of the connector.

Connexion's ``x-bearerInfoFunc`` names a module-level function, which would force the key list into
global state; instead :func:`bearer_security_handler` builds the security handler for one app's
keys and is registered through ``security_map``, so every app built by ``create_app`` checks its own
keys. Keys are kept only as SHA-256 digests and compared in constant time against all of them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

from connexion.security import BearerSecurityHandler

from .settings import Secret

__all__ = ["ApiKeys", "bearer_security_handler"]


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


class ApiKeys:
    def __init__(self, keys: Iterable[Secret]) -> None:
        self._digests = tuple(_digest(key.reveal()) for key in keys)

    def __len__(self) -> int:
        return len(self._digests)

    def verify(self, token: str) -> dict[str, Any] | None:
        """Token info for a known key, ``None`` otherwise (Connexion then answers 401)."""
        presented = _digest(token)
        matched = None
        # Compare against every key so the time taken does not reveal which one (if any) matched.
        for index, digest in enumerate(self._digests, start=1):
            if hmac.compare_digest(presented, digest):
                matched = index
        if matched is None:
            return None
        return {"sub": f"key-{matched}", "scope": []}


def bearer_security_handler(keys: ApiKeys) -> type[BearerSecurityHandler]:
    """A Connexion security handler class that checks bearer tokens against ``keys``."""

    class ApiKeyBearerHandler(BearerSecurityHandler):
        def _resolve_func(self, security_scheme: dict) -> Any:
            return keys.verify

    return ApiKeyBearerHandler
