"""POST /v1/dispatch — the actions gateway's dispatch, for clients written against it.

Same request (``{action, args, request_id?}`` with ``x-api-key``) and the same success body as that
gateway; the event is named after the action, and the workflow receives ``{action, args,
request_id}`` as its client_payload. The gateway's three error codes for its own configuration and
for GitHub's refusals are kept; everything else answers as the rest of the connector does.
"""

from __future__ import annotations

from typing import Any

from ..errors import (
    ConnectorError,
    GitHubDispatchFailed,
    GitHubDispatchOutcomeUnknown,
    GitHubMayHaveActed,
    GitHubRefused,
    MissingGitHubConfig,
    RateLimited,
)
from ..http.services import services
from ..policy.rules import dispatch_payload, new_request_id
from .dispatch import preview_dispatch, send_dispatch

__all__ = ["gateway_dispatch"]


def gateway_dispatch(body: dict[str, Any], token_info: dict[str, Any]) -> dict[str, Any]:
    current = services()
    if current.github is None or current.settings.default_repo is None:
        missing = [name for name, unset in (("GITHUB_TOKEN", current.github is None),
                                            ("CONNECTOR_DEFAULT_REPO", current.settings.default_repo is None))
                   if unset]
        raise MissingGitHubConfig(
            f"The connector cannot dispatch for the gateway route: the operator has to set {' and '.join(missing)} "
            "(this route always uses the default repository)."
        )
    repo = current.repository({}, token_info)
    args = current.event_payload(body["action"], body.get("args"), at=("args",))
    request_id = body.get("request_id") or new_request_id()
    payload = dispatch_payload({"action": body["action"], "args": args}, request_id, field="$.args")
    if body["dry_run"]:
        reply, _ = preview_dispatch(token_info, repo, body["action"], payload, request_id)
        return reply
    try:
        send_dispatch(token_info, repo, body["action"], payload, request_id)
    except RateLimited:
        raise  # 429 with Retry-After tells a client more than the gateway's 502 did
    except GitHubMayHaveActed as exc:  # still unknown under the gateway's code: the claim stays kept
        raise GitHubDispatchOutcomeUnknown(f"GitHub may or may not have taken the event: {exc.detail}",
                                           github_request_id=exc.extra.get("github_request_id")) from None
    except ConnectorError as exc:  # refused, or failed after it was sent (the claim layer tells which)
        said = "GitHub did not take the event" if isinstance(exc, GitHubRefused) else "The dispatch failed"
        raise GitHubDispatchFailed(f"{said}: {exc.detail}",
                                   github_request_id=exc.extra.get("github_request_id")) from None
    return {"ok": True, "dispatched": True, "request_id": request_id}
