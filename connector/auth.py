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

from connexion.exceptions import OAuthResponseProblem
from connexion.security import NO_VALUE, BearerSecurityHandler

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
        def get_fn(self, security_scheme: dict, required_scopes: list[str]) -> Any:
            # Connexion's generic wrapper inspects the verify function's signature on every
            # request; this one knows it and checks the token directly.
            def verify(request: Any) -> Any:
                auth_type, token = self.get_auth_header_value(request)
                if auth_type != "bearer":
                    return NO_VALUE
                token_info = keys.verify(token)
                if token_info is None:
                    raise OAuthResponseProblem(detail="Provided token is not valid")
                return token_info

            return verify

    return ApiKeyBearerHandler
