"""Rules about what a request may ask for, checked before any GitHub call. Pure functions, no HTTP.

The schema already rejects what it can express (lengths, patterns, key counts); this module holds the
rules it cannot: the default repository, and GitHub's byte limit on a dispatch payload.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from .errors import BadRequest, FieldError
from .github import Repository

__all__ = ["resolve_repository", "dispatch_payload", "new_request_id", "MAX_CLIENT_PAYLOAD_BYTES"]

# GitHub: "client_payload ... must be less than 64 KB"; measured on the JSON it receives.
MAX_CLIENT_PAYLOAD_BYTES = 64 * 1024


def resolve_repository(body: dict[str, Any], default: tuple[str, str] | None) -> Repository:
    """The repository a request names, or the configured default when it names none."""
    owner, name = body.get("owner"), body.get("repo")
    if owner and name:
        return Repository(owner, name)
    if owner is None and name is None and default is not None:
        return Repository(*default)
    missing = [field for field, value in (("owner", owner), ("repo", name)) if not value]
    hint = (
        "give both owner and repo, or neither to use the default repository"
        if default is not None
        else "this connector has no default repository, so give both owner and repo"
    )
    raise BadRequest([FieldError(f"$.{field}", f"is required: {hint}") for field in missing])


def new_request_id() -> str:
    return uuid.uuid4().hex


def dispatch_payload(client_payload: dict[str, Any] | None, request_id: str) -> dict[str, Any]:
    """The client_payload GitHub receives: the caller's keys plus request_id, within GitHub's size limit."""
    payload = {**(client_payload or {}), "request_id": request_id}
    size = len(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size >= MAX_CLIENT_PAYLOAD_BYTES:
        raise BadRequest([FieldError(
            "$.client_payload",
            f"is {size} bytes as JSON; GitHub accepts less than {MAX_CLIENT_PAYLOAD_BYTES} bytes, so send "
            "less data (for example a reference to it)",
        )])
    return payload
