"""POST /chatgpt/dispatch — start workflows with a repository_dispatch event."""

from __future__ import annotations

from typing import Any

from ..http.services import github, services
from ..policy.rules import dispatch_payload, new_request_id, require_write_access
from ..types import Repository
from .replies import dry_run_reply

__all__ = ["dispatch_event", "preview_dispatch", "send_dispatch"]


def dispatch_event(body: dict[str, Any], token_info: dict[str, Any]) -> tuple[dict[str, Any], int]:
    repo = services().repository(body, token_info)
    arguments = services().event_payload(body["event_type"], body.get("client_payload"), at=("client_payload",))
    request_id = body.get("request_id") or new_request_id()
    payload = dispatch_payload(arguments, request_id)
    if body["dry_run"]:
        return preview_dispatch(token_info, repo, body["event_type"], payload, request_id)
    send_dispatch(token_info, repo, body["event_type"], payload, request_id)
    return {
        "ok": True,
        "dispatched": True,
        "repository": repo.full_name,
        "event_type": body["event_type"],
        "request_id": request_id,
    }, 202


def preview_dispatch(token_info: dict[str, Any], repo: Repository, event_type: str, payload: dict[str, Any],
                     request_id: str) -> tuple[dict[str, Any], int]:
    """A dry run's answer: the credentials are checked able to write, and nothing is sent."""
    require_write_access(github(token_info).get_repository(repo), repo.full_name)
    return dry_run_reply(action="dispatch", repository=repo.full_name, event_type=event_type,
                         client_payload_keys=list(payload), request_id=request_id)


def send_dispatch(token_info: dict[str, Any], repo: Repository, event_type: str, payload: dict[str, Any],
                  request_id: str) -> None:
    """Send the event, and remember when, so dispatch/status knows where to start looking."""
    github(token_info).dispatch(repo, event_type, payload)
    # Kept per person for people signed in with GitHub: one's dispatch is not another's to follow.
    # Recorded for this caller only: another key asking about the request_id does not get its record.
    services().runs.record_dispatch(repo.full_name, f"{services().caller_identity(token_info)}|{request_id}",
                                    event_type)
