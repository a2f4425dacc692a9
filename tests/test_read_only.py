"""CONNECTOR_READ_ONLY: write operations are neither routed nor advertised."""

from __future__ import annotations

import pytest

from connector.config.settings import Settings
from tests.conftest import OWNER, REPO

WRITES = {
    "/chatgpt/dispatch": {"event_type": "deploy"},
    "/chatgpt/prs/comment": {"number": 1, "body": "hi"},
    "/chatgpt/prs/label": {"number": 1, "labels": ["bug"]},
    "/chatgpt/runs/cancel": {"run_id": 1},
    "/chatgpt/runs/rerun": {"run_id": 1},
    "/chatgpt/workflows/dispatch": {"workflow": "deploy.yml", "ref": "main"},
}


@pytest.fixture
def read_only(make_client, double):
    return make_client(read_only=True)


@pytest.mark.one_github_layout
def test_the_served_schema_has_only_the_read_operations(read_only):
    served = read_only.get("/openapi.json").json()

    operations = {op["operationId"] for item in served["paths"].values() for op in item.values()}
    assert operations == {"list_pull_requests", "get_pull_request", "list_dispatch_events", "list_workflow_runs",
                          "get_workflow_run", "get_job_logs", "get_dispatch_status"}
    assert not any(op.get("x-openai-isConsequential") for item in served["paths"].values() for op in item.values())


@pytest.mark.parametrize("path", WRITES)
@pytest.mark.one_github_layout
def test_write_routes_do_not_exist_and_make_no_github_call(read_only, double, path):
    response = read_only.post(path, json={"owner": OWNER, "repo": REPO, **WRITES[path]})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert double.requests == []


def test_reads_still_work(read_only, double):
    assert read_only.post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO}).status_code == 200


def test_read_only_is_read_from_the_environment():
    assert Settings.from_env({"CONNECTOR_API_KEY": "k" * 32, "CONNECTOR_READ_ONLY": "true"}).read_only is True
