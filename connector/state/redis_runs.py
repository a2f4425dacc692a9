"""The run store on Redis (``CONNECTOR_REDIS_URL``), shared by every instance of the connector.

Same behaviour as :class:`connector.state.runs.MemoryRunStore`, so a webhook delivered to one instance
answers ``dispatch/status`` on another, and a delivery replayed to a second instance is still
refused. Entries expire after 24 hours. "Newer state wins" is decided inside Redis (a Lua script),
so two instances applying deliveries for the same run cannot interleave; a change is announced on
a pub/sub channel, which is what waiting requests listen to.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from ..errors import RunStateUnavailable
from .protocols import DispatchRecord
from .redis import connect, outage_becomes, unreachable
from .runs import _STATUS_ORDER, compact_job, compact_run

__all__ = ["RedisRunStore"]

TTL_SECONDS = 24 * 3600
log = logging.getLogger(__name__)

# KEYS[1] the hash or string holding the entry; ARGV: field ("" for a string key), new JSON,
# its status rank, its time, TTL, channel. Writes when the new state is not older; returns 1 if so.
_APPLY_IF_NEWER = """
local old
if ARGV[1] == '' then old = redis.call('GET', KEYS[1]) else old = redis.call('HGET', KEYS[1], ARGV[1]) end
if old then
  local o = cjson.decode(old)
  local rank, previous = tonumber(ARGV[3]), tonumber(o['_rank'])
  if rank < previous or (rank == previous and ARGV[4] < o['_time']) then return 0 end
end
if ARGV[1] == '' then redis.call('SET', KEYS[1], ARGV[2]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
redis.call('PUBLISH', ARGV[6], KEYS[1])
return 1
"""


class RedisRunStore:
    """The :class:`~connector.state.protocols.RunStore` on Redis."""

    def __init__(self, url: str, *, prefix: str = "connector", clock: Callable[[], float] = time.time) -> None:
        self._redis = connect(url)
        self._prefix, self._clock = prefix, clock
        self._channel = f"{prefix}:runs:changed"
        self._apply = self._redis.register_script(_APPLY_IF_NEWER)

    def _key(self, *parts: Any) -> str:
        return ":".join([self._prefix, *(str(part) for part in parts)])

    # -- dispatches --------------------------------------------------------------------

    def record_dispatch(self, repository: str, request_id: str, event_type: str) -> None:
        """Best effort: the dispatch already happened, so Redis being down must not turn it into an
        error; dispatch/status then looks further back instead."""
        record = {"repository": repository, "request_id": request_id, "event_type": event_type, "at": self._clock()}
        try:
            self._redis.set(self._key("dispatch", repository.lower(), request_id), json.dumps(record), ex=TTL_SECONDS)
        except unreachable() as exc:
            log.warning("dispatch %s to %s not recorded in Redis (%s)", request_id, repository, type(exc).__name__)

    def dispatch(self, repository: str, request_id: str) -> DispatchRecord | None:
        with outage_becomes(_unavailable):
            raw = self._redis.get(self._key("dispatch", repository.lower(), request_id))
            return DispatchRecord(**json.loads(raw)) if raw else None

    # -- webhook deliveries ------------------------------------------------------------

    def first_delivery(self, delivery_id: str) -> bool:
        with outage_becomes(_unavailable):
            return bool(self._redis.set(self._key("delivery", delivery_id), "1", nx=True, ex=TTL_SECONDS))

    def seen_delivery(self, delivery_id: str) -> bool:
        with outage_becomes(_unavailable):
            return bool(self._redis.exists(self._key("delivery", delivery_id)))

    def apply_run(self, repository: str, run: dict[str, Any]) -> None:
        with outage_becomes(_unavailable):
            compact = compact_run(run)
            repo = repository.lower()
            if self._apply_if_newer(self._key("run", repo, run["id"]), "", compact, "updated_at"):
                title = self._key("titled", repo, compact.get("display_title") or "")
                self._redis.sadd(title, run["id"])
                self._redis.expire(title, TTL_SECONDS)

    def apply_job(self, repository: str, job: dict[str, Any]) -> None:
        with outage_becomes(_unavailable):
            compact = compact_job(job)
            self._apply_if_newer(self._key("jobs", repository.lower(), job["run_id"]), str(job["id"]), compact,
                                 "completed_at")

    # -- reading -----------------------------------------------------------------------

    def run(self, repository: str, run_id: int) -> dict[str, Any] | None:
        with outage_becomes(_unavailable):
            raw = self._redis.get(self._key("run", repository.lower(), run_id))
            return _public(json.loads(raw)) if raw else None

    def jobs(self, repository: str, run_id: int) -> list[dict[str, Any]]:
        with outage_becomes(_unavailable):
            stored = self._redis.hgetall(self._key("jobs", repository.lower(), run_id))
            return sorted((_public(json.loads(raw)) for raw in stored.values()), key=lambda job: job.get("id") or 0)

    def runs_titled(self, repository: str, title: str) -> list[dict[str, Any]]:
        with outage_becomes(_unavailable):
            repo = repository.lower()
            ids = sorted(self._redis.smembers(self._key("titled", repo, title)), key=int)
            runs = [self.run(repository, int(run_id)) for run_id in ids]
            return [run for run in runs if run is not None]

    def wait_for_change(self, timeout: float) -> None:
        with outage_becomes(_unavailable):
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self._channel)
                deadline = time.monotonic() + timeout
                while (remaining := deadline - time.monotonic()) > 0:
                    if pubsub.get_message(timeout=remaining) is not None:
                        return
            finally:
                pubsub.close()

    def _apply_if_newer(self, key: str, field: str, compact: dict[str, Any], time_field: str) -> bool:
        entry = {**compact, "_rank": _STATUS_ORDER.get(compact.get("status") or "", 0),
                 "_time": compact.get(time_field) or ""}
        return bool(self._apply(keys=[key], args=[field, json.dumps(entry), entry["_rank"], entry["_time"],
                                                  TTL_SECONDS, self._channel]))


def _unavailable() -> RunStateUnavailable:
    return RunStateUnavailable("The connector cannot reach its shared store (Redis) for run state; try again shortly.")


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if not key.startswith("_")}
