"""POST /webhooks/github — GitHub's signed deliveries of workflow run and job state.

Served only when ``GITHUB_WEBHOOK_SECRET`` is set (otherwise the route does not exist: never
"accept everything"). Each delivery must carry ``X-Hub-Signature-256``, the HMAC-SHA256 of the raw
body under that secret: one without it is refused before its body is read, and the signature is
compared in constant time before anything is parsed, with at most :data:`CONCURRENT_UNVERIFIED`
bodies read at once before their check. Each delivery id is taken once it was applied, so a
captured delivery cannot be replayed and a failed one can be redelivered. Only the few fields the
run store keeps are read from payloads that can be megabytes long.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import BadRequest, DuplicateDelivery, FieldError, RateLimited, WebhookSignatureInvalid
from ..state.protocols import RunStore
from ..types import Secret

__all__ = ["MAX_DELIVERY_BYTES", "webhook_endpoint", "signature_for"]
MAX_DELIVERY_BYTES = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB


def signature_for(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")
# Bodies read at once before their signature is checked: each can be MAX_DELIVERY_BYTES, and the
# sender is unknown until the check; GitHub's deliveries wait for a turn (up to QUEUE_SECONDS).
CONCURRENT_UNVERIFIED = 4
QUEUE_SECONDS = 10


def webhook_endpoint(secret: Secret, store: RunStore):
    reading = anyio.Semaphore(CONCURRENT_UNVERIFIED)

    async def github_webhook(request: Request) -> Response:
        presented = request.headers.get("x-hub-signature-256", "")
        if not SIGNATURE.fullmatch(presented):  # refused before a byte of the body is read
            raise _unsigned()
        delivery = request.headers.get("x-github-delivery", "")
        if not 1 <= len(delivery) <= 100:
            raise BadRequest([FieldError("X-GitHub-Delivery", "is required (GitHub sends one per delivery)")])
        with anyio.move_on_after(QUEUE_SECONDS) as waited:
            async with reading:
                body = await request.body()
        if waited.cancelled_caught:
            raise RateLimited("Too many webhook deliveries are being read at once; GitHub can redeliver this one.",
                              retry_after=QUEUE_SECONDS)
        if not hmac.compare_digest(presented.encode(), signature_for(secret.reveal(), body).encode()):
            raise _unsigned()
        # The store may be Redis: its calls, and parsing a delivery of up to 25 MB, run in a worker
        # thread so that a slow Redis or a large payload does not stall the event loop.
        if await run_in_threadpool(store.seen_delivery, delivery):
            raise DuplicateDelivery(f"Delivery {delivery} was already received; it is not applied twice.")
        event = request.headers.get("x-github-event", "")
        applied = event != "ping" and await run_in_threadpool(_parse_and_apply, store, event, body)
        # Taken only once applied: a delivery that failed (Redis down, a body that is not JSON) can
        # be redelivered. Two copies racing may both apply, which changes nothing (newest state wins).
        await run_in_threadpool(store.first_delivery, delivery)
        if event == "ping":
            return JSONResponse({"ok": True, "event": "ping"})
        return JSONResponse({"ok": True, "event": event, "applied": applied}, status_code=200 if applied else 202)

    return github_webhook


def _unsigned() -> WebhookSignatureInvalid:
    return WebhookSignatureInvalid("The delivery's X-Hub-Signature-256 is missing or does not match "
                                   "GITHUB_WEBHOOK_SECRET; set the same secret on the webhook in GitHub.")


def _parse_and_apply(store: RunStore, event: str, body: bytes) -> bool:
    try:
        payload = json.loads(body)
    except ValueError:
        raise BadRequest([FieldError("$", "the delivery is not JSON; choose content type application/json "
                                          "on the webhook")]) from None
    return _apply(store, event, payload)


def _apply(store: RunStore, event: str, payload: Any) -> bool:
    if not isinstance(payload, dict):
        return False
    repository = (payload.get("repository") or {}).get("full_name")
    if not isinstance(repository, str):
        return False
    if event == "workflow_run" and isinstance(payload.get("workflow_run"), dict):
        store.apply_run(repository, payload["workflow_run"])
        return True
    if event == "workflow_job" and isinstance(payload.get("workflow_job"), dict):
        store.apply_job(repository, payload["workflow_job"])
        return True
    return False  # another event the hook was subscribed to: acknowledged, not used
