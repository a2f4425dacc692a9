"""Two `connector serve` processes on different ports, sharing one real redis-server and the GitHub
double, as two instances behind a load balancer: writes happen once, a rate limit holds across
both, and when Redis stops the documented policy holds (README, "Several instances"):

* a write with a request_id fails closed, ``503 idempotency_unavailable``, and reaches no GitHub;
* a write without one was never deduplicated and goes through;
* rate limiting fails open, and says so in the log.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import API_KEY, GITHUB_TOKEN, LOG_DIR, OTHER_KEY, OWNER, REPO, RedisServer, ServeProcess

DISPATCHES = f"/repos/{OWNER}/{REPO}/dispatches"
PER_KEY_LIMIT = 60


@pytest.fixture
def redis():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def instances(double, redis):
    env = {
        "GITHUB_TOKEN": GITHUB_TOKEN, "GITHUB_API_URL": double.url, "CONNECTOR_API_KEY": f"{API_KEY},{OTHER_KEY}",
        "CONNECTOR_REDIS_URL": redis.url, "CONNECTOR_RATE_LIMIT": f"{PER_KEY_LIMIT}/minute",
        "CONNECTOR_ALLOWED_REPOS": f"{OWNER}/{REPO}", "PUBLIC_BASE_URL": "https://connector.example.com",
        "CONNECTOR_AUDIT_LOG": str(LOG_DIR / f"multi-instance-audit-{uuid.uuid4().hex}.log"), "CONNECTOR_MCP": "false",
    }
    with ServeProcess(env=env, name="instance-a") as first, ServeProcess(env=env, name="instance-b") as second:
        yield first, second


def post(url: str, path: str, body: dict, key: str = API_KEY) -> requests.Response:
    return requests.post(url + path, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def dispatch(url: str, request_id: str | None = None) -> requests.Response:
    body = {"owner": OWNER, "repo": REPO, "event_type": "deploy"}
    return post(url, "/chatgpt/dispatch", {**body, "request_id": request_id} if request_id else body)


def test_fifty_identical_dispatches_split_across_both_instances_write_once(instances, double):
    double.latency = 0.3  # so that the requests really overlap
    start = threading.Barrier(50)

    def one(index: int) -> requests.Response:
        start.wait()
        return dispatch(instances[index % 2].url, "burst-across-2")

    try:
        with ThreadPoolExecutor(50) as pool:
            answers = list(pool.map(one, range(50)))
    finally:
        double.latency = 0.0

    assert len(double.calls("POST", DISPATCHES)) == 1
    statuses = sorted({answer.status_code for answer in answers})
    assert set(statuses) <= {202, 409}, statuses
    written = [a for a in answers if a.status_code == 202 and "idempotent-replayed" not in a.headers]
    assert len(written) == 1
    assert all(a.json()["code"] == "request_in_progress" and a.headers["retry-after"]
               for a in answers if a.status_code == 409)


def test_a_per_key_limit_holds_across_both_instances(instances, double):
    answers = [post(instances[index % 2].url, "/chatgpt/prs/list", {"owner": OWNER, "repo": REPO}, key=OTHER_KEY)
               for index in range(PER_KEY_LIMIT + 10)]

    assert [a.status_code for a in answers].count(200) == PER_KEY_LIMIT
    refused = [a for a in answers if a.status_code == 429]
    assert len(refused) == 10 and {a.json()["code"] for a in refused} == {"rate_limited"}
    assert {a.url.split("/chatgpt")[0] for a in refused} == {i.url for i in instances}  # both refuse
    # The other key's own budget is untouched.
    assert post(instances[0].url, "/chatgpt/prs/list", {"owner": OWNER, "repo": REPO}).status_code == 200


def test_when_redis_stops_writes_with_a_request_id_fail_closed_and_nothing_is_written_twice(instances, double, redis):
    first, second = instances
    assert dispatch(first.url, "before-outage").status_code == 202

    redis.stop()
    during = [dispatch(instance.url, "during-outage") for instance in instances]
    repeat = dispatch(second.url, "before-outage")  # cannot be told from a new one without Redis
    without_id = dispatch(first.url)
    read = post(second.url, "/chatgpt/prs/list", {"owner": OWNER, "repo": REPO})

    assert [(a.status_code, a.json()["code"]) for a in [*during, repeat]] == [(503, "idempotency_unavailable")] * 3
    assert without_id.status_code == 202  # never deduplicated, so nothing to fail closed on
    assert read.status_code == 200  # rate limits fail open...
    assert "rate limit not checked" in second.output()  # ...and say so

    redis.start()  # the same port, empty (no persistence): both instances reconnect on their own
    assert dispatch(second.url, "after-outage").status_code == 202
    assert dispatch(first.url, "after-outage").headers.get("idempotent-replayed") == "true"

    titles = [call.body["client_payload"]["request_id"] for call in double.calls("POST", DISPATCHES)]
    assert titles.count("before-outage") == 1 and titles.count("after-outage") == 1
    assert "during-outage" not in titles and len(titles) == 3
