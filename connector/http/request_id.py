"""The request's ``X-Request-ID`` on every log line written while serving it.

:class:`~connector.http.arrival.ArrivalMiddleware` settles the id and answers with it; this module
puts it on log records. Operators and callers then have one id to quote for a request, from the
assistant's side to the connector's log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["RequestIdLogFilter", "configure_logging", "serving_request"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"

_current: ContextVar[str] = ContextVar("connector_request_id", default="-")


@contextmanager
def serving_request(request_id: str) -> Iterator[None]:
    """Make ``request_id`` the one log lines name for the block."""
    token = _current.set(request_id)
    try:
        yield
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
