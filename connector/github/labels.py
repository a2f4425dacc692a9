"""Which labels a repository has, remembered briefly.

GitHub creates any unknown label it is asked to add, so a typo from an assistant ("bgu") would
quietly become a new label. The connector checks names against the repository's labels first;
keeping that list for a short while means a burst of label requests costs one extra read, not one
per request, while a label an operator just created is picked up within a minute. The same brief
memory (:class:`TimedCache`) keeps a workflow file's declared inputs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["LabelCache", "TimedCache"]

T = TypeVar("T")


class TimedCache(Generic[T]):
    """Values by key (any case), each kept ``ttl_seconds``; at most ``size`` of them."""

    def __init__(self, ttl_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 size: int = 10_000) -> None:
        self._ttl, self._size = ttl_seconds, size  # bounded: entries are per repository and per person
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, T]] = {}

    def get(self, key: str, load: Callable[[], T]) -> T:
        """The value for ``key``, loaded when missing or stale."""
        key = key.lower()
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                return entry[1]
        value = load()  # outside the lock: a slow GitHub must not block other keys
        with self._lock:
            self._entries[key] = (now + self._ttl, value)
            if len(self._entries) > self._size:
                self._evict(now)
        return value

    def _evict(self, now: float) -> None:
        """Drop every stale entry; if none is stale, the one that would go stale first."""
        stale = [key for key, (expires, _) in self._entries.items() if expires <= now]
        for key in stale or [min(self._entries, key=lambda k: self._entries[k][0])]:
            del self._entries[key]


class LabelCache(TimedCache[tuple[str, ...]]):
    def get(self, key: str, load: Callable[[], tuple[str, ...]] | Callable[[], list[str]]) -> tuple[str, ...]:
        """The label names of repository ``key`` (owner/name, any case), loading them when stale."""
        return super().get(key, lambda: tuple(load()))
