"""Which redirect URIs a client may register and be sent back to (``CONNECTOR_OAUTH_REDIRECT_URIS``).

A URI must match one of the operator's patterns exactly but for the wildcards: ``*`` stands for
part of one path segment or a port (no ``/``, ``?`` or ``#``), ``**`` for the rest of the URI. A
URI with user information, a fragment or a ``..`` segment never matches, so look-alikes such as
``https://chatgpt.com@evil.example/…`` or ``https://chatgpt.com.evil.example/…`` are refused.
Matching a client to its redirect URI is exact (RFC 9700); these patterns only bound what clients
may register.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["RedirectPolicy"]


class RedirectPolicy:
    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        self._compiled = [re.compile(_regex(pattern)) for pattern in self.patterns]

    def allows(self, uri: str) -> bool:
        if not isinstance(uri, str) or len(uri) > 2000 or any(ord(char) < 33 or char == "\\" for char in uri):
            return False
        parts = urlsplit(uri)
        if parts.fragment or "@" in parts.netloc or "/../" in f"{parts.path}/" or "/./" in f"{parts.path}/":
            return False
        return any(pattern.fullmatch(uri) for pattern in self._compiled)


def _regex(pattern: str) -> str:
    pieces = re.split(r"(\*\*|\*)", pattern)
    return "".join(".*" if piece == "**" else r"[^/?#@]*" if piece == "*" else re.escape(piece) for piece in pieces)
