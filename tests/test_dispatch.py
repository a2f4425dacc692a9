"""POST /chatgpt/dispatch against the GitHub double."""

from __future__ import annotations

import json

import pytest

from tests.conftest import OWNER, REPO

DISPATCHES = f"/repos/{OWNER}/{REPO}/dispatches"


def dispatch(client, **body):
    return client.post("/chatgpt/dispatch", json={"owner": OWNER, "repo": REPO, **body})


def test_dispatch_sends_one_event_carrying_the_request_id(client, double):
    response = dispatch(client, event_type="deploy", client_payload={"env": "staging"}, request_id="rel-1.2:a_b")

    assert response.status_code == 202
    assert response.json() == {
        "ok": True, "dispatched": True, "repository": f"{OWNER}/{REPO}",
        "event_type": "deploy", "request_id": "rel-1.2:a_b",
    }
    assert [(r.method, r.path) for r in double.requests] == [("POST", DISPATCHES)]
    assert double.dispatches(OWNER, REPO) == [
        {"event_type": "deploy", "client_payload": {"env": "staging", "request_id": "rel-1.2:a_b"}}
    ]


def test_dispatch_generates_a_request_id_when_none_is_given(client, double):
    first = dispatch(client, event_type="scan").json()["request_id"]
    second = dispatch(client, event_type="scan").json()["request_id"]

    assert first != second
    payloads = [d["client_payload"] for d in double.dispatches(OWNER, REPO)]
    assert payloads == [{"request_id": first}, {"request_id": second}]


def test_dispatch_treats_null_optional_fields_as_absent(client, double):
    response = dispatch(client, event_type="report", client_payload=None, request_id=None)

    assert response.status_code == 202
    assert double.dispatches(OWNER, REPO)[0]["client_payload"] == {"request_id": response.json()["request_id"]}


def test_dispatch_uses_the_default_repository_when_owner_and_repo_are_omitted(make_client, double):
    client = make_client(default_repo=(OWNER, REPO))

    response = client.post("/chatgpt/dispatch", json={"event_type": "deploy"})

    assert response.status_code == 202
    assert response.json()["repository"] == f"{OWNER}/{REPO}"
    assert len(double.dispatches(OWNER, REPO)) == 1


@pytest.mark.one_github_layout
def test_dispatch_without_repository_and_without_default_names_both_fields(client, double):
    response = client.post("/chatgpt/dispatch", json={"event_type": "deploy"})

    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == ["$.owner", "$.repo"]
    assert double.requests == []


@pytest.mark.one_github_layout
def test_dispatch_refuses_request_id_inside_client_payload(client, double):
    response = dispatch(client, event_type="deploy", client_payload={"request_id": "x"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "$.client_payload.request_id"
    assert double.requests == []


@pytest.mark.one_github_layout
def test_dispatch_refuses_a_tenth_payload_key_because_request_id_takes_it(client, double):
    response = dispatch(client, event_type="deploy", client_payload={f"k{i}": i for i in range(10)})

    assert response.status_code == 400
    problem = response.json()
    assert problem["errors"] == [{"path": "$.client_payload", "message": "must have at most 9 keys (got 10)"}]
    assert double.requests == []


def _blob_for_payload_of(size: int) -> str:
    # GitHub receives {"blob":"...","request_id":"r"}; pad the blob to make that JSON `size` bytes.
    overhead = len(json.dumps({"blob": "", "request_id": "r"}, separators=(",", ":")))
    return "x" * (size - overhead)


@pytest.mark.one_github_layout
def test_dispatch_refuses_a_payload_of_64_kb_before_calling_github(client, double):
    response = dispatch(client, event_type="deploy", client_payload={"blob": _blob_for_payload_of(65_536)},
                        request_id="r")

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "$.client_payload"
    assert "less than 65536 bytes" in response.json()["detail"]
    assert double.requests == []


def test_dispatch_accepts_a_payload_one_byte_under_64_kb(client, double):
    response = dispatch(client, event_type="deploy", client_payload={"blob": _blob_for_payload_of(65_535)},
                        request_id="r")

    assert response.status_code == 202
    assert len(double.dispatches(OWNER, REPO)) == 1


@pytest.mark.parametrize("event_type, message", [
    ("", "must not be empty"),
    ("x" * 101, "must be at most 100 characters long (got 101)"),
    ("   ", "must not be blank, start or end with whitespace, or contain control characters such as line breaks"),
    ("deploy\r\nX-Injected: 1", "must not be blank, start or end with whitespace, or contain control characters such as line breaks"),
])
@pytest.mark.one_github_layout
def test_dispatch_checks_event_type_limits(client, double, event_type, message):
    response = dispatch(client, event_type=event_type)

    assert response.status_code == 400
    assert response.json()["errors"] == [{"path": "$.event_type", "message": message}]
    assert double.requests == []


def test_dispatch_to_an_unknown_repository_is_not_found_after_one_call(client, double):
    response = client.post("/chatgpt/dispatch", json={"owner": OWNER, "repo": "missing", "event_type": "deploy"})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "octo-org/missing" in response.json()["detail"]
    assert len(double.requests) == 1


def test_dispatch_repository_lookup_is_case_insensitive_like_github(client, double):
    response = client.post("/chatgpt/dispatch", json={"owner": "Octo-Org", "repo": "WebApp", "event_type": "deploy"})

    assert response.status_code == 202
    assert len(double.dispatches(OWNER, REPO)) == 1


def test_a_null_inside_client_payload_is_checked_not_dropped(client, double):
    # Null for an optional top-level field means "left out"; inside client_payload, which goes to
    # the workflow as sent, it is a value, and `ref` takes a string.
    response = client.post("/chatgpt/dispatch", json={"owner": OWNER, "repo": REPO, "event_type": "deploy",
                                                      "client_payload": {"ref": None}})

    assert response.status_code == 400 and response.json()["errors"][0]["path"] == "$.client_payload.ref"
    assert double.requests == []
