"""The event catalog: what it lets through, what it refuses (with no GitHub call), and how the
served spec describes it to ChatGPT."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from connector.config.settings import Settings, SettingsError
from connector.spec.catalog import EventsFileError, load_catalog
from connector.spec.document import document_for, served_document
from tests.conftest import OWNER, REPO

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "events.yaml"
DISPATCHES = f"/repos/{OWNER}/{REPO}/dispatches"


@pytest.fixture
def catalog_client(make_client, double):
    return make_client(events_file=EXAMPLE)


def dispatch(client, **body):
    return client.post("/chatgpt/dispatch", json={"owner": OWNER, "repo": REPO, **body})


def test_a_catalogued_event_is_dispatched_with_its_arguments(catalog_client, double):
    response = dispatch(catalog_client, event_type="deploy", client_payload={"env": "prod", "version": "v2.0.0"})

    assert response.status_code == 202, response.text
    assert double.dispatches(OWNER, REPO) == [{
        "event_type": "deploy",
        "client_payload": {"env": "prod", "version": "v2.0.0", "request_id": response.json()["request_id"]},
    }]


def test_an_events_own_default_is_filled_in_and_no_other_events_default_leaks_in(catalog_client, double):
    assert dispatch(catalog_client, event_type="report").status_code == 202
    assert dispatch(catalog_client, event_type="deploy",
                    client_payload={"env": "dev", "version": "v1"}).status_code == 202

    report, deploy = (d["client_payload"] for d in double.dispatches(OWNER, REPO))
    assert report["period"] == "week"
    assert "period" not in deploy


@pytest.mark.one_github_layout
def test_an_unknown_event_is_refused_with_the_allowed_ones_and_no_github_call(catalog_client, double):
    response = dispatch(catalog_client, event_type="deplyo", client_payload={"env": "prod", "version": "v2"})

    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["code"] == "unknown_event"
    assert problem["allowed"] == ["deploy", "rollback", "scan", "report"]
    assert "did you mean 'deploy'?" in problem["detail"]
    assert double.requests == []


@pytest.mark.parametrize(("payload", "paths"), [
    ({"env": "qa", "version": "v1"}, ["$.client_payload.env"]),
    ({"env": "prod"}, ["$.client_payload.version"]),
    ({"env": "prod", "version": "v1", "force": True}, ["$.client_payload.force"]),
    (None, ["$.client_payload.env", "$.client_payload.version"]),
])
@pytest.mark.one_github_layout
def test_a_payload_that_breaks_its_events_schema_lists_each_bad_field(catalog_client, double, payload, paths):
    response = dispatch(catalog_client, event_type="deploy", client_payload=payload)

    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert sorted(error["path"] for error in problem["errors"]) == sorted(paths)
    assert double.requests == []


@pytest.mark.one_github_layout
def test_an_argument_of_another_event_is_refused_for_this_one(catalog_client, double):
    # `to` is in the served union (rollback takes it) but deploy's own schema forbids it.
    response = dispatch(catalog_client, event_type="deploy", client_payload={"env": "dev", "version": "v1", "to": "v0"})

    assert response.status_code == 400
    assert [error["path"] for error in response.json()["errors"]] == ["$.client_payload.to"]
    assert double.requests == []


@pytest.mark.one_github_layout
def test_dry_run_checks_the_catalog_too(catalog_client, double):
    response = dispatch(catalog_client, event_type="rollback", client_payload={"env": "prod"}, dry_run=True)

    assert response.status_code == 400
    assert double.requests == []


@pytest.mark.one_github_layout
def test_the_served_spec_lists_the_events_and_their_arguments(catalog_client):
    document = catalog_client.get("/openapi.json").json()
    validate(document)
    request = document["components"]["schemas"]["DispatchRequest"]
    event_type, payload = request["properties"]["event_type"], request["properties"]["client_payload"]

    assert event_type["enum"] == ["deploy", "rollback", "scan", "report"]
    assert "deploy (Deploy a version of the application to an environment)" in event_type["description"]
    assert set(payload["properties"]) == {"env", "version", "to", "target", "period"}
    assert payload["properties"]["env"]["description"].startswith("For deploy, rollback.")
    assert "default" not in payload["properties"]["period"]
    assert "deploy needs env, version; rollback needs env, to; scan, report: all optional" in payload["description"]
    descriptions = [v for k, v in _walk(document) if k == "description"]
    assert descriptions and max(map(len, descriptions)) <= 300


@pytest.mark.one_github_layout
def test_without_a_catalog_the_spec_names_no_events(client):
    event_type = client.get("/openapi.json").json()["components"]["schemas"]["DispatchRequest"]["properties"]["event_type"]

    assert "enum" not in event_type


def test_the_enforced_document_does_not_enforce_the_enum():
    # So that an unknown name reaches the handler and gets unknown_event with suggestions.
    catalog = load_catalog(EXAMPLE)
    enforced = document_for(has_default_repo=False, catalog=catalog)
    served = served_document(enforced, "https://connector.example.com", catalog)

    assert "enum" not in enforced["components"]["schemas"]["DispatchRequest"]["properties"]["event_type"]
    assert "enum" in served["components"]["schemas"]["DispatchRequest"]["properties"]["event_type"]


def test_a_long_catalog_keeps_every_served_description_within_chatgpts_limit(tmp_path):
    events = {f"event-{i}": {"description": "x" * 290, "payload": {
        "type": "object", "properties": {"arg": {"type": "string", "description": "y" * 300}}}} for i in range(6)}
    path = tmp_path / "events.yaml"
    path.write_text(json.dumps({"events": events}))
    catalog = load_catalog(path)
    served = served_document(document_for(has_default_repo=True, catalog=catalog), "https://c.example", catalog)

    descriptions = [v for k, v in _walk(served) if k == "description"]
    assert max(map(len, descriptions)) <= 300


@pytest.mark.parametrize(("text", "message"), [
    ("events: [", "cannot be read as YAML"),
    ("other: {}", "non-empty 'events' mapping"),
    ("events: {}", "non-empty 'events' mapping"),
    ("events: {'bad name': {description: d}}", "a name is 1-100 letters"),
    ("events: {deploy: {}}", "needs a description"),
    ("events: {deploy: {description: '" + "d" * 301 + "'}}", "needs a description of 1-300"),
    ("events: {deploy: {description: d, args: {}}}", "must be a mapping with 'description'"),
    ("events: {deploy: {description: d, payload: {type: array}}}", "type: object and properties"),
    ("events: {deploy: {description: d, payload: {type: object}}}", "type: object and properties"),
    ("events: {deploy: {description: d, payload: {type: object, properties: {request_id: {}}}}}", "request_id"),
    ("events: {deploy: {description: d, payload: {type: object, properties: {}, minProperties: -1}}}",
     "not a valid JSON Schema at $.minProperties"),
])
def test_a_malformed_catalog_stops_start_up_saying_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "events.yaml"
    path.write_text(text)

    with pytest.raises(EventsFileError, match=None) as raised:
        load_catalog(path)
    assert message in str(raised.value)
    assert str(path) in str(raised.value)


def test_an_event_without_a_payload_schema_takes_no_arguments(tmp_path, make_client, double):
    path = tmp_path / "events.yaml"
    path.write_text("events: {ping: {description: Check that workflows run.}}")
    client = make_client(events_file=path)

    assert dispatch(client, event_type="ping").status_code == 202
    assert dispatch(client, event_type="ping", client_payload={"x": 1}).status_code == 400
    assert len(double.calls("POST", DISPATCHES)) == 1


def test_the_events_file_setting_must_name_a_file(tmp_path):
    with pytest.raises(SettingsError, match="CONNECTOR_EVENTS_FILE"):
        Settings.from_env({"CONNECTOR_API_KEY": "k" * 32, "CONNECTOR_EVENTS_FILE": str(tmp_path / "missing.yaml")})
    settings = Settings.from_env({"CONNECTOR_API_KEY": "k" * 32, "CONNECTOR_EVENTS_FILE": str(EXAMPLE)})
    assert settings.events_file == EXAMPLE


def _walk(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)
