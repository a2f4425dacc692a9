"""GitHub Actions in the double: workflows a ``repository_dispatch`` starts, their runs and jobs.

A connector that dispatches an event usually wants to follow the run it started, by polling
the runs list or by listening to ``workflow_run``/``workflow_job`` webhooks. So the double
models what such a client can observe: workflows listening for dispatch types, one run per
matching dispatch (titled with ``client_payload.request_id`` when the workflow uses the
``run-name: ${{ github.event.client_payload.request_id }}`` convention that lets a caller
find its own run), jobs with steps, and the queued -> in_progress -> completed life cycle,
driven by tests (``advance``, ``cancel``) or by a timer (``auto_advance``).

Every change is handed to ``announce`` as ``Change`` snapshots, after the lock is released:
the double turns them into webhooks, and a receiver that calls back into the double while
a delivery is in flight must not find the state locked. Timestamps are wall-clock, unlike
``state.py``'s deterministic clock, because clients filter runs with ``created=>=<now>``.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .contents import Files
from .job_logs import JobLogs
from .reruns import new_attempt
from .run_filters import created_filter
from .run_model import EVENT, Change, Job, Run, Step, Workflow, created, finish_job, job_change
from .run_model import now as _now
from .state import Repo, State, _sha
from .workflow_files import parse, render

__all__ = ["CONCLUSIONS", "EVENT", "Actions", "Change", "Job", "Run", "Step", "Workflow"]

CONCLUSIONS = frozenset({"success", "failure", "neutral", "cancelled", "skipped", "timed_out",
                         "action_required", "stale"})
# The runs list's ``status`` filter takes a status or a conclusion.
_STATUSES = frozenset({"queued", "in_progress", "completed", "requested", "waiting", "pending"})


class Actions:
    """Workflows and runs of every repository, under the state's lock."""

    def __init__(self, state: State, announce: Callable[[list[Change]], None]) -> None:
        self.state, self.lock = state, state.lock
        self._announce = announce
        self.files = Files()  # the workflow files, by branch
        self.logs = JobLogs(self.find_job)  # job logs and the storage host's request log
        self._timers: list[threading.Timer] = []
        self.clear()

    def clear(self) -> None:
        with self.lock:
            for timer in self._timers:
                timer.cancel()
            self._timers = []
            self.workflows: list[Workflow] = []
            self.runs: dict[int, Run] = {}
            self._ids = {k: itertools.count(start) for k, start in
                         (("workflow", 161_335_001), ("run", 30_433_642), ("job", 399_444_496))}
            self._numbers: dict[int, itertools.count[int]] = {}  # run_number is per workflow
            self._auto: tuple[float, str] | None = None
            self.start_delay = 0.0  # seconds between a dispatch and its runs appearing, as on GitHub
            self.ignore_run_details = False  # an older GHES: workflow dispatches always answer 204
        self.files.clear()
        self.logs.clear()

    # -- set-up by tests -------------------------------------------------------------------
    def add_workflow(self, repo: Repo, name: str, *, types: Iterable[str] | None,
                     jobs: Iterable[str] | None, run_name_from_request_id: bool,
                     workflow_file: str | None = None, file_name: str | None = None,
                     dispatch_inputs: Mapping[str, Mapping[str, Any]] | None = None) -> Workflow:
        """A workflow and its file on the default branch: ``workflow_file`` as given (its triggers,
        jobs and run-name then count, not ``types``/``jobs``), or one written from the arguments
        (listening for repository_dispatch, and for workflow_dispatch when ``dispatch_inputs``
        is given)."""
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "workflow"
        run_name = "${{ github.event.client_payload.request_id }}" if run_name_from_request_id else None
        text = workflow_file if workflow_file is not None else render(
            name, types=types, repository_dispatch=True, dispatch_inputs=dispatch_inputs,
            jobs=tuple(jobs) if jobs is not None else ("build",), run_name=run_name)
        read = parse(text)
        if not read.jobs:
            raise ValueError("a workflow needs at least one job")
        with self.lock:
            workflow = Workflow(next(self._ids["workflow"]), repo, read.name or name,
                                f".github/workflows/{file_name or slug + '.yml'}", read.types,
                                read.jobs or ("build",),
                                "client_payload.request_id" in (read.run_name or ""), _now(),
                                read.repository_dispatch)
            if any(w.repo is repo and w.path == workflow.path for w in self.workflows):
                raise ValueError(f"{repo.full_name} already has {workflow.path}")
            self.workflows.append(workflow)
            self._numbers[workflow.id] = itertools.count(1)
        self.files.put(repo, workflow.path, text)
        return workflow

    def auto_advance(self, after_seconds: float, conclusion: str) -> None:
        if conclusion not in CONCLUSIONS:
            raise ValueError(f"conclusion must be one of {sorted(CONCLUSIONS)}")
        with self.lock:
            self._auto = (after_seconds, conclusion)

    # -- what requests and tests ask -------------------------------------------------------
    def find(self, repo: Repo, run_id: str | int) -> Run | None:
        with self.lock:
            run = self.runs.get(int(run_id))
            return run if run is not None and run.repo is repo else None

    def runs_of(self, repo: Repo, *, event: str | None = None, status: str | None = None,
                branch: str | None = None, created: str | None = None, actor: str | None = None,
                head_sha: str | None = None) -> list[Run]:
        """The repository's runs matching GitHub's list filters, newest first."""
        when = created_filter(created) if created else (lambda _: True)
        with self.lock:
            found = [r for r in self.runs.values() if r.repo is repo
                     and event in (None, r.event)
                     and (status is None or status == (r.status if status in _STATUSES
                                                       else r.conclusion))
                     and (branch is None or r.head_branch == branch)
                     and (actor is None or r.actor.lower() == actor.lower())
                     and (head_sha is None or r.head_sha == head_sha)
                     and when(r.created_at)]
            return sorted(found, key=lambda r: r.id, reverse=True)

    # -- changes (each announces its webhooks once the lock is released) -------------------
    def dispatched(self, repo: Repo, event_type: str, client_payload: Any, *,
                   actor: str | None = None) -> list[Run] | None:
        """Start a run of every workflow listening for ``event_type``, by ``actor`` (default: the
        double's viewer); the new runs back (None when ``start_delay`` defers them to a timer, as
        GitHub takes a moment to queue them)."""
        if self._deferred(self._start_runs, repo, event_type, client_payload, actor):
            return None
        return self._start_runs(repo, event_type, client_payload, actor)

    def workflow_dispatched(self, workflow: Workflow, branch: str, inputs: dict[str, Any], title: str,
                            actor: str | None, *, defer: bool) -> Run | None:
        """Start a ``workflow_dispatch`` run of ``workflow`` on ``branch``; with ``defer`` it may
        wait for ``start_delay`` (then None), as when GitHub answers 204 before queueing it."""
        if defer and self._deferred(self._dispatch_now, workflow, branch, inputs, title, actor):
            return None
        return self._dispatch_now(workflow, branch, inputs, title, actor)

    def fork_run(self, workflow: Workflow, fork_owner: str, branch: str, actor: str | None) -> Run:
        """A ``pull_request`` run whose head is ``branch`` of ``fork_owner``'s fork."""
        with self.lock:
            run = self._start(workflow, workflow.name, branch, actor or fork_owner, event="pull_request",
                              head_owner=fork_owner)
        self._publish(created(run), [run])
        return run

    def rerun(self, run: Run, *, failed_only: bool, actor: str | None) -> str | None:
        """Start ``run``'s next attempt (see ``reruns``); GitHub's refusal message, or None."""
        with self.lock:
            refused = new_attempt(run, failed_only=failed_only, actor=actor or self.state.viewer,
                                  next_job_id=lambda: next(self._ids["job"]), now=_now())
            changes = [] if refused else created(run)
        if refused is None:
            self._publish(changes, [run])
        return refused

    def find_job(self, job_id: str | int, repo: Repo | None = None) -> tuple[Run, Job] | None:
        """A job (of any attempt) and its run, in ``repo`` when given."""
        with self.lock:
            for run in self.runs.values():
                for job in (*run.jobs, *run.earlier_jobs):
                    if job.id == int(job_id) and (repo is None or run.repo is repo):
                        return run, job
        return None

    def _deferred(self, start: Callable[..., Any], *args: Any) -> bool:
        """Call ``start(*args)`` on a timer after ``start_delay`` (True), unless there is none."""
        with self.lock:
            if self.start_delay <= 0:
                return False
            self._timers = [t for t in self._timers if t.is_alive()]
            timer = threading.Timer(self.start_delay, self._start_later, (start, args, self.workflows))
            timer.daemon = True
            self._timers.append(timer)
            timer.start()
            return True

    def _start_later(self, start: Callable[..., Any], args: tuple[Any, ...], workflows: list[Workflow]) -> None:
        with self.lock:
            if self.workflows is not workflows:  # reset() in the meantime
                return
        start(*args)

    def _start_runs(self, repo: Repo, event_type: str, client_payload: Any, actor: str | None) -> list[Run]:
        with self.lock:
            started = [self._start(w, _title(w, client_payload), repo.default_branch, actor)
                       for w in self.workflows if w.repo is repo and w.listens(event_type)]
        self._publish([c for run in started for c in created(run)], started)
        return started

    def _dispatch_now(self, workflow: Workflow, branch: str, inputs: dict[str, Any], title: str,
                      actor: str | None) -> Run:
        with self.lock:
            run = self._start(workflow, title, branch, actor, event="workflow_dispatch", inputs=inputs)
        self._publish(created(run), [run])
        return run

    def _publish(self, changes: list[Change], runs: list[Run]) -> None:
        """Announce ``changes``, then let ``auto_advance`` move ``runs`` on (lock not held)."""
        with self.lock:
            auto = self._auto
        self._announce(changes)
        if auto is not None:  # after announcing, so "requested" always precedes the rest
            for run in runs:
                self._schedule(run, *auto)

    def advance(self, run_id: int, status: str, conclusion: str | None = None, *,
                failing_step: str | None = None) -> None:
        with self.lock:
            run = self.runs.get(run_id)
            if run is None:
                raise KeyError(f"no workflow run {run_id} in the double")
            changes = self._advance(run, status, conclusion, failing_step)
        self._announce(changes)

    def cancel(self, run: Run) -> bool:
        """Cancel ``run`` and its jobs; ``False`` if it had already completed."""
        with self.lock:
            if run.status == "completed":
                return False
            changes = self._complete(run, "cancelled", None)
        self._announce(changes)
        return True

    # -- the life cycle (callers hold the lock) --------------------------------------------
    def _start(self, workflow: Workflow, title: str, branch: str, actor: str | None, *, event: str = EVENT,
               inputs: dict[str, Any] | None = None, head_owner: str | None = None) -> Run:
        repo, now = workflow.repo, _now()
        head = f"{head_owner}/{repo.name}" if head_owner else repo.full_name
        run = Run(next(self._ids["run"]), next(self._numbers[workflow.id]), workflow, title, branch,
                  _sha(head, branch), actor or self.state.viewer, now, now, event=event, inputs=inputs,
                  head_owner=head_owner)
        for name in workflow.jobs:
            steps = [Step(n, i) for i, n in enumerate(("Set up job", f"Run {name}", "Complete job"), 1)]
            run.jobs.append(Job(next(self._ids["job"]), name, now, steps))
        self.runs[run.id] = run
        return run

    def _advance(self, run: Run, status: str, conclusion: str | None,
                 failing_step: str | None) -> list[Change]:
        if run.status == "completed":
            raise ValueError(f"workflow run {run.id} has already completed")
        if status == "in_progress":
            if conclusion is not None or failing_step is not None:
                raise ValueError("only a completed run has a conclusion or a failing step")
            if run.status == "in_progress":
                raise ValueError(f"workflow run {run.id} is already in progress")
            return self._begin(run)
        if status != "completed":
            raise ValueError("status must be 'in_progress' or 'completed'")
        conclusion = conclusion or "success"
        if conclusion not in CONCLUSIONS:
            raise ValueError(f"conclusion must be one of {sorted(CONCLUSIONS)}")
        if failing_step is not None:
            if conclusion != "failure":
                raise ValueError("failing_step needs conclusion='failure'")
            if not any(s.name == failing_step for j in run.jobs for s in j.steps):
                raise ValueError(f"no step named {failing_step!r} in workflow run {run.id}")
        # A run GitHub completes has always been in progress first (only cancelling skips it).
        begun = self._begin(run) if run.status == "queued" else []
        return begun + self._complete(run, conclusion, failing_step)

    def _begin(self, run: Run) -> list[Change]:
        now = _now()
        run.status, run.updated_at = "in_progress", now
        changes = [Change("workflow_run", "in_progress", run.snapshot())]
        for job in run.jobs:
            if job.status == "completed":  # kept from an earlier attempt
                continue
            job.status, job.started_at, job.runner = "in_progress", now, True
            job.steps[0].status, job.steps[0].started_at = "in_progress", now
            changes.append(job_change(run, job, "in_progress"))
        return changes

    def _complete(self, run: Run, conclusion: str, failing_step: str | None) -> list[Change]:
        """Jobs first, then the run, in the order GitHub sends their webhooks."""
        now, changes = _now(), []
        # The named step fails in the first job that has it; other jobs end at their main step.
        failing_job = next((j for j in run.jobs if any(s.name == failing_step for s in j.steps)),
                           None)
        for job in run.jobs:
            if job.status != "completed":
                finish_job(job, conclusion, failing_step if job is failing_job else None, now)
                changes.append(job_change(run, job, "completed"))
        run.status, run.conclusion, run.updated_at = "completed", conclusion, now
        changes.append(Change("workflow_run", "completed", run.snapshot()))
        return changes

    # -- auto_advance ----------------------------------------------------------------------
    def _schedule(self, run: Run, after: float, conclusion: str) -> None:
        with self.lock:
            if self._auto is None:  # reset() in the meantime
                return
            self._timers = [t for t in self._timers if t.is_alive()]  # a sandbox runs for long
            for delay, status in ((after, "in_progress"), (2 * after, "completed")):
                timer = threading.Timer(delay, self._tick, (run, status, conclusion))
                timer.daemon = True
                self._timers.append(timer)
                timer.start()

    def _tick(self, run: Run, status: str, conclusion: str) -> None:
        """A timer's step; skipped if a test moved the run on already or reset the double."""
        with self.lock:
            if self.runs.get(run.id) is not run or run.status == "completed" or run.status == status:
                return
            changes = self._advance(run, status, conclusion if status == "completed" else None, None)
        self._announce(changes)


def _title(workflow: Workflow, client_payload: Any) -> str:
    """A dispatched run's title: ``client_payload.request_id`` under the run-name convention."""
    request_id = client_payload.get("request_id") if isinstance(client_payload, dict) else None
    return (str(request_id) if workflow.run_name_from_request_id and request_id not in (None, "")
            else workflow.name)
