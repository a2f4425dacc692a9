"""GitHub double: a fake GitHub REST server for tests and the connector's sandbox mode.

It lives inside the package (not under ``tests/``) because the sandbox mode ships it:
``GitHubDouble().start()`` plus ``seed_demo`` gives a working "GitHub" with no token, and
``seed_demo_users`` people to sign in with through GitHub's web flow.
"""

from __future__ import annotations

from .demo import seed_demo, seed_demo_users
from .server import Delivery, GitHubDouble, RecordedRequest, UserToken

__all__ = ["Delivery", "GitHubDouble", "RecordedRequest", "UserToken", "seed_demo", "seed_demo_users"]
