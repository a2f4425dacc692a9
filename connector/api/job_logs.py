"""POST /chatgpt/runs/logs — the end of a job's log, to say why a run failed.

By ``job_id``, one job; by ``run_id``, the run's jobs (those that failed, unless ``failed_only`` is
false), at most five. Each log's end is read from the storage host GitHub redirects to, without the
connector's credentials and no more than its last bytes (:mod:`connector.github.logs`), then cleaned
(:mod:`connector.policy.log_text`) and masked: the secrets the connector holds and anything shaped
like a GitHub token become ``[redacted]``. A log is what the workflow printed, which on a fork's run
is code by someone without write access: under lockdown such a log is withheld.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..config.settings import Settings
from ..errors import BadRequest, FieldError
from ..github.masking import masked
from ..http.services import github, services
from ..policy import lockdown
from ..policy.log_text import tail
from ..policy.untrusted import capped
from ..state.runs import first_failed_step
from ..types import Secret

__all__ = ["get_job_logs", "MAX_JOBS", "ANSWER_BUDGET"]

MAX_JOBS = 5
ANSWER_BUDGET = 60_000  # characters of log in one answer, far under ChatGPT's ~100k
FAILED = frozenset({"failure", "timed_out", "startup_failure", "cancelled"})


def get_job_logs(body: dict[str, Any], token_info: dict[str, Any]) -> dict[str, Any]:
    current, client = services(), github(token_info)
    repo = current.repository(body, token_info)
    if body.get("job_id") is None and body.get("run_id") is None:  # a null is a field left out
        raise BadRequest([FieldError("$", "give job_id (one job) or run_id (the run's jobs)")])
    if body.get("job_id") is not None:
        jobs = [client.get_job(repo, body["job_id"])]
        run_id = int(jobs[0]["run_id"])
    else:
        run_id = body["run_id"]
        listed, _ = client.list_jobs(repo, run_id, per_page=100)
        jobs = [job for job in listed if not body["failed_only"] or job.get("conclusion") in FAILED]
    fork_withheld = False
    if current.settings.lockdown != "off" and jobs:
        run = client.get_run(repo, run_id)
        private = bool((run.get("repository") or {}).get("private"))
        head = (run.get("head_repository") or {}).get("full_name")
        fork_withheld = lockdown.applies(current.settings.lockdown, private) and head is not None and \
            str(head).lower() != str((run.get("repository") or {}).get("full_name", repo.full_name)).lower()
    chosen = jobs[:MAX_JOBS]
    known = _known_secrets(current.settings) + client.known_secrets()
    budget = ANSWER_BUDGET // max(len(chosen), 1)
    answers = []
    for job in chosen:
        entry: dict[str, Any] = {"id": job["id"], "name": capped(str(job.get("name") or ""), 100)[0],
                                 "status": job.get("status"), "conclusion": job.get("conclusion"),
                                 "failed_step": _failed_step(job), "log": None, "lines": 0, "truncated": False}
        if fork_withheld:
            entry["withheld"] = ("lockdown: this run is from a fork, so its log can carry text by someone without "
                                 "write access (CONNECTOR_LOCKDOWN); read it on GitHub.")
        elif job.get("status") != "completed":
            entry["withheld"] = "the job has not finished; its log can be read once it completes."
        else:
            log = client.job_log_tail(repo, int(job["id"]))
            text = masked(log.data.decode("utf-8", errors="replace"), known)
            lines, cut = tail(text, lines=body["tail_lines"], budget=budget, whole=log.whole)
            entry.update(log="\n".join(lines), lines=len(lines), truncated=cut)
        answers.append(entry)
    return {"repository": repo.full_name, "run_id": run_id, "jobs": answers, "jobs_total": len(jobs)}


def _failed_step(job: dict[str, Any]) -> str | None:
    """As get_workflow_run names it: the first step that failed, cleaned and capped."""
    name = first_failed_step(job)
    return capped(str(name), 100)[0] if name else None


def _known_secrets(settings: Settings) -> list[str]:
    """Every secret in the settings (tokens, keys, passwords), to mask out of logs."""
    found: list[str] = []
    for item in dataclasses.fields(settings):
        value = getattr(settings, item.name)
        for secret in value if isinstance(value, tuple) else (value,):
            if isinstance(secret, Secret):
                found.append(secret.reveal())
    return found
