"""Fault injection: answer the next matching requests with an error, a delay or a hang-up, either
instead of applying them or (``after``) once they were applied, as when GitHub acted and its answer
was lost, garbled or replaced by a proxy's error on the way back.

The connector's retry, backoff and error-mapping code only runs when GitHub misbehaves, so
tests need to make the double misbehave on cue. A fault is matched by method and a path
regex and used up after ``times`` matches. The canned replies (primary and secondary rate
limits, a token lacking a permission) copy what github.com actually sends, headers
included, because that is what the connector keys its decisions on.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, NamedTuple

from .records import DOCS, RATE_LIMIT, Reply

__all__ = ["Canned", "Fault", "FaultQueue", "forbidden", "primary_rate_limit",
           "secondary_rate_limit"]

_RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"


@dataclass
class Fault:
    """One injected misbehaviour; ``status=None`` means no reply override (delay/drop only)."""

    method: str
    pattern: re.Pattern[str]
    status: int | None
    body: Any
    headers: dict[str, str]
    delay: float
    remaining: int
    drop: bool
    after: bool = False  # GitHub applies the request first, then the answer is lost or garbled
    garble: bool = False  # the answer's body is not JSON (a proxy's error page, a cut-off body)

    def strike_first(self, doc: str) -> tuple[bool, Reply | None]:
        """Before GitHub acts: after the delay, whether the fault takes the answer's place, and with
        what reply (``None``: hang up)."""
        if self.delay:
            time.sleep(self.delay)
        if self.drop:
            return True, None
        override = self.reply(doc)
        return override is not None, override

    def strike_after(self, doc: str, reply: Reply) -> Reply | None:
        """GitHub acted, and its ``reply`` goes wrong on the way back (``None``: hang up)."""
        if self.delay:
            time.sleep(self.delay)
        return None if self.drop else self.reply(doc) or reply

    def reply(self, doc: str) -> Reply | None:
        """The overriding reply (``None`` if there is none); no body means GitHub's error shape."""
        if self.garble:
            return Reply(self.status or 200, b"<html><body>502 Bad Gateway</body></html>",
                         {"content-type": "text/html", **self.headers})
        if self.status is None:
            return None
        body = self.body
        if body is None and self.status not in (204, 304):
            try:
                phrase = HTTPStatus(self.status).phrase
            except ValueError:
                phrase = "Error"
            body = {"message": phrase, "documentation_url": doc}
        return Reply(self.status, body, dict(self.headers))


class FaultQueue:
    """Pending faults, first added wins; shares the double's lock (see ``Recorder``)."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._faults: list[Fault] = []

    def add(self, method: str, path_pattern: str, *, status: int | None, json: Any,
            headers: Mapping[str, str] | None, delay: float, times: int, drop: bool,
            after: bool = False, garble: bool = False) -> None:
        fault = Fault(method.upper(), re.compile(path_pattern), status, json,
                      {k.lower(): str(v) for k, v in (headers or {}).items()}, delay, times, drop, after, garble)
        with self._lock:
            self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching this request, used up by one ("*" matches any method)."""
        with self._lock:
            for fault in self._faults:
                if fault.method in ("*", method) and fault.pattern.fullmatch(path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


class Canned(NamedTuple):
    """A ready-made GitHub error to pass to ``GitHubDouble.fail_next``."""

    status: int
    json: dict[str, Any]
    headers: dict[str, str]


def primary_rate_limit(reset_in: int) -> Canned:
    """The hourly quota is used up; GitHub says when it resets (``reset_in`` seconds from now)."""
    return Canned(403, {
        "message": "API rate limit exceeded for user ID 1.",
        "documentation_url": _RATE_LIMIT_DOCS},
        {"x-ratelimit-remaining": "0", "x-ratelimit-used": str(RATE_LIMIT),
         "x-ratelimit-reset": str(int(time.time()) + reset_in)})


def secondary_rate_limit(retry_after: int, status: int) -> Canned:
    """Too many requests too fast; GitHub answers 403 or 429 with ``retry-after``."""
    return Canned(status, {
        "message": "You have exceeded a secondary rate limit. "
                   "Please wait a few minutes before you try again.",
        "documentation_url": _RATE_LIMIT_DOCS + "#about-secondary-rate-limits"},
        {"retry-after": str(retry_after)})


def forbidden(permission: str) -> Canned:
    """The token lacks a fine-grained permission; GitHub names it in a header."""
    return Canned(403, {
        "message": "Resource not accessible by personal access token", "documentation_url": DOCS},
        {"x-accepted-github-permissions": permission})
