"""GitHub's rate limits as GitHub last reported them, so a call it would refuse is not sent.

Every GitHub response carries ``x-ratelimit-remaining`` and ``x-ratelimit-reset`` for the quota
the call was counted against; a secondary limit comes as ``retry-after``. While a quota is used
up, sending more requests only earns more refusals (and, for secondary limits, GitHub warns that
integrations that keep going may be banned), so :meth:`GitHubQuota.check` answers
``429 github_rate_limited`` itself until GitHub's reset time.

Quotas belong to credentials, not requests: one bucket for a personal token, one per App
installation. The state is per process: each worker learns of an exhausted quota from its own next
GitHub answer, which is one refused call per worker, not a stream of them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .errors import GitHubRateLimited

__all__ = ["GitHubQuota", "QuotaReading"]

# Our endpoints are all counted against "core"; search and GraphQL have their own quotas,
# which say nothing about whether the next core call will be accepted.
_TRACKED_RESOURCES = frozenset({"core", ""})


@dataclass(frozen=True)
class QuotaReading:
    remaining: int
    limit: int | None


@dataclass
class _Block:
    until: float
    detail: str


class GitHubQuota:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._blocked: dict[str, _Block] = {}

    def check(self, bucket: str) -> None:
        """Raise ``GitHubRateLimited`` while GitHub has said this bucket's calls will be refused."""
        with self._lock:
            block = self._blocked.get(bucket)
            if block is None:
                return
            wait = block.until - self._clock()
            if wait <= 0:
                del self._blocked[bucket]
                return
        raise GitHubRateLimited(block.detail.format(wait=max(1, round(wait))), retry_after=max(1, round(wait)))

    def observe(self, bucket: str, status: int, headers: Mapping[str, str]) -> QuotaReading | None:
        """Learn from one GitHub answer (headers with lower-case names); the quota reading it
        carried, if any."""
        now = self._clock()
        retry_after = headers.get("retry-after", "")
        if status in (403, 429) and retry_after.isdigit():
            self._block(bucket, now + int(retry_after),
                        "GitHub's secondary rate limit was hit; the connector will not call GitHub "
                        "again for {wait} s, wait that long before trying again.")
        remaining, reset = headers.get("x-ratelimit-remaining", ""), headers.get("x-ratelimit-reset", "")
        if not remaining.isdigit() or headers.get("x-ratelimit-resource", "") not in _TRACKED_RESOURCES:
            return None
        if int(remaining) == 0 and reset.isdigit() and int(reset) > now:
            self._block(bucket, float(reset),
                        "The connector's GitHub API quota is used up; it resets in {wait} s, "
                        "wait that long before trying again.")
        limit = headers.get("x-ratelimit-limit", "")
        return QuotaReading(int(remaining), int(limit) if limit.isdigit() else None)

    def _block(self, bucket: str, until: float, detail: str) -> None:
        with self._lock:
            current = self._blocked.get(bucket)
            if current is None or current.until < until:
                self._blocked[bucket] = _Block(until, detail)
