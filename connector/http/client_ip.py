"""Only accept callers from the operator's networks (``CONNECTOR_IP_ALLOWLIST``).

Behind a reverse proxy every connection comes from the proxy, so the caller's address is read
from ``X-Forwarded-For``, but only when the connection comes from a proxy listed in
``CONNECTOR_TRUSTED_PROXIES``: anyone can send that header, so it is believed only from hops the
operator vouches for. The address used is the right-most one that is not a trusted proxy, which is
the last hop a trusted proxy saw; addresses further left were written by the client itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import IpNotAllowed
from .problem import problem_response
from ..types import Network

__all__ = ["ClientIpMiddleware", "client_ip", "Network"]

def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _within(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, networks: Iterable[Network]) -> bool:
    return address is not None and any(address.version == net.version and address in net for net in networks)


def client_ip(scope: Scope, trusted_proxies: tuple[Network, ...]) -> str | None:
    """The caller's address for this request, as far as the trusted proxies let us know it."""
    peer = (scope.get("client") or (None,))[0]
    if peer is None or not _within(_address(peer), trusted_proxies):
        return peer
    forwarded = b",".join(value for name, value in scope.get("headers", []) if name == b"x-forwarded-for")
    hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _within(_address(hop), trusted_proxies):
            return hop
    return hops[0] if hops else peer


class ClientIpMiddleware:
    def __init__(self, app: ASGIApp, allowlist: tuple[Network, ...], trusted_proxies: tuple[Network, ...]) -> None:
        self.app = app
        self.allowlist = allowlist
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.allowlist:
            caller = client_ip(scope, self.trusted_proxies)
            if not _within(_address(caller or ""), self.allowlist):
                refusal = IpNotAllowed(f"Requests from {caller or 'an unknown address'} are not accepted by this connector.")
                await problem_response(refusal)(scope, receive, send)
                return
        await self.app(scope, receive, send)
