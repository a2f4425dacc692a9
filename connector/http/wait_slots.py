"""How many long-polls (``wait_seconds``) and run event streams may be open at once.

A wait holds a request open for up to 25 s and a stream for up to six hours. Neither holds a worker
thread (they sleep on the event loop, and watchers of one run share its GitHub reads), but each
holds a connection and reads now and then, so without a bound one key could still hold the
process's connections or its share of GitHub's quota. A caller may hold :data:`PER_CALLER` at a
time and a process :data:`PER_PROCESS`; past either the answer is ``429 rate_limited`` with
``Retry-After`` (a call without ``wait_seconds`` is still answered at once).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..errors import RateLimited

__all__ = ["PER_CALLER", "PER_PROCESS", "WaitSlots"]

PER_CALLER = 4
PER_PROCESS = 200  # a fifth of connector serve's 1,000 connections (connector.http.slow_clients)
RETRY_SECONDS = 5


class WaitSlots:
    def __init__(self, *, per_caller: int = PER_CALLER, per_process: int = PER_PROCESS) -> None:
        self.per_caller, self.per_process = per_caller, per_process
        self._held: Counter[str] = Counter()
        self._lock = threading.Lock()

    def take(self, caller: str, what: str) -> Callable[[], None]:
        """One slot for ``caller`` (or 429), and the function that gives it back (once)."""
        with self._lock:
            if self._held[caller] >= self.per_caller:
                raise RateLimited(f"This caller already has {self.per_caller} {what}s open; wait for one to end, or ask "
                                  "again without waiting.", retry_after=RETRY_SECONDS)
            if sum(self._held.values()) >= self.per_process:
                raise RateLimited(f"The connector has {self.per_process} {what}s open; ask again without waiting, or "
                                  f"in {RETRY_SECONDS} s.", retry_after=RETRY_SECONDS)
            self._held[caller] += 1
        held = True

        def give_back() -> None:
            nonlocal held
            with self._lock:
                if held:
                    held = False
                    self._held[caller] -= 1
                    if not self._held[caller]:
                        del self._held[caller]

        return give_back

    @contextmanager
    def taken(self, caller: str, what: str) -> Iterator[None]:
        """Hold one slot for ``caller`` while the block runs, or refuse with 429."""
        give_back = self.take(caller, what)
        try:
            yield
        finally:
            give_back()
