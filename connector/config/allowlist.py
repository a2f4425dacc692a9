"""Which repositories the connector may act on: ``owner/repo`` and ``owner/*`` patterns.

GitHub logins and repository names are case-insensitive, so matching is too. An empty allowlist
means every repository the GitHub credentials can reach (start-up warns about it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["RepoAllowlist", "PATTERN"]

PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,37}[A-Za-z0-9])?/(?:\*|[A-Za-z0-9._-]{1,100})$")


class RepoAllowlist:
    def __init__(self, patterns: Iterable[str] = ()) -> None:
        self.patterns = tuple(patterns)
        self._repos = frozenset(p.lower() for p in self.patterns if not p.endswith("/*"))
        self._owners = frozenset(p[:-2].lower() for p in self.patterns if p.endswith("/*"))

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def allows(self, owner: str, name: str) -> bool:
        if not self.patterns:
            return True
        return owner.lower() in self._owners or f"{owner}/{name}".lower() in self._repos
