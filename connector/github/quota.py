"""GitHub's rate limits as GitHub last reported them, so a call it would refuse is not sent.

Every GitHub response carries ``x-ratelimit-remaining`` and ``x-ratelimit-reset`` for the quota
the call was counted against; a secondary limit comes as ``retry-after``. While a quota is used
up, sending more requests only earns more refusals (and, for secondary limits, GitHub warns that
integrations that keep going may be banned), so :meth:`GitHubQuota.check` answers
``429 github_rate_limited`` itself until GitHub's reset time.

Quotas belong to credentials, not requests: one bucket for a personal token, one per App
installation. With ``CONNECTOR_REDIS_URL`` a block is also written to Redis, and each process looks
there at most once a second per bucket, so every worker and instance stops within a second of the
first one hearing GitHub say no, at the cost of one Redis read per second, not one per call.
Redis being unreachable only loses that sharing: each process still learns from its own answers.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import GitHubRateLimited

__all__ = ["GitHubQuota", "QuotaReading", "SharedBlocks"]

log = logging.getLogger(__name__)

SHARED_LOOKUP_SECONDS = 1.0

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


class SharedBlocks:
    """Blocks in Redis, for every process of every instance; each expires with its block."""

    def __init__(self, url: str, *, prefix: str = "connector") -> None:
        from ..state.redis import connect, unreachable

        self._redis = connect(url)
        self._unreachable = unreachable()
        self._prefix = prefix

    def publish(self, bucket: str, block: _Block, now: float) -> None:
        try:
            self._redis.set(self._key(bucket), json.dumps({"until": block.until, "detail": block.detail}),
                            px=max(1, int((block.until - now) * 1000)))
        except self._unreachable as exc:
            log.warning("GitHub rate limit not shared through Redis (%s)", type(exc).__name__)

    def lookup(self, bucket: str) -> _Block | None:
        try:
            raw = self._redis.get(self._key(bucket))
        except self._unreachable:
            return None  # fail open: this process still learns from its own answers
        return _Block(**json.loads(raw)) if raw else None

    def _key(self, bucket: str) -> str:
        return f"{self._prefix}:github-quota:{bucket}"


class GitHubQuota:
    def __init__(self, clock: Callable[[], float] = time.time, shared: SharedBlocks | Any = None) -> None:
        self._clock = clock
        self._shared = shared
        self._lock = threading.Lock()
        self._blocked: dict[str, _Block] = {}
        self._looked_up: dict[str, float] = {}  # when each bucket was last looked up in Redis

    def check(self, bucket: str) -> None:
        """Raise ``GitHubRateLimited`` while GitHub has said this bucket's calls will be refused."""
        now = self._clock()
        block = self._current(bucket, now)
        if block is None and self._shared is not None and self._due(bucket, now):
            found = self._shared.lookup(bucket)
            if found is not None and found.until > now:
                with self._lock:
                    self._blocked[bucket] = block = found
        if block is None:
            return
        wait = max(1, round(block.until - now))
        raise GitHubRateLimited(block.detail.format(wait=wait), retry_after=wait)

    def _current(self, bucket: str, now: float) -> _Block | None:
        with self._lock:
            block = self._blocked.get(bucket)
            if block is not None and block.until <= now:
                del self._blocked[bucket]
                return None
            return block

    def _due(self, bucket: str, now: float) -> bool:
        with self._lock:
            if now - self._looked_up.get(bucket, float("-inf")) < SHARED_LOOKUP_SECONDS:
                return False
            self._looked_up[bucket] = now
            return True

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
            if current is not None and current.until >= until:
                return
            self._blocked[bucket] = block = _Block(until, detail)
        if self._shared is not None:
            self._shared.publish(bucket, block, self._clock())
