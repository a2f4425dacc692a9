"""Bearer authentication and per-operation scopes.

Connexion's ``x-bearerInfoFunc`` names a module-level function, which would force the keys into
global state; instead :func:`bearer_security_handler` builds the security handler for one app's
:class:`~connector.keys.KeyRing` and is registered through ``security_map``. Each operation's
security requirement in ``openapi.yaml`` names the scope it needs (``bearerAuth: [prs:write]``);
Connexion hands those to the handler built here, which refuses a key without them.
"""

from __future__ import annotations

from typing import Any

from connexion.exceptions import OAuthResponseProblem
from connexion.security import NO_VALUE, BearerSecurityHandler

from .errors import InsufficientScope
from .keys import KeyRing

__all__ = ["bearer_security_handler"]


def bearer_security_handler(keys: KeyRing) -> type[BearerSecurityHandler]:
    """A Connexion security handler class that checks bearer tokens against ``keys``."""

    class ApiKeyBearerHandler(BearerSecurityHandler):
        def get_fn(self, security_scheme: dict, required_scopes: list[str]) -> Any:
            needed = tuple(required_scopes or ())

            # Connexion's generic wrapper inspects the verify function's signature on every
            # request; this one knows it and checks the token directly.
            def verify(request: Any) -> Any:
                auth_type, token = self.get_auth_header_value(request)
                if auth_type != "bearer":
                    return NO_VALUE
                key = keys.find(token)
                if key is None:
                    raise OAuthResponseProblem(detail="Provided token is not valid")
                missing = [scope for scope in needed if scope not in key.scopes]
                if missing:
                    raise InsufficientScope(
                        f"The API key '{key.name}' lacks the scope {', '.join(missing)} this operation needs; "
                        "ask the operator for a key that has it.",
                        required_scope=missing[0],
                    )
                return key.token_info()

            return verify

    return ApiKeyBearerHandler
