"""Writes with a request_id (or Idempotency-Key) happen once, on one instance or several."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from connector.app import create_app
from connector.types import Secret
from tests.conftest import API_KEY, OTHER_KEY, OWNER, REPO, LiveServer, eventually, free_port

DISPATCHES = f"/repos/{OWNER}/{REPO}/dispatches"


def dispatch(client, request_id, **extra):
    return client.post("/chatgpt/dispatch", json={"owner": OWNER, "repo": REPO, "event_type": "deploy",
                                                  "request_id": request_id, **extra})


def test_a_repeated_dispatch_is_answered_again_without_a_second_one(client, double):
    first = dispatch(client, "once-1", client_payload={"env": "prod"})
    second = dispatch(client, "once-1", client_payload={"env": "prod"})

    assert first.status_code == second.status_code == 202
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert len(double.calls("POST", DISPATCHES)) == 1


def test_the_idempotency_key_header_works_for_a_comment(client, double, pr):
    body = {"owner": OWNER, "repo": REPO, "number": pr, "body": "LGTM"}

    first = client.post("/chatgpt/prs/comment", json=body, headers={"Idempotency-Key": "review-7"})
    second = client.post("/chatgpt/prs/comment", json=body, headers={"Idempotency-Key": "review-7"})

    assert first.status_code == second.status_code == 201
    assert second.json()["comment_id"] == first.json()["comment_id"]
    assert len(double.comments(OWNER, REPO, pr)) == 1


def test_the_same_key_with_another_body_is_refused(client, double):
    dispatch(client, "reuse-1", client_payload={"env": "staging"})

    response = dispatch(client, "reuse-1", client_payload={"env": "prod"})

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert len(double.calls("POST", DISPATCHES)) == 1


def test_the_same_request_id_on_another_operation_is_a_reuse_not_a_second_write(client, double, pr):
    first = dispatch(client, "shared-9")
    other = client.post("/chatgpt/prs/comment", json={"owner": OWNER, "repo": REPO, "number": pr, "body": "hi there",
                                                      "request_id": "shared-9"})

    assert first.status_code == 202
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert not double.calls("POST", f"/repos/{OWNER}/{REPO}/issues/{pr}/comments")


def test_claims_follow_the_keys_identity_not_its_name(make_settings, double, tmp_path):
    from tests.conftest import keys_file_with

    # A file key named like the environment's first key ("key-1"): the same name, another key.
    other = "file-key-with-the-same-name-0123456789"
    keys = keys_file_with(tmp_path / "keys.toml", "key-1", other, ["dispatch"])
    app = create_app(make_settings(keys_file=keys))
    env_client = app.test_client(headers={"Authorization": f"Bearer {API_KEY}"})
    file_client = app.test_client(headers={"Authorization": f"Bearer {other}"})

    first, second = dispatch(env_client, "named-1"), dispatch(file_client, "named-1")

    assert first.status_code == second.status_code == 202
    assert "idempotent-replayed" not in second.headers
    assert len(double.calls("POST", DISPATCHES)) == 2


def test_keys_are_per_api_key(client, double):
    dispatch(client, "shared-name")

    other = client.post("/chatgpt/dispatch", json={"owner": OWNER, "repo": REPO, "event_type": "deploy",
                                                   "request_id": "shared-name"},
                        headers={"Authorization": f"Bearer {OTHER_KEY}"})

    assert other.status_code == 202 and "idempotent-replayed" not in other.headers
    assert len(double.calls("POST", DISPATCHES)) == 2


def test_a_refused_write_may_be_retried_with_the_same_key(client, double):
    double.fail_next("POST", DISPATCHES, status=422, json={"message": "Validation Failed"})

    failed = dispatch(client, "retry-1")
    retried = dispatch(client, "retry-1")

    assert failed.status_code == 422  # GitHub answered no: it did nothing, so the key is free again
    assert retried.status_code == 202 and "idempotent-replayed" not in retried.headers
    assert len(double.calls("POST", DISPATCHES)) == 2
    assert len(double.dispatches(OWNER, REPO)) == 1


def test_a_write_answered_with_a_5xx_is_never_sent_again(client, double):
    """A 502 from GitHub (or a proxy before it) does not prove GitHub did nothing."""
    double.fail_next("POST", DISPATCHES, status=502, json={"message": "Bad Gateway"}, after=True)

    failed = dispatch(client, "retry-5xx")
    again = dispatch(client, "retry-5xx")

    assert failed.status_code == 502 and "may have applied it" in failed.json()["detail"]
    assert again.status_code == 409 and again.json()["code"] == "request_outcome_unknown"
    assert len(double.calls("POST", DISPATCHES)) == 1


def test_a_write_that_timed_out_after_sending_is_never_sent_again(make_client, double):
    client = make_client(github_timeout=1)
    double.fail_next("POST", DISPATCHES, delay=1.5)

    timed_out = dispatch(client, "slow-1")
    again = dispatch(client, "slow-1")

    assert timed_out.status_code == 504
    assert again.status_code == 409
    assert again.json()["code"] == "request_outcome_unknown"
    # The double records the first POST once its delayed answer has gone out.
    assert len(eventually(lambda: double.calls("POST", DISPATCHES))) == 1


def test_dry_runs_and_writes_without_a_key_are_not_remembered(client, double):
    assert dispatch(client, "dry-1", dry_run=True).status_code == 200
    assert dispatch(client, "dry-1").status_code == 202
    assert "idempotent-replayed" not in dispatch(client, None).headers


@pytest.mark.one_github_layout
def test_a_malformed_idempotency_key_header_is_a_400(client, double, pr):
    response = client.post("/chatgpt/prs/comment", json={"owner": OWNER, "repo": REPO, "number": pr, "body": "x"},
                           headers={"Idempotency-Key": "has spaces"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "Idempotency-Key"
    assert double.requests == []


def concurrent_dispatches(urls, request_id, count):
    start = threading.Barrier(count)

    def one(index):
        start.wait()
        return requests.post(f"{urls[index % len(urls)]}/chatgpt/dispatch", timeout=30,
                             json={"owner": OWNER, "repo": REPO, "event_type": "deploy", "request_id": request_id},
                             headers={"Authorization": f"Bearer {API_KEY}"})

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


@pytest.fixture
def slow_github(double):
    double.latency = 0.3  # so the identical requests really overlap
    yield double
    double.latency = 0.0


def test_identical_requests_at_the_same_moment_write_once(make_settings, slow_github):
    with LiveServer(create_app(make_settings())) as server:
        responses = concurrent_dispatches([server.url], "burst-1", 10)

    assert len(slow_github.calls("POST", DISPATCHES)) == 1
    assert {r.status_code for r in responses} <= {202, 409}
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) >= 1


def test_fifty_identical_dispatches_across_two_instances_sharing_redis_write_once(make_settings, slow_github,
                                                                                 redis_url):
    settings = make_settings(redis_url=Secret(redis_url))
    request_id = f"multi-{uuid.uuid4().hex[:8]}"
    with LiveServer(create_app(settings)) as first, LiveServer(create_app(settings)) as second:
        responses = concurrent_dispatches([first.url, second.url], request_id, 50)

    assert len(slow_github.calls("POST", DISPATCHES)) == 1
    assert {r.status_code for r in responses} <= {202, 409}
    ids = {r.json().get("request_id") for r in responses if r.status_code == 202}
    assert ids == {request_id}


def test_with_redis_down_a_write_with_a_key_fails_closed(make_settings, double):
    port = free_port()  # nothing listens there: a Redis that is down
    client = create_app(make_settings(redis_url=Secret(f"redis://127.0.0.1:{port}/0"))).test_client(
        headers={"Authorization": f"Bearer {API_KEY}"})

    with_key = dispatch(client, "closed-1")
    without_key = dispatch(client, None)

    assert with_key.status_code == 503
    assert with_key.json()["code"] == "idempotency_unavailable"
    assert without_key.status_code == 202  # nothing to protect: it goes through
    assert len(double.calls("POST", DISPATCHES)) == 1


def test_the_default_repository_written_out_or_left_implicit_is_the_same_request(make_client, double, pr):
    client = make_client(default_repo=(OWNER, REPO))
    implicit = {"number": pr, "body": "Same either way.", "request_id": "implicit-1"}

    first = client.post("/chatgpt/prs/comment", json=implicit)
    spelled_out = client.post("/chatgpt/prs/comment", json={**implicit, "owner": OWNER.upper(), "repo": REPO})

    assert first.status_code == spelled_out.status_code == 201
    assert spelled_out.headers["idempotent-replayed"] == "true"
    assert len(double.comments(OWNER, REPO, pr)) == 1


def test_another_key_can_neither_replay_nor_read_my_dispatch(client, double):
    mine = dispatch(client, "private-1")
    other_key = {"Authorization": f"Bearer {OTHER_KEY}"}
    status = client.post("/chatgpt/dispatch/status", json={"owner": OWNER, "repo": REPO, "request_id": "private-1"},
                         headers=other_key)
    own_status = client.post("/chatgpt/dispatch/status", json={"owner": OWNER, "repo": REPO,
                                                               "request_id": "private-1"})

    assert mine.status_code == 202
    assert status.status_code == 404, status.text  # no record of this key's, and no run named after it yet
    assert own_status.status_code == 200 and own_status.json()["seconds_since_dispatch"] is not None
