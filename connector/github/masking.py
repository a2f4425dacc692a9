"""Credentials masked out of GitHub's text before the connector relays it.

GitHub's error messages can quote what they were sent, and the connector passes those messages on
to the caller. Before it does, anything shaped like a GitHub credential (its documented token
prefixes: ``ghp_``, ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``, ``github_pat_``) and any secret the
connector itself holds (``known``) is replaced by ``[redacted]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["REDACTED", "masked"]

REDACTED = "[redacted]"
# GitHub's token formats (https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/).
TOKEN_SHAPED = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255})\b")


def masked(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with token-shaped strings and each of ``known`` (8 characters or more) redacted."""
    for secret in sorted((value for value in known if len(value) >= 8), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return TOKEN_SHAPED.sub(REDACTED, text)
