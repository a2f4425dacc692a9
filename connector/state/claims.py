"""Idempotency claims in this process's memory (see :mod:`connector.http.idempotency` for what they are for)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from .protocols import Claim

__all__ = ["TTL_SECONDS", "MemoryClaimStore"]

TTL_SECONDS = 24 * 3600  # how long an answer is kept for a repeat


class MemoryClaimStore:
    """The :class:`~connector.state.protocols.ClaimStore` in memory, for one process."""

    def __init__(self, *, max_items: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._claims: OrderedDict[str, tuple[float, Claim]] = OrderedDict()
        self._max, self._clock = max_items, clock

    def claim(self, key: str, fingerprint: str) -> Claim:
        with self._lock:
            found = self._claims.get(key)
            if found is not None and self._clock() - found[0] < TTL_SECONDS:
                return found[1]
            self._put(key, Claim("running", fingerprint))
            return Claim("new", fingerprint)

    def peek(self, key: str) -> Claim | None:
        with self._lock:
            found = self._claims.get(key)
        return found[1] if found is not None and self._clock() - found[0] < TTL_SECONDS else None

    def settle(self, key: str, claim: Claim | None) -> None:
        """Record the first request's outcome, or (``None``) release the key for a retry."""
        with self._lock:
            if claim is None:
                self._claims.pop(key, None)
            else:
                self._put(key, claim)

    def _put(self, key: str, claim: Claim) -> None:
        self._claims[key] = (self._clock(), claim)
        self._claims.move_to_end(key)
        while len(self._claims) > self._max:
            self._claims.popitem(last=False)
