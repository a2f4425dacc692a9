"""GitHub Actions calls beyond a run's state: a job, its log, reruns, workflow files and
``workflow_dispatch``. A part of :class:`connector.github.client.GitHub`, kept apart to keep each
module about one thing; it uses the client's ``_call`` and ``_translated``.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..errors import GitHubUnavailable
from ..types import Repository
from .client_core import ClientCore
from .logs import LogTail, fetch_tail

__all__ = ["ActionsCalls", "WorkflowRunStarted"]

if TYPE_CHECKING:
    import requests

WorkflowRunStarted = dict[str, Any]  # GitHub's {workflow_run_id, run_url, html_url}
_LOG_DEADLINE_SECONDS = 15.0  # for one job's log: a few jobs stay inside ChatGPT's ~45 s


class ActionsCalls(ClientCore):
    if TYPE_CHECKING:
        _timeout: int
        _storage: requests.Session
        api_version: str

    def get_job(self, repo: Repository, job_id: int) -> dict[str, Any]:
        with self._translated(repo, missing=_no_job(repo, job_id)):
            _, data = self._call(repo, "GET", f"{repo.path}/actions/jobs/{job_id}")
        return data

    def job_log_tail(self, repo: Repository, job_id: int) -> LogTail:
        """The end of a job's log: GitHub redirects to a storage host, asked without credentials."""
        with self._translated(repo, missing=f"The log of job {job_id} in {repo.full_name} is not available "
                                            "(the job has not finished, or its logs expired)."):
            headers, _ = self._call(repo, "GET", f"{repo.path}/actions/jobs/{job_id}/logs")
        location = next((str(v) for k, v in headers.items() if str(k).lower() == "location"), None)
        if not location:
            raise GitHubUnavailable("GitHub answered the log request without a link to the log; try again.")
        return fetch_tail(self._storage, location, timeout=self._timeout, deadline_seconds=_LOG_DEADLINE_SECONDS)

    def rerun_run(self, repo: Repository, run_id: int, *, failed_only: bool) -> None:
        path = "rerun-failed-jobs" if failed_only else "rerun"
        with self._translated(repo, run_id=run_id, write="the rerun"):
            self._call(repo, "POST", f"{repo.path}/actions/runs/{run_id}/{path}")

    def get_workflow(self, repo: Repository, workflow: str) -> dict[str, Any]:
        """A workflow by id or file name (``deploy.yml``)."""
        with self._translated(repo, missing=f"No workflow {workflow!r} in {repo.full_name}; give its file name "
                                            "under .github/workflows (e.g. deploy.yml) or its id."):
            _, data = self._call(repo, "GET", f"{repo.path}/actions/workflows/{quote(workflow, safe='')}")
        return data

    def file_text(self, repo: Repository, path: str, ref: str | None) -> str:
        """A file's text at ``ref`` (the default branch when None; the contents API's base64, decoded)."""
        where = f"at {ref!r}" if ref is not None else "on the default branch"
        with self._translated(repo, missing=f"No file {path} {where} in {repo.full_name}; check the ref "
                                            "(a branch, tag or commit) and the workflow's name."):
            _, data = self._call(repo, "GET", f"{repo.path}/contents/{quote(path)}",
                                 parameters={"ref": ref} if ref is not None else None)
        if not isinstance(data, dict) or data.get("type") != "file" or data.get("encoding") != "base64":
            raise GitHubUnavailable(f"GitHub did not answer {path} as a file; check the workflow's name.")
        try:
            return base64.b64decode(str(data.get("content") or "")).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise GitHubUnavailable(f"{path} {where} could not be read as UTF-8 text.") from None

    def dispatch_workflow(self, repo: Repository, workflow: str, ref: str, inputs: dict[str, str]
                          ) -> WorkflowRunStarted | None:
        """``workflow_dispatch``; the run it started when GitHub says (since 2026: asked for with
        ``return_run_details`` under 2022-11-28, always under 2026-03-10), else None (older GitHub
        Enterprise Server answers 204)."""
        body: dict[str, Any] = {"ref": ref, "inputs": inputs}
        if self.api_version == "2022-11-28":
            body["return_run_details"] = True
        with self._translated(repo, write="the workflow dispatch",
                              missing=f"No workflow {workflow!r} in {repo.full_name}."):
            _, data = self._call(repo, "POST", f"{repo.path}/actions/workflows/{quote(workflow, safe='')}/dispatches",
                                 input=body)
        return data if isinstance(data, dict) and isinstance(data.get("workflow_run_id"), int) else None


def _no_job(repo: Repository, job_id: int) -> str:
    return (f"Job {job_id} was not found in {repo.full_name}; get the workflow run to see its jobs' ids, or ask "
            "for the run's logs by run_id.")
