"""Fault injection on every write: a write happens at most once per request_id, whatever breaks.

For each write route (the four HTTP writes, the gateway's /v1/dispatch and an MCP tool call) each
fault is injected where it can happen, and the same request is sent again with the same
request_id. The GitHub double counts the writes it received; every answer must be one the README's
error table explains. GitHub-side faults come from the double (a timeout after the request was
sent, a connection dropped before or after GitHub applied it, an answer that cannot be read, a
5xx after it applied it); Redis-side faults come from a real redis-server stopped, or restarted
empty, at the moment that matters.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connector.app import create_app
from connector.errors import ERROR_CLASSES
from connector.types import Secret
from tests.conftest import API_KEY, OWNER, REPO, LiveServer, RedisServer, eventually

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCUMENTED = {cls.code for cls in ERROR_CLASSES if f"`{cls.code}`" in README}
BASE = f"/repos/{OWNER}/{REPO}"


@dataclass(frozen=True)
class Write:
    name: str
    path: str  # the GitHub write it makes (a regex)
    call: Callable[[Any, dict[str, Any], str], Any]  # (client, context, request_id) -> response
    ok: int  # its status when it works


def _post(route: str, body: Callable[[dict[str, Any]], dict[str, Any]]):
    def call(client, context, request_id):
        return client.post(route, json={**body(context), "request_id": request_id})
    return call


def _gateway(client, context, request_id):
    return client.post("/v1/dispatch", json={"action": "scan", "request_id": request_id},
                       headers={"Authorization": "", "x-api-key": API_KEY})


WRITES = [
    Write("dispatch_event", f"{BASE}/dispatches",
          _post("/chatgpt/dispatch", lambda c: {"owner": OWNER, "repo": REPO, "event_type": "scan"}), 202),
    Write("comment_on_pull_request", rf"{BASE}/issues/\d+/comments",
          _post("/chatgpt/prs/comment", lambda c: {"owner": OWNER, "repo": REPO, "number": c["pr"],
                                                    "body": "Looks right."}), 201),
    Write("add_labels_to_pull_request", rf"{BASE}/issues/\d+/labels",
          _post("/chatgpt/prs/label", lambda c: {"owner": OWNER, "repo": REPO, "number": c["pr"],
                                                  "labels": ["bug"]}), 200),
    Write("cancel_workflow_run", rf"{BASE}/actions/runs/\d+/cancel",
          _post("/chatgpt/runs/cancel", lambda c: {"owner": OWNER, "repo": REPO, "run_id": c["run_id"]}), 202),
    Write("gateway_dispatch", f"{BASE}/dispatches", _gateway, 200),
]

# (name, the double's fault for the write, whether GitHub applies the write)
GITHUB_FAULTS = [
    ("timeout after sending", {"delay": 1.6}, True),
    ("connection dropped before GitHub applied it", {"drop": True}, False),
    ("connection dropped after GitHub applied it", {"drop": True, "after": True}, True),
    ("an answer that cannot be read", {"garble": True, "after": True}, True),
    ("a 5xx after GitHub applied it", {"status": 502, "json": {"message": "Bad Gateway"}, "after": True}, True),
]


def writes_seen(double, write: Write) -> int:
    return len(double.calls("POST", re.compile(f".*{write.path}$")))


def documented(response) -> None:
    problem = response.json()
    assert problem["code"] in DOCUMENTED, problem


def app_for(make_settings, **overrides):
    settings = make_settings(github_timeout=1, default_repo=(OWNER, REPO),
                             events_file=ROOT / "examples" / "events.yaml", **overrides)
    return create_app(settings).test_client(headers={"Authorization": f"Bearer {API_KEY}"})


def ready_for(write: Write, make_settings, double, pr: int) -> tuple[Any, dict[str, Any]]:
    """A client, and what ``write`` acts on: the pull request, or a run it may cancel."""
    double.add_workflow(OWNER, REPO, "Scan", types=["scan"], jobs=["scan"])
    client = app_for(make_settings)
    return client, {"pr": pr, "run_id": a_run(double, client) if write.name == "cancel_workflow_run" else None}


def a_run(double, client) -> int:
    started = client.post("/chatgpt/dispatch", json={"event_type": "scan"})
    assert started.status_code == 202, started.text
    run_id = double.runs(OWNER, REPO)[0]["id"]
    double.clear_requests()
    return run_id


@pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])
@pytest.mark.parametrize(("fault", "github_fault", "applies"), GITHUB_FAULTS, ids=[f[0] for f in GITHUB_FAULTS])
def test_a_write_github_may_have_applied_is_never_sent_again(make_settings, double, pr, write, fault,
                                                           github_fault, applies):
    client, context = ready_for(write, make_settings, double, pr)
    double.fail_next("POST", f".*{write.path}$", **github_fault)

    first = write.call(client, context, f"fault-{write.name}")
    again = write.call(client, context, f"fault-{write.name}")

    assert first.status_code in (502, 504), first.text
    documented(first)
    assert "may" in first.json()["detail"]  # it says GitHub may have acted, never that nothing happened
    assert again.status_code == 409 and again.json()["code"] == "request_outcome_unknown", again.text
    assert eventually(lambda: writes_seen(double, write) >= 1)  # the delayed one is recorded once answered
    assert writes_seen(double, write) == 1


@pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])
def test_a_write_github_refused_may_be_sent_again(make_settings, double, pr, write):
    client, context = ready_for(write, make_settings, double, pr)
    double.fail_next("POST", f".*{write.path}$", status=422, json={"message": "Validation Failed"})

    first = write.call(client, context, f"refused-{write.name}")
    again = write.call(client, context, f"refused-{write.name}")

    assert first.status_code in (422, 502), first.text  # the gateway says 502 for any refusal, as it did
    documented(first)
    assert again.status_code == write.ok, again.text
    assert writes_seen(double, write) == 2


def test_a_connection_refused_before_sending_frees_the_request_id(make_settings, double, pr):
    from tests.conftest import free_port

    client = app_for(make_settings, github_api_url=f"http://127.0.0.1:{free_port()}")
    body = {"owner": OWNER, "repo": REPO, "event_type": "scan", "request_id": "never-sent"}

    first = client.post("/chatgpt/dispatch", json=body)
    again = client.post("/chatgpt/dispatch", json=body)

    assert first.status_code == 502 and "may" not in first.json()["detail"]
    assert again.status_code == 502  # tried again (nothing was sent), not 409 request_outcome_unknown


def test_an_mcp_tool_call_keeps_the_same_promise(make_settings, double):
    from tests.test_mcp import post_tool_call

    double.fail_next("POST", f".*{BASE}/dispatches$", drop=True, after=True)
    with LiveServer(create_app(make_settings(default_repo=(OWNER, REPO)))) as server:
        arguments = {"event_type": "deploy", "request_id": "over-mcp"}
        first = post_tool_call(server.url, "dispatch_event", arguments)
        again = post_tool_call(server.url, "dispatch_event", arguments)

    first_result, again_result = first.json()["result"], again.json()["result"]
    assert first_result["isError"] and "may" in first_result["structuredContent"]["detail"]
    assert again_result["structuredContent"]["code"] == "request_outcome_unknown"
    assert len(double.calls("POST", re.compile(f".*{BASE}/dispatches$"))) == 1


# -- Redis ------------------------------------------------------------------------------------------

@pytest.fixture
def own_redis():
    """A redis-server of this test's own, to stop and restart empty (the session's is shared)."""
    server = RedisServer().start()
    yield server
    server.stop()


def comment(client, pr, request_id="redis-1"):
    return client.post("/chatgpt/prs/comment", json={"owner": OWNER, "repo": REPO, "number": pr,
                                                     "body": "Checked.", "request_id": request_id})


def test_redis_down_before_the_claim_sends_nothing_and_says_so(make_client, double, pr, own_redis):
    client = make_client(redis_url=Secret(own_redis.url))
    own_redis.stop()

    refused = comment(client, pr)

    assert refused.status_code == 503 and refused.json()["code"] == "idempotency_unavailable"
    assert "nothing was written" in refused.json()["detail"]
    assert double.comments(OWNER, REPO, pr) == []


def test_redis_down_after_the_claim_still_gives_githubs_answer_and_never_writes_twice(
        make_client, double, pr, own_redis):
    client = make_client(redis_url=Secret(own_redis.url))
    double.fail_next("POST", rf".*{BASE}/issues/\d+/comments$", delay=0.6)  # Redis goes while GitHub works
    threading.Timer(0.2, own_redis.stop).start()

    first = comment(client, pr)
    while_down = comment(client, pr)
    own_redis.start()  # back, and empty
    after = comment(client, pr)

    assert first.status_code == 201, first.text  # GitHub's real answer, not "nothing was written"
    assert while_down.status_code == 201 and while_down.headers["idempotent-replayed"] == "true"
    assert after.status_code == 201 and after.json() == first.json()
    assert len(double.comments(OWNER, REPO, pr)) == 1


def test_redis_restarted_empty_after_a_write_does_not_make_a_retry_write_again(make_client, double, pr, own_redis):
    client = make_client(redis_url=Secret(own_redis.url))

    first = comment(client, pr)
    own_redis.stop()
    own_redis.start()  # every key is gone
    again = comment(client, pr)

    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert len(double.comments(OWNER, REPO, pr)) == 1


def test_an_outcome_kept_while_redis_was_down_reaches_redis_for_the_other_instances(make_settings, double, pr,
                                                                                  own_redis):
    settings = make_settings(redis_url=Secret(own_redis.url))
    one = create_app(settings).test_client(headers={"Authorization": f"Bearer {API_KEY}"})
    other = create_app(settings).test_client(headers={"Authorization": f"Bearer {API_KEY}"})
    double.fail_next("POST", rf".*{BASE}/issues/\d+/comments$", delay=0.6)
    threading.Timer(0.2, own_redis.stop).start()

    first = comment(one, pr, "kept-1")
    own_redis.start()
    comment(one, pr, "nudge-1")  # the next call to the store hands Redis what it missed... after a restart
    from_the_other = comment(other, pr, "kept-1")

    assert first.status_code == 201
    # The restart emptied Redis, so what reaches it is the kept outcome: the other instance replays it.
    assert from_the_other.status_code == 201 and from_the_other.headers["idempotent-replayed"] == "true"
    assert len([c for c in double.comments(OWNER, REPO, pr) if c["body"] == "Checked."]) == 2  # kept-1, nudge-1
