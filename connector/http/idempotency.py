"""Idempotent writes: a write repeated with the same ``request_id`` is answered, not repeated.

Assistants retry, time out and repeat themselves. Every write takes a ``request_id`` (or the
``Idempotency-Key`` header; the IETF draft's semantics). The first request with a key claims it;
its answer is kept for 24 hours and a repeat with the same API key, operation and body gets that
answer again with ``Idempotent-Replayed: true`` and no GitHub call. The same key with another body
is ``422 idempotency_key_reused``. A repeat arriving while the first is still running waits a few
seconds for its answer, then gets ``409 request_in_progress`` with ``Retry-After``.

What happens to a claim when the write fails depends on what is known: a definite refusal (GitHub
said no, or nothing was sent) releases it, so the same key may be retried; a timeout after the
request went out leaves the outcome unknown, and a repeat gets ``409 request_outcome_unknown``
instead of a second write that might duplicate the first.

Two stores: memory for one process, Redis (``CONNECTOR_REDIS_URL``) for several instances, where
the claim is one ``SET NX``, so two instances cannot both write. If Redis is unreachable, writes
that carry a key fail closed (``503 idempotency_unavailable``); nothing is written twice.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import (
    GitHubTimeout,
    IdempotencyKeyReused,
    IdempotencyUnavailable,
    RequestInProgress,
    RequestOutcomeUnknown,
)
from ..state.redis import connect, outage_becomes

__all__ = ["Claim", "IdempotencyStore", "RedisIdempotencyStore", "idempotent"]

TTL_SECONDS = 24 * 3600
WAIT_FOR_FIRST_SECONDS = 10.0  # a repeat waits this long for the first request's answer

State = Literal["new", "done", "running", "unknown"]


@dataclass(frozen=True)
class Claim:
    state: State  # new: this request owns the key; otherwise what the first request left
    fingerprint: str = ""
    status: int = 0
    body: Any = None


class IdempotencyStore:
    """Claims in memory, for one process."""

    def __init__(self, *, max_items: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._claims: OrderedDict[str, tuple[float, Claim]] = OrderedDict()
        self._max, self._clock = max_items, clock

    def claim(self, key: str, fingerprint: str) -> Claim:
        with self._lock:
            found = self._claims.get(key)
            if found is not None and self._clock() - found[0] < TTL_SECONDS:
                return found[1]
            self._put(key, Claim("running", fingerprint))
            return Claim("new", fingerprint)

    def peek(self, key: str) -> Claim | None:
        with self._lock:
            found = self._claims.get(key)
        return found[1] if found is not None else None

    def settle(self, key: str, claim: Claim | None) -> None:
        """Record the first request's outcome, or (``None``) release the key for a retry."""
        with self._lock:
            if claim is None:
                self._claims.pop(key, None)
            else:
                self._put(key, claim)

    def _put(self, key: str, claim: Claim) -> None:
        self._claims[key] = (self._clock(), claim)
        self._claims.move_to_end(key)
        while len(self._claims) > self._max:
            self._claims.popitem(last=False)


class RedisIdempotencyStore:
    """Claims in Redis, shared by every instance; the claim itself is one atomic ``SET NX``."""

    def __init__(self, url: str, *, prefix: str = "connector") -> None:
        self._redis = connect(url)
        self._prefix = prefix

    def claim(self, key: str, fingerprint: str) -> Claim:
        running = json.dumps({"state": "running", "fingerprint": fingerprint})
        with outage_becomes(_unavailable):
            if self._redis.set(self._key(key), running, nx=True, ex=TTL_SECONDS):
                return Claim("new", fingerprint)
            found = self.peek(key)
        return found if found is not None else self.claim(key, fingerprint)  # expired in between

    def peek(self, key: str) -> Claim | None:
        with outage_becomes(_unavailable):
            raw = self._redis.get(self._key(key))
        return Claim(**json.loads(raw)) if raw else None

    def settle(self, key: str, claim: Claim | None) -> None:
        with outage_becomes(_unavailable):
            if claim is None:
                self._redis.delete(self._key(key))
            else:
                self._redis.set(self._key(key), json.dumps(claim.__dict__), ex=TTL_SECONDS)

    def _key(self, key: str) -> str:
        return f"{self._prefix}:idempotency:{key}"


def _unavailable() -> IdempotencyUnavailable:
    return IdempotencyUnavailable(
        "The connector cannot reach its shared store (Redis), so it cannot make sure this write happens "
        "once; nothing was written. Try again shortly."
    )


def idempotent(operation_id: str, handler: Callable[..., Any],
               store: IdempotencyStore | RedisIdempotencyStore,
               header_of: Callable[[], str | None]) -> Callable[..., Any]:
    """Wrap a write handler ``(body, token_info)`` so a repeated ``request_id`` is answered once."""

    @functools.wraps(handler)  # Connexion reads the handler's parameters through __wrapped__
    def wrapper(body: dict[str, Any], token_info: dict[str, Any]) -> Any:
        header = header_of()
        if header and not body.get("request_id"):
            body["request_id"] = header  # the header is an alias; a dispatch passes it to the workflow
        request_id = body.get("request_id")
        if not request_id or body.get("dry_run"):
            return handler(body=body, token_info=token_info)
        key = f"{token_info.get('sub')}:{operation_id}:{request_id}"
        fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        claim = store.claim(key, fingerprint)
        if claim.state != "new":
            return _answer_repeat(store, key, fingerprint, claim, request_id)
        try:
            result = handler(body=body, token_info=token_info)
        except GitHubTimeout:
            store.settle(key, Claim("unknown", fingerprint))
            raise
        except BaseException:
            store.settle(key, None)  # a definite failure: the same key may be tried again
            raise
        answer, status = result if isinstance(result, tuple) else (result, 200)
        store.settle(key, Claim("done", fingerprint, status, answer))
        return answer, status

    return wrapper


def _answer_repeat(store: Any, key: str, fingerprint: str, claim: Claim, request_id: str) -> Any:
    if claim.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"request_id {request_id!r} was already used for a different request in the last 24 hours; "
            "use a new request_id for a new request."
        )
    deadline = time.monotonic() + WAIT_FOR_FIRST_SECONDS
    while claim.state == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        claim = store.peek(key) or Claim("new")
    if claim.state == "done":
        return claim.body, claim.status, {"Idempotent-Replayed": "true"}
    if claim.state == "unknown":
        raise RequestOutcomeUnknown(
            f"The first request with request_id {request_id!r} timed out after it was sent, so GitHub may "
            "have acted on it. Check on GitHub; if nothing happened, send it again with a new request_id."
        )
    if claim.state == "running":
        raise RequestInProgress(f"A request with request_id {request_id!r} is still being processed; "
                                "ask again in a moment for its answer.", headers={"Retry-After": "2"})
    raise RequestInProgress(f"The first request with request_id {request_id!r} has just failed; send it again.",
                            headers={"Retry-After": "1"})
