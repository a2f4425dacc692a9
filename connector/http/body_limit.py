"""Refuse oversized request bodies before anything reads them (413, problem+json).

A pure ASGI middleware: it trusts neither Content-Length (a client may lie, or stream chunked) nor
the framework, and counts the bytes as they arrive. One limit applies everywhere, except on the
paths given a larger one of their own (a comment of GitHub's maximum length needs ~800 KB).

A body sent without Content-Length (chunked) is read here, within the limit, and handed on with
its length declared: Connexion takes a request without Content-Length for one without a body
("RequestBody is required"), which would refuse every streaming client.

A body must also arrive whole within :data:`BODY_SECONDS` of its headers, or the answer is ``408
request_timeout`` and the connection is closed: a client trickling a byte now and then would
otherwise hold a connection (and, for a handler reading the body, a worker thread) as long as it
liked. The deadline ends with the body, so an answer that takes long (a wait, a stream listening
for the client to go away) is not cut short by it.
"""

from __future__ import annotations

from collections.abc import Mapping

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import PayloadTooLarge, RequestTimeout
from .problem import problem_response

__all__ = ["BODY_SECONDS", "BodyLimitMiddleware"]

BODY_SECONDS = 30.0  # ChatGPT gives up on the whole call near 45 s; 1 MiB in 30 s is 35 KB/s


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    """The client went away before sending its whole body: there is no one to answer."""


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, larger: Mapping[str, int] | None = None) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self.app = app
        self.max_bytes = max_bytes
        self.larger = {path: max(limit, max_bytes) for path, limit in (larger or {}).items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope.get("path", ""), self.max_bytes)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        timely = _in_time(receive, anyio.current_time() + BODY_SECONDS)
        if declared is None:
            try:
                body = await _read_body(timely, limit)
            except _TooLarge:
                await self._refuse(scope, receive, send, limit)
                return
            except RequestTimeout as too_slow:
                await problem_response(too_slow)(scope, receive, send)
                return
            except _Disconnected:
                return
            scope = {**scope, "headers": [*scope.get("headers", []), (b"content-length", str(len(body)).encode())]}
            timely = _replaying(body, receive)
        received = 0
        started = whole = False

        async def counting_receive() -> Message:
            nonlocal received, whole
            message = await (receive() if whole else timely())
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                whole = not message.get("more_body", False)
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send, limit)
        except RequestTimeout as too_slow:  # when nothing inside rendered it (the app's handler does)
            if not started:
                await problem_response(too_slow)(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        await problem_response(PayloadTooLarge(
            f"The request body is larger than this connector accepts here ({limit} bytes); send less "
            "(for a dispatch, a reference to the data instead of the data).",
            headers={"Connection": "close"},
        ))(scope, receive, send)


def _in_time(receive: Receive, deadline: float) -> Receive:
    """``receive``, raising :class:`RequestTimeout` (rendered like any error) once ``deadline``
    (anyio's clock) has passed."""
    async def timely() -> Message:
        with anyio.move_on_after(max(0.0, deadline - anyio.current_time())):
            return await receive()
        raise RequestTimeout(f"The request body did not arrive within {BODY_SECONDS:g} s of its headers; send "
                             "it again, whole.", headers={"Connection": "close"})

    return timely


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive channel that yields ``body`` in one message, then whatever ``receive`` does."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
