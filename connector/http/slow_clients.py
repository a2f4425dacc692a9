"""uvicorn's HTTP/1.1 protocol with a deadline for each request's headers.

uvicorn closes a connection left idle after an answer (``timeout_keep_alive``), but waits forever
for the headers of a request: a client that opens connections and sends a header byte now and then
holds them, and with them the process's connection budget, without ever authenticating. Here a
request's headers must arrive within :data:`HEADER_SECONDS` of its first byte (or of the
connection, for the first request), or the connection is closed; and they must end within
:data:`MAX_HEADER_BYTES` (h11's own cap applies only to headers split across reads), or the answer
is ``431``. ``connector serve`` runs with this protocol and at most :data:`MAX_CONNECTIONS`
connections per process (uvicorn answers 503 past it).
"""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HEADER_SECONDS", "MAX_CONNECTIONS", "MAX_HEADER_BYTES", "HeaderDeadlineProtocol"]

HEADER_SECONDS = 10.0
MAX_HEADER_BYTES = 16 * 1024  # a request line and headers, an OAuth JWT included, fit many times over
MAX_CONNECTIONS = 1000


_TOO_LARGE = json.dumps({"type": "about:blank", "title": "Request Header Fields Too Large", "status": 431,
                         "detail": f"The request's headers are over {MAX_HEADER_BYTES} bytes.",
                         "code": "validation_error"}).encode()


class HeaderDeadlineProtocol(H11Protocol):
    header_seconds = HEADER_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = self.loop.call_later(self.header_seconds, self._too_slow)
        self._head = b""  # the start of the request whose headers are awaited

    def data_received(self, data: bytes) -> None:
        if self._waiting_for_headers():
            if self._deadline is None:  # the first byte of the next request
                self._deadline = self.loop.call_later(self.header_seconds, self._too_slow)
            self._head = (self._head + data)[:MAX_HEADER_BYTES + 4]
            end = self._head.find(b"\r\n\r\n")
            if end == -1 and len(self._head) > MAX_HEADER_BYTES:
                self._too_large()
                return
        super().data_received(data)
        if not self._waiting_for_headers():
            self._disarm()
            self._head = b""

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _waiting_for_headers(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_large(self) -> None:
        self._disarm()
        self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/problem+json"
                             b"\r\nconnection: close\r\ncontent-length: " + str(len(_TOO_LARGE)).encode()
                             + b"\r\n\r\n" + _TOO_LARGE)
        self.transport.close()

    def _too_slow(self) -> None:
        self._deadline = None
        if self._waiting_for_headers() and not self.transport.is_closing():
            self.transport.close()
