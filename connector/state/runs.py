"""What the connector knows about workflow runs without asking GitHub.

Two sources fill it: the dispatches this connector sent (so ``dispatch/status`` knows when to
start looking, and can say how long a run has been pending), and GitHub's signed ``workflow_run``
and ``workflow_job`` webhooks (so, once they are configured, run state is answered from here and
costs no API quota). Deliveries are remembered by their ``X-GitHub-Delivery`` id, so a replayed
one is recognised.

This store holds everything in memory, bounded in size and age, for one process;
:class:`connector.state.redis_runs.RedisRunStore` is the same on Redis, shared by several instances
(``CONNECTOR_REDIS_URL``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .protocols import DispatchRecord

__all__ = ["MemoryRunStore", "compact_job", "compact_run", "first_failed_step"]

_STATUS_ORDER = {"requested": 0, "waiting": 0, "pending": 0, "queued": 0, "in_progress": 1, "completed": 2}
_RUN_FIELDS = ("id", "name", "display_title", "event", "status", "conclusion", "head_branch", "created_at",
               "updated_at", "html_url")
_JOB_FIELDS = ("id", "run_id", "name", "status", "conclusion", "started_at", "completed_at")


def compact_run(run: dict[str, Any]) -> dict[str, Any]:
    """The fields of GitHub's run JSON (API or webhook) that the store keeps."""
    return {field: run.get(field) for field in _RUN_FIELDS}


def compact_job(job: dict[str, Any]) -> dict[str, Any]:
    """The fields of GitHub's job JSON that the store keeps, with the first failing step's name."""
    return {**{field: job.get(field) for field in _JOB_FIELDS}, "failed_step": first_failed_step(job)}


def first_failed_step(job: dict[str, Any]) -> str | None:
    return next((step.get("name") for step in job.get("steps") or [] if step.get("conclusion") == "failure"), None)


class _Bounded(OrderedDict):
    """Insertion-ordered, dropping the oldest entries beyond ``limit``."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)


class MemoryRunStore:
    """The :class:`~connector.state.protocols.RunStore` in this process's memory."""

    def __init__(self, *, max_items: int = 10_000, max_age: float = 24 * 3600,
                 clock: Callable[[], float] = time.time) -> None:
        self._clock, self._max_age = clock, max_age
        self._changed = threading.Condition()
        self._dispatches: _Bounded = _Bounded(max_items)
        self._runs: _Bounded = _Bounded(max_items)
        self._jobs: _Bounded = _Bounded(max_items)
        self._deliveries: _Bounded = _Bounded(max_items * 4)

    # -- dispatches --------------------------------------------------------------------

    def record_dispatch(self, repository: str, request_id: str, event_type: str) -> None:
        with self._changed:
            self._dispatches.put((repository.lower(), request_id),
                                 DispatchRecord(repository, request_id, event_type, self._clock()))

    def dispatch(self, repository: str, request_id: str) -> DispatchRecord | None:
        with self._changed:
            record = self._dispatches.get((repository.lower(), request_id))
        return record if record is not None and self._clock() - record.at < self._max_age else None

    # -- webhook deliveries ------------------------------------------------------------

    def first_delivery(self, delivery_id: str) -> bool:
        """True the first time a delivery id is seen (and remembers it); False for a replay."""
        with self._changed:
            seen = self._deliveries.get(delivery_id)
            if seen is not None and self._clock() - seen < self._max_age:
                return False
            self._deliveries.put(delivery_id, self._clock())
            return True

    def seen_delivery(self, delivery_id: str) -> bool:
        with self._changed:
            seen = self._deliveries.get(delivery_id)
            return seen is not None and self._clock() - seen < self._max_age

    def apply_run(self, repository: str, run: dict[str, Any]) -> None:
        """A ``workflow_run`` delivery: keep the newest state of the run (deliveries can arrive
        out of order, so an older state never replaces a newer one)."""
        compact = compact_run(run)
        key = (repository.lower(), run["id"])
        with self._changed:
            if _newer(compact, self._runs.get(key)):
                self._runs.put(key, compact)
                self._changed.notify_all()

    def apply_job(self, repository: str, job: dict[str, Any]) -> None:
        compact = compact_job(job)
        key = (repository.lower(), job["run_id"])
        with self._changed:
            jobs = dict(self._jobs.get(key, {}))
            if _newer(compact, jobs.get(job["id"]), time_field="completed_at"):
                jobs[job["id"]] = compact
                self._jobs.put(key, jobs)
                self._changed.notify_all()

    # -- reading -----------------------------------------------------------------------

    def run(self, repository: str, run_id: int) -> dict[str, Any] | None:
        with self._changed:
            return self._runs.get((repository.lower(), run_id))

    def jobs(self, repository: str, run_id: int) -> list[dict[str, Any]]:
        with self._changed:
            return list(self._jobs.get((repository.lower(), run_id), {}).values())

    def runs_titled(self, repository: str, title: str) -> list[dict[str, Any]]:
        repo = repository.lower()
        with self._changed:
            return [run for (owner_repo, _), run in self._runs.items()
                    if owner_repo == repo and run.get("display_title") == title]

    def wait_for_change(self, timeout: float) -> None:
        """Block until a delivery changed something, or ``timeout`` seconds passed."""
        with self._changed:
            self._changed.wait(timeout)


def _newer(new: dict[str, Any], old: dict[str, Any] | None, *, time_field: str = "updated_at") -> bool:
    if old is None:
        return True
    rank = _STATUS_ORDER.get(new.get("status") or "", 0), new.get(time_field) or ""
    previous = _STATUS_ORDER.get(old.get("status") or "", 0), old.get(time_field) or ""
    return rank >= previous
