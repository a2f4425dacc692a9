"""``GET /health/ready``: can this instance do its job right now?

``/health`` only says the process answers (a liveness probe must not fail because GitHub is slow,
or every instance gets restarted at once). Readiness checks what requests depend on: Redis, when
``CONNECTOR_REDIS_URL`` makes it the shared state, and that GitHub's API answers at all. GitHub is
asked for ``/rate_limit`` without credentials: GitHub does not count that call against any quota,
and a probe that failed on a revoked token would take every instance out of the load balancer for
a problem that ``connector check`` and the callers' own errors explain better.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from ..config.settings import Settings
from ..errors import NotReady
from ..types import Secret

__all__ = ["Readiness"]

_TIMEOUT_SECONDS = 3  # a probe that waits longer than a load balancer's interval helps nobody


class Readiness:
    def __init__(self, settings: Settings, user_agent: str) -> None:
        self._github_url = settings.github_api_url.rstrip("/") + "/rate_limit"
        self._user_agent = user_agent
        self._redis_url = settings.redis_url

    def check(self) -> dict[str, Any]:
        """Each dependency's state; raises ``NotReady`` (503) naming those that failed."""
        checks = {"github": self._github()}
        if self._redis_url is not None:
            checks["redis"] = self._redis_ping(self._redis_url)
        failed = sorted(name for name, result in checks.items() if not result["ok"])
        if failed:
            raise NotReady(f"Not ready: {', '.join(failed)} failed; see checks.", checks=checks)
        return {"ok": True, "checks": checks}

    def _github(self) -> dict[str, Any]:
        started = time.monotonic()
        try:
            answer = requests.get(self._github_url, timeout=_TIMEOUT_SECONDS,
                                  headers={"User-Agent": self._user_agent, "Accept": "application/vnd.github+json"})
        except requests.RequestException as exc:
            return {"ok": False, "detail": f"GitHub's API could not be reached ({type(exc).__name__})."}
        latency = round((time.monotonic() - started) * 1000, 1)
        if answer.status_code >= 500:
            return {"ok": False, "detail": f"GitHub's API answered {answer.status_code}.", "latency_ms": latency}
        return {"ok": True, "latency_ms": latency}

    def _redis_ping(self, url: Secret) -> dict[str, Any]:
        from ..state.redis import connect, unreachable

        started = time.monotonic()
        try:
            connect(url.reveal()).ping()
        except unreachable() as exc:
            return {"ok": False, "detail": f"Redis could not be reached ({type(exc).__name__})."}
        return {"ok": True, "latency_ms": round((time.monotonic() - started) * 1000, 1)}
