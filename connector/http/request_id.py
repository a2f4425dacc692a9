"""``X-Request-ID`` on every response, and on every log line written while serving the request.

A caller's own id is kept when it is sane (1-128 letters, digits and ``. _ : -``, so it can be
logged and echoed safely), otherwise a new one is made. Operators and callers then have one id to
quote for a request, from the assistant's side to the connector's log.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestIdMiddleware", "RequestIdLogFilter", "configure_logging", "current_request_id"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"

_SANE = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_current: ContextVar[str] = ContextVar("connector_request_id", default="-")


def current_request_id() -> str:
    return _current.get()


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = next((value for name, value in scope.get("headers", []) if name == b"x-request-id"), b"")
        request_id = offered.decode() if _SANE.fullmatch(offered) else uuid.uuid4().hex
        token = _current.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(n, v) for n, v in message.get("headers", []) if n.lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)


class RequestIdLogFilter(logging.Filter):
    """Puts the request's id on every record as ``request_id`` ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get()
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """The connector's log format, with each line's request id (for ``connector`` and ``wsgi:app``)."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RequestIdLogFilter) for f in handler.filters):
            handler.addFilter(RequestIdLogFilter())
