"""The Redis connection the shared stores use (``CONNECTOR_REDIS_URL``), and what its outages mean.

The client library is imported only by deployments that set the URL. Timeouts are short: a request
waiting on a Redis that does not answer would otherwise outlive ChatGPT's ~45 s.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["connect", "unreachable", "outage_becomes"]


@functools.cache
def connect(url: str) -> Any:
    """The process's one client (and connection pool) for ``url``: the run store, idempotency
    claims, shared rate-limit blocks and the readiness probe all use it (the client is
    thread-safe), rather than each opening connections of its own."""
    import redis  # only deployments that set CONNECTOR_REDIS_URL load the client

    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, decode_responses=True)


def unreachable() -> tuple[type[Exception], ...]:
    """The exceptions that mean Redis cannot be reached (rather than a bug in a command)."""
    import redis

    return redis.exceptions.ConnectionError, redis.exceptions.TimeoutError


@contextmanager
def outage_becomes(error: Callable[[], Exception]) -> Iterator[None]:
    """Run a block of Redis calls; if Redis cannot be reached, raise ``error()`` (a 503 for the caller)."""
    try:
        yield
    except unreachable():
        raise error() from None
