"""Run state on a real redis-server, shared by two connector instances behind one webhook."""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from connector.app import create_app
from connector.state.redis_runs import RedisRunStore
from connector.types import Secret
from tests.conftest import API_KEY, OWNER, REPO, LiveServer

SECRET = "shared-hook-secret-0123456789abcdef"
RUNS_API = re.compile(rf"/repos/{OWNER}/{REPO}/actions/runs.*")


@pytest.fixture
def store(redis_url) -> RedisRunStore:
    return RedisRunStore(redis_url, prefix=f"test-{uuid.uuid4().hex[:8]}")


def run(status: str, conclusion: str | None = None, updated_at: str = "2026-11-23T10:00:00Z") -> dict:
    return {"id": 5, "name": "Deploy", "display_title": "req-9", "event": "repository_dispatch", "status": status,
            "conclusion": conclusion, "head_branch": "main", "created_at": "2026-11-23T09:59:00Z",
            "updated_at": updated_at, "html_url": "https://github.com/o/r/actions/runs/5"}


def test_the_newest_state_wins_whatever_order_deliveries_arrive_in(store):
    store.apply_run("Octo/Repo", run("completed", "success", "2026-11-23T10:05:00Z"))
    store.apply_run("octo/repo", run("in_progress", None, "2026-11-23T10:01:00Z"))

    assert store.run("octo/repo", 5)["conclusion"] == "success"
    assert [r["id"] for r in store.runs_titled("OCTO/repo", "req-9")] == [5]


def test_a_delivery_id_is_taken_once_across_store_objects(redis_url, store):
    other = RedisRunStore(redis_url, prefix=store._prefix)

    assert store.first_delivery("d-1") is True
    assert other.first_delivery("d-1") is False


def test_jobs_keep_their_first_failing_step(store):
    job = {"id": 11, "run_id": 5, "name": "deploy", "status": "completed", "conclusion": "failure",
           "completed_at": "2026-11-23T10:04:00Z", "steps": [{"name": "Push", "conclusion": "failure"}]}
    store.apply_job("o/r", job)
    store.apply_job("o/r", {**job, "status": "in_progress", "conclusion": None, "completed_at": None, "steps": []})

    assert store.jobs("o/r", 5) == [{"id": 11, "run_id": 5, "name": "deploy", "status": "completed",
                                     "conclusion": "failure", "started_at": None,
                                     "completed_at": "2026-11-23T10:04:00Z", "failed_step": "Push"}]


def test_dispatch_records_are_shared(redis_url, store):
    store.record_dispatch("o/r", "req-1", "deploy")

    record = RedisRunStore(redis_url, prefix=store._prefix).dispatch("O/R", "req-1")

    assert (record.request_id, record.event_type) == ("req-1", "deploy")


@pytest.fixture
def two_instances(make_settings, double, redis_url):
    double.add_workflow(OWNER, REPO, "Deploy", types=["deploy"])
    double.clear_requests()
    settings = make_settings(github_webhook_secret=Secret(SECRET), redis_url=Secret(redis_url))
    with LiveServer(create_app(settings)) as first, LiveServer(create_app(settings)) as second:
        yield first, second
    double.send_webhooks_to(None, None)


def call(server, path, **body):
    return requests.post(f"{server.url}{path}", json={"owner": OWNER, "repo": REPO, **body},
                         headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30)


def test_a_webhook_to_one_instance_answers_on_the_other_without_run_api_calls(two_instances, double):
    first, second = two_instances
    double.send_webhooks_to(f"{first.url}/webhooks/github", SECRET)
    request_id = f"multi-{uuid.uuid4().hex[:6]}"

    assert call(first, "/chatgpt/dispatch", event_type="deploy", request_id=request_id).status_code == 202
    run_id = double.runs(OWNER, REPO)[0]["id"]
    double.advance_run(run_id, "completed", "success")
    status = call(second, "/chatgpt/dispatch/status", request_id=request_id).json()

    assert (status["state"], status["conclusion"], status["source"]) == ("completed", "success", "webhooks")
    assert not double.calls(path=RUNS_API)
    delivery = next(d for d in double.deliveries if d.event == "workflow_run")
    double.send_webhooks_to(f"{second.url}/webhooks/github", SECRET)
    assert double.redeliver(delivery) == 409  # replayed to the other instance: still refused


def test_a_bad_redis_url_stops_start_up():
    from connector.config.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="CONNECTOR_REDIS_URL"):
        Settings.from_env({"CONNECTOR_API_KEY": "k" * 32, "CONNECTOR_REDIS_URL": "http://redis:6379"})
