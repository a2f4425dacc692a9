"""The two middlewares that fill each request's :class:`~connector.record.RequestRecord`
and hand it to the audit log and the metrics once the answer has gone out."""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .client_ip import client_ip
from .request_id import current_request_id
from ..record import RequestRecord, note, recording
from ..types import Network

__all__ = ["RequestRecordMiddleware", "OperationNoteMiddleware"]

log = logging.getLogger(__name__)


class RequestRecordMiddleware:
    """Outermost but for X-Request-ID: starts each request's record and hands it on when done."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: tuple[Network, ...],
                 done: list[Callable[[RequestRecord], None]]) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies
        self.done = done

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = RequestRecord(method=scope["method"], path=scope["path"],
                               client_ip=client_ip(scope, self.trusted_proxies), x_request_id=current_request_id())

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
