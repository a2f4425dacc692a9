"""API-key authentication and per-operation scopes.

Connexion's ``x-bearerInfoFunc``/``x-apikeyInfoFunc`` name module-level functions, which would
force the keys into global state; instead :func:`security_handlers` builds the handlers for one
app's :class:`~connector.config.keys.KeyRing`, registered through ``security_map``. Each operation's
security requirement in ``openapi.yaml`` names the scope it needs (``bearerAuth: [prs:write]``);
Connexion hands those to the handlers built here, which refuse a key without them.

Keys arrive as ``Authorization: Bearer`` everywhere, and as ``x-api-key`` on the actions-gateway
compatibility route, as that gateway took them. Routes outside the spec (the run-events stream,
``/mcp``) check them with :func:`authenticate`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from connexion.exceptions import OAuthResponseProblem
from connexion.security import NO_VALUE, ApiKeySecurityHandler, BearerSecurityHandler

from ..config.keys import ApiKey, KeyRing
from ..errors import InsufficientScope, MissingApiKeyConfig, Unauthorized
from ..record import note
from .arrival import arrival_of

__all__ = ["security_handlers", "authenticate"]

_BEARER = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)


def security_handlers(keys: KeyRing) -> dict[str, type]:
    """Connexion's ``security_map``: handler classes that check presented keys against ``keys``."""

    def verifier(required_scopes: list[str] | None) -> Callable[[str], dict[str, Any]]:
        needed = tuple(required_scopes or ())

        def verify(token: str) -> dict[str, Any]:
            key = keys.find(token)
            if key is None:
                raise OAuthResponseProblem(detail="Provided token is not valid")
            return _with_scopes(key, needed, "operation")

        return verify

    # Connexion's generic wrappers inspect the verify function's signature on every request;
    # these know theirs and check the credential directly.
    class KeyBearerHandler(BearerSecurityHandler):
        def get_fn(self, security_scheme: dict, required_scopes: list[str]) -> Any:
            verify = verifier(required_scopes)

            def check(request: Any) -> Any:
                outer = arrival_of(request.scope)
                if outer is not None and outer.inner and outer.token_info is not None:
                    # An MCP tool call: the POST to /mcp that carries it authenticated this key.
                    return _with_scopes(outer.token_info["key"], tuple(required_scopes or ()), "operation")
                auth_type, token = self.get_auth_header_value(request)
                return verify(token) if auth_type == "bearer" else NO_VALUE

            return check

    class KeyHeaderHandler(ApiKeySecurityHandler):
        def get_fn(self, security_scheme: dict, required_scopes: list[str]) -> Any:
            verify, header = verifier(required_scopes), security_scheme["name"]

            def check(request: Any) -> Any:
                token = request.headers.get(header)
                if token is None:
                    return NO_VALUE
                if keys.is_empty():  # the actions gateway's answer when it had no keys configured
                    raise MissingApiKeyConfig(
                        "The connector has no API keys configured; the operator has to set "
                        "CONNECTOR_API_KEY or add keys to CONNECTOR_KEYS_FILE."
                    )
                return verify(token)

            return check

    return {"bearer": KeyBearerHandler, "apiKey": KeyHeaderHandler}


def authenticate(keys: KeyRing, header: str, *, scope: str | None, what: str) -> dict[str, Any]:
    """The token info for the key in an ``Authorization: Bearer`` header, which must hold ``scope``
    (any valid key when it is None); ``what`` names the route in the refusal."""
    match = _BEARER.match(header)
    key = keys.find(match.group(1)) if match else None
    if key is None:
        raise Unauthorized("Send the connector's API key as 'Authorization: Bearer <key>'.")
    return _with_scopes(key, () if scope is None else (scope,), what)


def _with_scopes(key: ApiKey, needed: tuple[str, ...], what: str) -> dict[str, Any]:
    """``key``'s token info if it holds every scope in ``needed``; else ``403 insufficient_scope``."""
    note(key=key.name)
    missing = [scope for scope in needed if scope not in key.scopes]
    if missing:
        raise InsufficientScope(
            f"The API key '{key.name}' lacks the scope {', '.join(missing)} this {what} needs; "
            "ask the operator for a key that has it.",
            required_scope=missing[0],
        )
    return key.token_info()
