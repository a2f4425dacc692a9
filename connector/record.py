"""What the connector learns about one request while answering it, for the audit log and metrics.

The outermost middleware (:mod:`connector.http.observe`) starts a :class:`RequestRecord` and makes it current (a context variable,
which Starlette carries into the worker thread a sync handler runs in). Each layer that knows
something adds it with :func:`note`: the routing layer the operation, authentication the key's
name, the handler wrapper the repository and target, the GitHub client GitHub's request id, the
error handler the problem's code. When the answer has gone out, the record goes to the audit log
and the metrics. Nothing here holds a request body: only the fields listed on the record.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RequestRecord", "note", "note_target", "recording"]

_current: ContextVar[RequestRecord | None] = ContextVar("connector_request_record", default=None)


@dataclass
class RequestRecord:
    method: str
    path: str
    client_ip: str | None
    x_request_id: str
    started: float = field(default_factory=time.monotonic)
    operation: str | None = None
    key: str | None = None
    oauth_client: str | None = None  # with an OAuth access token: the client it was issued to
    grant: str | None = None  # and the sign-in (grant) it belongs to; never the token
    github_login: str | None = None  # signed in with GitHub: who, as GitHub knows them (what was done is theirs)
    repository: str | None = None
    number: int | None = None
    run_id: int | None = None
    event_type: str | None = None
    request_id: str | None = None  # the write's own request_id (or Idempotency-Key)
    dry_run: bool = False
    code: str | None = None
    limited_by: str | None = None  # over which of the connector's rate limits: "key" or "ip"
    github_request_id: str | None = None
    status: int = 0
    replayed: bool = False

    def seconds(self) -> float:
        return time.monotonic() - self.started


def note(**fields: Any) -> None:
    """Add what is known to the current request's record (nothing outside a request)."""
    record = _current.get()
    if record is not None:
        for name, value in fields.items():
            setattr(record, name, value)


def note_target(body: dict[str, Any], request_id: str | None) -> None:
    """The request body's target, as far as it is safe to log: never a comment body, labels or
    payload values, only names and numbers."""
    owner, repo = body.get("owner"), body.get("repo")
    note(repository=f"{owner}/{repo}" if owner and repo else None,
         number=body.get("number"), run_id=body.get("run_id"),
         event_type=body.get("event_type") or body.get("action"),
         request_id=request_id, dry_run=body.get("dry_run") is True)


@contextmanager
def recording(record: RequestRecord) -> Iterator[RequestRecord]:
    """Make ``record`` the current request's record for the block."""
    token = _current.set(record)
    try:
        yield record
    finally:
        _current.reset(token)
