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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from .state import Repo, State, _sha

__all__ = ["CONCLUSIONS", "EVENT", "Actions", "Change", "Job", "Run", "Step", "Workflow"]

CONCLUSIONS = frozenset({"success", "failure", "neutral", "cancelled", "skipped", "timed_out",
                         "action_required", "stale"})
EVENT = "repository_dispatch"  # the one trigger the double's workflows have
# The runs list's ``status`` filter takes a status or a conclusion.
_STATUSES = frozenset({"queued", "in_progress", "completed", "requested", "waiting", "pending"})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Workflow:
    id: int
    repo: Repo
    name: str
    path: str
    types: frozenset[str] | None  # repository_dispatch types; None = every type
    jobs: tuple[str, ...]
    run_name_from_request_id: bool
    created_at: str

    def listens(self, event_type: str) -> bool:
        return self.types is None or event_type in self.types


@dataclass
class Step:
    name: str
    number: int
    status: str = "queued"
    conclusion: str | None = None
    started_at: str | None = None
    completed_at: str | None = None


@dataclass
class Job:
    id: int
    name: str
    created_at: str
    steps: list[Step]
    status: str = "queued"
    conclusion: str | None = None
    started_at: str | None = None  # shown as created_at until a runner picks the job up
    completed_at: str | None = None
    runner: bool = False  # whether a runner has picked it up (runner_* fields are set)


@dataclass
class Run:
    id: int
    number: int
    workflow: Workflow
    display_title: str
    head_branch: str
    head_sha: str
    actor: str
    created_at: str
    updated_at: str
    jobs: list[Job] = field(default_factory=list)
    status: str = "queued"
    conclusion: str | None = None

    @property
    def repo(self) -> Repo:
        return self.workflow.repo

    def snapshot(self) -> Run:
        """A copy that later changes do not touch (the workflow and repository are shared)."""
        return replace(self, jobs=[replace(j, steps=[replace(s) for s in j.steps]) for j in self.jobs])


@dataclass(frozen=True)
class Change:
    """One webhook-worthy event: ``workflow_run`` or ``workflow_job`` (then ``job`` is set)."""

    event: str
    action: str
    run: Run  # a snapshot taken when the change happened
    job: Job | None = None


