"""POST /chatgpt/runs/*, /chatgpt/dispatch/status — what a dispatch started.

A dispatch is fire-and-forget on GitHub's side: nothing in its reply names the run it starts. The
convention that ties them together is the workflow's ``run-name: ${{
github.event.client_payload.request_id }}``, so the run's ``display_title`` is the request_id.
With signed webhooks configured, run state is read from what GitHub pushed (``source:
webhooks``, no API call); otherwise from the API, with the fewest calls that answer.

``wait_seconds`` lets an assistant ask "tell me when it changes" in one call, kept under 25 s so
the call stays inside ChatGPT's ~45 s limit. A wait holds no worker thread (the handlers that wait
are coroutines, and only each read runs in a thread), takes one of the caller's and the process's
wait slots (:mod:`connector.http.wait_slots`), and shares its GitHub reads with every other watcher
of the same run or dispatch (:func:`polled`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
from starlette.concurrency import run_in_threadpool

from ..errors import NotFound
from ..http.services import Services, github, services
from ..policy.untrusted import capped
from ..state.runs import compact_job
from ..types import Repository
from .replies import dry_run_reply

__all__ = ["list_workflow_runs", "get_workflow_run", "get_dispatch_status",
           "cancel_workflow_run", "rerun_workflow_run", "current_run", "polled", "pause", "run_summary", "POLL_SECONDS"]

POLL_SECONDS = 3.0  # between API reads while waiting: ~8 reads in 25 s
WEBHOOK_LOOK_SECONDS = 0.5  # between looks at the run state webhooks keep (no GitHub call)
LOOKBACK_SECONDS = 24 * 3600  # how far back to look for a dispatch this connector has no record of
T = TypeVar("T")
_RUN_FILTERS = ("event", "status", "branch", "per_page", "page")
_TEXT_LIMITS = {"name": 100, "display_title": 200, "head_branch": 100}


def list_workflow_runs(body: dict[str, Any], token_info: dict[str, Any]) -> dict[str, Any]:
    repo = services().repository(body, token_info)
    query = {name: body[name] for name in _RUN_FILTERS if body.get(name) is not None}
    runs, next_page = github(token_info).list_runs(repo, query)
    return {"repository": repo.full_name, "runs": [run_summary(run) for run in runs],
            "page": body["page"], "next_page": next_page}


async def get_workflow_run(body: dict[str, Any], token_info: dict[str, Any]) -> dict[str, Any]:
    current = services()
    repo, run_id = current.repository(body, token_info), body["run_id"]
    waiting = body["wait_seconds"] > 0
    run, source = await _watched(current, token_info, lambda: current_run(current, token_info, repo, run_id,
                                                                          shared=waiting),
                                 lambda seen: (seen[0]["status"], seen[0]["conclusion"]), body["wait_seconds"])
    return await run_in_threadpool(_run_answer, current, token_info, repo, run, source)


def _run_answer(current: Services, token_info: dict[str, Any], repo: Repository, run: dict[str, Any],
                source: str) -> dict[str, Any]:
    if source == "webhooks":
        jobs = current.runs.jobs(repo.full_name, run["id"])
        total = len(jobs)
    else:
        raw_jobs, total = github(token_info).list_jobs(repo, run["id"])
        jobs = [compact_job(job) for job in raw_jobs]
    return {
        "repository": repo.full_name,
        "run": run_summary(run),
        "jobs": [{"name": capped(str(job.get("name") or ""), 100)[0], "status": job.get("status"),
                  "conclusion": job.get("conclusion"),
                  "failed_step": capped(job["failed_step"], 100)[0] if job.get("failed_step") else None}
                 for job in jobs[:20]],
        "jobs_total": total,
        "source": source,
    }


async def get_dispatch_status(body: dict[str, Any], token_info: dict[str, Any]) -> dict[str, Any]:
    current = services()
    repo, request_id = current.repository(body, token_info), body["request_id"]
    record = await run_in_threadpool(current.runs.dispatch, repo.full_name,
                                     f"{current.caller_identity(token_info)}|{request_id}")

    def found(seen: tuple[list[dict[str, Any]], str]) -> None:
        if not seen[0] and record is None:
            raise NotFound(
                f"No dispatch with request_id {request_id!r} was sent to {repo.full_name} through this connector "
                "in the last 24 hours, and no workflow run there is named after it. Check the request_id, and "
                "that the workflow sets run-name: ${{ github.event.client_payload.request_id }}."
            )

    waiting = body["wait_seconds"] > 0
    runs, source = await _watched(
        current, token_info, lambda: _runs_started_by(current, token_info, repo, request_id, record, shared=waiting),
        lambda seen: _aggregate(seen[0]), body["wait_seconds"], first_check=found)
    state, conclusion = _aggregate(runs)
    answer: dict[str, Any] = {
        "repository": repo.full_name, "request_id": request_id, "state": state, "conclusion": conclusion,
        "runs": [run_summary(run) for run in runs[:10]], "source": source,
        "seconds_since_dispatch": int(time.time() - record.at) if record is not None else None,
    }
    if state == "pending":
        # Without a record (sent by another connector, or over 24 hours ago) the event type is unknown.
        listened_for = f" of type {record.event_type!r}" if record is not None else ""
        answer["hint"] = (
            f"No run yet. A workflow has to listen for repository_dispatch{listened_for} "
            "and set run-name: ${{ github.event.client_payload.request_id }}; runs usually appear within "
            "seconds, so after a minute check the workflow file on the default branch."
        )
    return answer


def cancel_workflow_run(body: dict[str, Any], token_info: dict[str, Any]) -> tuple[dict[str, Any], int]:
    repo, run_id = services().repository(body, token_info), body["run_id"]
    if body["dry_run"]:
        run = github(token_info).get_run(repo, run_id)
        return dry_run_reply(action="cancel", repository=repo.full_name, run_id=run_id, run_status=run.get("status"))
    github(token_info).cancel_run(repo, run_id)
    return {"ok": True, "cancel_requested": True, "run_id": run_id, "repository": repo.full_name}, 202


def rerun_workflow_run(body: dict[str, Any], token_info: dict[str, Any]) -> tuple[dict[str, Any], int]:
    repo, run_id, failed_only = services().repository(body, token_info), body["run_id"], body["failed_only"]
    if body["dry_run"]:
        run = github(token_info).get_run(repo, run_id)
        return dry_run_reply(action="rerun", repository=repo.full_name, run_id=run_id, run_status=run.get("status"),
                             run_conclusion=run.get("conclusion"), failed_only=failed_only)
    github(token_info).rerun_run(repo, run_id, failed_only=failed_only)
    return {"ok": True, "rerun_requested": True, "run_id": run_id, "repository": repo.full_name,
            "failed_only": failed_only}, 202


# -- helpers ----------------------------------------------------------------------------------


def run_summary(run: dict[str, Any]) -> dict[str, Any]:
    """The fields an assistant needs, with GitHub's text cleaned and capped (a run's title can
    carry a pull request's title, which anyone who opens one controls)."""
    summary: dict[str, Any] = {"id": run["id"], "event": run.get("event") or "", "status": run.get("status"),
                               "conclusion": run.get("conclusion"), "created_at": run.get("created_at"),
                               "html_url": run.get("html_url")}
    truncated = []
    for field, limit in _TEXT_LIMITS.items():
        value = run.get(field)
        if value is None:
            summary[field] = None if field != "display_title" else ""
            continue
        summary[field], cut = capped(str(value), limit)
        if cut:
            truncated.append(field)
    if truncated:
        summary["truncated"] = truncated
    return summary


