"""The blob storage host job-log redirects point at: a second server, on another loopback address.

GitHub's log ``Location`` is on another host (Azure blob storage) and carries its own
signature, so a client that follows the redirect with its ``Authorization`` header sends its
GitHub token to a third party. To make that observable the double runs this second server on
127.0.0.2 (Linux routes all of 127/8 to loopback), a different host name than the API's
127.0.0.1, so HTTP clients that drop credentials on a cross-host redirect (requests, httpx) do
so here too; where 127.0.0.2 cannot be bound it falls back to another port on 127.0.0.1.

It answers as blob storage does: 200 with the bytes, ``Range: bytes=A-B``/``bytes=A-``/``bytes=-N``
as 206 with ``Content-Range`` (416 ``InvalidRange`` when nothing of the blob is in range;
``ignore_range`` answers 200 with everything instead, as some storage proxies do), 403
``AuthenticationFailed`` for a missing, wrong or expired signature, 404 ``BlobNotFound``, each
error with Azure's XML body. Every request is recorded with its headers (``Authorization``
redacted but present) in ``JobLogs.requests``.
"""

from __future__ import annotations

import re
import threading
import uuid
from datetime import UTC, datetime

from . import wire
from .job_logs import JobLogs

__all__ = ["StorageHost", "byte_range"]

_HOSTS = ("127.0.0.2", "127.0.0.1")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None | bool:
    """The inclusive span ``header`` asks for; None: answer everything; False: unsatisfiable."""
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header or "")
    if m is None or not (m[1] or m[2]):
        return None  # absent, malformed or several ranges: the whole blob
    if not m[1]:
        suffix = int(m[2])
        return (max(size - suffix, 0), size - 1) if suffix and size else False
    start, end = int(m[1]), int(m[2]) if m[2] else size - 1
    if m[2] and end < start:
        return None
    return (start, min(end, size - 1)) if start < size else False


def _error(code: str, message: str, detail: str | None = None) -> bytes:
    extra = f"<AuthenticationErrorDetail>{detail}</AuthenticationErrorDetail>" if detail else ""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    return (f'\ufeff<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>{message}\n'
            f"RequestId:{uuid.uuid4()}\nTime:{stamp}</Message>{extra}</Error>").encode()


class StorageHost:
    """The server; started on first use, stopped with the double."""

    def __init__(self, logs: JobLogs) -> None:
        self.logs = logs
        self._server: wire.Server | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        with self._lock:
            if self._server is None:
                self._server = self._bind()
                threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                 name="github-double-storage", daemon=True).start()
            host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _bind(self) -> wire.Server:
        for host in _HOSTS:
            try:
                return wire.Server((host, 0), self._handle)
            except OSError:
                continue
        raise OSError("cannot bind a loopback address for the storage host")

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.hang_up_all()
            server.server_close()

    def _handle(self, h: wire.Handler) -> None:
        rec, _ = wire.read_request(h, "")
        status, headers, body = self._answer(rec.method, rec.path, rec.query, h.headers.get("range"))
        headers = {"x-ms-request-id": str(uuid.uuid4()), "x-ms-version": "2025-01-05",
                   "date": datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT"), **headers}
        rec.status = status
        self.logs.record(rec)
        wire.send(h, status, headers, body)

    def _answer(self, method: str, path: str, query: dict[str, str], ranged: str | None
                ) -> tuple[int, dict[str, str], bytes]:
        xml = {"content-type": "application/xml"}
        if method not in ("GET", "HEAD"):
            return 405, xml, _error("UnsupportedHttpVerb", "The resource doesn't support specified Http Verb.")
        refused = self.logs.refusal(path, query)
        if refused is not None:
            return 403, xml, _error("AuthenticationFailed", "Server failed to authenticate the request. Make sure "
                                    "the value of Authorization header is formed correctly including the signature.",
                                    refused)
        data = self.logs.blob(path)
        if data is None:
            return 404, xml, _error("BlobNotFound", "The specified blob does not exist.")
        headers = {"content-type": "text/plain", "accept-ranges": "bytes", "x-ms-blob-type": "BlockBlob",
                   "etag": f'"0x8DD{abs(hash(data)) % 16**12:012X}"',
                   "last-modified": datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")}
        span = None if self.logs.ignore_range else byte_range(ranged, len(data))
        if span is False:
            return 416, {**xml, "content-range": f"bytes */{len(data)}"}, _error(
                "InvalidRange", "The range specified is invalid for the current size of the resource.")
        if isinstance(span, tuple):
            start, end = span
            return 206, {**headers, "content-range": f"bytes {start}-{end}/{len(data)}"}, data[start:end + 1]
        return 200, headers, data
