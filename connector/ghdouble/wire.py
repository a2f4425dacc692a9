"""The HTTP plumbing under the double: stdlib server, request parsing and reply writing.

The bugs the double exists to catch live on the wire (keep-alive, ``Content-Length``,
chunked uploads, dropped connections, a GHES ``/api/v3`` prefix), so this is a real
``ThreadingHTTPServer`` speaking HTTP/1.1 rather than a mock transport. It knows nothing
about GitHub: it turns a socket request into a ``RecordedRequest`` and writes back
whatever status, headers and bytes it is given, or hangs up.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .records import RecordedRequest

__all__ = ["Handler", "Server", "hang_up", "read_body", "read_request", "send"]


class Handler(BaseHTTPRequestHandler):
    """Hands every method to ``Server.respond`` and tracks its connection for ``stop()``."""

    protocol_version = "HTTP/1.1"
    server_version = "GitHubDouble/1.0"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are closed after this long
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: Server

    def setup(self) -> None:
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def version_string(self) -> str:
        return self.server_version

    def _dispatch(self) -> None:
        self.server.respond(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch


class Server(ThreadingHTTPServer):
    """Threaded server whose ``stop`` does not wait for idle keep-alive connections."""

    daemon_threads = True
    block_on_close = False  # stop() must not wait for idle keep-alive connections

    def __init__(self, address: tuple[str, int], respond: Callable[[Handler], None]) -> None:
        self.respond = respond
        self.connections: set[socket.socket] = set()
        super().__init__(address, Handler)

    def hang_up_all(self) -> None:
        """Wake handler threads parked on idle keep-alive sockets so they can exit."""
        for conn in list(self.connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def read_body(h: BaseHTTPRequestHandler) -> bytes:
    """The request body, de-chunked if the client sent ``Transfer-Encoding: chunked``."""
    if "chunked" in h.headers.get("transfer-encoding", "").lower():
        chunks = []
        while (size := int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)):
            chunks.append(h.rfile.read(size))
            h.rfile.readline()
        while h.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        return b"".join(chunks)
    return h.rfile.read(int(h.headers.get("content-length") or 0))


def read_request(h: BaseHTTPRequestHandler, prefix: str) -> tuple[RecordedRequest, bool]:
    """Read one request; the flag says whether its path was under ``prefix`` (and routable).

    The path is recorded without the prefix, and the ``authorization`` header is redacted.
    """
    split = urlsplit(h.path)
    pairs = parse_qsl(split.query, keep_blank_values=True)
    raw = read_body(h)
    path, routed = split.path, True
    if prefix:
        routed = path == prefix or path.startswith(prefix + "/")
        path = path[len(prefix):] if routed else path
    headers = {k.lower(): v for k, v in h.headers.items()}
    if "authorization" in headers:
        headers["authorization"] = "<redacted>"
    return RecordedRequest(h.command, path, dict(pairs), headers, None, raw), routed


def send(h: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: bytes) -> None:
    """Write a reply with ``Content-Length`` (keep-alive needs it); HEAD gets no body."""
    h.send_response(status)
    for name, value in headers.items():
        h.send_header(name, value)
    h.send_header("content-length", str(len(payload)))
    h.end_headers()
    if payload and h.command != "HEAD":
        h.wfile.write(payload)


def hang_up(h: BaseHTTPRequestHandler) -> None:
    """Drop the connection without answering, as a flaky network or proxy would."""
    h.close_connection = True
    try:
        h.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
