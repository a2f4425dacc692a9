"""``GitHubDouble``'s methods for workflow files and branches, dispatch inputs, re-runs, fork runs,
job logs and their storage host, and answers checked per API version.

A mixin so the double's one object keeps one surface for tests while this code lives apart from
``server.py``; it reads only ``actions``, ``state``, ``requests`` and ``_views`` of the double.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .actions import Actions
from .records import RecordedRequest
from .run_views import job_view
from .state import State
from .storage_host import StorageHost
from .views import Views

__all__ = ["ActionsSeeding"]


class ActionsSeeding:
    actions: Actions
    state: State
    _storage: StorageHost | None = None

    @property
    def requests(self) -> list[RecordedRequest]:
        raise NotImplementedError

    def _views(self) -> Views:
        raise NotImplementedError

    # -- files and branches (repos/get-content, and the workflow file a dispatch is checked against)
    def add_branch(self, owner: str, repo: str, branch: str, files: Mapping[str, str | None] | None = None) -> None:
        """A branch of the repository, where ``files`` ({path: text, or None for deleted}) differ
        from the default branch; everything else reads as on the default branch."""
        self.actions.files.add_branch(self.state.repo(owner, repo), branch, files)

    def set_file(self, owner: str, repo: str, path: str, text: str | None, *, branch: str | None = None) -> None:
        """Write (``None``: delete) a file on ``branch`` (default: the default branch)."""
        self.actions.files.put(self.state.repo(owner, repo), path, text, branch)

    def file(self, owner: str, repo: str, path: str, *, ref: str | None = None) -> str | None:
        return self.actions.files.read(self.state.repo(owner, repo), path, ref)

    # -- runs: what a dispatch carried, attempts, forks ------------------------------------------
    def _run(self, run_id: int) -> Any:
        run = self.actions.runs.get(run_id)
        if run is None:
            raise KeyError(f"no workflow run {run_id} in the double")
        return run

    def run_inputs(self, run_id: int) -> dict[str, Any] | None:
        """A workflow_dispatch run's inputs as the run sees them (defaults filled in); None otherwise."""
        with self.actions.lock:
            inputs = self._run(run_id).inputs
            return dict(inputs) if inputs is not None else None

    def run_attempt(self, run_id: int) -> int:
        with self.actions.lock:
            return int(self._run(run_id).attempt)

    def jobs(self, run_id: int, *, all_attempts: bool = False) -> list[dict[str, Any]]:
        """The run's jobs as GitHub renders them (the latest attempt's, or every attempt's)."""
        with self.actions.lock:
            run = self._run(run_id)
            jobs = sorted([*run.earlier_jobs, *run.jobs], key=lambda j: j.id) if all_attempts else list(run.jobs)
            views = self._views()
            return [job_view(job, run, views) for job in jobs]

    def add_fork_run(self, owner: str, repo: str, workflow_id: int, *, fork_owner: str,
                     head_branch: str = "patch-1", actor: str | None = None) -> int:
        """A ``pull_request`` run of the workflow whose head is ``head_branch`` of ``fork_owner``'s
        fork (``head_repository.full_name`` is ``fork_owner/repo``, ``fork: true``); its id.
        ``actor`` defaults to the fork's owner. Webhooks and ``auto_advance`` apply as to any run."""
        base = self.state.repo(owner, repo)
        with self.actions.lock:
            workflow = next((w for w in self.actions.workflows if w.id == workflow_id and w.repo is base), None)
        if workflow is None:
            raise KeyError(f"no workflow {workflow_id} in {base.full_name}")
        return self.actions.fork_run(workflow, fork_owner, head_branch, actor).id

    # -- old GitHub Enterprise Server ------------------------------------------------------------
    @property
    def dispatch_ignores_run_details(self) -> bool:
        """True plays an older GitHub Enterprise Server: workflow dispatches answer 204 whatever
        ``return_run_details`` or the API version says; reset() turns it off."""
        return self.actions.ignore_run_details

    @dispatch_ignores_run_details.setter
    def dispatch_ignores_run_details(self, value: bool) -> None:
        with self.actions.lock:
            self.actions.ignore_run_details = value

    # -- job logs and the storage host -------------------------------------------------------------
    def set_job_log(self, job_id: int, data: bytes | str) -> None:
        """The bytes the storage host serves as ``job_id``'s log (instead of one made from its steps);
        served once the job has completed."""
        self.actions.logs.set_raw(job_id, data)

    def _storage_host(self) -> StorageHost:
        if self._storage is None:
            self._storage = StorageHost(self.actions.logs)
        return self._storage

    @property
    def storage_url(self) -> str:
        """The storage host's root, ``http://127.0.0.2:<port>`` (another host than the API)."""
        return self._storage_host().url

    def job_log_url(self, job_id: int) -> str:
        """A freshly signed storage URL for the job's log (what the API's 302 points at)."""
        return self.actions.logs.signed_url(self.storage_url, job_id)

    @property
    def storage_requests(self) -> list[RecordedRequest]:
        """Every request the storage host saw, oldest first, with its headers (``authorization``
        redacted to "<redacted>" but present when sent) and the status it got."""
        with self.actions.logs.lock:
            return list(self.actions.logs.requests)

    @property
    def storage_ignores_range(self) -> bool:
        """True: the storage host answers a Range request with 200 and the whole log."""
        return self.actions.logs.ignore_range

    @storage_ignores_range.setter
    def storage_ignores_range(self, value: bool) -> None:
        with self.actions.logs.lock:
            self.actions.logs.ignore_range = value

    @property
    def log_url_seconds(self) -> int:
        """How long signed log URLs issued from now on work (GitHub: a minute); reset() restores it."""
        return self.actions.logs.url_seconds

    @log_url_seconds.setter
    def log_url_seconds(self, seconds: int) -> None:
        with self.actions.logs.lock:
            self.actions.logs.url_seconds = seconds

    def _stop_storage(self) -> None:
        if self._storage is not None:
            self._storage.stop()
            self._storage = None

    # -- answers ---------------------------------------------------------------------------------
    def nonconforming_responses(self) -> list[RecordedRequest]:
        """Requests whose answer departed from the schema of the API version they asked for."""
        return [r for r in self.requests if r.response_errors]
