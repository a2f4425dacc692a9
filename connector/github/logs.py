"""The tail of a job's log, read from the storage host GitHub redirects to.

GitHub answers a job's logs with a ``302`` to a short-lived signed URL on another host (Azure blob
storage on github.com). That request must not carry the connector's GitHub credentials: the URL's
signature is its authorisation, and a token sent there would leak to another service. So it goes
through a session of its own, which never has an ``Authorization`` header (nor ``.netrc``
credentials), and never follows a further redirect.

Only the end of a log is wanted, and logs reach hundreds of megabytes. The request asks for the last
bytes (``Range: bytes=-N``, which blob storage honours); a host that ignores it is streamed through,
keeping only the last bytes, up to a size and a time bound.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import requests

from ..errors import GitHubTimeout, GitHubUnavailable

__all__ = ["LogTail", "fetch_tail", "log_storage_session", "TAIL_BYTES", "MAX_STREAMED_BYTES"]

TAIL_BYTES = 256 * 1024  # 1,000 lines of 256 bytes: more than any tail_lines asks for
MAX_STREAMED_BYTES = 64 * 1024 * 1024  # a host that ignores Range is read this far, no further
_CHUNK = 64 * 1024


class _NoCredentials(requests.auth.AuthBase):
    """Set as the session's auth, so requests never adds ``.netrc`` credentials, and anything that
    put an Authorization header on the request loses it."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        return request


def log_storage_session(user_agent: str) -> requests.Session:
    session = requests.Session()
    session.auth = _NoCredentials()
    session.headers["User-Agent"] = user_agent
    session.max_redirects = 0
    return session


class LogTail:
    """The last bytes of a log; ``whole`` when they are the entire log (so its first line is whole)."""

    def __init__(self, data: bytes, whole: bool) -> None:
        self.data, self.whole = data, whole


def fetch_tail(session: requests.Session, url: str, *, timeout: float, deadline_seconds: float,
               tail_bytes: int = TAIL_BYTES) -> LogTail:
    deadline = time.monotonic() + deadline_seconds
    try:
        with session.get(url, headers={"Range": f"bytes=-{tail_bytes}"}, stream=True, timeout=timeout,
                         allow_redirects=False) as response:
            if response.status_code == 416:  # an empty log has no last bytes
                return LogTail(b"", True)
            if response.status_code == 206:
                data = _read(response, deadline, limit=tail_bytes)
                return LogTail(data, _total(response) is not None and _total(response) == len(data))
            if response.status_code == 200:
                return _streamed_tail(response, deadline, tail_bytes)
            raise GitHubUnavailable(
                f"The log storage host answered {response.status_code} (its link from GitHub may have expired); "
                "ask again for a fresh link.")
    except requests.Timeout:
        raise GitHubTimeout(f"The log storage host did not answer within {timeout:g} s; try again.") from None
    except requests.RequestException as exc:
        raise GitHubUnavailable(f"The log storage host could not be read ({type(exc).__name__}); try again.") from None


def _total(response: requests.Response) -> int | None:
    """The full size from ``Content-Range: bytes A-B/TOTAL``."""
    total = response.headers.get("content-range", "").rpartition("/")[2]
    return int(total) if total.isdigit() else None


def _chunks(response: requests.Response, deadline: float) -> Iterator[bytes]:
    for chunk in response.iter_content(_CHUNK):
        if time.monotonic() > deadline:
            raise GitHubTimeout("The log took too long to read; ask for fewer jobs or try again.")
        yield chunk


def _read(response: requests.Response, deadline: float, *, limit: int) -> bytes:
    data = bytearray()
    for chunk in _chunks(response, deadline):
        data += chunk
        if len(data) > limit:  # a host that sent more than it was asked for
            return bytes(data[-limit:])
    return bytes(data)


def _streamed_tail(response: Any, deadline: float, tail_bytes: int) -> LogTail:
    kept, seen = bytearray(), 0
    for chunk in _chunks(response, deadline):
        seen += len(chunk)
        if seen > MAX_STREAMED_BYTES:
            raise GitHubUnavailable(
                f"The log is over {MAX_STREAMED_BYTES // (1024 * 1024)} MB and its storage host cannot send only "
                "its end; read it on GitHub.")
        kept += chunk
        if len(kept) > 2 * tail_bytes:
            del kept[:-tail_bytes]
    return LogTail(bytes(kept[-tail_bytes:]), seen <= tail_bytes)
