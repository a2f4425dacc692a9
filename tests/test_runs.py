"""Following what a dispatch started: runs, a run's jobs, dispatch status, cancel, waiting, and the
same answers driven by signed webhooks alone, against the double's workflow runs."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
import requests

from connector.api import runs as runs_api
from connector.app import create_app
from connector.types import Secret
from tests.conftest import API_KEY, OWNER, REPO, LiveServer, keys_file_with

RUNS_API = re.compile(rf"/repos/{OWNER}/{REPO}/actions/runs.*")
SECRET = "hook-secret-0123456789abcdef0123"


@pytest.fixture
def deploy_workflow(double):
    double.add_workflow(OWNER, REPO, "Deploy", types=["deploy"], jobs=["build", "deploy"])
    double.clear_requests()


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(runs_api, "POLL_SECONDS", 0.05)


def post(client, path, **body):
    return client.post(path, json={"owner": OWNER, "repo": REPO, **body})


def dispatch(client, request_id, event_type="deploy"):
    response = post(client, "/chatgpt/dispatch", event_type=event_type, request_id=request_id)
    assert response.status_code == 202, response.text
    return response


def test_runs_are_listed_newest_first_with_paging(client, double, deploy_workflow):
    for n in range(3):
        dispatch(client, f"req-{n}")
    double.clear_requests()

    first = post(client, "/chatgpt/runs/list", event="repository_dispatch", per_page=2).json()
    second = post(client, "/chatgpt/runs/list", event="repository_dispatch", per_page=2, page=2).json()

    assert [run["display_title"] for run in first["runs"]] == ["req-2", "req-1"]
    assert first["next_page"] == 2 and second["next_page"] is None
    assert [run["display_title"] for run in second["runs"]] == ["req-0"]
    assert first["runs"][0]["status"] == "queued" and first["runs"][0]["name"] == "Deploy"
    assert len(double.requests) == 2


def test_a_run_comes_with_its_jobs_and_the_first_failing_step(client, double, deploy_workflow):
    dispatch(client, "req-1")
    run_id = double.runs(OWNER, REPO)[0]["id"]
    double.advance_run(run_id, "completed", "failure", failing_step="Run deploy")
    double.clear_requests()

    answer = post(client, "/chatgpt/runs/get", run_id=run_id).json()

    assert answer["run"]["conclusion"] == "failure" and answer["source"] == "github"
    assert {job["name"]: job["failed_step"] for job in answer["jobs"]} == {"build": "Run build", "deploy": "Run deploy"}
    assert answer["jobs_total"] == 2
    assert len(double.requests) == 2  # the run and its jobs


def test_an_unknown_run_is_not_found_naming_it(client, double):
    response = post(client, "/chatgpt/runs/get", run_id=999)

    assert response.status_code == 404
    assert "Workflow run 999 was not found" in response.json()["detail"]


def follow(status, request_id):
    """Ask for the dispatch's status, then wait for each change until it completes."""
    seen = [status(request_id=request_id)]
    deadline = time.monotonic() + 15
    while seen[-1]["state"] != "completed" and time.monotonic() < deadline:
        seen.append(status(request_id=request_id, wait_seconds=5))
    return seen


def in_order(states, *wanted):
    positions = [states.index(state) for state in wanted]
    return positions == sorted(positions)


def test_dispatch_status_goes_from_pending_to_completed_by_polling(client, double, deploy_workflow):
    double.delay_run_starts(0.3)
    double.auto_advance(after_seconds=0.3)
    dispatch(client, "rel-7")

    seen = follow(lambda **body: post(client, "/chatgpt/dispatch/status", **body).json(), "rel-7")

    states = [answer["state"] for answer in seen]
    assert in_order(states, "pending", "in_progress", "completed"), states
    assert (seen[-1]["conclusion"], seen[-1]["source"]) == ("success", "github")
    assert seen[-1]["runs"][0]["id"] == double.runs(OWNER, REPO)[0]["id"]
    lists = double.calls("GET", f"/repos/{OWNER}/{REPO}/actions/runs")
    assert lists and all(r.query.get("event") == "repository_dispatch" and r.query["created"].startswith(">=")
                         for r in lists)


def test_a_dispatch_no_workflow_listens_for_stays_pending_with_a_hint(client, double, deploy_workflow):
    dispatch(client, "lonely-1", event_type="unheard")

    answer = post(client, "/chatgpt/dispatch/status", request_id="lonely-1").json()

    assert answer["state"] == "pending" and answer["runs"] == []
    assert 0 <= answer["seconds_since_dispatch"] < 60
    assert "'unheard'" in answer["hint"] and "run-name" in answer["hint"]


def test_waiting_gives_up_at_the_deadline_with_the_unchanged_state(client, double, deploy_workflow):
    dispatch(client, "slow-1")
    started = time.monotonic()

    answer = post(client, "/chatgpt/dispatch/status", request_id="slow-1", wait_seconds=1).json()

    assert answer["state"] == "queued"
    assert 0.9 <= time.monotonic() - started < 5


