"""POST /chatgpt/workflows/dispatch — start a workflow that has a ``workflow_dispatch`` trigger.

Before anything is sent, the workflow file is read at the ref (its declared inputs are kept a
minute, per repository, file and ref) and the inputs are checked against it
(:mod:`connector.policy.workflow_inputs`). GitHub answers with the run it started since 2026
(``return_run_details``); where it does not (older GitHub Enterprise Server answers 204), the
dispatch is recorded like a ``repository_dispatch`` so ``get_dispatch_status`` finds the run by
request_id, which the workflow receives as its ``request_id`` input when it declares one.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..errors import GitHubForbidden, GitHubUnavailable, WorkflowNotDispatchable
from ..github.client import GitHub
from ..http.services import Services, github, services
from ..policy.rules import new_request_id
from ..policy.workflow_inputs import DeclaredInputs, checked_inputs, declared_inputs
from ..types import Repository
from .replies import dry_run_reply

__all__ = ["dispatch_workflow", "declared_for", "WORKFLOW_DISPATCH"]

WORKFLOW_DISPATCH = "workflow_dispatch"  # the event name its dispatch records carry


def dispatch_workflow(body: dict[str, Any], token_info: dict[str, Any]) -> tuple[dict[str, Any], int]:
    current, client = services(), github(token_info)
    repo = current.repository(body, token_info)
    workflow = body["workflow"]
    if current.events is not None and not workflow.isdigit():
        current.events.check_workflow(f".github/workflows/{workflow}")  # before any GitHub call
    repository = None
    if body.get("ref") is None or body["dry_run"]:
        repository = client.get_repository(repo)
    ref = body.get("ref") or str((repository or {}).get("default_branch") or "main")
    path = _workflow_path(client, repo, workflow)
    if current.events is not None and workflow.isdigit():
        current.events.check_workflow(path)
    declared = declared_for(current, token_info, client, repo, path, ref)
    request_id = body.get("request_id") or new_request_id()
    given = dict(body.get("inputs") or {})
    if "request_id" in declared and "request_id" not in given:
        given["request_id"] = request_id  # so a run-name of ${{ inputs.request_id }} can be found by it
    inputs = checked_inputs(given, declared)
    if body["dry_run"]:
        if ((repository or {}).get("permissions") or {}).get("push") is False:
            raise GitHubForbidden(f"The connector's GitHub credentials can read {repo.full_name} but not start "
                                  "workflows there (Actions: write); the operator has to grant it.",
                                  required_permission="actions=write")
        return dry_run_reply(action="dispatch_workflow", repository=repo.full_name, workflow=path, ref=ref,
                             input_keys=sorted(inputs), request_id=request_id)
    started = client.dispatch_workflow(repo, workflow, ref, inputs)
    answer: dict[str, Any] = {"ok": True, "dispatched": True, "repository": repo.full_name, "workflow": path,
                              "ref": ref, "request_id": request_id, "run_id": None, "html_url": None}
    if started is not None:
        answer["run_id"], answer["html_url"] = started["workflow_run_id"], started.get("html_url")
    else:
        current.runs.record_dispatch(repo.full_name, f"{current.caller_identity(token_info)}|{request_id}",
                                     WORKFLOW_DISPATCH)
        answer["hint"] = ("GitHub did not say which run started; ask get_dispatch_status with this request_id "
                          "(it finds the run when the workflow's run-name includes ${{ inputs.request_id }}), or "
                          "list_workflow_runs with event workflow_dispatch.")
    return answer, 202


def _workflow_path(client: GitHub, repo: Repository, workflow: str) -> str:
    """The file a workflow id or file name stands for."""
    if not workflow.isdigit():
        return f".github/workflows/{workflow}"
    path = client.get_workflow(repo, workflow).get("path")
    if not isinstance(path, str) or not path:
        raise GitHubUnavailable(f"GitHub did not say which file workflow {workflow} is; give its file name instead.")
    return path


def declared_for(current: Services, token_info: dict[str, Any], client: GitHub, repo: Repository, path: str,
                 ref: str | None) -> DeclaredInputs:
    """The inputs the workflow at ``path`` declares at ``ref`` (None: the default branch), kept a minute."""
    def load() -> DeclaredInputs:
        try:
            parsed = yaml.safe_load(client.file_text(repo, path, ref))
        except yaml.YAMLError:
            raise WorkflowNotDispatchable(f"{path} at {ref or 'the default branch'!r} is not valid YAML, so GitHub "
                                          "would not run it either; fix the workflow file.") from None
        return declared_inputs(parsed, path)

    # Per caller as well: a person acting as themselves may see another version of the file.
    return current.workflow_inputs.get(f"{current.cache_scope(token_info)}{repo.full_name}|{path}|{ref or ''}", load)
