"""The audit log: one JSON line per write attempt and per refusal.

A line says who (the API key's name, never the key; the caller's address), what (operation,
repository, pull request number, run id or event type, the write's request_id), and how it ended
(outcome, HTTP status, the problem's code, GitHub's ``x-github-request-id``, latency). It never
holds a comment body, labels, a client_payload value or a token: a
:class:`~connector.record.RequestRecord` has no field for them.

Lines go to stdout (``CONNECTOR_AUDIT_LOG`` unset or ``-``), where container platforms collect
them, or are appended to the file ``CONNECTOR_AUDIT_LOG`` names (several workers may share it: each
line is one small append; logrotate may move it, the file is reopened).
"""

from __future__ import annotations

import functools
import json
import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from ..record import RequestRecord

__all__ = ["AuditLog", "outcome"]


def outcome(record: RequestRecord) -> str:
    if record.status == 0:  # no answer went out (the caller hung up, or the server failed mid-way)
        return "unknown"
    if record.status < 400:
        return "replayed" if record.replayed else "dry_run" if record.dry_run else "ok"
    if record.status < 500:
        return "refused"
    # The write was sent and GitHub's answer never came: it may have happened.
    return "unknown" if record.code == "github_timeout" else "failed"


@functools.cache
def _logger_for(destination: Path | None, stream: TextIO) -> logging.Logger:
    """One logger, and so one open file, per destination and process, however many apps use it.

    A logger of its own, outside the logging tree: audit lines keep their format whatever the root
    logger's, and never show up a second time in the application log.
    """
    logger = logging.Logger(f"connector.http.audit:{destination or stream.name}", logging.INFO)
    if destination is None:
        handler: logging.Handler = logging.StreamHandler(stream)
    else:
        handler = logging.handlers.WatchedFileHandler(destination, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    return logger


class AuditLog:
    def __init__(self, destination: Path | None, writes: frozenset[str], *, stream: TextIO | None = None) -> None:
        """``stream``: where lines go without a ``destination`` (stdout; stderr where stdout is
        a protocol channel, as for ``connector mcp --stdio``)."""
        self._writes = writes
        self._logger = _logger_for(destination, stream or sys.stdout)

    def wants(self, record: RequestRecord) -> bool:
        """Writes, whatever their outcome, and every refusal (4xx) or failure (5xx) of any request."""
        return record.operation in self._writes or record.status >= 400

    def write(self, record: RequestRecord) -> None:
        if not self.wants(record):
            return
        line = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "x_request_id": record.x_request_id,
            "key": record.key,
            "oauth_client": record.oauth_client,
            "grant": record.grant,
            "github_login": record.github_login,
            "client_ip": record.client_ip,
            "method": record.method,
            "path": record.path[:200],  # a scanner's path can be long; it is never needed whole
            "operation": record.operation,
            "repository": record.repository,
            "number": record.number,
            "run_id": record.run_id,
            "event_type": record.event_type,
            "request_id": record.request_id,
            "outcome": outcome(record),
            "status": record.status,
            "code": record.code,
            "github_request_id": record.github_request_id,
            "latency_ms": round(record.seconds() * 1000, 1),
        }
        # ASCII escapes: a path or header a caller chose cannot put terminal controls, bidi overrides
        # or a lone surrogate (which would fail to encode) into the log.
        self._logger.info(json.dumps({k: v for k, v in line.items() if v is not None}, separators=(",", ":")))
