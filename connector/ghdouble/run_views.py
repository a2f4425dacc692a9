"""GitHub's JSON for the double's workflows, runs and jobs, and the webhook deliveries announcing
their changes; the runs themselves live in :mod:`connector.ghdouble.actions`."""

from __future__ import annotations

from typing import Any

from .run_model import Change, Job, Run, Workflow
from .state import HTML, _sha, node_id
from .views import Views

__all__ = ["hook_payload", "job_view", "run_view", "workflow_view"]

_RUNNER = {"runner_id": 2, "runner_name": "GitHub Actions 2", "runner_group_id": 2,
           "runner_group_name": "GitHub Actions"}


def workflow_view(workflow: Workflow, views: Views) -> dict[str, Any]:
    repo = workflow.repo
    html = f"{HTML}/{repo.full_name}/blob/{repo.default_branch}/{workflow.path}"
    return {
        "id": workflow.id, "node_id": node_id("Workflow", workflow.id), "name": workflow.name,
        "path": workflow.path, "state": "active", "created_at": workflow.created_at,
        "updated_at": workflow.created_at,
        "url": f"{views.api}/repos/{repo.full_name}/actions/workflows/{workflow.id}",
        "html_url": html,
        "badge_url": f"{HTML}/{repo.full_name}/workflows/{workflow.name}/badge.svg",
    }


def run_view(run: Run, views: Views) -> dict[str, Any]:
    repo = run.repo
    api, html = f"{views.api}/repos/{repo.full_name}", f"{HTML}/{repo.full_name}"
    u, check_suite = f"{api}/actions/runs/{run.id}", run.id + 8_000_000_000
    actor = views.user(run.actor)
    # A fork's run comes from the fork: its head repository is the fork, not the base repository.
    head = views.repo(repo, owner=run.head_owner) if run.head_owner else views.repo(repo)
    return {
        "id": run.id, "name": run.workflow.name, "node_id": node_id("WorkflowRun", run.id),
        "check_suite_id": check_suite, "check_suite_node_id": node_id("CheckSuite", check_suite),
        "head_branch": run.head_branch, "head_sha": run.head_sha,
        "path": run.workflow.path, "run_number": run.number, "run_attempt": run.attempt,
        "referenced_workflows": [], "event": run.event,
        "display_title": run.display_title, "status": run.status, "conclusion": run.conclusion,
        "workflow_id": run.workflow.id, "url": u, "html_url": f"{html}/actions/runs/{run.id}",
        "pull_requests": [], "created_at": run.created_at, "updated_at": run.updated_at,
        "actor": actor, "run_started_at": run.started_at or run.created_at,
        "triggering_actor": views.user(run.triggering_actor) if run.triggering_actor else actor,
        "jobs_url": f"{u}/jobs", "logs_url": f"{u}/logs",
        "check_suite_url": f"{api}/check-suites/{check_suite}",
        "artifacts_url": f"{u}/artifacts", "cancel_url": f"{u}/cancel", "rerun_url": f"{u}/rerun",
        "previous_attempt_url": f"{u}/attempts/{run.attempt - 1}" if run.attempt > 1 else None,
        "workflow_url": f"{api}/actions/workflows/{run.workflow.id}",
        "head_commit": {
            "id": run.head_sha, "tree_id": _sha(run.head_sha, "tree"),
            "message": f"Update {run.head_branch}", "timestamp": repo.created_at,
            "author": {"name": run.head_owner or repo.owner,
                       "email": f"{run.head_owner or repo.owner}@users.noreply.github.com"},
            "committer": {"name": "GitHub", "email": "noreply@github.com"},
        },
        "repository": views.repo(repo), "head_repository": head, "head_repository_id": head["id"],
    }


def job_view(job: Job, run: Run, views: Views) -> dict[str, Any]:
    repo = run.repo
    api, html = f"{views.api}/repos/{repo.full_name}", f"{HTML}/{repo.full_name}"
    runner = _RUNNER if job.runner else dict.fromkeys(_RUNNER)
    return {
        "id": job.id, "run_id": run.id, "run_url": f"{api}/actions/runs/{run.id}",
        "run_attempt": job.attempt, "node_id": node_id("WorkflowJob", job.id), "head_sha": run.head_sha,
        "url": f"{api}/actions/jobs/{job.id}",
        "html_url": f"{html}/actions/runs/{run.id}/job/{job.id}",
        "status": job.status, "conclusion": job.conclusion, "created_at": job.created_at,
        "started_at": job.started_at or job.created_at, "completed_at": job.completed_at,
        "name": job.name,
        "steps": [{"name": s.name, "status": s.status, "conclusion": s.conclusion,
                   "number": s.number, "started_at": s.started_at,
                   "completed_at": s.completed_at} for s in job.steps],
        "check_run_url": f"{api}/check-runs/{job.id}", "labels": ["ubuntu-latest"], **runner,
        "workflow_name": run.workflow.name, "head_branch": run.head_branch,
    }


def hook_payload(change: Change, views: Views) -> dict[str, Any]:
    """The webhook body GitHub sends for ``change`` (callers hold the state lock)."""
    run, repo = change.run, change.run.repo
    payload: dict[str, Any] = {"action": change.action}
    if change.job is not None:
        payload["workflow_job"] = job_view(change.job, run, views)
    else:
        payload["workflow_run"] = run_view(run, views)
        payload["workflow"] = workflow_view(run.workflow, views)
    payload["repository"] = views.repo(repo, full=True)
    payload["sender"] = views.user(run.actor)
    return payload
