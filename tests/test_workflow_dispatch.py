"""dispatch_workflow: inputs checked against the workflow file before any write, the run returned
directly under both API versions, and the request_id fallback where GitHub answers 204."""

from __future__ import annotations

import re

import pytest

from tests.conftest import OWNER, REPO

DISPATCHES = re.compile(r".*/actions/workflows/[^/]+/dispatches$")
DEPLOY = """\
name: Deploy
run-name: ${{ inputs.request_id }}
on:
  workflow_dispatch:
    inputs:
      environment: {type: choice, options: [staging, production], required: true}
      dry: {type: boolean, default: false}
      replicas: {type: number}
      request_id: {type: string, description: Set by the connector when absent.}
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps: [{run: ./deploy.sh}]
"""


@pytest.fixture
def deploy(double):
    workflow_id = double.add_workflow(OWNER, REPO, "Deploy", workflow_file=DEPLOY, file_name="deploy.yml")
    double.clear_requests()
    return workflow_id


def start(client, **body):
    return client.post("/chatgpt/workflows/dispatch", json={"owner": OWNER, "repo": REPO, **body})


@pytest.mark.parametrize("version", ["2022-11-28", "2026-03-10"])
def test_the_run_it_started_comes_back_directly(make_client, double, deploy, version):
    client = make_client(github_api_version=version)

    response = start(client, workflow="deploy.yml", ref="main", inputs={"environment": "staging", "dry": True})

    assert response.status_code == 202, response.text
    answer = response.json()
    [run] = double.runs(OWNER, REPO)
    assert answer["run_id"] == run["id"] and answer["html_url"] == run["html_url"]
    assert answer["workflow"] == ".github/workflows/deploy.yml" and answer["ref"] == "main"
    assert run["event"] == "workflow_dispatch"
    sent = double.run_inputs(run["id"])
    assert sent["environment"] == "staging" and sent["dry"] == "true"
    assert sent["request_id"] == answer["request_id"]  # declared, so filled in for run-name
    assert {r.api_version for r in double.requests} == {version}  # the header went on every call
    [call] = double.calls("POST", DISPATCHES)
    assert ("return_run_details" in call.body) is (version == "2022-11-28")


def test_without_a_ref_the_default_branch_is_used(client, double, deploy):
    response = start(client, workflow="deploy.yml", inputs={"environment": "staging"})

    assert response.status_code == 202, response.text
    assert response.json()["ref"] == "main"


def test_a_workflow_is_found_by_its_id_too(client, double, deploy):
    response = start(client, workflow=str(deploy), ref="main", inputs={"environment": "production"})

    assert response.status_code == 202, response.text
    assert response.json()["workflow"] == ".github/workflows/deploy.yml"


@pytest.mark.parametrize("inputs, path, message", [
    ({"environment": "qa"}, "$.inputs.environment", "must be one of staging, production"),
    ({}, "$.inputs.environment", "is required"),
    ({"environment": "staging", "colour": "red"}, "$.inputs.colour", "declares no input 'colour'"),
    ({"environment": "staging", "dry": "yes"}, "$.inputs.dry", "true or false"),
    ({"environment": "staging", "replicas": "three"}, "$.inputs.replicas", "must be a number"),
])
def test_inputs_that_break_the_declared_types_are_refused_before_any_write(client, double, deploy, inputs, path,
                                                                           message):
    response = start(client, workflow="deploy.yml", ref="main", inputs=inputs, request_id="wd-bad-1")

    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert any(e["path"] == path and message in e["message"] for e in problem["errors"]), problem
    assert double.calls("POST", DISPATCHES) == []
    assert double.runs(OWNER, REPO) == []


def test_every_bad_input_is_named_at_once(client, double, deploy):
    response = start(client, workflow="deploy.yml", ref="main", inputs={"dry": "maybe", "x": "1"})

    assert {e["path"] for e in response.json()["errors"]} == {"$.inputs.dry", "$.inputs.x", "$.inputs.environment"}


def test_the_workflow_file_is_read_once_a_minute_per_ref(client, double, deploy):
    for _ in range(2):
        assert start(client, workflow="deploy.yml", ref="main", inputs={"environment": "staging"}).status_code == 202

    contents = double.calls("GET", re.compile(r".*/contents/.*"))
    assert len(contents) == 1
    assert len(double.calls("POST", DISPATCHES)) == 2


def test_the_file_is_read_at_the_ref_asked_for(client, double, deploy):
    release = "on:\n  workflow_dispatch:\n    inputs:\n      tag: {type: string, required: true}\njobs: {}\n"
    double.add_branch(OWNER, REPO, "release", files={".github/workflows/deploy.yml": release})

    response = start(client, workflow="deploy.yml", ref="release", inputs={"environment": "staging"})

    assert response.status_code == 400
    assert {e["path"] for e in response.json()["errors"]} == {"$.inputs.environment", "$.inputs.tag"}


def test_a_workflow_without_a_workflow_dispatch_trigger_is_refused(client, double):
    double.add_workflow(OWNER, REPO, "Nightly", types=["nightly"], file_name="nightly.yml")
    double.clear_requests()

    response = start(client, workflow="nightly.yml", ref="main")

    assert response.status_code == 422
    assert response.json()["code"] == "workflow_not_dispatchable"
    assert double.calls("POST", DISPATCHES) == []


def test_a_missing_workflow_file_is_not_found(client, double, deploy):
    response = start(client, workflow="nope.yml", ref="main")

    assert response.status_code == 404 and "nope.yml" in response.json()["detail"]


def test_an_older_server_that_answers_204_falls_back_to_the_request_id(client, double, deploy):
    double.dispatch_ignores_run_details = True

    response = start(client, workflow="deploy.yml", ref="main", inputs={"environment": "staging"},
                     request_id="wd-204-1")

    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["run_id"] is None and "get_dispatch_status" in answer["hint"]
    status = client.post("/chatgpt/dispatch/status", json={"owner": OWNER, "repo": REPO, "request_id": "wd-204-1"})
    assert status.status_code == 200, status.text
    [run] = status.json()["runs"]
    assert run["id"] == double.runs(OWNER, REPO)[0]["id"]


def test_a_dry_run_checks_the_inputs_and_starts_nothing(client, double, deploy):
    response = start(client, workflow="deploy.yml", ref="main", inputs={"environment": "staging"}, dry_run=True)

    assert response.status_code == 200, response.text
    would = response.json()["would"]
    assert would["action"] == "dispatch_workflow" and would["input_keys"] == ["environment", "request_id"]
    assert double.calls("POST", DISPATCHES) == [] and double.runs(OWNER, REPO) == []


def test_a_repeat_with_the_same_request_id_starts_one_run(client, double, deploy):
    body = {"workflow": "deploy.yml", "ref": "main", "inputs": {"environment": "staging"}, "request_id": "wd-once"}

    first, second = start(client, **body), start(client, **body)

    assert first.json() == second.json() and second.headers["idempotent-replayed"] == "true"
    assert len(double.runs(OWNER, REPO)) == 1
