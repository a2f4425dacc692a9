"""Call one of the app's own HTTP routes in-process, as a plain ASGI request.

This is how an MCP tool call reaches its handler: as a request to the very route the operation has
over HTTP, through every middleware (IP allowlist, body limit, CORS), Connexion's validation and
security, the policy and the handler, and back through the one error handler. Nothing is
re-implemented for MCP, so nothing can drift. No socket and no HTTP client are involved: a
``scope``, a ``receive`` that hands over the body once, and a ``send`` that collects the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.types import ASGIApp, Message

from ..http.arrival import ARRIVAL, arrival_of

__all__ = ["Reply", "call_route"]


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    www_authenticate: str | None = None  # the OAuth challenge of a 401 or 403 insufficient_scope


async def call_route(app: ASGIApp, method: str, path: str, body: bytes | None, *,
                     headers: Mapping[str, str], like: Mapping[str, Any] | None = None) -> Reply:
    """Send one request to ``app`` and return its answer.

    ``like`` is the scope of the request this one is made on behalf of (the POST to /mcp): the
    caller's address, scheme and server are copied from it, so the route sees the same caller, and
    its :class:`~connector.http.arrival.Arrival`, marked inner, so what was settled about the POST
    (its X-Request-ID, the caller's address, the key) holds for this request too.
    """
    like = like or {}
    sent = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
    if body is not None:
        sent += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": like.get("scheme", "http"),
        "path": path,
        "raw_path": path.encode(),
        "root_path": like.get("root_path", ""),
        "query_string": b"",
        "headers": sent,
        "client": like.get("client"),
        "server": like.get("server"),
        "state": dict(like.get("state") or {}),
    }
    outer = arrival_of(like)
    if outer is not None:
        scope[ARRIVAL] = outer.for_inner_request()
    answered = anyio.Event()
    pending = [{"type": "http.request", "body": body or b"", "more_body": False}]
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def receive() -> Message:
        if pending:
            return pending.pop()
        await answered.wait()  # nothing more to read; a route that listens for a disconnect gets one
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                answered.set()

    await app(scope, receive, send)
    answered.set()
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in start.get("headers", [])}
    return Reply(status=start.get("status", 500), content_type=headers.get("content-type", ""), body=b"".join(chunks),
                 www_authenticate=headers.get("www-authenticate"))
