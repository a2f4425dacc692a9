"""GitHubQuota alone, on a clock the test moves: which answers block calls, for how long, and
which do not."""

from __future__ import annotations

import pytest

from connector.errors import GitHubRateLimited
from connector.github.quota import GitHubQuota, QuotaReading

NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def quota(clock) -> GitHubQuota:
    return GitHubQuota(clock=clock)


def core(remaining: int, reset_in: int = 600, **more: str) -> dict[str, str]:
    return {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": str(int(NOW) + reset_in), "x-ratelimit-resource": "core", **more}


def test_a_used_up_quota_blocks_its_bucket_until_the_reset(quota, clock):
    assert quota.observe("token", 200, core(0, reset_in=600)) == QuotaReading(remaining=0, limit=5000)

    with pytest.raises(GitHubRateLimited) as refused:
        quota.check("token")
    assert refused.value.extra["retry_after"] == 600
    quota.check("installation-7")  # another installation has its own quota

    clock.now += 599.6
    with pytest.raises(GitHubRateLimited):
        quota.check("token")
    clock.now += 0.5
    quota.check("token")


def test_quota_left_blocks_nothing(quota):
    assert quota.observe("token", 200, core(1)) == QuotaReading(remaining=1, limit=5000)
    quota.check("token")


def test_other_resources_and_answers_without_headers_block_nothing(quota):
    assert quota.observe("token", 200, core(0, **{"x-ratelimit-resource": "search"})) is None
    assert quota.observe("token", 502, {}) is None
    quota.check("token")


def test_a_secondary_limit_blocks_for_githubs_retry_after(quota, clock):
    quota.observe("token", 403, {"retry-after": "30", **core(4000)})

    with pytest.raises(GitHubRateLimited) as refused:
        quota.check("token")
    assert refused.value.extra["retry_after"] == 30 and "secondary" in refused.value.detail
    clock.now += 31
    quota.check("token")


def test_retry_after_on_a_success_is_not_a_limit(quota):
    quota.observe("token", 200, {"retry-after": "30"})
    quota.check("token")


def test_a_shorter_block_does_not_cut_a_longer_one(quota, clock):
    quota.observe("token", 200, core(0, reset_in=600))
    quota.observe("token", 429, {"retry-after": "5"})
    clock.now += 10

    with pytest.raises(GitHubRateLimited) as refused:
        quota.check("token")
    assert refused.value.extra["retry_after"] == 590
