"""Prometheus metrics: served only behind their own token (or port), counting what operators
watch: requests, latency, GitHub calls and quota, replays and rate-limit refusals."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import API_KEY, GITHUB_TOKEN, OWNER, REPO

METRICS_TOKEN = "metrics-token-0123456789abcdef"
PULLS = "GET /repos/{owner}/{repo}/pulls"


@pytest.fixture
def client(make_client, double):
    return make_client(metrics_token=_secret(METRICS_TOKEN), rate_limit=("3/minute",))


def _secret(value):
    from connector.types import Secret
    return Secret(value)


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.one_github_layout
def test_metrics_need_their_own_token(client):
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
    refused = client.get("/metrics")  # the test client sends the API key, which is not the metrics token
    assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
    assert refused.headers["www-authenticate"] == 'Bearer realm="metrics"'


def test_requests_latency_and_github_calls_are_counted(client, double):
    before = scrape(client)

    assert client.post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO}).status_code == 200
    assert client.post("/chatgpt/prs/list", json={"owner": OWNER}).status_code == 400

    after = scrape(client)
    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("connector_requests_total", operation="list_pull_requests", status="200") == 1
    assert grew("connector_requests_total", operation="list_pull_requests", status="400") == 1
    assert grew("connector_request_duration_seconds_count", operation="list_pull_requests") == 2
    assert grew("connector_github_requests_total", endpoint=PULLS, status="200") == 1


def test_githubs_quota_is_the_last_reading(client, double):
    double.set_quota(remaining=1234)
    client.post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO})

    quota = "token-" + hashlib.sha256(GITHUB_TOKEN.encode()).hexdigest()[:12]  # never the token itself
    assert value(scrape(client), "connector_github_quota_remaining", quota=quota) == 1234


def test_replays_and_refusals_are_counted_by_which_limit(client, double):
    before = scrape(client)
    body = {"owner": OWNER, "repo": REPO, "event_type": "deploy", "request_id": "metrics-1"}
    statuses = [client.post("/chatgpt/dispatch", json=body).status_code for _ in range(4)]
    double.rate_limit_secondary("GET", f"/repos/{OWNER}/{REPO}/pulls")

    after = scrape(client)

    assert statuses == [202, 202, 202, 429]  # the fourth is over 3/minute
    assert value(after, "connector_idempotent_replays_total", operation="dispatch_event") - value(
        before, "connector_idempotent_replays_total", operation="dispatch_event") == 2
    assert value(after, "connector_rate_limit_refusals_total", limit="key") - value(
        before, "connector_rate_limit_refusals_total", limit="key") == 1


def test_githubs_own_limit_is_counted_apart(make_client, double):
    client = make_client(metrics_token=_secret(METRICS_TOKEN))
    before = value(scrape(client), "connector_rate_limit_refusals_total", limit="github")
    double.rate_limit_secondary("GET", f"/repos/{OWNER}/{REPO}/pulls")

    assert client.post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO}).status_code == 429

    assert value(scrape(client), "connector_rate_limit_refusals_total", limit="github") - before == 1


@pytest.mark.one_github_layout
def test_without_a_metrics_setting_there_is_no_route_and_no_prometheus_import(make_client, double):
    assert make_client().get("/metrics").status_code == 404
    code = (
        "import sys\n"
        "from connector.app import create_app\n"
        "from connector.config.settings import Settings\nfrom connector.types import Secret\n"
        f"app = create_app(Settings(api_keys=(Secret({API_KEY!r}),), github_token=Secret('x'), mcp=False))\n"
        f"app.test_client().post('/chatgpt/prs/list', json={{}}, headers={{'Authorization': 'Bearer {API_KEY}'}})\n"
        "print('prometheus_client' in sys.modules)\n"
    )
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert printed.stdout.splitlines()[-1] == "False"  # after the refusal's audit line
