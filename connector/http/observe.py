"""The two middlewares that fill each request's :class:`~connector.record.RequestRecord`
and hand it to the audit log and the metrics once the answer has gone out."""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..record import RequestRecord, note, recording
from .arrival import arrival_of

__all__ = ["RequestRecordMiddleware", "OperationNoteMiddleware"]

log = logging.getLogger(__name__)


class RequestRecordMiddleware:
    """Just inside the arrival: starts each request's record and hands it on when done."""

    def __init__(self, app: ASGIApp, *, done: list[Callable[[RequestRecord], None]]) -> None:
        self.app = app
        self.done = done

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        arrival = arrival_of(scope)
        if arrival is None:  # not HTTP
            await self.app(scope, receive, send)
            return
        record = RequestRecord(method=scope["method"], path=scope["path"], client_ip=arrival.client_ip,
                               x_request_id=arrival.request_id)

        async def send_noted(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                record.replayed = any(name.lower() == b"idempotent-replayed" for name, _ in message.get("headers", []))
            await send(message)

        try:
            with recording(record):
                await self.app(scope, receive, send_noted)
        finally:
            for hand_on in self.done:
                try:
                    hand_on(record)
                except Exception:  # the answer has gone out; a full disk must not turn it into a 500
                    log.exception("recording the request failed")


class OperationNoteMiddleware:
    """Inside Connexion's routing, before security: notes which operation a request is for, so a
    refusal by authentication or validation is recorded against it too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation_id = scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id")
        if operation_id:  # "connector.api.prs.list_pull_requests": the router prefixes the module
            note(operation=operation_id.rsplit(".", 1)[-1])
        await self.app(scope, receive, send)
