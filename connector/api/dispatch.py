"""POST /chatgpt/dispatch — start workflows with a repository_dispatch event."""

from __future__ import annotations

from typing import Any

from ..context import github, services
from ..policy import dispatch_payload, new_request_id, require_write_access
from .replies import dry_run_reply

__all__ = ["dispatch_event"]


def dispatch_event(body: dict[str, Any], token_info: dict[str, Any]) -> tuple[dict[str, Any], int]:
    repo = services().repository(body, token_info)
    arguments = services().event_payload(body["event_type"], body.get("client_payload"), at=("client_payload",))
    request_id = body.get("request_id") or new_request_id()
    payload = dispatch_payload(arguments, request_id)
    if body["dry_run"]:
        require_write_access(github().get_repository(repo), repo.full_name)
        return dry_run_reply(action="dispatch", repository=repo.full_name, event_type=body["event_type"],
                             client_payload_keys=list(payload), request_id=request_id)
    github().dispatch(repo, body["event_type"], payload)
    services().runs.record_dispatch(repo.full_name, request_id, body["event_type"])
    return {
        "ok": True,
        "dispatched": True,
        "repository": repo.full_name,
        "event_type": body["event_type"],
        "request_id": request_id,
    }, 202
