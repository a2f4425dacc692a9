"""The embedded authorization server's records in this process's memory (see
:class:`~connector.state.protocols.OAuthStore`); one process can then finish only the flows it started."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["MemoryOAuthStore"]


class MemoryOAuthStore:
    def __init__(self, *, clock: Callable[[], float] = time.time, max_items: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._records: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._indexes: dict[str, dict[str, float]] = {}
        self._clock, self._max = clock, max_items

    def put(self, kind: str, key: str, value: dict[str, Any], ttl: int) -> None:
        with self._lock:
            self._expire()
            self._records[(kind, key)] = (self._clock() + ttl, copy.deepcopy(value))

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._live((kind, key))
            return copy.deepcopy(found[1]) if found is not None else None

    def use(self, kind: str, key: str) -> tuple[dict[str, Any] | None, bool]:
        with self._lock:
            found = self._live((kind, key))
            if found is None:
                return None, False
            expires, value = found
            used = bool(value.get("used"))
            self._records[(kind, key)] = (expires, {**value, "used": True})
            return copy.deepcopy(value), used

    def add(self, kind: str, key: str, value: dict[str, Any], ttl: int) -> bool:
        with self._lock:
            if self._live((kind, key)) is not None:
                return False
            self._expire()
            self._records[(kind, key)] = (self._clock() + ttl, copy.deepcopy(value))
            return True

    def delete(self, kind: str, key: str) -> None:
        with self._lock:
            self._records.pop((kind, key), None)

    def index(self, name: str, member: str, ttl: int) -> None:
        with self._lock:
            self._indexes.setdefault(name, {})[member] = self._clock() + ttl

    def members(self, name: str) -> set[str]:
        with self._lock:
            now = self._clock()
            return {member for member, expires in self._indexes.get(name, {}).items() if expires > now}

    def count(self, name: str) -> int:
        return len(self.members(name))

    def _live(self, key: tuple[str, str]) -> tuple[float, dict[str, Any]] | None:
        found = self._records.get(key)
        if found is None or found[0] <= self._clock():
            return None
        return found

    def _expire(self) -> None:
        if len(self._records) < self._max:
            return
        now = self._clock()
        for key in [key for key, (expires, _) in self._records.items() if expires <= now]:
            del self._records[key]
        while len(self._records) >= self._max:  # still full of live records: drop the soonest to expire
            del self._records[min(self._records, key=lambda k: self._records[k][0])]