def test_an_unknown_request_id_is_not_found(client, double, deploy_workflow):
    response = post(client, "/chatgpt/dispatch/status", request_id="never-sent")

    assert response.status_code == 404
    assert "run-name" in response.json()["detail"]


def test_cancel_dry_run_then_cancel_then_a_completed_run_cannot_be(client, double, deploy_workflow):
    dispatch(client, "c-1")
    run_id = double.runs(OWNER, REPO)[0]["id"]
    double.clear_requests()

    dry = post(client, "/chatgpt/runs/cancel", run_id=run_id, dry_run=True)
    assert dry.status_code == 200 and dry.json()["would"] == {
        "action": "cancel", "repository": f"{OWNER}/{REPO}", "run_id": run_id, "run_status": "queued"}
    assert not double.calls("POST")

    done = post(client, "/chatgpt/runs/cancel", run_id=run_id)
    assert done.status_code == 202 and done.json()["cancel_requested"] is True
    assert double.runs(OWNER, REPO)[0]["conclusion"] == "cancelled"

    again = post(client, "/chatgpt/runs/cancel", run_id=run_id)
    assert again.status_code == 422 and again.json()["code"] == "github_validation"
    assert "completed" in again.json()["detail"]


def test_runs_need_their_own_scopes(make_client, double, tmp_path, deploy_workflow):
    key = "dispatch-only-key-0123456789abcdef"
    client = make_client(keys_file=keys_file_with(tmp_path / "keys.toml", "dispatcher", key, ["dispatch", "runs:read"]))
    headers = {"Authorization": f"Bearer {key}"}

    listed = client.post("/chatgpt/runs/list", json={"owner": OWNER, "repo": REPO}, headers=headers)
    cancel = client.post("/chatgpt/runs/cancel", json={"owner": OWNER, "repo": REPO, "run_id": 1}, headers=headers)

    assert listed.status_code == 200
    assert cancel.status_code == 403 and cancel.json()["required_scope"] == "runs:cancel"


@pytest.mark.one_github_layout
def test_the_event_list_describes_the_catalog(make_client, double):
    from pathlib import Path

    catalog = make_client(events_file=Path(__file__).resolve().parent.parent / "examples" / "events.yaml")

    with_catalog = catalog.post("/chatgpt/events/list").json()
    without = make_client().post("/chatgpt/events/list").json()

    assert [event["name"] for event in with_catalog["events"]] == ["deploy", "rollback", "scan", "report"]
    assert with_catalog["events"][0]["required"] == ["env", "version"]
    assert with_catalog["events"][0]["arguments"][0] == {"name": "env", "description": "The environment to deploy to."}
    assert without == {"catalog": False, "events": []}
    assert double.requests == []


# -- driven by webhooks ----------------------------------------------------------------------


@pytest.fixture
def hooked_server(make_settings, double, deploy_workflow):
    with LiveServer(create_app(make_settings(github_webhook_secret=Secret(SECRET)))) as server:
        double.send_webhooks_to(f"{server.url}/webhooks/github", SECRET)
        yield server
    double.send_webhooks_to(None, None)


def call(server, path, **body):
    response = requests.post(f"{server.url}{path}", json={"owner": OWNER, "repo": REPO, **body},
                             headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30)
    return response


def test_with_webhooks_status_comes_from_deliveries_and_costs_no_run_api_call(hooked_server, double):
    double.delay_run_starts(0.3)
    double.auto_advance(after_seconds=0.3, conclusion="failure")
    assert call(hooked_server, "/chatgpt/dispatch", event_type="deploy", request_id="hook-1").status_code == 202

    seen = follow(lambda **body: call(hooked_server, "/chatgpt/dispatch/status", **body).json(), "hook-1")
    run = call(hooked_server, "/chatgpt/runs/get", run_id=seen[-1]["runs"][0]["id"]).json()

    states = [answer["state"] for answer in seen]
    assert in_order(states, "pending", "in_progress", "completed"), states
    assert {answer["source"] for answer in seen} == {"webhooks"}
    assert seen[-1]["conclusion"] == "failure"
    assert run["source"] == "webhooks" and run["run"]["conclusion"] == "failure"
    assert [job["failed_step"] for job in run["jobs"]] == ["Run build", "Run deploy"]
    assert not double.calls(path=RUNS_API)
    assert all(delivery.status in (200, 202) for delivery in double.deliveries)


