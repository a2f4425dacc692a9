"""A path with a trailing slash is not found, rather than redirected.

Starlette's routers answer ``/chatgpt/prs/list/`` with a redirect to a URL they build from the
request's ``Host`` header, which the caller chooses: a redirect to any host the caller names, on
a service others link to. No route here ends in a slash, so such a path is ``404 not_found`` with
the path that exists, and nothing is built from the headers.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import NotFound

__all__ = ["TrailingSlashMiddleware"]


class TrailingSlashMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            raise NotFound(f"No route ends in a slash; try {path.rstrip('/')[:200]!r} "
                           "(/openapi.json lists the operations).")
        await self.app(scope, receive, send)
