"""The connector's own rate limits, per API key and per client address, in memory and on Redis."""

from __future__ import annotations

import pytest
import redis
import requests

from connector.app import create_app
from connector.config.settings import Settings, SettingsError
from connector.types import Secret
from tests.conftest import API_KEY, OTHER_KEY, OWNER, REPO, LiveServer, free_port

LIST = "/chatgpt/prs/list"


def list_prs(client, key=API_KEY):
    return client.post(LIST, json={"owner": OWNER, "repo": REPO}, headers={"Authorization": f"Bearer {key}"})


def test_a_key_over_its_limit_gets_429_with_retry_after_and_no_github_call(make_client, double):
    client = make_client(rate_limit=("3/minute",))

    answers = [list_prs(client) for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refusal = answers[-1]
    assert refusal.json()["code"] == "rate_limited" and "3 per 1 minute" in refusal.json()["detail"]
    assert 1 <= int(refusal.headers["retry-after"]) <= 60
    assert (refusal.headers["ratelimit-limit"], refusal.headers["ratelimit-remaining"]) == ("3", "0")
    assert len(double.requests) == 3


def test_each_key_has_its_own_allowance(make_client, double):
    client = make_client(rate_limit=("1/minute",))

    assert list_prs(client).status_code == 200
    assert list_prs(client, OTHER_KEY).status_code == 200
    assert list_prs(client).status_code == 429


@pytest.mark.one_github_layout
def test_an_address_over_its_limit_is_refused_before_its_key_is_even_checked(make_client, double):
    client = make_client(ip_rate_limit=("2/minute",))

    answers = [list_prs(client, key="wrong-key-0123456789abcdef") for _ in range(3)]

    assert [a.status_code for a in answers] == [401, 401, 429]
    assert answers[-1].headers["retry-after"]
    assert double.requests == []


def test_malformed_limits_stop_start_up():
    with pytest.raises(SettingsError, match="CONNECTOR_RATE_LIMIT='lots' is not a rate limit"):
        Settings.from_env({"CONNECTOR_API_KEY": "k" * 32, "CONNECTOR_RATE_LIMIT": "lots"})
    parsed = Settings.from_env({"CONNECTOR_API_KEY": "k" * 32, "CONNECTOR_RATE_LIMIT": "60/minute;1000/hour"})
    assert parsed.rate_limit == ("60 per 1 minute", "1000 per 1 hour")


def test_a_limit_holds_across_two_instances_sharing_redis(make_settings, double, redis_url):
    redis.Redis.from_url(redis_url).flushdb()  # counts are per key name (key-1), shared by every test
    settings = make_settings(rate_limit=("5/minute",), redis_url=Secret(redis_url))
    key = API_KEY

    with LiveServer(create_app(settings)) as first, LiveServer(create_app(settings)) as second:
        statuses = [requests.post(f"{server.url}{LIST}", json={"owner": OWNER, "repo": REPO}, timeout=10,
                                  headers={"Authorization": f"Bearer {key}"}).status_code
                    for server in [first, second] * 4]

    assert statuses.count(200) == 5 and statuses.count(429) == 3


def test_with_redis_down_limits_fail_open_and_say_so(make_settings, double, caplog):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    client = create_app(make_settings(rate_limit=("1/minute",), redis_url=Secret(dead))).test_client()

    assert [list_prs(client).status_code for _ in range(3)] == [200, 200, 200]
    assert "rate limit not checked" in caplog.text


def test_an_address_limit_counted_in_redis_refuses_and_is_named_in_the_metrics(make_settings, double, redis_url):
    from prometheus_client import REGISTRY

    def refused_by_address() -> float:  # read in-process: a scrape over HTTP would be refused too
        return REGISTRY.get_sample_value("connector_rate_limit_refusals_total", {"limit": "ip"}) or 0.0

    redis.Redis.from_url(redis_url).flushdb()
    settings = make_settings(ip_rate_limit=("2/minute",), redis_url=Secret(redis_url),
                             metrics_token=Secret("metrics-token-0123456789abcdef"))
    client = create_app(settings).test_client(headers={"Authorization": f"Bearer {API_KEY}"})
    before = refused_by_address()

    answers = [list_prs(client).status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    assert refused_by_address() - before == 1  # noted from the thread the Redis check ran in
