"""Only accept callers from the operator's networks (``CONNECTOR_IP_ALLOWLIST``), judged by the
address :class:`~connector.http.arrival.ArrivalMiddleware` settled (see :mod:`connector.http.client_ip`).

The pages a person opens in their own browser while signing in (the consent page, GitHub's
callback) are not the assistant's calls: they come from wherever that person is, so they are
exempt (``browser_paths``). What they can do there is sign in, which needs a key or a GitHub
account the policy admits."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import IpNotAllowed
from ..types import Network
from .arrival import arrival_of
from .client_ip import address, within
from .problem import problem_response

__all__ = ["IpAllowlistMiddleware"]


class IpAllowlistMiddleware:
    def __init__(self, app: ASGIApp, allowlist: tuple[Network, ...], browser_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.allowlist = allowlist
        self.browser_paths = browser_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        arrival = arrival_of(scope)  # (an MCP tool call's inner request was admitted as its POST to /mcp)
        if arrival is not None and not arrival.inner and self.allowlist and scope.get("path") not in self.browser_paths:
            caller = arrival.client_ip
            if not within(address(caller or ""), self.allowlist):
                refusal = IpNotAllowed(f"Requests from {caller or 'an unknown address'} are not accepted by this connector.")
                await problem_response(refusal)(scope, receive, send)
                return
        await self.app(scope, receive, send)
