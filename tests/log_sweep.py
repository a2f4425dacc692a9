"""Every log line the test session's servers wrote, searched for secrets and comment bodies.

The conftest sends all in-process log records, the audit log of every app the tests build, and the
output of servers tests start as subprocesses to one directory; at the end of the session each
configured secret and each comment body the GitHub double received is looked for there. A single
hit fails the session.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = ["MIN_BODY_LENGTH", "sweep"]

# A comment body as short as "hi" or "x" occurs in ordinary log text; longer ones cannot by chance.
MIN_BODY_LENGTH = 10


def sweep(directory: Path, needles: Iterable[str]) -> list[tuple[str, str]]:
    """``(file name, needle)`` for each needle found in a file under ``directory``."""
    wanted = sorted({needle for needle in needles if needle})
    hits = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8", errors="replace")
        hits += [(path.name, needle) for needle in wanted if needle in text]
    return hits
