"""Whether a request's write reached GitHub, as far as the connector can know.

A write's ``request_id`` may be tried again only if GitHub provably did nothing with it: no write
was sent, or GitHub answered it with a 4xx (it refused, so it changed nothing), or the connection
was refused before anything was sent. Anything else once a write went out (a timeout, a dropped
connection, a 5xx, an answer that cannot be read, a failure after GitHub said yes) leaves the outcome
unknown. The GitHub client records each write it sends here (:func:`sending`, :func:`answered`),
for the request being served (:func:`watching`, a context variable, so threads and requests never
mix), and the idempotency layer reads the verdict.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

__all__ = ["WriteAttempt", "answered", "not_sent", "sending", "watching"]

State = Literal["none", "sent", "refused", "accepted"]


@dataclass
class WriteAttempt:
    state: State = "none"  # of the request's last write

    @property
    def may_have_acted(self) -> bool:
        """True unless GitHub provably did nothing: no write went out, or it was refused."""
        return self.state in ("sent", "accepted")


_CURRENT: ContextVar[WriteAttempt | None] = ContextVar("connector_write_attempt", default=None)


@contextmanager
def watching() -> Iterator[WriteAttempt]:
    attempt = WriteAttempt()
    token = _CURRENT.set(attempt)
    try:
        yield attempt
    finally:
        _CURRENT.reset(token)


def sending() -> None:
    """A write is about to go out (before the first byte: from here on GitHub may act on it)."""
    _set("sent")


def answered(status: int) -> None:
    """GitHub answered the write: a 4xx is a refusal, a 2xx an acceptance, a 5xx says nothing sure."""
    if 400 <= status < 500:
        _set("refused")
    elif 200 <= status < 300:
        _set("accepted")


def not_sent() -> None:
    """The connection was refused (or never made) before the write was sent."""
    _set("refused")


def _set(state: State) -> None:
    attempt = _CURRENT.get()
    if attempt is not None:
        attempt.state = state
