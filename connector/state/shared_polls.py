"""One GitHub read at a time for everything watching the same thing.

A hundred long-polls or event streams on one run would otherwise each ask GitHub about it every
few seconds, draining the connector's GitHub quota a hundred times faster than one watcher. Here
the watchers of one key (a run, a dispatch) share their reads: a read finished within
``fresh_for`` seconds is handed to whoever asks next, and a read under way is waited for rather
than repeated. A failed read is handed to the watchers waiting for it and not kept.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = ["SharedPolls"]

_WAIT_FOR_READ_SECONDS = 60.0  # GitHub's own call gives up well before this


class _Read:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.at = 0.0
        self.value: Any = None
        self.error: BaseException | None = None


class SharedPolls:
    def __init__(self, *, size: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._size, self._clock = size, clock  # bounded: keys are per run and per person
        self._lock = threading.Lock()
        self._reads: OrderedDict[str, _Read] = OrderedDict()

    def read(self, key: str, load: Callable[[], Any], *, fresh_for: float) -> Any:
        """What ``load()`` gives, or gave another watcher of ``key`` less than ``fresh_for`` seconds ago."""
        with self._lock:
            read = self._reads.get(key)
            if read is not None and read.done.is_set() and self._clock() - read.at >= fresh_for:
                read = None
            mine = read is None
            if read is None:
                read = self._reads[key] = _Read()
                while len(self._reads) > self._size:
                    self._reads.popitem(last=False)
            self._reads.move_to_end(key)
        if mine:
            return self._load(key, read, load)
        if not read.done.wait(_WAIT_FOR_READ_SECONDS):
            return load()  # the watcher reading for us is stuck; do not be stuck with it
        if read.error is not None:
            raise read.error
        return read.value

    def _load(self, key: str, read: _Read, load: Callable[[], Any]) -> Any:
        try:
            read.value = load()
        except BaseException as error:
            read.error = error
            with self._lock:
                if self._reads.get(key) is read:
                    del self._reads[key]  # the next watcher tries again
            raise
        finally:
            read.at = self._clock()
            read.done.set()
        return read.value
