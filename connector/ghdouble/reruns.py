"""Re-running a completed workflow run, as GitHub does: a new attempt of the same run.

The run keeps its id and number; ``run_attempt`` goes up, the run is queued again with no
conclusion, ``previous_attempt_url`` points at the attempt before, and the one who asked
becomes its ``triggering_actor`` (the ``actor`` stays who started the first attempt). Every job
runs again, or with ``failed_only`` just those that failed, were cancelled or timed out; the
others are kept with their results, as GitHub shows them in the new attempt. Re-run jobs get
new ids (the old ones stay readable, as jobs of the earlier attempt). A run not yet completed
is refused with GitHub's 403 message.
"""

from __future__ import annotations

from collections.abc import Callable

from .run_model import Job, Run, Step

__all__ = ["NOT_COMPLETED", "NOTHING_FAILED", "RERUN_CONCLUSIONS", "new_attempt"]

NOT_COMPLETED = "This workflow is already running"  # GitHub's 403 to a re-run of an unfinished run
# The double's reading: GitHub's answer to re-running the failed jobs of a run without any was not found.
NOTHING_FAILED = "This workflow run has no failed jobs to re-run"
RERUN_CONCLUSIONS = frozenset({"failure", "cancelled", "timed_out", "startup_failure"})


def new_attempt(run: Run, *, failed_only: bool, actor: str, next_job_id: Callable[[], int], now: str) -> str | None:
    """Start ``run``'s next attempt (callers hold the lock); GitHub's refusal message, or None."""
    if run.status != "completed":
        return NOT_COMPLETED
    again = [j for j in run.jobs if not failed_only or j.conclusion in RERUN_CONCLUSIONS]
    if not again:
        return NOTHING_FAILED
    run.attempt += 1
    jobs = []
    for job in run.jobs:
        if job in again:
            run.earlier_jobs.append(job)
            job = Job(next_job_id(), job.name, now, [Step(s.name, s.number) for s in job.steps], attempt=run.attempt)
        jobs.append(job)
    run.jobs = jobs
    run.status, run.conclusion, run.updated_at, run.started_at = "queued", None, now, now
    run.triggering_actor = actor
    return None
