"""Which issue numbers are known to be pull requests, per repository.

A comment or a label goes to GitHub's issues API, which accepts plain issues too, so the connector
first reads the issue to refuse a number that is not a pull request. Whether a number is a pull
request never changes (an issue cannot become one, nor the reverse), so once seen it is remembered
and the next comment or label on it is one GitHub call. Bounded: the least recently used go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

__all__ = ["KnownPullRequests"]


class KnownPullRequests:
    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._known: OrderedDict[tuple[str, int], None] = OrderedDict()

    def __contains__(self, item: tuple[str, int]) -> bool:
        key = (item[0].lower(), item[1])
        with self._lock:
            if key not in self._known:
                return False
            self._known.move_to_end(key)
            return True

    def add(self, repository: str, number: int) -> None:
        with self._lock:
            self._known[(repository.lower(), number)] = None
            self._known.move_to_end((repository.lower(), number))
            while len(self._known) > self._size:
                self._known.popitem(last=False)
