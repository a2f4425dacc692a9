"""How GitHub's failures reach the caller: status, code, Retry-After, and how many calls were made."""

from __future__ import annotations

import pytest

from connector.github.quota import SHARED_LOOKUP_SECONDS
from connector.types import Secret
from tests.conftest import API_KEY, GITHUB_TOKEN, OWNER, REPO, Clock, eventually

BASE = f"/repos/{OWNER}/{REPO}"


def list_prs(client):
    return client.post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO})


def comment(client, number):
    return client.post("/chatgpt/prs/comment", json={"owner": OWNER, "repo": REPO, "number": number, "body": "hi"})


def test_a_read_is_retried_once_after_a_github_5xx(client, double, pr):
    double.fail_next("GET", f"{BASE}/pulls", status=502, json={"message": "Bad Gateway"})

    response = list_prs(client)

    assert response.status_code == 200
    assert [r.status for r in double.requests] == [502, 200]


def test_a_read_failing_twice_is_reported_as_github_unavailable(client, double, pr):
    double.fail_next("GET", f"{BASE}/pulls", status=503, json={"message": "Unavailable"}, times=2)

    response = list_prs(client)

    assert response.status_code == 502
    assert response.json()["code"] == "github_unavailable"
    assert len(double.requests) == 2


def test_a_write_is_never_retried_after_a_github_5xx(client, double, pr):
    double.fail_next("POST", f"{BASE}/issues/{pr}/comments", status=502, json={"message": "Bad Gateway"})

    response = comment(client, pr)

    assert response.status_code == 502
    assert response.json()["code"] == "github_unavailable"
    assert [(r.method, r.status) for r in double.requests] == [("GET", 200), ("POST", 502)]


def test_a_dropped_write_connection_is_not_retried(client, double, pr):
    double.fail_next("POST", f"{BASE}/dispatches", drop=True)

    response = client.post("/chatgpt/dispatch", json={"owner": OWNER, "repo": REPO, "event_type": "deploy"})

    assert response.status_code == 502
    assert len(double.calls("POST", f"{BASE}/dispatches")) == 1


def test_a_slow_read_becomes_github_timeout(make_client, double, pr):
    client = make_client(github_timeout=1)
    double.fail_next("GET", f"{BASE}/pulls", delay=1.6)

    response = list_prs(client)

    assert response.status_code == 504
    assert response.json()["code"] == "github_timeout"


def test_a_slow_write_says_the_outcome_is_unknown_and_is_not_repeated(make_client, double, pr):
    client = make_client(github_timeout=1)
    double.fail_next("POST", f"{BASE}/issues/{pr}/comments", delay=1.6)

    response = comment(client, pr)

    assert response.status_code == 504
    assert "may or may not have been saved" in response.json()["detail"]
    # The double records the request once its slow answer has gone out.
    assert len(eventually(lambda: double.calls("POST", f"{BASE}/issues/{pr}/comments"))) == 1


def test_primary_rate_limit_becomes_429_with_retry_after_until_the_reset(client, double, pr):
    double.rate_limit_primary("GET", f"{BASE}/pulls", reset_in=120)

    response = list_prs(client)

    assert response.status_code == 429
    problem = response.json()
    assert problem["code"] == "github_rate_limited"
    assert 115 <= problem["retry_after"] <= 120
    assert response.headers["retry-after"] == str(problem["retry_after"])
    assert len(double.requests) == 1


def test_an_exhausted_quota_is_answered_without_calling_github_until_it_resets(client, double, pr):
    double.set_quota(remaining=0, reset_in=2)  # GitHub answers this call, and says it was the last
    assert list_prs(client).status_code == 200

    refused = [list_prs(client), comment(client, pr)]

    assert [(r.status_code, r.json()["code"]) for r in refused] == [(429, "github_rate_limited")] * 2
    assert all(1 <= r.json()["retry_after"] <= 2 for r in refused)
    assert "quota is used up" in refused[0].json()["detail"]
    assert len(double.requests) == 1  # the refusals never reached GitHub
    # After GitHub's reset time the connector calls GitHub again.
    assert eventually(lambda: list_prs(client).status_code == 200)
    assert len(double.requests) == 2


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit_becomes_429_with_githubs_retry_after(client, double, pr, status):
    double.rate_limit_secondary("POST", f"{BASE}/issues/{pr}/comments", retry_after=30, status=status)

    response = comment(client, pr)

    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    assert response.json()["retry_after"] == 30
    assert response.json()["code"] == "github_rate_limited"
    assert len(double.calls("POST")) == 1


def test_after_a_secondary_limit_no_call_is_sent_until_githubs_retry_after(client, double, pr):
    double.rate_limit_secondary("POST", f"{BASE}/issues/{pr}/comments", retry_after=30)
    assert comment(client, pr).status_code == 429
    sent = len(double.requests)

    again = list_prs(client)

    assert again.status_code == 429 and again.json()["code"] == "github_rate_limited"
    assert 29 <= again.json()["retry_after"] <= 30
    assert len(double.requests) == sent


