"""A job log's end, made fit for an assistant: what the workflow printed, not how it was shown.

GitHub's raw log starts every line with a timestamp (``2026-12-02T07:40:10.1234567Z``) and keeps the
ANSI colour and cursor sequences the tools printed; both cost characters and mean nothing to a model.
Lines are cleaned of them and of characters that do not render (:mod:`connector.policy.untrusted`),
capped one by one and in total, and only the last ``tail_lines`` are kept, so one chatty job cannot
push an answer past ChatGPT's ~100k characters.
"""

from __future__ import annotations

import re

from .untrusted import capped

__all__ = ["LINE_LIMIT", "tail"]

LINE_LIMIT = 500
# CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \), and two-byte escapes.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_TIMESTAMP = re.compile(r"^\ufeff?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?")


def tail(text: str, *, lines: int, budget: int, whole: bool) -> tuple[list[str], bool]:
    """The last ``lines`` lines of ``text``, cleaned, within ``budget`` characters; and whether
    earlier lines were left out. ``whole`` says ``text`` is the whole log (else its first line is
    a fragment and is dropped)."""
    raw = text.splitlines()
    cut = not whole
    if cut and raw:
        raw = raw[1:]
    if len(raw) > lines:
        raw, cut = raw[-lines:], True
    kept: list[str] = []
    used = 0
    for line in reversed(raw):
        clean = capped(_ANSI.sub("", _TIMESTAMP.sub("", line)), LINE_LIMIT)[0].rstrip()
        if used + len(clean) + 1 > budget:
            cut = True
            break
        kept.append(clean)
        used += len(clean) + 1
    kept.reverse()
    return kept, cut
