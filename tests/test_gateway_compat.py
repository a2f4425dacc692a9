"""POST /v1/dispatch: the actions gateway's request, response and error codes, on the connector's
keys, allowlist, event catalog and GitHub client."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.app import create_app
from tests.conftest import API_KEY, OWNER, REPO, keys_file_with

ROOT = Path(__file__).resolve().parent.parent
DISPATCHES = f"/repos/{OWNER}/{REPO}/dispatches"


def gateway(client, body, key=API_KEY):
    headers = {"Authorization": ""}  # the shared test client sends a bearer key; this route ignores it
    if key is not None:
        headers["x-api-key"] = key
    return client.post("/v1/dispatch", json=body, headers=headers)


@pytest.fixture
def gateway_client(make_client, double):
    return make_client(default_repo=(OWNER, REPO), events_file=ROOT / "examples" / "events.yaml")


def test_an_action_is_dispatched_as_the_gateway_did_it(gateway_client, double):
    response = gateway(gateway_client, {"action": "deploy", "args": {"env": "staging", "version": "v1.4.2"},
                                        "request_id": "req-1"})

    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "dispatched": True, "request_id": "req-1"}
    assert double.dispatches(OWNER, REPO) == [{
        "event_type": "deploy",
        "client_payload": {"action": "deploy", "args": {"env": "staging", "version": "v1.4.2"},
                           "request_id": "req-1"},
    }]


def test_a_request_id_is_generated_and_args_default_to_empty(gateway_client, double):
    response = gateway(gateway_client, {"action": "scan"})

    assert response.status_code == 200
    request_id = response.json()["request_id"]
    assert double.dispatches(OWNER, REPO)[0]["client_payload"] == {"action": "scan", "args": {}, "request_id": request_id}


@pytest.mark.parametrize("key", [None, "wrong-key-0123456789abcdef"])
@pytest.mark.one_github_layout
def test_without_a_valid_x_api_key_it_is_401(gateway_client, double, key):
    response = gateway(gateway_client, {"action": "scan"}, key=key)

    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert "x-api-key" in response.json()["detail"]
    assert double.requests == []


@pytest.mark.one_github_layout
def test_a_bearer_key_alone_does_not_open_the_gateway_route(gateway_client, double):
    response = gateway_client.post("/v1/dispatch", json={"action": "scan"})  # Authorization: Bearer only

    assert response.status_code == 401
    assert double.requests == []


@pytest.mark.one_github_layout
def test_a_key_without_the_dispatch_scope_is_refused(make_client, double, tmp_path):
    key = "reader-key-0123456789abcdef0123"
    keys_file = keys_file_with(tmp_path / "keys.toml", "reader", key, ["prs:read"])
    client = make_client(default_repo=(OWNER, REPO), keys_file=keys_file)

    response = gateway(client, {"action": "scan"}, key=key)

    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert double.requests == []


@pytest.mark.one_github_layout
def test_no_keys_left_is_missing_api_key_config(make_settings, double, tmp_path):
    keys_file = tmp_path / "keys.toml"
    keys_file.write_text("keys = []\n")
    settings = make_settings(api_keys=(), keys_file=keys_file, default_repo=(OWNER, REPO))
    client = create_app(settings).test_client()

    response = gateway(client, {"action": "scan"}, key="any-key-0123456789abcdef")

    assert response.status_code == 503
    assert response.json()["code"] == "missing_api_key_config"
    assert double.requests == []


@pytest.mark.parametrize(("overrides", "named"), [
    ({}, "CONNECTOR_DEFAULT_REPO"),
    ({"github_token": None, "default_repo": (OWNER, REPO)}, "GITHUB_TOKEN"),
])
@pytest.mark.one_github_layout
def test_without_github_settings_it_is_missing_github_config(make_client, double, overrides, named):
    client = make_client(**overrides)

    response = gateway(client, {"action": "scan"})

    assert response.status_code == 503
    assert response.json()["code"] == "missing_github_config"
    assert named in response.json()["detail"]
    assert double.requests == []


@pytest.mark.parametrize(("fault", "words"), [
    ({"status": 404, "json": {"message": "Not Found"}}, "not found"),
    ({"status": 422, "json": {"message": "Validation Failed"}}, "refused the values"),
    ({"status": 502, "json": {"message": "Bad Gateway"}}, "GitHub may have applied it"),
    ({"drop": True}, "GitHub may have applied it"),
])
def test_a_github_failure_is_github_dispatch_failed(gateway_client, double, fault, words):
    double.fail_next("POST", DISPATCHES, **fault)

    response = gateway(gateway_client, {"action": "scan"})

    assert response.status_code == 502
    problem = response.json()
    assert problem["code"] == "github_dispatch_failed"
    assert words in problem["detail"]
    assert len(double.calls("POST", DISPATCHES)) == 1  # a write is never retried


def test_githubs_rate_limit_stays_a_429_with_retry_after(gateway_client, double):
    double.rate_limit_secondary("POST", DISPATCHES, retry_after=30)

    response = gateway(gateway_client, {"action": "scan"})

    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"


@pytest.mark.one_github_layout
def test_the_catalog_applies_to_the_actions_args(gateway_client, double):
    unknown = gateway(gateway_client, {"action": "destroy", "args": {}})
    bad_args = gateway(gateway_client, {"action": "rollback", "args": {"env": "moon"}})

    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_event"
    assert bad_args.status_code == 400
    assert sorted(e["path"] for e in bad_args.json()["errors"]) == ["$.args.env", "$.args.to"]
    assert double.requests == []


@pytest.mark.one_github_layout
def test_the_key_and_global_allowlists_apply_to_the_default_repository(make_client, double, tmp_path):
    key = "other-repos-key-0123456789abcdef"
    keys_file = keys_file_with(tmp_path / "keys.toml", "elsewhere", key, ["dispatch"], ["other-org/*"])
    client = make_client(default_repo=(OWNER, REPO), keys_file=keys_file)

    response = gateway(client, {"action": "scan"}, key=key)

    assert response.status_code == 403
    assert response.json()["code"] == "repo_not_allowed"
    assert double.requests == []


@pytest.mark.one_github_layout
def test_the_route_is_not_in_the_spec_chatgpt_imports(gateway_client):
    document = gateway_client.get("/openapi.json").json()

    assert "/v1/dispatch" not in document["paths"]
    assert list(document["components"]["securitySchemes"]) == ["bearerAuth"]


@pytest.mark.one_github_layout
def test_bodies_beyond_the_gateways_fields_are_refused(gateway_client, double):
    response = gateway(gateway_client, {"action": "scan", "owner": "elsewhere"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "$.owner"
    assert double.requests == []


def test_dry_run_checks_the_repository_and_sends_nothing(gateway_client, double):
    response = gateway(gateway_client, {"action": "deploy", "args": {"env": "dev", "version": "v1"},
                                        "request_id": "r-1", "dry_run": True})

    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "dry_run": True, "would": {
        "action": "dispatch", "repository": f"{OWNER}/{REPO}", "event_type": "deploy",
        "client_payload_keys": ["action", "args", "request_id"], "request_id": "r-1"}}
    assert [(r.method, r.path) for r in double.requests] == [("GET", f"/repos/{OWNER}/{REPO}")]


@pytest.mark.one_github_layout
def test_read_only_mode_does_not_route_it(make_client, double):
    client = make_client(default_repo=(OWNER, REPO), read_only=True)

    response = gateway(client, {"action": "scan"})

    assert response.status_code == 404
    assert double.requests == []
