"""Reply shapes shared by several handlers."""

from __future__ import annotations

from typing import Any

__all__ = ["dry_run_reply"]


def dry_run_reply(**would: Any) -> tuple[dict[str, Any], int]:
    """What a write would have done, answered 200: nothing was written."""
    return {"ok": True, "dry_run": True, "would": would}, 200
