"""What went over the wire: recorded requests, replies, and the request log.

Tests assert on what the connector *sent*, so every request is kept as a
``RecordedRequest`` (with GitHub's schema verdict), and every reply is a plain ``Reply``
that the route handlers, the fault injector and the HTTP layer can all build without
knowing about each other. The log also owns the per-request counters (request id,
rate-limit quota) because both are stamped on a reply at the moment it is recorded.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DOCS", "RATE_LIMIT", "RecordedRequest", "Recorder", "Reply", "error"]

DOCS = "https://docs.github.com/rest"
RATE_LIMIT = 5000


@dataclass
class RecordedRequest:
    """One request as the double saw it, plus whether GitHub's schema accepted it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    raw_body: bytes
    operation_id: str | None = None
    schema_errors: list[str] = field(default_factory=list)
    status: int = 0  # 0 when the connection was dropped on purpose
    github_request_id: str | None = None  # the x-github-request-id it was answered with
    actor: str | None = None  # the login whose user token authenticated it (None: the PAT, an App, none)
    api_version: str | None = None  # the X-GitHub-Api-Version it named (None: none; 2022-11-28 served)
    response_errors: list[str] = field(default_factory=list)  # how the answer departed from the schema


@dataclass
class Reply:
    """A response before it is serialised: status, JSON body (``None`` = empty), headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def error(status: int, message: str, doc: str | None = None, **extra: Any) -> Reply:
    """GitHub's error shape; a ``None`` doc is filled with the operation's docs link later."""
    return Reply(status, {"message": message, **extra, "documentation_url": doc})


class Recorder:
    """Thread-safe request log plus the quota and id counters GitHub reports per reply.

    The lock is shared with the fault queue so ``GitHubDouble.reset`` can clear both at once;
    it is re-entrant for exactly that reason.
    """

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self._requests: list[RecordedRequest] = []
        self._ids = itertools.count(1)
        self._used = 0
        self._reset_at = int(time.time()) + 3600

    def snapshot(self) -> list[RecordedRequest]:
        with self.lock:
            return list(self._requests)

    def clear(self, *, quota: bool = False) -> None:
        """Forget recorded requests; with ``quota`` also give back the used rate limit."""
        with self.lock:
            self._requests.clear()
            if quota:
                self._used = 0
                self._reset_at = int(time.time()) + 3600

    def quota(self) -> dict[str, int]:
        """The core quota as GitHub's /rate_limit reports it."""
        with self.lock:
            remaining = max(RATE_LIMIT - self._used, 0)
            return {"limit": RATE_LIMIT, "remaining": remaining, "reset": self._reset_at,
                    "used": RATE_LIMIT - remaining}

    def set_quota(self, remaining: int, reset_in: int) -> None:
        """The next answer reports ``remaining`` calls left, until ``reset_in`` seconds from now."""
        with self.lock:
            self._used = RATE_LIMIT - remaining - 1  # answering a request uses one
            self._reset_at = int(time.time()) + reset_in

    def web(self, rec: RecordedRequest, status: int) -> None:
        """Record a request to github.com's web flow (not the REST API: no quota is used)."""
        with self.lock:
            rec.status = status
            self._requests.append(rec)

    def dropped(self, rec: RecordedRequest) -> None:
        """Record a request whose connection is hung up on purpose (status stays 0)."""
        with self.lock:
            self._requests.append(rec)

    def answered(self, rec: RecordedRequest, reply: Reply, *, has_payload: bool) -> dict[str, str]:
        """Record ``rec`` as answered by ``reply`` and return the headers to send with it.

        Recording happens before the reply is written, so callers never see a gap.
        """
        with self.lock:
            self._used += 1
            remaining = max(RATE_LIMIT - self._used, 0)
            headers = {
                "x-github-request-id": f"DBL1:{next(self._ids):04X}",
                "x-github-api-version-selected": "2022-11-28",
                "x-github-media-type": "github.v3; format=json",
                "x-ratelimit-limit": str(RATE_LIMIT), "x-ratelimit-remaining": str(remaining),
                "x-ratelimit-reset": str(self._reset_at), "x-ratelimit-used": str(RATE_LIMIT - remaining),
                "x-ratelimit-resource": "core",
            }
            if has_payload:
                headers["content-type"] = "application/json; charset=utf-8"
            headers.update(reply.headers)
            rec.status = reply.status
            rec.github_request_id = headers["x-github-request-id"]
            self._requests.append(rec)
        return headers
