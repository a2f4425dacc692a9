"""A write whose text holds a credential is refused (422 secret_in_input) before any GitHub call."""

from __future__ import annotations

import json

import pytest

from connector.app import create_app
from connector.http.credential_scan import credential_kind
from tests.conftest import OWNER, REPO, LiveServer
from tests.test_mcp import mcp_client, run

# Shaped like real credentials, valid for nothing (AWS's own documented example key among them).
GITHUB_CLASSIC = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2
FINE_GRAINED = "github_pat_11ABCDEFG0" + "x" * 72
PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
SLACK = "xoxb-" + "1234567890-" * 2 + "abcdefghijklmnopqrstuvwx"


@pytest.mark.parametrize("text, kind", [
    (f"use {GITHUB_CLASSIC} for now", "GitHub Token"),
    (FINE_GRAINED, "GitHub Token"),
    (PRIVATE_KEY, "Private Key"),
    (f"aws_access_key_id = {AWS_KEY}", "AWS Access Key"),
    (SLACK, "Slack Token"),
])
def test_credentials_are_recognised_by_their_format(text, kind):
    assert credential_kind(text) == kind


@pytest.mark.parametrize("text", [
    "Looks good to me; the retry loop could log each attempt.",
    "Deployed 4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f to staging",  # a commit id is not a secret
    "See https://github.com/octo-org/webapp/actions/runs/30433642 and ghp_ alone",
    "token: ${{ secrets.GITHUB_TOKEN }}",
])
def test_ordinary_text_passes(text):
    assert credential_kind(text) is None


@pytest.mark.parametrize("path, body, field", [
    ("/chatgpt/prs/comment", {"body": f"here you go: {GITHUB_CLASSIC}"}, "$.body"),
    ("/chatgpt/dispatch", {"event_type": "deploy", "client_payload": {"token": FINE_GRAINED}},
     "$.client_payload.token"),
    ("/chatgpt/workflows/dispatch", {"workflow": "deploy.yml", "ref": "main", "inputs": {"key": AWS_KEY}},
     "$.inputs.key"),
])
def test_a_write_carrying_a_credential_is_refused_naming_the_field_and_calling_no_github(client, double, pr, path,
                                                                                         body, field):
    body = {"owner": OWNER, "repo": REPO, **({"number": pr} if "prs" in path else {}), **body,
            "request_id": "secret-1"}

    response = client.post(path, json=body)

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "secret_in_input" and problem["field"] == field
    assert field in problem["detail"]
    assert GITHUB_CLASSIC not in response.text and FINE_GRAINED not in response.text and AWS_KEY not in response.text
    assert double.requests == []
    # No request_id was claimed: the same id with clean text goes through.
    if path == "/chatgpt/prs/comment":
        again = client.post(path, json={**body, "body": "here you go: (sent separately)"})
        assert again.status_code == 201
        assert double.comments(OWNER, REPO, pr)[-1]["body"].startswith("here you go: (sent separately)")


def test_a_dry_run_is_refused_too(client, double, pr):
    response = client.post("/chatgpt/prs/comment", json={"owner": OWNER, "repo": REPO, "number": pr,
                                                         "body": PRIVATE_KEY, "dry_run": True})

    assert response.status_code == 422 and response.json()["code"] == "secret_in_input"
    assert double.requests == []


def test_the_gateway_route_refuses_it(make_client, double):
    client = make_client(default_repo=(OWNER, REPO))
    response = client.post("/v1/dispatch", headers={"x-api-key": client.headers["Authorization"].split()[1]},
                           json={"action": "deploy", "args": {"env": "staging", "note": SLACK}})

    assert response.status_code == 422 and response.json()["code"] == "secret_in_input"
    assert response.json()["field"] == "$.args.note"
    assert double.dispatches(OWNER, REPO) == []


@pytest.mark.one_github_layout
def test_an_mcp_tool_call_is_refused_alike(make_settings, double, pr):
    with LiveServer(create_app(make_settings())) as server:
        async def call():
            async with mcp_client(server.url) as mcp:
                return await mcp.call_tool("comment_on_pull_request", {
                    "owner": OWNER, "repo": REPO, "number": pr, "body": f"key: {AWS_KEY}"})

        result = run(call)

    assert result.is_error
    problem = json.loads(result.content[0].text)
    assert problem["code"] == "secret_in_input" and problem["field"] == "$.body"
    assert double.requests == []