def test_missing_permission_is_named_in_github_forbidden(client, double, pr):
    double.forbid("POST", f"{BASE}/issues/{pr}/labels", permission="pull_requests=write")

    response = client.post("/chatgpt/prs/label", json={"owner": OWNER, "repo": REPO, "number": pr, "labels": ["bug"]})

    assert response.status_code == 403
    problem = response.json()
    assert problem["code"] == "github_forbidden"
    assert problem["required_permission"] == "pull_requests=write"
    assert "pull_requests=write" in problem["detail"]
    assert problem["github_request_id"]


def test_github_validation_failure_passes_githubs_reason_on(client, double, pr):
    double.fail_next("POST", f"{BASE}/issues/{pr}/comments", status=422, json={
        "message": "Validation Failed", "errors": [{"resource": "IssueComment", "code": "custom",
                                                    "message": "Body is too long"}]})

    response = comment(client, pr)

    assert response.status_code == 422
    assert response.json()["code"] == "github_validation"
    assert "Body is too long" in response.json()["detail"]


def test_rejected_github_credentials_are_a_misconfiguration_not_the_callers_fault(make_client, double, pr):
    from connector.types import Secret

    client = make_client(github_token=Secret("ghp_wrong_token_000000000000"))

    response = list_prs(client)

    assert response.status_code == 503
    assert response.json()["code"] == "misconfigured"
    assert "ghp_wrong_token" not in response.text


@pytest.mark.one_github_layout
def test_without_github_credentials_operations_answer_misconfigured_without_calls(make_client, double, pr):
    client = make_client(github_token=None)

    response = comment(client, pr)

    assert response.status_code == 503
    assert response.json()["code"] == "misconfigured"
    assert "GITHUB_TOKEN" in response.json()["detail"]
    assert double.requests == []


@pytest.mark.one_github_layout
def test_an_unreachable_github_is_github_unavailable(make_client, double):
    from tests.conftest import free_port

    client = make_client(github_api_url=f"http://127.0.0.1:{free_port()}")

    response = list_prs(client)

    assert response.status_code == 502
    assert response.json()["code"] == "github_unavailable"


def test_no_error_response_contains_a_secret(client, double, pr):
    double.fail_next("GET", f"{BASE}/pulls", status=500, json={"message": "boom"}, times=2)
    responses = [list_prs(client), comment(client, 12345), client.post("/chatgpt/prs/list", json={"x": 1})]

    for response in responses:
        assert response.status_code >= 400
        assert GITHUB_TOKEN not in response.text and API_KEY not in response.text
        assert "Traceback" not in response.text


@pytest.fixture
def empty_redis(redis_url):
    """The session's Redis, emptied before and after: a block left there would stop every later
    test that uses it with the same token."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    yield redis_url
    redis.Redis.from_url(redis_url).flushdb()


def test_a_limit_one_instance_hears_of_stops_the_others_sharing_redis(make_client, double, pr, empty_redis):
    clock = Clock()
    first, second = make_client(redis_url=Secret(empty_redis)), make_client(redis_url=Secret(empty_redis), clock=clock)
    assert list_prs(second).status_code == 200  # before the limit: second looks in Redis, finds nothing
    double.rate_limit_secondary("GET", f"{BASE}/pulls", retry_after=30)
    assert list_prs(first).status_code == 429  # GitHub tells the first instance
    sent = len(double.requests)
    clock.advance(SHARED_LOOKUP_SECONDS + 0.1)  # the second instance looks in Redis at most this often

    refused = list_prs(second)

    assert refused.status_code == 429 and refused.json()["code"] == "github_rate_limited"
    assert 28 <= refused.json()["retry_after"] <= 30
    assert len(double.requests) == sent  # it did not ask GitHub


def test_githubs_error_text_is_relayed_with_credentials_masked(client, double, pr):
    quoted = f"token {GITHUB_TOKEN} and ghs_{'A' * 36} and github_pat_{'b' * 40} are not labels"
    double.fail_next("POST", f"{BASE}/issues/{pr}/comments", status=422,
                     json={"message": quoted, "errors": [{"message": f"bad ghu_{'C' * 36}"}],
                           "documentation_url": "https://docs.github.com"})

    response = client.post("/chatgpt/prs/comment", json={"owner": OWNER, "repo": REPO, "number": pr, "body": "x"})

    detail = response.json()["detail"]
    assert response.status_code == 422 and "are not labels" in detail
    assert GITHUB_TOKEN not in detail and "ghs_" not in detail and "github_pat_" not in detail and "ghu_" not in detail
    assert detail.count("[redacted]") == 4
