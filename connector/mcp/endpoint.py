"""``/mcp``: the connector's operations as MCP tools over streamable HTTP, in the same app and process.

The route is a plain ASGI endpoint inside the app, so the IP allowlist, the body limit, CORS and the
one error handler apply to it as to every other route. It checks the API key itself (any valid key
opens MCP; each tool call then needs its operation's scope, checked by the operation's own route),
and answers 401 problem+json like the rest of the API.

Stateless, with JSON answers: every POST carries one JSON-RPC message and gets its answer in the
response, so any instance behind a load balancer can serve it (run state is already shared
through Redis) and nothing needs a held-open stream or a session. The JSON-RPC itself is
:mod:`connector.mcp.protocol`'s. No DNS-rebinding check: every request needs a credential, which a
rebound page does not have.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from ..http.arrival import arrival_of
from ..http.auth import Authenticator
from .protocol import INVALID_REQUEST, PARSE_ERROR, Envelope, ToolServer, encode
from .tools import ToolSpec

__all__ = ["McpEndpoint", "forwarded_headers"]
# Headers of the POST to /mcp that a tool call's inner request carries on: the API key, and what
# the route's middleware judges the caller by (Host, and X-Forwarded-For behind a trusted proxy).
FORWARDED = ("authorization", "host", "x-forwarded-for", "user-agent")


def forwarded_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: headers[name] for name in FORWARDED if name in headers}


@dataclass(frozen=True)
class _Post:
    """A POST to /mcp, as the messages it carries need it: a tool call's inner request is made
    like it, and the key it was authenticated with decides which tools are listed."""

    scope: Scope
    headers: dict[str, str]
    token_info: dict[str, Any]


class McpEndpoint:
    def __init__(self, tools: list[ToolSpec], instructions: str, auth: Authenticator, app: ASGIApp) -> None:
        """Tool calls are sent through ``app``: the whole middleware stack, as a request from outside is."""
        self.auth = auth
        self.server = ToolServer(tools, instructions, app, _made_like, _scopes_of)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        token_info = await self.auth.authenticate_async(headers.get("authorization", ""), scope, needed=None,
                                                        what="MCP")
        arrival = arrival_of(scope)
        if arrival is not None:  # the tool calls this POST carries are made with this key
            arrival.token_info = token_info
        body = await _body(receive)
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            error = {"code": INVALID_REQUEST, "message": "Content-Type must be application/json: the body is one "
                                                           "JSON-RPC message."}
            await _send(send, 415, {"jsonrpc": "2.0", "id": None, "error": error})
            return
        try:
            message = json.loads(body)
        except ValueError as exc:  # UnicodeDecodeError included
            await _send(send, 400, {"jsonrpc": "2.0", "id": None, "error": {"code": PARSE_ERROR,
                                                                             "message": f"Parse error: {exc}"}})
            return
        answer, status = await self.server.answer(message, Envelope(carrier=_Post(scope, headers, token_info),
                                                                    headers=headers))
        await _send(send, status, answer)


def _made_like(post: _Post) -> tuple[dict[str, str], Mapping[str, Any] | None]:
    return forwarded_headers(post.headers), post.scope


def _scopes_of(post: _Post) -> frozenset[str] | None:
    return post.token_info["key"].scopes


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:  # the body limit middleware has already bounded its size
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send: Send, status: int, answer: dict[str, Any] | None) -> None:
    body = encode(answer) if answer is not None else b""
    headers = [(b"content-length", str(len(body)).encode())]
    if answer is not None:
        headers.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
