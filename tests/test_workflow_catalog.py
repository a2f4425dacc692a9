"""The catalog's workflows: which ones dispatch_workflow may start, and list_dispatch_events telling
a model each one's inputs as the workflow file declares them."""

from __future__ import annotations

import re

import pytest

from connector.spec.catalog import EventsFileError, load_catalog
from tests.conftest import OWNER, REPO
from tests.test_workflow_dispatch import DEPLOY, DISPATCHES, start

CONTENTS = re.compile(r".*/contents/.*")
CATALOG = """\
workflows:
  deploy.yml:
    description: Deploy the application to an environment.
  release.yml:
    description: Build and publish a release from a tag.
"""
RELEASE = """\
on:
  workflow_dispatch:
    inputs:
      tag: {type: string, required: true, description: "The tag to release.\\u202e"}
jobs: {release: {runs-on: ubuntu-latest, steps: [{run: ./release.sh}]}}
"""


@pytest.fixture
def workflows_file(tmp_path):
    path = tmp_path / "events.yaml"
    path.write_text(CATALOG, encoding="utf-8")
    return path


@pytest.fixture
def seeded(double):
    deploy = double.add_workflow(OWNER, REPO, "Deploy", workflow_file=DEPLOY, file_name="deploy.yml")
    other = double.add_workflow(OWNER, REPO, "Nightly", workflow_file=RELEASE, file_name="nightly.yml")
    double.add_workflow(OWNER, REPO, "Release", workflow_file=RELEASE, file_name="release.yml")
    double.clear_requests()
    return {"deploy": deploy, "nightly": other}


def test_a_workflow_outside_the_catalog_is_refused_before_any_github_call(make_client, double, seeded,
                                                                         workflows_file):
    client = make_client(events_file=workflows_file)

    response = start(client, workflow="nightly.yml", ref="main", inputs={"tag": "v1"})

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "workflow_not_dispatchable"
    assert problem["allowed"] == ["deploy.yml", "release.yml"]
    assert double.requests == []


def test_a_workflow_given_by_id_is_checked_by_the_file_it_stands_for(make_client, double, seeded, workflows_file):
    client = make_client(events_file=workflows_file)

    refused = start(client, workflow=str(seeded["nightly"]), ref="main", inputs={"tag": "v1"})
    started = start(client, workflow=str(seeded["deploy"]), ref="main", inputs={"environment": "staging"})

    assert refused.json()["code"] == "workflow_not_dispatchable", refused.text
    assert started.status_code == 202, started.text
    assert len(double.calls("POST", DISPATCHES)) == 1


def test_a_catalog_of_workflows_alone_still_accepts_any_event(make_client, double, workflows_file):
    client = make_client(events_file=workflows_file)

    response = client.post("/chatgpt/dispatch", json={"owner": OWNER, "repo": REPO, "event_type": "anything"})

    assert response.status_code == 202, response.text


def test_the_list_gives_each_workflows_inputs_from_its_file(make_client, double, seeded, workflows_file):
    client = make_client(events_file=workflows_file)

    answer = client.post("/chatgpt/events/list", json={"owner": OWNER, "repo": REPO}).json()

    assert answer["catalog"] is True and answer["events"] == []
    deploy, release = answer["workflows"]
    assert deploy["name"] == "deploy.yml" and deploy["description"].startswith("Deploy the application")
    assert {i["name"]: (i["type"], i["required"]) for i in deploy["inputs"]} == {
        "environment": ("choice", True), "dry": ("boolean", False), "replicas": ("number", False),
        "request_id": ("string", False)}
    assert next(i for i in deploy["inputs"] if i["name"] == "environment")["options"] == ["staging", "production"]
    assert release["inputs"] == [{"name": "tag", "type": "string", "required": True,
                                  "description": "The tag to release."}]  # the override character is gone
    assert len(double.calls("GET", CONTENTS)) == 2
    client.post("/chatgpt/events/list", json={"owner": OWNER, "repo": REPO})
    assert len(double.calls("GET", CONTENTS)) == 2  # kept a minute, as dispatch_workflow keeps them


def test_the_inputs_listed_are_the_ones_a_dispatch_then_checks(make_client, double, seeded, workflows_file):
    client = make_client(events_file=workflows_file)
    client.post("/chatgpt/events/list", json={"owner": OWNER, "repo": REPO})

    response = start(client, workflow="release.yml", inputs={})

    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == ["$.inputs.tag"]


def test_without_a_repository_the_workflows_are_listed_without_inputs(make_client, double, seeded, workflows_file):
    client = make_client(events_file=workflows_file, default_repo=None)

    answer = client.post("/chatgpt/events/list").json()

    assert [(w["name"], w["inputs"]) for w in answer["workflows"]] == [("deploy.yml", None), ("release.yml", None)]
    assert double.requests == []


def test_a_catalogued_workflow_missing_from_the_repository_says_so(make_client, double, workflows_file):
    double.add_workflow(OWNER, REPO, "Deploy", workflow_file=DEPLOY, file_name="deploy.yml")
    client = make_client(events_file=workflows_file)

    deploy, release = client.post("/chatgpt/events/list", json={"owner": OWNER, "repo": REPO}).json()["workflows"]

    assert deploy["inputs"] and "problem" not in deploy
    assert release["inputs"] is None and "release.yml" in release["problem"]


def test_the_served_spec_names_the_allowed_workflows(make_client, workflows_file):
    served = make_client(events_file=workflows_file).get("/openapi.json").json()

    workflow = served["components"]["schemas"]["WorkflowDispatchRequest"]["properties"]["workflow"]
    assert workflow["enum"] == ["deploy.yml", "release.yml"]
    assert "release.yml (Build and publish a release from a tag)" in workflow["description"]
    assert "enum" not in served["components"]["schemas"]["DispatchRequest"]["properties"]["event_type"]


def test_the_example_catalog_lists_workflows_too():
    catalog = load_catalog(__import__("pathlib").Path(__file__).parent.parent / "examples" / "events.yaml")

    assert catalog.restricts_events and catalog.restricts_workflows


@pytest.mark.parametrize("text, message", [
    ("workflows:\n  ../deploy.yml: {description: x}\n", "file name in .github/workflows"),
    ("workflows:\n  deploy: {description: x}\n", "file name in .github/workflows"),
    ("workflows:\n  deploy.yml: {description: x, inputs: {}}\n", "read from the file"),
    ("workflows:\n  deploy.yml: {}\n", "read from the file"),
    ("workflows: [deploy.yml]\n", "'workflows' must be a mapping"),
    ("workflow:\n  deploy.yml: {description: x}\n", "a 'workflows' mapping"),
    ("workflows:\n" + "".join(f"  w{i}.yml: {{description: x}}\n" for i in range(21)), "at most 20 workflows"),
])
def test_a_malformed_workflows_section_stops_start_up(tmp_path, text, message):
    path = tmp_path / "events.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(EventsFileError, match=re.escape(message)):
        load_catalog(path)
