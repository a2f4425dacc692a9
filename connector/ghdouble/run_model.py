"""The double's workflows, runs, jobs and steps, and the ``Change`` snapshots announcing them.

Plain data plus the small rules every life-cycle step shares (how a job finishes, which
webhooks a new run or attempt sends); ``actions`` moves runs through their states under the
lock, ``reruns`` starts new attempts, ``run_views`` renders them as GitHub's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from .state import Repo

__all__ = ["EVENT", "Change", "Job", "Run", "Step", "Workflow", "created", "finish_job", "job_change", "now"]

EVENT = "repository_dispatch"  # the event of the runs a repository dispatch starts


def now() -> str:
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
    repository_dispatch: bool = True  # whether ``on:`` lists repository_dispatch at all

    def listens(self, event_type: str) -> bool:
        return self.repository_dispatch and (self.types is None or event_type in self.types)


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
    attempt: int = 1  # the run attempt it belongs to


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
    jobs: list[Job] = field(default_factory=list)  # the latest attempt's (kept jobs included)
    status: str = "queued"
    conclusion: str | None = None
    event: str = EVENT
    inputs: dict[str, Any] | None = None  # a workflow_dispatch's inputs, defaults filled in
    attempt: int = 1
    started_at: str = ""  # run_started_at: when the latest attempt started ("" = created_at)
    triggering_actor: str | None = None  # who started the latest attempt (None = actor)
    head_owner: str | None = None  # the owner of the fork the run's head comes from
    earlier_jobs: list[Job] = field(default_factory=list)  # earlier attempts' jobs not kept

    @property
    def repo(self) -> Repo:
        return self.workflow.repo

    def snapshot(self) -> Run:
        """A copy that later changes do not touch (the workflow and repository are shared)."""
        return replace(self, jobs=[replace(j, steps=[replace(s) for s in j.steps]) for j in self.jobs],
                       inputs=dict(self.inputs) if self.inputs is not None else None)


@dataclass(frozen=True)
class Change:
    """One webhook-worthy event: ``workflow_run`` or ``workflow_job`` (then ``job`` is set)."""

    event: str
    action: str
    run: Run  # a snapshot taken when the change happened
    job: Job | None = None


def job_change(run: Run, job: Job, action: str) -> Change:
    snap = run.snapshot()
    return Change("workflow_job", action, snap, next(j for j in snap.jobs if j.id == job.id))


def created(run: Run) -> list[Change]:
    """A new run's (or attempt's) webhooks: the run requested, then its queued jobs."""
    snap = run.snapshot()
    return [Change("workflow_run", "requested", snap),
            *(Change("workflow_job", "queued", snap, job) for job in snap.jobs if job.status == "queued")]


def finish_job(job: Job, conclusion: str, failing_step: str | None, now: str) -> None:
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
