"""POST /chatgpt/events/list — what this connector may start: events, workflows and their inputs.

Events are described by the operator's catalog alone. A workflow's inputs are described by its
own file, read at the default branch of the repository asked about (one GitHub call per workflow,
kept a minute as ``dispatch_workflow`` keeps them), so the list never disagrees with what the
dispatch will check.
"""

from __future__ import annotations

from typing import Any

from ..errors import GitHubForbidden, NotFound, WorkflowNotDispatchable
from ..http.services import Services, github, services
from ..policy.untrusted import capped
from ..spec.catalog import EventCatalog
from ..types import Repository
from .workflow_dispatch import declared_for

__all__ = ["list_dispatch_events"]

_DESCRIPTION_LIMIT = 200
_OPTIONS_LIMIT = 20


def list_dispatch_events(token_info: dict[str, Any], body: Any = None) -> dict[str, Any]:
    # The body is optional: a POST without one (no Content-Type either) reaches here as b"".
    current = services()
    repo = _repository(current, body if isinstance(body, dict) else {}, token_info)  # a bad one is a 400 either way
    catalog = current.events
    if catalog is None:
        return {"catalog": False, "events": []}
    answer: dict[str, Any] = {"catalog": True, "events": [
        {"name": event.name, "description": event.description, "required": event.required,
         "arguments": [{"name": name, "description": str(schema.get("description", ""))}
                       for name, schema in event.arguments.items()]}
        for event in catalog.events.values()
    ]}
    if catalog.restricts_workflows:
        answer["workflows"] = _workflows(current, token_info, catalog, repo)
    return answer


def _repository(current: Services, body: dict[str, Any], token_info: dict[str, Any]) -> Repository | None:
    """The repository asked about, or None when none was given and there is no default."""
    if body.get("owner") is None and body.get("repo") is None and current.settings.default_repo is None:
        return None
    return current.repository(body, token_info)


def _workflows(current: Services, token_info: dict[str, Any], catalog: EventCatalog,
               repo: Repository | None) -> list[dict[str, Any]]:
    listed = []
    for workflow in catalog.workflows.values():
        entry: dict[str, Any] = {"name": workflow.file, "description": workflow.description, "inputs": None}
        if repo is not None:
            try:
                declared = declared_for(current, token_info, github(token_info), repo,
                                        f".github/workflows/{workflow.file}", None)
            except (NotFound, WorkflowNotDispatchable, GitHubForbidden) as refused:
                entry["problem"] = refused.detail
            else:
                entry["inputs"] = [_input(name, spec) for name, spec in declared.items()]
        listed.append(entry)
    return listed


def _input(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """One declared input as a model needs it; the file's text is cleaned and capped like GitHub's."""
    described: dict[str, Any] = {"name": _clean(name, 100), "type": _clean(str(spec.get("type") or "string"), 20),
                                 "required": spec.get("required") is True}
    if isinstance(spec.get("description"), str) and spec["description"].strip():
        described["description"] = _clean(spec["description"], _DESCRIPTION_LIMIT)
    if isinstance(spec.get("default"), (str, int, float, bool)):
        default = spec["default"]
        described["default"] = _clean(default, _DESCRIPTION_LIMIT) if isinstance(default, str) else default
    if isinstance(spec.get("options"), list):
        described["options"] = [_clean(str(option), 100) for option in spec["options"][:_OPTIONS_LIMIT]]
    return described


def _clean(text: str, limit: int) -> str:
    return capped(text, limit)[0]
