"""The GitHub Actions operations beyond a run's basics: workflows and their files, workflow_dispatch,
re-runs, and one job and its log. ``Routes`` merges these tables into its own.

``actions/create-workflow-dispatch`` answers by API version: under 2022-11-28, 204, or 200 with
``{workflow_run_id, run_url, html_url}`` when the body has ``return_run_details: true``; under
2026-03-10 always 200 with the details. An older GitHub Enterprise Server knows no run details
(``Actions.ignore_run_details``): always 204. The refusals are GitHub's 422s, checked in its
order: the ref, the trigger in the workflow file at that ref, then the inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from .actions import Actions
from .contents import content_view, directory_view
from .records import Reply, error
from .run_model import Workflow
from .run_views import job_view, workflow_view
from .schemas import DEFAULT_VERSION
from .state import HTML, Repo
from .users import User
from .views import Views
from .workflow_files import check_inputs, parse, resolve, title

__all__ = ["ActionRoutes", "ActionsHost", "VersionedHandler"]

# (repository, path parameters, query, body, the person or None, the API version) -> reply
VersionedHandler = Callable[[Repo, dict[str, str], dict[str, str], Any, User | None, str], Reply]
Pager = Callable[[list[Any], str, dict[str, str]], Reply]


class ActionsHost(Protocol):
    @property
    def url(self) -> str: ...
    @property
    def views(self) -> Views: ...
    @property
    def actions(self) -> Actions: ...

    def job_log_url(self, job_id: int) -> str: ...


class ActionRoutes:
    def __init__(self, host: ActionsHost, page: Pager) -> None:
        self._host, self._page = host, page
        self.table: dict[str, Callable[[Repo, dict[str, str], dict[str, str], Any], Reply]] = {
            "actions/list-repo-workflows": self._list_workflows,
            "actions/get-workflow": self._get_workflow,
            "repos/get-content": self._get_content,
            "actions/list-jobs-for-workflow-run": self._list_jobs,
            "actions/get-job-for-workflow-run": self._get_job,
            "actions/download-job-logs-for-workflow-run": self._job_logs,
        }
        self.acting: dict[str, Callable[[Repo, dict[str, str], dict[str, str], Any, User | None], Reply]] = {
            "actions/re-run-workflow": lambda repo, p, _q, _b, user: self._rerun(repo, p, user, failed_only=False),
            "actions/re-run-workflow-failed-jobs":
                lambda repo, p, _q, _b, user: self._rerun(repo, p, user, failed_only=True),
        }
        self.versioned: dict[str, VersionedHandler] = {"actions/create-workflow-dispatch": self._dispatch}

    def _workflow(self, repo: Repo, ref: str) -> Workflow | None:
        """By id or by file name ("deploy.yml"), as GitHub takes ``workflow_id``."""
        with self._host.actions.lock:
            return next((w for w in self._host.actions.workflows if w.repo is repo
                         and ref in (str(w.id), w.path.rsplit("/", 1)[-1])), None)

    def _list_workflows(self, repo: Repo, _p: dict[str, str], q: dict[str, str], _b: Any) -> Reply:
        with self._host.actions.lock:
            found = [w for w in self._host.actions.workflows if w.repo is repo]
        reply = self._page(found, f"/repos/{repo.full_name}/actions/workflows", q)
        views = self._host.views
        reply.body = {"total_count": len(found), "workflows": [workflow_view(w, views) for w in reply.body]}
        return reply

    def _get_workflow(self, repo: Repo, p: dict[str, str], _q: dict[str, str], _b: Any) -> Reply:
        workflow = self._workflow(repo, p["workflow_id"])
        return error(404, "Not Found") if workflow is None else Reply(200, workflow_view(workflow, self._host.views))

    def _get_content(self, repo: Repo, p: dict[str, str], q: dict[str, str], _b: Any) -> Reply:
        files, ref = self._host.actions.files, q.get("ref") or repo.default_branch
        if not files.has_ref(repo, ref):
            return error(404, f"No commit found for the ref {ref}")
        tree, path, api = files.tree(repo, ref), p["path"].strip("/"), self._host.views.api
        if path in tree:
            return Reply(200, content_view(api, repo, path, ref, tree[path]))
        listing = directory_view(api, repo, path, ref, tree)
        return error(404, "Not Found") if listing is None else Reply(200, listing)

    def _dispatch(self, repo: Repo, p: dict[str, str], _q: dict[str, str], body: Any, user: User | None,
                  version: str) -> Reply:
        actions = self._host.actions
        workflow = self._workflow(repo, p["workflow_id"])
        if workflow is None:
            return error(404, "Not Found")
        ref = body["ref"]
        if not actions.files.has_ref(repo, ref):
            return error(422, f"No ref found for: {ref}")
        text = actions.files.read(repo, workflow.path, ref)
        try:
            read = parse(text) if text is not None else None
        except ValueError:
            read = None
        if read is None or read.dispatch_inputs is None:
            return error(422, "Workflow does not have 'workflow_dispatch' trigger")
        given = body.get("inputs") or {}
        problem = check_inputs(read.dispatch_inputs, given)
        if problem is not None:
            return error(422, problem)
        inputs = resolve(read.dispatch_inputs, given)
        with actions.lock:
            details = not actions.ignore_run_details and (
                version != DEFAULT_VERSION or body.get("return_run_details") is True)
        run = actions.workflow_dispatched(workflow, ref.removeprefix("refs/heads/"), inputs,
                                          title(read.run_name, workflow.name, inputs),
                                          user.login if user is not None else None, defer=not details)
        if not details or run is None:
            return Reply(204)
        return Reply(200, {"workflow_run_id": run.id,
                           "run_url": f"{self._host.url}/repos/{repo.full_name}/actions/runs/{run.id}",
                           "html_url": f"{HTML}/{repo.full_name}/actions/runs/{run.id}"})

    def _rerun(self, repo: Repo, p: dict[str, str], user: User | None, *, failed_only: bool) -> Reply:
        run = self._host.actions.find(repo, p["run_id"])
        if run is None:
            return error(404, "Not Found")
        refused = self._host.actions.rerun(run, failed_only=failed_only,
                                           actor=user.login if user is not None else None)
        return error(403, refused) if refused else Reply(201, {})

    def _list_jobs(self, repo: Repo, p: dict[str, str], q: dict[str, str], _b: Any) -> Reply:
        """The latest attempt's jobs (``filter=latest``, the default) or every attempt's (``all``)."""
        actions = self._host.actions
        run = actions.find(repo, p["run_id"])
        if run is None:
            return error(404, "Not Found")
        with actions.lock:
            jobs = list(run.jobs) if q.get("filter", "latest") == "latest" else \
                sorted([*run.earlier_jobs, *run.jobs], key=lambda j: j.id)
            reply = self._page(jobs, f"/repos/{repo.full_name}/actions/runs/{run.id}/jobs", q)
            views = self._host.views
            reply.body = {"total_count": len(jobs), "jobs": [job_view(job, run, views) for job in reply.body]}
        return reply

    def _get_job(self, repo: Repo, p: dict[str, str], _q: dict[str, str], _b: Any) -> Reply:
        found = self._host.actions.find_job(p["job_id"], repo)
        if found is None:
            return error(404, "Not Found")
        with self._host.actions.lock:
            return Reply(200, job_view(found[1], found[0], self._host.views))

    def _job_logs(self, repo: Repo, p: dict[str, str], _q: dict[str, str], _b: Any) -> Reply:
        """302 to the storage host; a job still running is redirected too (its blob is missing there)."""
        found = self._host.actions.find_job(p["job_id"], repo)
        if found is None:
            return error(404, "Not Found")
        return Reply(302, None, {"location": self._host.job_log_url(found[1].id)})