def current_run(current: Services, token_info: dict[str, Any], repo: Repository,
                run_id: int, *, shared: bool = False) -> tuple[dict[str, Any], str]:
    """The run as last reported by a webhook (when they are configured), else as the API has it
    (``shared``: as a watcher, through :func:`polled`)."""
    if current.webhook_state_for(token_info):
        known = current.runs.run(repo.full_name, run_id)
        if known is not None:
            return known, "webhooks"
    if shared:
        return polled(current, token_info, f"{repo.full_name}|run|{run_id}",
                      lambda: github(token_info).get_run(repo, run_id)), "github"
    return github(token_info).get_run(repo, run_id), "github"


def polled(current: Services, token_info: dict[str, Any], what: str, read: Callable[[], T]) -> T:
    """A GitHub read made for a wait or a stream: counted against the caller's rate limit like a
    request, so watching cannot spend more than asking would, then shared with every other watcher
    of ``what`` (at most one GitHub read per POLL_SECONDS). The count comes first, for each caller:
    one caller's limit must not end another's wait through a read they shared."""
    if current.limits is not None and token_info.get("sub"):
        current.limits.check_key(token_info["sub"])
    return current.polls.read(f"{current.cache_scope(token_info)}{what}".lower(), read, fresh_for=POLL_SECONDS)