def test_tampered_replayed_and_unsigned_deliveries_are_refused(hooked_server, double):
    call(hooked_server, "/chatgpt/dispatch", event_type="deploy", request_id="hook-2")
    delivery = next(d for d in double.deliveries if d.event == "workflow_run")
    tampered = delivery.body.replace(b'"queued"', b'"completed"')

    assert double.redeliver(delivery) == 409
    assert double.redeliver(delivery, body=tampered) == 401
    assert double.redeliver(delivery, signature="") == 401
    unsigned = requests.post(f"{hooked_server.url}/webhooks/github", data=delivery.body, timeout=10,
                             headers={"X-GitHub-Event": "workflow_run", "X-GitHub-Delivery": "new-id",
                                      "Content-Type": "application/json"})
    assert unsigned.status_code == 401
    assert call(hooked_server, "/chatgpt/dispatch/status", request_id="hook-2").json()["state"] == "queued"


def test_the_event_stream_follows_a_run_to_its_end(hooked_server, double):
    call(hooked_server, "/chatgpt/dispatch", event_type="deploy", request_id="sse-1")
    run_id = double.runs(OWNER, REPO)[0]["id"]
    threading.Timer(0.3, double.advance_run, (run_id, "in_progress")).start()
    threading.Timer(0.6, double.advance_run, (run_id, "completed", "success")).start()

    with requests.get(f"{hooked_server.url}/v1/runs/{OWNER}/{REPO}/{run_id}/events", stream=True, timeout=30,
                      headers={"Authorization": f"Bearer {API_KEY}"}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[len("data: "):]) for line in response.iter_lines(decode_unicode=True)
                  if line.startswith("data: ")]

    assert [(e["status"], e["conclusion"]) for e in events] == [
        ("queued", None), ("in_progress", None), ("completed", "success")]


def test_the_event_stream_checks_the_key_and_the_names(hooked_server, double):
    base = f"{hooked_server.url}/v1/runs"

    assert requests.get(f"{base}/{OWNER}/{REPO}/1/events", timeout=10).status_code == 401
    bad = requests.get(f"{base}/{OWNER}/..%2F/1/events", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)
    assert bad.status_code in (400, 404)
    missing = requests.get(f"{base}/{OWNER}/{REPO}/424242/events", headers={"Authorization": f"Bearer {API_KEY}"},
                           timeout=10)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_one_key_cannot_hold_more_than_its_share_of_waits_and_streams(make_settings, double, deploy_workflow):
    """Past PER_CALLER open waits or streams a key gets 429 with Retry-After; another key and a
    call without wait_seconds are still answered, and the slots come back when the waits end."""
    from concurrent.futures import ThreadPoolExecutor

    from connector.http.wait_slots import PER_CALLER
    from tests.conftest import OTHER_KEY

    with LiveServer(create_app(make_settings())) as server:
        assert call(server, "/chatgpt/dispatch", event_type="deploy", request_id="w-1").status_code == 202
        run_id = double.runs(OWNER, REPO)[0]["id"]

        def wait(key=API_KEY):
            return requests.post(f"{server.url}/chatgpt/runs/get", timeout=30, headers={"Authorization": f"Bearer {key}"},
                                 json={"owner": OWNER, "repo": REPO, "run_id": run_id, "wait_seconds": 3})

        with ThreadPoolExecutor(PER_CALLER) as pool:
            waiting = [pool.submit(wait) for _ in range(PER_CALLER)]
            time.sleep(1)  # all of them are waiting now
            refused = wait()
            streamed = requests.get(f"{server.url}/v1/runs/{OWNER}/{REPO}/{run_id}/events", timeout=10,
                                    headers={"Authorization": f"Bearer {API_KEY}"})
            other_key = requests.post(f"{server.url}/chatgpt/runs/get", timeout=10,
                                      headers={"Authorization": f"Bearer {OTHER_KEY}"},
                                      json={"owner": OWNER, "repo": REPO, "run_id": run_id, "wait_seconds": 1})
            at_once = call(server, "/chatgpt/runs/get", run_id=run_id)
            answered = [future.result().status_code for future in waiting]
        again = call(server, "/chatgpt/runs/get", run_id=run_id, wait_seconds=1)

    assert refused.status_code == 429 and refused.headers["retry-after"] == "5"
    assert refused.json()["code"] == "rate_limited"
    assert streamed.status_code == 429  # a stream takes a slot like a wait
    assert other_key.status_code == 200 and at_once.status_code == 200
    assert answered == [200] * PER_CALLER and again.status_code == 200


def test_the_process_cap_holds_across_callers_and_a_slot_is_given_back_once():
    from connector.errors import RateLimited
    from connector.http.wait_slots import WaitSlots

    slots = WaitSlots(per_caller=2, per_process=3)
    first = slots.take("a", "wait")
    slots.take("a", "wait")
    with pytest.raises(RateLimited, match="This caller already has 2 waits open"):
        slots.take("a", "wait")
    slots.take("b", "wait")
    with pytest.raises(RateLimited, match="The connector has 3 waits open"):
        slots.take("c", "wait")
    first()
    first()  # a second call gives nothing more back
    slots.take("c", "wait")
    with pytest.raises(RateLimited, match="The connector has 3 waits open"):
        slots.take("d", "wait")
