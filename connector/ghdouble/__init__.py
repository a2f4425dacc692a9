"""GitHub double: a fake GitHub REST server for tests and the connector's sandbox mode.

It lives inside the package (not under ``tests/``) because the sandbox mode ships it:
``GitHubDouble().start()`` plus ``seed_demo`` gives a working "GitHub" with no token.
"""

from __future__ import annotations

from .demo import seed_demo
from .server import Delivery, GitHubDouble, RecordedRequest

__all__ = ["Delivery", "GitHubDouble", "RecordedRequest", "seed_demo"]
