"""GitHub Enterprise Server base URLs, what start-up tells the operator, and what it leaves behind."""

from __future__ import annotations

import gc
import logging

import pytest

from connector.app import create_app
from connector.ghdouble import GitHubDouble
from connector.startup import long_lived_objects
from tests.conftest import API_KEY, GITHUB_TOKEN


@pytest.fixture
def enterprise_double():
    double = GitHubDouble(token=GITHUB_TOKEN, prefix="/api/v3").start()
    double.add_repo("corp", "service")
    yield double
    double.stop()


@pytest.mark.one_github_layout
def test_enterprise_server_base_url_with_api_v3_prefix_works(make_settings, enterprise_double):
    number = enterprise_double.add_pull("corp", "service", title="Bump", head="bump")
    settings = make_settings(github_api_url=enterprise_double.url)
    client = create_app(settings).test_client(headers={"Authorization": f"Bearer {API_KEY}"})

    listed = client.post("/chatgpt/prs/list", json={"owner": "corp", "repo": "service"})
    commented = client.post("/chatgpt/prs/comment", json={"owner": "corp", "repo": "service",
                                                          "number": number, "body": "ok"})

    assert enterprise_double.url.endswith("/api/v3")
    assert [pr["number"] for pr in listed.json()["pull_requests"]] == [number]
    assert commented.status_code == 201
    assert [r.path for r in enterprise_double.requests] == [
        "/repos/corp/service/pulls", f"/repos/corp/service/issues/{number}",
        f"/repos/corp/service/issues/{number}/comments"]
    assert enterprise_double.nonconforming() == []


@pytest.mark.parametrize("public_base_url, expected", [
    ("http://connector.example.com", "is not https"),
    (None, "PUBLIC_BASE_URL is not set"),
])
@pytest.mark.one_github_layout
def test_start_up_warns_when_the_public_url_will_not_work_with_chatgpt(make_settings, caplog, public_base_url, expected):
    with caplog.at_level(logging.WARNING, logger="connector"):
        create_app(make_settings(public_base_url=public_base_url))

    assert expected in caplog.text


@pytest.mark.one_github_layout
def test_start_up_is_quiet_about_a_proper_https_url(make_settings, caplog):
    with caplog.at_level(logging.WARNING, logger="connector"):
        create_app(make_settings(public_base_url="https://connector.example.com"))

    assert "PUBLIC_BASE_URL" not in caplog.text
    assert GITHUB_TOKEN not in caplog.text


@pytest.mark.parametrize("enabled", [True, False])
def test_start_up_imports_leave_the_gc_as_they_found_it(enabled):
    was_enabled = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with long_lived_objects():
            assert not gc.isenabled()
        assert gc.isenabled() == enabled
        assert gc.get_freeze_count() > 0
    finally:
        (gc.enable if was_enabled else gc.disable)()
