"""Who the caller is, by address: the connection's peer, or behind a trusted proxy ``X-Forwarded-For``.

Behind a reverse proxy every connection comes from the proxy, so the caller's address is read
from ``X-Forwarded-For``, but only when the connection comes from a proxy listed in
``CONNECTOR_TRUSTED_PROXIES``: anyone can send that header, so it is believed only from hops the
operator vouches for. The address used is the right-most one that is not a trusted proxy, which is
the last hop a trusted proxy saw; addresses further left were written by the client itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import Scope

from ..types import Network

__all__ = ["address", "client_ip", "within"]


def address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def within(ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None, networks: Iterable[Network]) -> bool:
    return ip is not None and any(ip.version == net.version and ip in net for net in networks)


def client_ip(scope: Scope, trusted_proxies: tuple[Network, ...]) -> str | None:
    """The caller's address for this request, as far as the trusted proxies let us know it."""
    peer = (scope.get("client") or (None,))[0]
    if peer is None or not within(address(peer), trusted_proxies):
        return peer
    forwarded = b",".join(value for name, value in scope.get("headers", []) if name == b"x-forwarded-for")
    hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not within(address(hop), trusted_proxies):
            return hop
    return hops[0] if hops else peer
