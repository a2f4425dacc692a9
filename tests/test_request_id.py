"""X-Request-ID on every answer, and the same id on the log lines written while serving it."""

from __future__ import annotations

import re

import pytest

from connector.app import create_app
from connector.http.request_id import RequestIdLogFilter
from connector.types import Secret
from tests.conftest import API_KEY, OWNER, REPO, free_port

LIST = "/chatgpt/prs/list"


def test_a_new_id_when_the_caller_sends_none(client, double):
    response = client.post(LIST, json={"owner": OWNER, "repo": REPO})

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


@pytest.mark.parametrize(("offered", "kept"), [("trace-42.a:b_c", True), ("has space", False), ("x" * 129, False)])
def test_a_sane_id_from_the_caller_is_kept_and_any_other_replaced(client, double, offered, kept):
    response = client.post(LIST, json={"owner": OWNER, "repo": REPO}, headers={"X-Request-ID": offered})

    assert (response.headers["x-request-id"] == offered) is kept


@pytest.mark.one_github_layout
def test_refusals_made_before_the_app_carry_it_too(make_client, double):
    client = make_client(max_body_bytes=2048)

    unauthorized = client.post(LIST, json={}, headers={"Authorization": "Bearer wrong-key-0123456789"})
    too_large = client.post(LIST, json={"owner": OWNER, "repo": REPO, "base": "x" * 4096},
                            headers={"Origin": "https://chatgpt.com"})
    preflight = client.options(LIST, headers={"Origin": "https://chatgpt.com", "Access-Control-Request-Method": "POST"})

    assert unauthorized.status_code == 401 and unauthorized.headers["x-request-id"]
    assert too_large.status_code == 413 and too_large.headers["x-request-id"]
    assert preflight.headers["x-request-id"]
    assert "x-request-id" in too_large.headers["access-control-expose-headers"].lower()  # readable in a browser


def test_log_lines_written_while_serving_carry_the_requests_id(make_settings, double, caplog):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"  # so the rate limiter logs a warning mid-request
    client = create_app(make_settings(rate_limit=("5/minute",), redis_url=Secret(dead_redis))).test_client(
        headers={"Authorization": f"Bearer {API_KEY}"})
    caplog.handler.addFilter(RequestIdLogFilter())

    response = client.post(LIST, json={"owner": OWNER, "repo": REPO}, headers={"X-Request-ID": "follow-me-1"})

    warnings = [r for r in caplog.records if "rate limit not checked" in r.getMessage()]
    assert response.headers["x-request-id"] == "follow-me-1"
    assert warnings and {r.request_id for r in warnings} == {"follow-me-1"}
