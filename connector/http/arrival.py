"""What is settled about a request as it arrives, once, for every layer after it: its
``X-Request-ID`` and the caller's address.

A caller's own ``X-Request-ID`` is kept when it is sane (1-128 letters, digits and ``. _ : -``, so
it can be logged and echoed safely), otherwise a new one is made; every answer carries it, and so
does every log line written while serving the request. The caller's address is worked out from the
connection and, behind a trusted proxy, ``X-Forwarded-For`` (:func:`~connector.http.client_ip.client_ip`).

An MCP tool call is answered by its operation's own route, in process (:mod:`connector.mcp.inprocess`):
an *inner* request. Its scope carries the outer request's :class:`Arrival` (that of the POST to
``/mcp``) marked ``inner``, under a scope key no HTTP client can set. So a tool call keeps the id
the MCP client saw, is judged by the same address, passes the IP allowlist and the per-address
limit once (as the POST), and is authenticated by the key the POST presented instead of a second
look-up; its operation's scope is still checked by its route.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..types import Network
from .client_ip import client_ip
from .request_id import serving_request

__all__ = ["ARRIVAL", "Arrival", "ArrivalMiddleware", "arrival_of"]

ARRIVAL = "connector.arrival"
_SANE = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


@dataclasses.dataclass
class Arrival:
    request_id: str
    client_ip: str | None
    inner: bool = False
    token_info: dict[str, Any] | None = None  # the key the request authenticated with, once known

    def for_inner_request(self) -> Arrival:
        return dataclasses.replace(self, inner=True)


def arrival_of(scope: Mapping[str, Any]) -> Arrival | None:
    return scope.get(ARRIVAL)



class ArrivalMiddleware:
    def __init__(self, app: ASGIApp, *, trusted_proxies: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrival = arrival_of(scope)
        if arrival is None:
            offered = next((value for name, value in scope.get("headers", []) if name == b"x-request-id"), b"")
            arrival = Arrival(offered.decode() if _SANE.fullmatch(offered) else uuid.uuid4().hex,
                              client_ip(scope, self.trusted_proxies))
            scope = {**scope, ARRIVAL: arrival}
        request_id = arrival.request_id.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(n, v) for n, v in message.get("headers", []) if n.lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", request_id)]}
            await send(message)

        with serving_request(arrival.request_id):
            await self.app(scope, receive, send_with_id)
