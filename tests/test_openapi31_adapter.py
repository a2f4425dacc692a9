"""The 3.1 adapter: Connexion loads 3.1 documents and enforces 3.1-only schema features over HTTP."""

from __future__ import annotations

import os
from pathlib import Path

import connexion
import pytest
from connexion.exceptions import InvalidSpecification

from connector.http.problem import install_error_handler
from connector.spec import openapi31
from connector.spec.document import SPEC_PATH
from connector.spec.json_validation import ecma_regex

ROOT_PACKAGE = Path(openapi31.__file__).resolve().parent.parent


def feature_spec(response_ok_value: bool = True) -> dict:
    """A small 3.1 document using type arrays, const and schema-level examples arrays."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "features", "version": "1"},
        "paths": {"/echo": {"post": {
            "operationId": "tests.test_openapi31_adapter.echo_ok" if response_ok_value else "tests.test_openapi31_adapter.echo_not_ok",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object",
                "additionalProperties": False,
                "required": ["kind"],
                "properties": {
                    "kind": {"const": "greeting", "examples": ["greeting"]},
                    "name": {"type": ["string", "null"], "maxLength": 5, "examples": ["Ada", None]},
                    "count": {"type": "integer", "default": 3},
                },
            }}}},
            "responses": {"200": {"description": "echo", "content": {"application/json": {"schema": {
                "type": "object",
                "required": ["ok", "body"],
                "properties": {"ok": {"const": True}, "body": {"type": "object", "properties": {}}},
            }}}}},
        }}},
    }


def echo_ok(body):
    return {"ok": True, "body": body}


def echo_not_ok(body):
    return {"ok": False, "body": body}


def make_client(document: dict):
    app = connexion.AsyncApp(__name__)
    openapi31.add_api(app, document, strict_validation=True, validate_responses=True,
                      validator_map=openapi31.VALIDATOR_MAP)
    install_error_handler(app)
    return app.test_client()


def test_plain_connexion_refuses_the_3_1_document():
    # The reason the adapter exists: Connexion 3.3 validates against its 3.0 meta-schema.
    with pytest.raises(InvalidSpecification):
        connexion.AsyncApp(__name__).add_api(SPEC_PATH)


def test_adapter_refuses_an_invalid_3_1_document():
    document = feature_spec()
    del document["info"]

    with pytest.raises(InvalidSpecification, match="info"):
        make_client(document)


def test_adapter_refuses_an_invalid_schema_object():
    document = feature_spec()
    body = document["paths"]["/echo"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    body["properties"]["count"]["type"] = "integr"

    with pytest.raises(InvalidSpecification, match="invalid schema at"):
        make_client(document)


def test_adapter_accepts_the_connectors_own_document():
    from connector.spec.document import load_document
    from connector.spec.openapi31 import OpenAPI31Specification

    spec = OpenAPI31Specification(load_document())

    assert spec.version == (3, 1, 0)


def test_the_documents_trusted_at_start_up_are_exactly_those_checked_here_in_full():
    """The enforced document of every deployment without a catalog is checked here, against the
    OpenAPI 3.1 meta-schema and Draft 2020-12, and its digest shipped, so start-up can skip the
    ~0.1 s check for those four; any other document (a catalog's) is still checked when an app
    is built. After changing openapi.yaml, rewrite the list with UPDATE_SNAPSHOTS=1."""
    from connector.spec.document import document_for

    documents = [document_for(has_default_repo=default, read_only=read_only)
                 for default in (False, True) for read_only in (False, True)]
    for document in documents:
        openapi31._check_document(document)  # the full check, whatever was remembered
    digests = sorted(openapi31.document_digest(document).hex() for document in documents)
    path = ROOT_PACKAGE / "spec" / openapi31.CHECKED_DOCUMENTS
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text("# SHA-256 of the documents tests/test_openapi31_adapter.py checks in full\n"
                        "# (connector/spec/openapi31.py trusts these at start-up).\n" + "\n".join(digests) + "\n")
    shipped = sorted(line for line in path.read_text().splitlines() if line and not line.startswith("#"))
    assert shipped == digests, "openapi.yaml changed: rewrite the list with UPDATE_SNAPSHOTS=1"


def test_a_document_not_on_the_shipped_list_is_checked_when_an_app_is_built(monkeypatch):
    checked = []
    monkeypatch.setattr(openapi31, "_check_document", checked.append)
    monkeypatch.setattr(openapi31, "_VALID_DIGESTS", {})
    openapi31._checked_in_tests.cache_clear()  # as a new process reads it
    from connector.spec.document import document_for

    openapi31.validate_document(document_for(has_default_repo=False))
    changed = document_for(has_default_repo=False)
    changed["info"]["title"] += " (changed)"
    openapi31.validate_document(changed)

    assert checked == [changed]


def test_adapter_refuses_a_3_0_document():
    with pytest.raises(InvalidSpecification, match="3.1"):
        make_client({**feature_spec(), "openapi": "3.0.3"})


def test_type_array_accepts_null_and_strings():
    client = make_client(feature_spec())

    for name in (None, "Ada"):
        response = client.post("/echo", json={"kind": "greeting", "name": name})
        assert response.status_code == 200, response.text
        assert response.json()["body"]["name"] == name


def test_type_array_still_refuses_other_types():
    client = make_client(feature_spec())

    response = client.post("/echo", json={"kind": "greeting", "name": 7})

    assert response.status_code == 400
    assert response.json()["errors"] == [{"path": "$.name", "message": "must be a string or null (got an integer)"}]


def test_const_is_enforced_on_requests():
    client = make_client(feature_spec())

    response = client.post("/echo", json={"kind": "farewell"})

    assert response.status_code == 400
    assert response.json()["errors"] == [{"path": "$.kind", "message": "must be 'greeting'"}]


def test_const_is_enforced_on_responses():
    client = make_client(feature_spec(response_ok_value=False))

    response = client.post("/echo", json={"kind": "greeting"})

    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"


def test_schema_examples_arrays_are_accepted_and_defaults_are_filled():
    client = make_client(feature_spec())

    response = client.post("/echo", json={"kind": "greeting"})

    assert response.json()["body"] == {"kind": "greeting", "count": 3}


def test_all_bad_fields_are_reported_with_paths():
    client = make_client(feature_spec())

    response = client.post("/echo", json={"kind": "x", "name": "toolong", "extra": 1})

    assert sorted(e["path"] for e in response.json()["errors"]) == ["$.extra", "$.kind", "$.name"]


@pytest.mark.parametrize("raw, message", [
    (b'{"kind": "greeting", "kind": "greeting"}', "appears twice"),
    (b'{"kind": NaN}', "$.kind: is NaN, which is not valid JSON"),
    (b'{"kind": [1, -Infinity]}', "$.kind[1]: is -Infinity, which is not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"kind": "gr\xff"}', "not valid utf-8"),
    (b"{not json", "not valid JSON"),
    (b'{"kind": 1e400}', "$.kind: is a number too large"),
    (b'{"kind": -1e999}', "$.kind: is a number too large"),
    (b'{"kind": ' + b"7" * 5000 + b"}", "$.kind: is a number of 5000 digits"),  # Python itself stops at 4,300
    (b'{"kind": "a\\ud800b"}', "$.kind: contains a lone surrogate"),
    (b'{"kind": ["ok", "\\udfff"]}', "$.kind[1]: contains a lone surrogate"),
    (b'{"kind": "nul\\u0000"}', "$.kind: contains a NUL character at position 3"),
    (b'{"\\ud800": 1}', "$: has a key that contains a lone surrogate"),
])
def test_bodies_are_parsed_strictly(raw, message):
    client = make_client(feature_spec())

    response = client.post("/echo", content=raw, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_an_unknown_charset_is_a_client_error():
    client = make_client(feature_spec())

    response = client.post("/echo", content=b'{"kind": "greeting"}',
                           headers={"Content-Type": "application/json;charset=no-such-charset"})

    assert response.status_code == 400
    assert "unknown charset" in response.json()["detail"]


@pytest.mark.parametrize(("pattern", "text", "matches"), [
    (r"^[^\s]+$", "ù\x85", True),     # U+0085 is whitespace to Python, not to ECMA-262
    (r"\S", "\x85", True),
    (r"^\s$", "\u3000", True),         # ideographic space is whitespace in both
    (r"^\s$", "\x1c", False),          # a file separator is whitespace only to Python
    (r"^\d+$", "٣", False),            # an Arabic-Indic digit is a digit only to Python
    (r"^\w+$", "é", False),
    (r"^[\w-]+$", "a-b_9", True),
    (r"^[a-z]+$", "owner\n", False),   # and $ is the very end
])
def test_patterns_mean_what_ecma_262_says(pattern, text, matches):
    assert bool(ecma_regex(pattern).search(text)) is matches
