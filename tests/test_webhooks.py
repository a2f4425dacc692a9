"""POST /webhooks/github: only signed, first-time deliveries change what the connector knows."""

from __future__ import annotations

import json
import uuid

import pytest

from connector.app import create_app
from connector.http.webhooks import signature_for
from connector.types import Secret
from tests.conftest import API_KEY, OWNER, REPO

SECRET = "webhook-secret-0123456789abcdef"


def run_payload(action: str, status: str, conclusion: str | None = None, *, run_id: int = 7,
                updated_at: str = "2026-11-23T10:00:00Z") -> dict:
    return {"action": action, "repository": {"full_name": f"{OWNER}/{REPO}"}, "workflow_run": {
        "id": run_id, "name": "Deploy", "display_title": "req-1", "event": "repository_dispatch",
        "status": status, "conclusion": conclusion, "head_branch": "main",
        "created_at": "2026-11-23T09:59:58Z", "updated_at": updated_at,
        "html_url": f"https://github.com/{OWNER}/{REPO}/actions/runs/{run_id}"}}


def deliver(client, payload, *, event="workflow_run", secret=SECRET, delivery=None, body=None, signature=None):
    raw = body if body is not None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": event,
               "X-GitHub-Delivery": delivery or str(uuid.uuid4())}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    elif secret is not None:
        headers["X-Hub-Signature-256"] = signature_for(secret, raw)
    return client.post("/webhooks/github", content=raw, headers=headers)


@pytest.fixture
def hooked(make_settings, double):
    app = create_app(make_settings(github_webhook_secret=Secret(SECRET)))
    return app.test_client(headers={"Authorization": f"Bearer {API_KEY}"})


def known_run(client, double, run_id=7):
    """What get_workflow_run answers from the deliveries alone (None if it had to ask GitHub)."""
    response = client.post("/chatgpt/runs/get", json={"owner": OWNER, "repo": REPO, "run_id": run_id})
    if response.status_code != 200:
        return None
    body = response.json()
    assert body["source"] == "webhooks" and double.requests == []
    return body


@pytest.mark.one_github_layout
def test_a_signed_delivery_updates_the_run(hooked, double):
    response = deliver(hooked, run_payload("in_progress", "in_progress"))

    assert response.status_code == 200
    assert known_run(hooked, double)["run"]["status"] == "in_progress"


@pytest.mark.parametrize("signature", [None, "", "sha256=" + "0" * 64, "sha1=abc"])
def test_unsigned_or_wrongly_signed_deliveries_are_refused(hooked, double, signature):
    response = deliver(hooked, run_payload("completed", "completed", "success"), secret=None, signature=signature)

    assert response.status_code == 401
    assert response.json()["code"] == "webhook_signature_invalid"
    assert known_run(hooked, double) is None


def test_a_tampered_body_fails_the_signature(hooked, double):
    genuine = json.dumps(run_payload("completed", "completed", "failure")).encode()
    tampered = genuine.replace(b'"failure"', b'"success"')

    response = deliver(hooked, None, body=tampered, signature=signature_for(SECRET, genuine))

    assert response.status_code == 401
    assert known_run(hooked, double) is None


@pytest.mark.one_github_layout
def test_a_replayed_delivery_is_refused_and_not_applied_twice(hooked, double):
    first = deliver(hooked, run_payload("in_progress", "in_progress"), delivery="d-1")
    deliver(hooked, run_payload("completed", "completed", "success", updated_at="2026-11-23T10:05:00Z"))

    replay = deliver(hooked, run_payload("in_progress", "in_progress"), delivery="d-1")

    assert first.status_code == 200
    assert replay.status_code == 409
    assert replay.json()["code"] == "duplicate_delivery"
    assert known_run(hooked, double)["run"]["status"] == "completed"


@pytest.mark.one_github_layout
def test_an_older_state_arriving_late_does_not_replace_a_newer_one(hooked, double):
    deliver(hooked, run_payload("completed", "completed", "success", updated_at="2026-11-23T10:05:00Z"))

    deliver(hooked, run_payload("in_progress", "in_progress", updated_at="2026-11-23T10:01:00Z"))

    assert known_run(hooked, double)["run"]["conclusion"] == "success"


@pytest.mark.one_github_layout
def test_ping_answers_200_and_other_events_are_acknowledged(hooked):
    client = hooked

    assert deliver(client, {"zen": "Keep it logically awesome.", "hook_id": 1}, event="ping").status_code == 200
    assert deliver(client, {"action": "opened", "repository": {"full_name": f"{OWNER}/{REPO}"}},
                   event="pull_request").status_code == 202


@pytest.mark.one_github_layout
def test_a_job_delivery_records_the_first_failing_step(hooked, double):
    job = {"action": "completed", "repository": {"full_name": f"{OWNER}/{REPO}"}, "workflow_job": {
        "id": 70, "run_id": 7, "name": "deploy", "status": "completed", "conclusion": "failure",
        "started_at": "2026-11-23T10:00:01Z", "completed_at": "2026-11-23T10:02:00Z",
        "steps": [{"name": "Checkout", "conclusion": "success"}, {"name": "Push image", "conclusion": "failure"},
                  {"name": "Notify", "conclusion": "skipped"}]}}

    deliver(hooked, run_payload("completed", "completed", "failure"))

    assert deliver(hooked, job, event="workflow_job").status_code == 200
    assert known_run(hooked, double)["jobs"] == [
        {"name": "deploy", "status": "completed", "conclusion": "failure", "failed_step": "Push image"}]


@pytest.mark.one_github_layout
def test_without_a_secret_the_route_does_not_exist(client):
    response = deliver(client, run_payload("completed", "completed", "success"))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.one_github_layout
def test_a_delivery_that_failed_is_not_consumed_and_can_be_redelivered(hooked, double):
    broken = deliver(hooked, None, body=b"not json", delivery="d-retry")
    redelivered = deliver(hooked, run_payload("in_progress", "in_progress"), delivery="d-retry")

    assert broken.status_code == 400
    assert redelivered.status_code == 200  # not 409 duplicate_delivery: the first was never applied
    assert known_run(hooked, double)["run"]["status"] == "in_progress"


@pytest.mark.one_github_layout
def test_an_unsigned_delivery_is_refused_before_its_body_is_sent(make_settings, double):
    """The answer comes back while the client still holds its (announced, 10 MB) body."""
    import socket

    from tests.conftest import LiveServer

    with LiveServer(create_app(make_settings(github_webhook_secret=Secret(SECRET)))) as server:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"X-GitHub-Event: workflow_run\r\nX-GitHub-Delivery: d-unsigned\r\n"
                         b"Content-Length: 10000000\r\n\r\n")
            answer = sock.recv(4096)

    assert answer.startswith(b"HTTP/1.1 401")
    assert b"webhook_signature_invalid" in answer