def _runs_started_by(current: Services, token_info: dict[str, Any], repo: Repository, request_id: str,
                     record: Any, *, shared: bool = False) -> tuple[list[dict[str, Any]], str]:
    if current.webhook_state_for(token_info) and record is not None:
        return current.runs.runs_titled(repo.full_name, request_id), "webhooks"
    since = (record.at if record is not None else time.time() - LOOKBACK_SECONDS) - 60  # clock skew
    created = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    # A workflow_dispatch GitHub did not answer with its run is recorded as such (api.workflow_dispatch).
    event = "workflow_dispatch" if record is not None and record.event_type == "workflow_dispatch" else "repository_dispatch"
    query = {"event": event, "created": f">={created}", "per_page": 100}
    if shared:
        runs, _ = polled(current, token_info, f"{repo.full_name}|dispatch|{event}|{request_id}",
                         lambda: github(token_info).list_runs(repo, query))
    else:
        runs, _ = github(token_info).list_runs(repo, query)
    return [run for run in runs if run.get("display_title") == request_id], "github"


def _aggregate(runs: list[dict[str, Any]]) -> tuple[str, str | None]:
    """One state for all the runs a dispatch started (several workflows may listen for it)."""
    if not runs:
        return "pending", None
    statuses = [run.get("status") for run in runs]
    if all(status == "completed" for status in statuses):
        conclusions = [run.get("conclusion") for run in runs]
        return "completed", next((c for c in conclusions if c != "success"), "success")
    return ("in_progress" if "in_progress" in statuses else "queued"), None


async def _watched(current: Services, token_info: dict[str, Any], read: Callable[[], T],
                   state_of: Callable[[T], tuple[Any, ...]], wait_seconds: int,
                   first_check: Callable[[T], None] | None = None) -> T:
    """What ``read()`` gives, or, with ``wait_seconds``, what it gives once its state (status
    first) has changed, is completed, or the time is up: an assistant's "tell me when it changes"
    in one call. A wait takes its slot before its first read, so a refused one costs no GitHub call."""
    if wait_seconds <= 0:
        value = await run_in_threadpool(read)
        if first_check is not None:
            first_check(value)
        return value
    with current.waits.taken(current.caller_identity(token_info), "wait"):
        value = await run_in_threadpool(read)
        if first_check is not None:
            first_check(value)
        first = state_of(value)
        deadline = time.monotonic() + wait_seconds
        while first[0] != "completed" and state_of(value) == first and await pause(current, token_info, deadline):
            value = await run_in_threadpool(read)
    return value


async def pause(current: Services, token_info: dict[str, Any], deadline: float) -> bool:
    """Sleep until the next look, on the event loop; False once the deadline has passed. Run state
    from webhooks is looked at often (it costs no GitHub call), the API every POLL_SECONDS."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return False
    every = min(POLL_SECONDS, WEBHOOK_LOOK_SECONDS) if current.webhook_state_for(token_info) else POLL_SECONDS
    await anyio.sleep(min(remaining, every))
    return True
