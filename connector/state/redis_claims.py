"""Idempotency claims in Redis (``CONNECTOR_REDIS_URL``), shared by every instance.

If Redis is unreachable, a write that carries a ``request_id`` fails closed with
``503 idempotency_unavailable`` before anything is sent: nothing is written twice.
"""

from __future__ import annotations

import json

from ..errors import IdempotencyUnavailable
from .claims import TTL_SECONDS
from .protocols import Claim
from .redis import connect, outage_becomes

__all__ = ["RedisClaimStore"]


class RedisClaimStore:
    """The :class:`~connector.state.protocols.ClaimStore` in Redis, shared by every instance; the claim
    itself is one atomic ``SET NX``, so two instances cannot both own a key."""

    def __init__(self, url: str, *, prefix: str = "connector") -> None:
        self._redis = connect(url)
        self._prefix = prefix

    def claim(self, key: str, fingerprint: str) -> Claim:
        running = json.dumps({"state": "running", "fingerprint": fingerprint})
        with outage_becomes(_unavailable):
            if self._redis.set(self._key(key), running, nx=True, ex=TTL_SECONDS):
                return Claim("new", fingerprint)
            found = self.peek(key)
        return found if found is not None else self.claim(key, fingerprint)  # expired in between

    def peek(self, key: str) -> Claim | None:
        with outage_becomes(_unavailable):
            raw = self._redis.get(self._key(key))
        return Claim(**json.loads(raw)) if raw else None

    def settle(self, key: str, claim: Claim | None) -> None:
        with outage_becomes(_unavailable):
            if claim is None:
                self._redis.delete(self._key(key))
            else:
                self._redis.set(self._key(key), json.dumps(claim.__dict__), ex=TTL_SECONDS)

    def _key(self, key: str) -> str:
        return f"{self._prefix}:idempotency:{key}"


def _unavailable() -> IdempotencyUnavailable:
    return IdempotencyUnavailable(
        "The connector cannot reach its shared store (Redis), so it cannot make sure this write happens "
        "once; nothing was written. Try again shortly."
    )
