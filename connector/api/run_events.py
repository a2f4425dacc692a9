"""GET /v1/runs/{owner}/{repo}/{run_id}/events — a run's status changes as Server-Sent Events.

For HTTP clients that can hold a stream open (ChatGPT cannot, so it is not in ``/openapi.json``;
assistants use ``get_workflow_run`` with ``wait_seconds``). One ``status`` event with the run's
state when the stream opens, one per change, and the stream ends after the run completes. Auth,
scopes and allowlists are those of the API; run state comes from webhooks when they are configured,
else from the API every few seconds, read once for every stream and wait on the same run
(:func:`connector.api.runs.polled`). A stream holds a connection and a wait slot, not a thread.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import StreamingResponse

from ..errors import BadRequest, ConnectorError, FieldError
from ..http.auth import Authenticator
from ..http.services import services
from ..spec.json_validation import ecma_regex
from .runs import current_run, pause, run_summary

RUN_ID = re.compile(r"[0-9]{1,16}")  # ASCII digits only: str.isdigit() and int() take "١٢" too

__all__ = ["run_events_endpoint"]
SCOPE = "runs:read"
KEEP_ALIVE_SECONDS = 15.0  # a comment line now and then, so proxies do not close an idle stream
MAX_STREAM_SECONDS = 6 * 3600  # GitHub cancels a job after 6 hours


def run_events_endpoint(auth: Authenticator, document: dict[str, Any]):
    schemas = document["components"]["schemas"]
    patterns = {name: ecma_regex(schemas[name.capitalize()]["pattern"]) for name in ("owner", "repo")}

    async def run_events(request: Request) -> StreamingResponse:
        token_info = await auth.authenticate_async(request.headers.get("authorization", ""), request.scope,
                                                   needed=SCOPE, what="stream")
        params = request.path_params
        bad = [FieldError(f"$.{name}", "is not a valid GitHub name") for name, pattern in patterns.items()
               if len(params[name]) > 100 or not pattern.search(params[name])]
        if not RUN_ID.fullmatch(params["run_id"]) or not 1 <= int(params["run_id"]) <= 2**53:
            bad.append(FieldError("$.run_id", "must be a workflow run id (a positive integer)"))
        if bad:
            raise BadRequest(bad)
        current = services()
        repo = current.repository({"owner": params["owner"], "repo": params["repo"]}, token_info)
        run_id = int(params["run_id"])
        if current.limits is not None:  # a stream is a request like any other (and each poll counts too)
            await run_in_threadpool(current.limits.check_key, token_info["sub"])
        give_back = current.waits.take(current.caller_identity(token_info), "run stream")  # or 429, first
        try:
            first, _ = await run_in_threadpool(current_run, current, token_info, repo, run_id,
                                               shared=True)  # plain HTTP errors
        except BaseException:
            give_back()
            raise
        return StreamingResponse(_holding(give_back, _stream(current, token_info, repo, run_id, first)),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return run_events


async def _holding(give_back: Callable[[], None], events: AsyncIterator[str]) -> AsyncIterator[str]:
    """``events``, with the stream's wait slot given back however the stream ends."""
    try:
        async for event in events:
            yield event
    finally:
        give_back()


async def _stream(current: Any, token_info: dict[str, Any], repo: Any, run_id: int, run: dict[str, Any]) -> AsyncIterator[str]:
    started = last_sent = time.monotonic()
    yield _event("status", run_summary(run))
    state = (run.get("status"), run.get("conclusion"))
    while state[0] != "completed" and await pause(current, token_info, started + MAX_STREAM_SECONDS):
        try:
            run, _ = await run_in_threadpool(current_run, current, token_info, repo, run_id, shared=True)
        except ConnectorError as error:
            yield _event("error", error.to_problem())
            return
        if (run.get("status"), run.get("conclusion")) != state:
            state = (run.get("status"), run.get("conclusion"))
            last_sent = time.monotonic()
            yield _event("status", run_summary(run))
        elif time.monotonic() - last_sent >= KEEP_ALIVE_SECONDS:
            last_sent = time.monotonic()
            yield ": still waiting\n\n"


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"
