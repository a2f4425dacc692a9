"""``/mcp``: the connector's operations as MCP tools over streamable HTTP, in the same app and process.

The route is a plain ASGI endpoint inside the app, so the IP allowlist, the body limit, CORS and the
one error handler apply to it as to every other route. It checks the API key itself (any valid key
opens MCP; each tool call then needs its operation's scope, checked by the operation's own route),
and answers 401 problem+json like the rest of the API.

The MCP SDK is imported, and its server built, on the first request to ``/mcp``: importing it at
start-up would cost every worker ~0.2 s of cold start and ~15 MB whether or not anything speaks
MCP to it (docs/benchmarks.md). The SDK's session manager needs a task group that lives as long as
the app, which only a lifespan provides; :meth:`McpEndpoint.lifespan` opens one at start-up (cheap:
no import) and the manager is started inside it when first needed. An app run without its lifespan
(Starlette's test client outside ``with``) answers 503 on ``/mcp``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.abc import TaskGroup, TaskStatus
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import Misconfigured
from ..http.arrival import arrival_of
from ..http.auth import Authenticator
from .tools import ToolSpec

__all__ = ["McpEndpoint", "forwarded_headers"]
# Headers of the POST to /mcp that a tool call's inner request carries on: the API key, and what
# the route's middleware judges the caller by (Host, and X-Forwarded-For behind a trusted proxy).
FORWARDED = ("authorization", "host", "x-forwarded-for", "user-agent")

log = logging.getLogger(__name__)
# The SDK logs "Terminating session: None" at INFO after every stateless request: noise, one line
# per tool call, with nothing in it.
logging.getLogger("mcp.server.streamable_http").setLevel(logging.WARNING)


def forwarded_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: headers[name] for name in FORWARDED if name in headers}


class McpEndpoint:
    def __init__(self, tools: list[ToolSpec], instructions: str, auth: Authenticator,
                 max_request_body_size: int) -> None:
        self.tools, self.instructions = tools, instructions
        self.auth = auth
        self.max_request_body_size = max_request_body_size
        self._app: ASGIApp | None = None
        self._task_group: TaskGroup | None = None
        self._handle: ASGIApp | None = None
        self._lock = anyio.Lock()

    @asynccontextmanager
    async def lifespan(self, app: ASGIApp) -> AsyncIterator[None]:
        """The app's lifespan (Connexion hands it the whole middleware stack, which is what tool
        calls are sent through)."""
        async with anyio.create_task_group() as task_group:
            self._app, self._task_group = app, task_group
            try:
                yield
            finally:
                self._task_group = self._handle = None
                task_group.cancel_scope.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        token_info = await self.auth.authenticate_async(headers.get("authorization", ""), scope, needed=None,
                                                        what="MCP")
        arrival = arrival_of(scope)
        if arrival is not None:  # the tool calls this POST carries are made with this key
            arrival.token_info = token_info
        handle = self._handle or await self._start()
        await handle(scope, receive, send)

    async def _start(self) -> ASGIApp:
        async with self._lock:
            if self._handle is not None:
                return self._handle
            if self._task_group is None or self._app is None:
                raise Misconfigured("MCP needs the app's lifespan; run the connector with `connector serve` or an "
                                    "ASGI server with lifespan events on (uvicorn's default).")
            from .server import build_server, session_manager  # the SDK, imported once it is needed

            server = build_server(self.tools, self.instructions, self._app, _http_caller, self._scopes_of)
            manager = session_manager(server, self.max_request_body_size)
            await self._task_group.start(_run, manager)
            log.info("MCP endpoint started with %d tools", len(self.tools))
            self._handle = manager.handle_request
            return self._handle

    def _scopes_of(self, ctx: Any) -> frozenset[str] | None:
        request = ctx.request  # the POST to /mcp, authenticated in __call__
        if request is None:
            return None
        arrival = arrival_of(request.scope)
        token_info = arrival.token_info if arrival is not None else None
        if token_info is None:
            token_info = self.auth.authenticate(request.headers.get("authorization", ""), request.scope,
                                                needed=None, what="MCP")
        return token_info["key"].scopes


async def _run(manager: Any, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
    async with manager.run():
        task_status.started()
        await anyio.sleep_forever()


def _http_caller(ctx: Any) -> tuple[dict[str, str], Mapping[str, Any] | None]:
    request = ctx.request  # the Starlette request of the POST that carried this tools/call
    if request is None:
        return {}, None
    return forwarded_headers(request.headers), request.scope