class Actions:
    """Workflows and runs of every repository, under the state's lock."""

    def __init__(self, state: State, announce: Callable[[list[Change]], None]) -> None:
        self.state, self.lock = state, state.lock
        self._announce = announce
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

    # -- set-up by tests -------------------------------------------------------------------
    def add_workflow(self, repo: Repo, name: str, *, types: Iterable[str] | None,
                     jobs: Iterable[str] | None, run_name_from_request_id: bool) -> Workflow:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "workflow"
        with self.lock:
            workflow = Workflow(next(self._ids["workflow"]), repo, name,
                                f".github/workflows/{slug}.yml",
                                None if types is None else frozenset(types),
                                tuple(jobs) if jobs is not None else ("build",),
                                run_name_from_request_id, _now())
            if not workflow.jobs:
                raise ValueError("a workflow needs at least one job")
            self.workflows.append(workflow)
            self._numbers[workflow.id] = itertools.count(1)
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
        when = _created_filter(created) if created else (lambda _: True)
        with self.lock:
            found = [r for r in self.runs.values() if r.repo is repo
                     and event in (None, EVENT)
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
        with self.lock:
            delay = self.start_delay
            if delay > 0:
                self._timers = [t for t in self._timers if t.is_alive()]
                timer = threading.Timer(delay, self._start_later,
                                        (repo, event_type, client_payload, self.workflows, actor))
                timer.daemon = True
                self._timers.append(timer)
                timer.start()
                return None
        return self._start_runs(repo, event_type, client_payload, actor)

    def _start_later(self, repo: Repo, event_type: str, client_payload: Any, workflows: list[Workflow],
                     actor: str | None) -> None:
        with self.lock:
            if self.workflows is not workflows:  # reset() in the meantime
                return
        self._start_runs(repo, event_type, client_payload, actor)

    def _start_runs(self, repo: Repo, event_type: str, client_payload: Any, actor: str | None) -> list[Run]:
        with self.lock:
            started = [self._start(w, client_payload, actor) for w in self.workflows
                       if w.repo is repo and w.listens(event_type)]
            changes = [c for run in started for c in _created(run)]
            auto = self._auto
        self._announce(changes)
        if auto is not None:  # after announcing, so "requested" always precedes the rest
            for run in started:
                self._schedule(run, *auto)
        return started

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
    def _start(self, workflow: Workflow, client_payload: Any, actor: str | None) -> Run:
        repo, now = workflow.repo, _now()
        request_id = client_payload.get("request_id") if isinstance(client_payload, dict) else None
        title = (str(request_id) if workflow.run_name_from_request_id and request_id not in (None, "")
                 else workflow.name)
        run = Run(next(self._ids["run"]), next(self._numbers[workflow.id]), workflow, title,
                  repo.default_branch, _sha(repo.full_name, repo.default_branch),
                  actor or self.state.viewer, now, now)
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
            job.status, job.started_at, job.runner = "in_progress", now, True
            job.steps[0].status, job.steps[0].started_at = "in_progress", now
            changes.append(_job_change(run, job, "in_progress"))
        return changes

    def _complete(self, run: Run, conclusion: str, failing_step: str | None) -> list[Change]:
        """Jobs first, then the run, in the order GitHub sends their webhooks."""
        now, changes = _now(), []
        # The named step fails in the first job that has it; other jobs end at their main step.
        failing_job = next((j for j in run.jobs if any(s.name == failing_step for s in j.steps)),
                           None)
        for job in run.jobs:
            if job.status != "completed":
                _finish_job(job, conclusion, failing_step if job is failing_job else None, now)
                changes.append(_job_change(run, job, "completed"))
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


def _job_change(run: Run, job: Job, action: str) -> Change:
    snap = run.snapshot()
    return Change("workflow_job", action, snap, next(j for j in snap.jobs if j.id == job.id))


def _created(run: Run) -> list[Change]:
    snap = run.snapshot()
    return [Change("workflow_run", "requested", snap),
            *(Change("workflow_job", "queued", snap, job) for job in snap.jobs)]


def _finish_job(job: Job, conclusion: str, failing_step: str | None, now: str) -> None:
    """Complete ``job``: steps before the decisive one succeed, it takes the job's conclusion,
    later ones are skipped. A job no runner picked up ran no step at all."""
    job.status, job.conclusion, job.completed_at = "completed", conclusion, now
    main = job.steps[len(job.steps) // 2].name  # "Run <job>", between set-up and clean-up
    decisive = None if conclusion == "success" else (failing_step or main)
    reached = False
    for step in job.steps:
        step.status, step.started_at, step.completed_at = "completed", step.started_at or now, now
        if not job.runner or reached:
            step.conclusion = "skipped"
        elif step.name == decisive:
            step.conclusion, reached = conclusion, True
        else:
            step.conclusion = "success"


def _bounds(text: str) -> tuple[datetime, datetime]:
    """The span a date (a whole day) or a date-time (one second) names."""
    text = text.strip().replace(" ", "+")  # an unencoded "+01:00" arrives as " 01:00"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = datetime.fromisoformat(text).replace(tzinfo=UTC)
        return day, day + timedelta(days=1)
    moment = datetime.fromisoformat(text)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment, moment + timedelta(seconds=1)


def _created_filter(expr: str) -> Callable[[str], bool]:
    """GitHub's search syntax for dates: ``>=``, ``>``, ``<=``, ``<``, ``A..B`` or a bare date.

    Raises ``ValueError`` for anything else, which GitHub answers with a 422.
    """
    def at(created: str) -> datetime:
        return datetime.fromisoformat(created.replace("Z", "+00:00"))

    op = next((op for op in (">=", "<=", ">", "<") if expr.startswith(op)), None)
    if op is not None:
        start, end = _bounds(expr[len(op):])
        edge = {">=": start, ">": end, "<=": end, "<": start}[op]
        return (lambda c: at(c) >= edge) if op.startswith(">") else (lambda c: at(c) < edge)
    low, sep, high = expr.partition("..")
    if not sep:
        start, end = _bounds(expr)
        return lambda c: start <= at(c) < end
    lo = None if low.strip() == "*" else _bounds(low)[0]
    hi = None if high.strip() == "*" else _bounds(high)[1]
    return lambda c: (lo is None or at(c) >= lo) and (hi is None or at(c) < hi)
