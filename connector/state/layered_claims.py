"""Idempotency claims in Redis, with this process's own outcomes kept beside them.

Redis can fail, or come back empty, at any moment of a write. Two moments matter:

* after GitHub answered: the outcome cannot be stored, yet the caller must get GitHub's real
  answer, and a retry must get it too rather than a second write. The outcome is kept here and
  written to Redis at the next chance (every later call to the store tries first);
* after a restart that lost the keys: a retry to this process still finds the outcome here
  (for the same 24 hours, up to :data:`LOCAL_ITEMS` of them), instead of claiming again.

A claim itself is still taken in Redis only (one ``SET NX``), so instances never both write; when
Redis cannot be reached to take it, the write fails closed before anything is sent.
"""

from __future__ import annotations

import logging
import threading

from ..errors import IdempotencyUnavailable
from .claims import MemoryClaimStore
from .protocols import Claim, ClaimStore

__all__ = ["LOCAL_ITEMS", "LayeredClaimStore"]

log = logging.getLogger(__name__)

LOCAL_ITEMS = 10_000
_UNSET = object()


class LayeredClaimStore:
    """A :class:`~connector.state.protocols.ClaimStore`: ``shared`` (Redis) decides, and what this
    process settled is kept in memory as well, and retried into ``shared`` when it failed."""

    def __init__(self, shared: ClaimStore, *, local: MemoryClaimStore | None = None) -> None:
        self.shared = shared
        self.local = local or MemoryClaimStore(max_items=LOCAL_ITEMS)
        self._pending: dict[str, Claim | None] = {}  # settled here, not yet in shared
        self._lock = threading.Lock()

    def claim(self, key: str, fingerprint: str) -> Claim:
        self._flush()
        mine = self.local.peek(key)
        if mine is not None:  # this process owns it, or settled it (Redis may have lost it since)
            return mine
        claim = self.shared.claim(key, fingerprint)  # unreachable: 503 before anything is sent
        if claim.state == "new":
            self.local.settle(key, Claim("running", fingerprint))
        return claim

    def peek(self, key: str) -> Claim | None:
        mine = self.local.peek(key)
        if mine is not None and mine.state != "running":
            return mine
        try:
            self._flush()
            return self.shared.peek(key)
        except IdempotencyUnavailable:
            if mine is not None:
                return mine
            raise

    def settle(self, key: str, claim: Claim | None) -> None:
        self.local.settle(key, claim)
        with self._lock:
            self._pending[key] = claim
        self._flush(raising=True)

    @property
    def pending(self) -> int:
        """Outcomes kept here that Redis has not taken yet."""
        with self._lock:
            return len(self._pending)

    def _flush(self, *, raising: bool = False) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    return
                key = next(iter(self._pending))
                claim = self._pending[key]
            try:
                self.shared.settle(key, claim)
            except IdempotencyUnavailable:
                log.warning("Redis is unreachable; %d request outcome(s) kept in this process until it answers",
                            self.pending)
                if raising:
                    raise
                return
            with self._lock:
                if self._pending.get(key, _UNSET) is claim:
                    del self._pending[key]
