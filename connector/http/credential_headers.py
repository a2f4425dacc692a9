"""A request that carries its credentials twice is refused.

With two ``Authorization`` (or ``X-API-Key``) headers, what a proxy in front checked and what the
connector reads could be different ones; no client needs to send two, so the request is a
``400 validation_error`` naming the header, before anything authenticates it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import BadRequest, FieldError

__all__ = ["CredentialHeadersMiddleware"]

ONCE = (b"authorization", b"x-api-key")


class CredentialHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            names = [name.lower() for name, _ in scope.get("headers", [])]
            twice = [name.decode() for name in ONCE if names.count(name) > 1]
            if twice:
                raise BadRequest([FieldError(f"header {name}", "was sent more than once; send it once")
                                  for name in twice])
        await self.app(scope, receive, send)
