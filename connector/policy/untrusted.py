"""Text that comes from GitHub is data for the assistant, not instructions to it.

Anyone who can open a pull request controls its title, branch and label names. Characters that do
not show on screen (bidirectional overrides, zero-width characters, Unicode tag characters and
variation selectors, which can smuggle whole sentences) let such text say one thing to the model
and another to the person reading the chat, so they are removed. Each field is also capped, with a
visible marker, so one long title cannot crowd a page out of ChatGPT's ~100k-character budget.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["visible", "capped", "ELLIPSIS"]

ELLIPSIS = "…"
# Control, format (bidi controls, zero-width, tags), private-use and surrogate code points.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs"})
# Variation selectors (Mn, but invisible and usable to encode hidden bytes).
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def visible(text: str, *, lines: bool = False) -> str:
    """``text`` without characters that do not render (line breaks and tabs become spaces, unless
    ``lines`` keeps the line breaks of a multi-line text such as a pull request's body)."""
    text = _VARIATION_SELECTORS.sub("", text)
    if lines:
        text = text.replace("\r\n", "\n")
    return "".join(
        char if lines and char == "\n" else " " if char in "\t\n\r" else char
        for char in text
        if char in "\t\n\r" or unicodedata.category(char) not in _HIDDEN_CATEGORIES
    )


def capped(text: str, limit: int, *, lines: bool = False) -> tuple[str, bool]:
    """Visible ``text`` of at most ``limit`` characters, ending in an ellipsis when it was cut."""
    clean = visible(text, lines=lines)
    if len(clean) <= limit:
        return clean, False
    return clean[: limit - 1] + ELLIPSIS, True
