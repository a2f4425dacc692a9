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

The claims live in a :class:`~connector.state.protocols.ClaimStore`: memory for one process, Redis
(``CONNECTOR_REDIS_URL``) for several instances, where the claim is one ``SET NX``, so two instances
cannot both write. If Redis is unreachable, writes that carry a key fail closed
(``503 idempotency_unavailable``); nothing is written twice.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from ..errors import (
    GitHubMayHaveActed,
    IdempotencyKeyReused,
    RequestInProgress,
    RequestOutcomeUnknown,
)
from ..state.protocols import Claim, ClaimStore

__all__ = ["idempotent"]

WAIT_FOR_FIRST_SECONDS = 10.0  # a repeat waits this long for the first request's answer


def idempotent(operation_id: str, handler: Callable[..., Any],
               store: ClaimStore,
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
        # Claimed by the caller's stable identity (a key's digest prefix, or the person's GitHub id),
        # never a name two keys may share; the operation is part of what must match, so the same
        # request_id on another operation is a reuse, not a second claim.
        key = f"{_identity(token_info)}:{request_id}"
        fingerprint = hashlib.sha256(json.dumps({"operation": operation_id, "body": body}, sort_keys=True,
                                                ensure_ascii=False).encode()).hexdigest()
        claim = store.claim(key, fingerprint)
        if claim.state != "new":
            return _answer_repeat(store, key, fingerprint, claim, request_id)
        try:
            result = handler(body=body, token_info=token_info)
        except GitHubMayHaveActed:  # GitHub may have applied it: a repeat must not be sent
            store.settle(key, Claim("unknown", fingerprint))
            raise
        except BaseException:
            store.settle(key, None)  # a definite failure: the same key may be tried again
            raise
        answer, status = result if isinstance(result, tuple) else (result, 200)
        store.settle(key, Claim("done", fingerprint, status, answer))
        return answer, status

    return wrapper


def _identity(token_info: dict[str, Any]) -> str:
    key = token_info.get("key")
    return key.subject if key is not None else str(token_info.get("sub"))


def _answer_repeat(store: ClaimStore, key: str, fingerprint: str, claim: Claim, request_id: str) -> Any:
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
