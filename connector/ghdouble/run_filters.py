"""The runs list's ``created`` filter: GitHub's search syntax for dates."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["created_filter"]


def _bounds(text: str) -> tuple[datetime, datetime]:
    """The span a date (a whole day) or a date-time (one second) names."""
    text = text.strip().replace(" ", "+")  # an unencoded "+01:00" arrives as " 01:00"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = datetime.fromisoformat(text).replace(tzinfo=UTC)
        return day, day + timedelta(days=1)
    moment = datetime.fromisoformat(text)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment, moment + timedelta(seconds=1)


def created_filter(expr: str) -> Callable[[str], bool]:
    """GitHub's search syntax for dates: ``>=``, ``>``, ``<=``, ``<``, ``A..B`` or a bare date.

    Raises ``ValueError`` for anything else, which GitHub answers with a 422.
    """
    def at(created: str) -> datetime:
        return datetime.fromisoformat(created.replace("Z", "+00:00"))

    op = next((op for op in (">=", "<=", ">", "<") if expr.startswith(op)), None)
    if op is not None:
        start, end = _bounds(expr[len(op):])
        edge = {">=": start, ">": end, "<=": end, "<": start}[op]
        return (lambda c: at(c) >= edge) if op.startswith(">") else (lambda c: at(c) < edge)
    low, sep, high = expr.partition("..")
    if not sep:
        start, end = _bounds(expr)
        return lambda c: start <= at(c) < end
    lo = None if low.strip() == "*" else _bounds(low)[0]
    hi = None if high.strip() == "*" else _bounds(high)[1]
    return lambda c: (lo is None or at(c) >= lo) and (hi is None or at(c) < hi)
