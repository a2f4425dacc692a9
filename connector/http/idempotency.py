"""Idempotent writes: a write repeated with the same ``request_id`` is answered, not repeated.

Assistants retry, time out and repeat themselves. Every write takes a ``request_id`` (or the
``Idempotency-Key`` header; the IETF draft's semantics). The first request with a key claims it;
its answer is kept for 24 hours and a repeat with the same API key, operation and body gets that
answer again with ``Idempotent-Replayed: true`` and no GitHub call. The same key with another body
is ``422 idempotency_key_reused``. A repeat arriving while the first is still running waits a few
seconds for its answer, then gets ``409 request_in_progress`` with ``Retry-After``.

What happens to a claim when the write fails depends on what is known
(:mod:`connector.github.writes`): only when GitHub provably did nothing (no write was sent, the
connection was refused, or GitHub answered it with a 4xx) is the claim released, so the same key may
be retried. Whenever a write went out and no usable answer came back (a timeout, a dropped
connection, a 5xx, an answer that cannot be read, a failure after GitHub said yes) the claim is
kept as "outcome unknown": the first answer says GitHub may have acted, and a repeat gets
``409 request_outcome_unknown`` instead of a second write that might duplicate the first.

The claims live in a :class:`~connector.state.protocols.ClaimStore`: memory for one process, Redis
(``CONNECTOR_REDIS_URL``) for several instances, where the claim is one ``SET NX``, so two instances
cannot both write. If Redis is unreachable before the claim, writes that carry a key fail closed
(``503 idempotency_unavailable``: nothing was sent). If it fails after GitHub answered, the caller
gets GitHub's real answer; the outcome is kept in this process and written to Redis once it answers
again (:mod:`connector.state.layered_claims`), so a retry gets that answer, not a second write.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from ..errors import (
    ConnectorError,
    GitHubDispatchFailed,
    GitHubDispatchOutcomeUnknown,
    GitHubMayHaveActed,
    GitHubWriteUnconfirmed,
    IdempotencyKeyReused,
    IdempotencyUnavailable,
    RequestInProgress,
    RequestOutcomeUnknown,
)
from ..github import writes
from ..state.protocols import Claim, ClaimStore
from .services import services

__all__ = ["idempotent"]

log = logging.getLogger(__name__)

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
            with writes.watching() as attempt:
                try:
                    return handler(body=body, token_info=token_info)
                except Exception as exc:
                    if attempt.may_have_acted and not isinstance(exc, GitHubMayHaveActed):
                        raise _unconfirmed(exc, claimed=False) from None
                    raise
        # Claimed by the caller's stable identity (a key's digest prefix, or the person's GitHub id),
        # never a name two keys may share; the operation is part of what must match, so the same
        # request_id on another operation is a reuse, not a second claim.
        key = f"{services().caller_identity(token_info)}:{request_id}"
        fingerprint = hashlib.sha256(json.dumps({"operation": operation_id, "body": _as_meant(body)}, sort_keys=True,
                                                ensure_ascii=False).encode()).hexdigest()
        claim = store.claim(key, fingerprint)  # Redis down here: 503, and nothing was sent
        if claim.state != "new":
            return _answer_repeat(store, key, fingerprint, claim, request_id)
        with writes.watching() as attempt:
            try:
                result = handler(body=body, token_info=token_info)
            except BaseException as exc:
                if not attempt.may_have_acted:
                    _settle(store, key, None)  # GitHub provably did nothing: the key may be tried again
                    raise
                _settle(store, key, Claim("unknown", fingerprint))  # a repeat must not be sent
                if isinstance(exc, GitHubMayHaveActed) or not isinstance(exc, Exception):
                    raise
                raise _unconfirmed(exc, claimed=True) from None
        answer, status = result if isinstance(result, tuple) else (result, 200)
        _settle(store, key, Claim("done", fingerprint, status, answer))
        return answer, status

    return wrapper


def _settle(store: ClaimStore, key: str, claim: Claim | None) -> None:
    """Record the outcome; a store that fails now does not turn GitHub's answer into a false one
    (a store that can keep it for later does so: connector.state.layered_claims)."""
    try:
        store.settle(key, claim)
    except IdempotencyUnavailable:
        log.error("the outcome of request %s could not be stored; a repeat may be answered 409 until it is", key)


def _unconfirmed(exc: Exception, *, claimed: bool) -> GitHubMayHaveActed:
    """The error for a failure after a write went out: GitHub may have applied it."""
    if not isinstance(exc, ConnectorError):
        log.error("the answer to a write could not be handled", exc_info=exc)
    # The first clause of the cause ("GitHub answered 502 ..."), not its advice to try again.
    what = exc.detail.split(";")[0].rstrip(".") if isinstance(exc, ConnectorError) else "its answer could not be read"
    detail = (f"The write went out to GitHub but no usable answer came back ({what}), so GitHub "
              "may have applied it; check on GitHub before trying again."
              + (" A repeat with the same request_id is not sent." if claimed else ""))
    github_request_id = exc.extra.get("github_request_id") if isinstance(exc, ConnectorError) else None
    if isinstance(exc, GitHubDispatchFailed):  # the gateway route keeps its own code
        return GitHubDispatchOutcomeUnknown(detail, github_request_id=github_request_id)
    return GitHubWriteUnconfirmed(detail, github_request_id=github_request_id)


def _as_meant(body: dict[str, Any]) -> dict[str, Any]:
    """The body as the write will act on it: the default repository written out when it was left
    implicit, and owner/repo in lower case (GitHub compares them so), so that the same request
    sent either way is the same request."""
    owner, repo = body.get("owner"), body.get("repo")
    if owner is None and repo is None:
        default = services().settings.default_repo
        if default is None:
            return body
        owner, repo = default
    return {**body, "owner": str(owner).lower(), "repo": str(repo).lower()}


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
            f"The first request with request_id {request_id!r} went out to GitHub without a usable answer, "
            "so GitHub may have acted on it. Check on GitHub; if nothing happened, send it again with a new request_id."
        )
    if claim.state == "running":
        raise RequestInProgress(f"A request with request_id {request_id!r} is still being processed; "
                                "ask again in a moment for its answer.", headers={"Retry-After": "2"})
    raise RequestInProgress(f"The first request with request_id {request_id!r} has just failed; send it again.",
                            headers={"Retry-After": "1"})
