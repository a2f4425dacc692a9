"""The connector's own rate limits: per API key and per client address.

``CONNECTOR_RATE_LIMIT`` (per key) and ``CONNECTOR_IP_RATE_LIMIT`` (per address) take the
``limits`` library's notation, several separated by ``;`` (``60/minute;1000/hour``). Counting uses
a moving window, in memory or, with ``CONNECTOR_REDIS_URL``, in Redis shared by every instance.
Over a limit the answer is ``429 rate_limited`` with ``Retry-After`` and ``RateLimit-Limit`` /
``-Remaining`` / ``-Reset``, before anything else is done. The address limit is checked first
thing for every request (so also for bad keys); the key limit once the key is known.

If Redis cannot be reached, limiting fails open and says so in the log: refusing every request
because a counter is unavailable would take the connector down with Redis, and GitHub's own
limits still apply behind it.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import RateLimited
from ..record import note
from .arrival import arrival_of
from .problem import problem_response

if TYPE_CHECKING:
    from limits import RateLimitItem

__all__ = ["RateLimits", "RateLimitIpMiddleware", "rate_limited"]

log = logging.getLogger(__name__)


class RateLimits:
    def __init__(self, *, per_key: tuple[str, ...], per_ip: tuple[str, ...], storage_uri: str | None = None) -> None:
        from limits import parse_many
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        self._per_key = [item for text in per_key for item in parse_many(text)]
        self._per_ip = [item for text in per_ip for item in parse_many(text)]
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri or "memory://"))
        self.shared = storage_uri is not None  # counted in Redis: each check is a network round trip

    @property
    def limits_addresses(self) -> bool:
        return bool(self._per_ip)

    def check_key(self, key_name: str) -> None:
        self._check(self._per_key, "key", key_name, f"the API key '{key_name}'")

    def check_address(self, address: str) -> None:
        self._check(self._per_ip, "ip", address, f"requests from {address}")

    def _check(self, items: list[RateLimitItem], kind: str, identity: str, who: str) -> None:
        for item in items:
            try:
                allowed = self._limiter.hit(item, kind, identity)
                if allowed:
                    continue
                reset, remaining = self._limiter.get_window_stats(item, kind, identity)
            except Exception as exc:  # the shared counter is unreachable: fail open, loudly
                log.warning("rate limit not checked, its storage failed (%s)", type(exc).__name__)
                return
            wait = max(1, math.ceil(reset - time.time()))
            note(limited_by=kind)
            raise RateLimited(
                f"This connector allows {item} for {who}; wait {wait} s before the next request.",
                retry_after=wait,
                extra_headers={"RateLimit-Limit": str(item.amount), "RateLimit-Remaining": str(max(0, remaining)),
                               "RateLimit-Reset": str(wait)},
            )


def rate_limited(handler: Callable[..., Any], limits: RateLimits) -> Callable[..., Any]:
    """Wrap a handler so the calling key's limit is counted before it runs."""

    if inspect.iscoroutinefunction(handler):  # runs on the event loop: a shared counter is a network call
        @functools.wraps(handler)
        async def waiting(*args: Any, **kwargs: Any) -> Any:
            token_info = kwargs.get("token_info") or {}
            if token_info.get("sub"):
                await run_in_threadpool(limits.check_key, token_info["sub"])
            return await handler(*args, **kwargs)

        return waiting

    @functools.wraps(handler)  # Connexion reads the handler's parameters through __wrapped__
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token_info = kwargs.get("token_info") or {}
        if token_info.get("sub"):
            limits.check_key(token_info["sub"])
        return handler(*args, **kwargs)

    return wrapper


class RateLimitIpMiddleware:
    """Counts every request against its client address's limit, before anything reads it."""

    def __init__(self, app: ASGIApp, limits: RateLimits) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        arrival = arrival_of(scope)
        # An MCP tool call's inner request was counted as the POST to /mcp that carried it.
        if arrival is not None and not arrival.inner and self.limits.limits_addresses:
            address = arrival.client_ip or "unknown"
            try:
                if self.limits.shared:  # not on the event loop: a slow Redis would stall every request
                    await anyio.to_thread.run_sync(self.limits.check_address, address)
                else:
                    self.limits.check_address(address)
            except RateLimited as refusal:
                await problem_response(refusal)(scope, receive, send)
                return
        await self.app(scope, receive, send)
