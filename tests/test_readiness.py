"""GET /health/ready: GitHub's API and (when configured) Redis answer, or 503 not_ready saying
which did not; /health itself stays a plain liveness answer."""

from __future__ import annotations

import pytest

from connector.types import Secret
from tests.conftest import free_port


def test_ready_when_github_answers(make_client, double):
    client = make_client()
    client.headers.pop("Authorization")

    response = client.get("/health/ready")

    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True and set(response.json()["checks"]) == {"github"}
    assert response.json()["checks"]["github"]["ok"] is True
    # GitHub is asked without credentials, for an endpoint that counts against no quota.
    [probe] = double.calls("GET", "/rate_limit")
    assert "authorization" not in {name.lower() for name in probe.headers}


@pytest.mark.one_github_layout
def test_not_ready_names_github_when_it_cannot_be_reached(make_client, double):
    response = make_client(github_api_url=f"http://127.0.0.1:{free_port()}").get("/health/ready")

    assert response.status_code == 503
    problem = response.json()
    assert problem["code"] == "not_ready" and "github" in problem["detail"]
    assert problem["checks"]["github"]["ok"] is False and "could not be reached" in problem["checks"]["github"]["detail"]


def test_redis_is_checked_when_it_holds_the_shared_state(make_client, double, redis_url):
    response = make_client(redis_url=Secret(redis_url)).get("/health/ready")

    assert response.status_code == 200
    assert response.json()["checks"]["redis"]["ok"] is True


def test_not_ready_names_redis_when_it_is_down(make_client, double):
    response = make_client(redis_url=Secret(f"redis://127.0.0.1:{free_port()}/0")).get("/health/ready")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["github"]["ok"] is True and checks["redis"]["ok"] is False
    assert response.json()["detail"] == "Not ready: redis failed; see checks."


@pytest.mark.one_github_layout
def test_liveness_does_not_depend_on_github(make_client, double):
    response = make_client(github_api_url=f"http://127.0.0.1:{free_port()}").get("/health")

    assert response.status_code == 200 and response.json() == {"ok": True}


@pytest.mark.one_github_layout
def test_readiness_is_not_offered_to_the_assistant(make_client, double):
    served = make_client().get("/openapi.json").json()

    assert "/health/ready" not in served["paths"]
