"""``private_key_jwt`` (RFC 7523): a client proves who it is with a JWT signed by its own key, the
way ChatGPT prefers to when its client id is a metadata document. Authlib verifies the assertion
(joserfc: asymmetric keys only, so no secret can be forged from a public key); this module says
which audiences it must name (the token endpoint, or the issuer), where the client's keys are (the
``jwks`` its metadata document carried or pointed to), and that an assertion's ``jti`` is used once.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc.jwk import KeySet

if TYPE_CHECKING:
    from .server import EmbeddedServer

__all__ = ["PrivateKeyJwt"]

ASSERTION_SECONDS = 600  # how long a used jti is remembered: longer than any assertion a client makes

_audiences: ContextVar[list[str]] = ContextVar("connector_assertion_audiences")


class PrivateKeyJwt(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, server: EmbeddedServer, token_path: str) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self.server, self.token_path = server, token_path

    def __call__(self, query_client: Any, request: Any) -> Any:
        issuer = self.server.issuer_of(request)
        token = _audiences.set([issuer + self.token_path, issuer])
        try:
            return super().__call__(query_client, request)
        finally:
            _audiences.reset(token)

    def get_audiences(self) -> list[str]:
        return _audiences.get()

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        key = f"{claims['sub']}:{jti}"
        found, _ = self.server.store.use("assertion", key)
        if found is not None:
            return False  # presented before: a replay
        self.server.store.put("assertion", key, {"used": True}, ASSERTION_SECONDS)
        return True

    def resolve_client_public_key(self, client: Any) -> KeySet:
        if not client.jwks:
            raise InvalidClientError(description="This client published no keys (jwks) to check its assertion with.")
        return KeySet.import_key_set(client.jwks)

