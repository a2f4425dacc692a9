"""The contract itself: valid OpenAPI 3.1, importable by ChatGPT, and served as written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from connector.errors import ERROR_CLASSES
from connector.spec.document import document_for, load_document, served_document

DOCUMENT = load_document()
OPERATIONS = [
    (path, method, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if method in ("get", "post", "put", "patch", "delete")
]
IDS = [operation["operationId"] for _, _, operation in OPERATIONS]


def resolve(node):
    """Inline local $refs (the document has no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = DOCUMENT
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return resolve({**target, **{k: v for k, v in node.items() if k != "$ref"}})
        return {key: resolve(value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(item) for item in node]
    return node


def test_document_is_valid_openapi_3_1():
    assert DOCUMENT["openapi"] == "3.1.0"
    validate(DOCUMENT, cls=OpenAPIV31SpecValidator)


@pytest.mark.parametrize("path, method, operation", OPERATIONS, ids=IDS)
def test_operation_is_usable_as_a_chatgpt_action(path, method, operation):
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", operation["operationId"])
    assert operation["summary"] and len(operation["summary"]) <= 300
    assert operation["description"] and len(operation["description"]) <= 300
    assert isinstance(operation.get("x-openai-isConsequential"), bool)
    reads = ("/health", "/health/ready", "/chatgpt/prs/list", "/chatgpt/prs/get", "/chatgpt/events/list",
             "/chatgpt/runs/list", "/chatgpt/runs/get", "/chatgpt/runs/logs", "/chatgpt/dispatch/status")
    assert operation["x-openai-isConsequential"] is (path not in reads)
    if operation["operationId"] == "gateway_dispatch":
        # The gateway route: its GitHub failures, timeouts included, are all github_dispatch_failed.
        assert {"400", "401", "403", "422", "429", "502", "503"} <= set(operation["responses"])
    elif operation.get("security") != []:
        assert {"400", "401", "403", "404", "429", "502", "503", "504"} <= set(operation["responses"])


def test_operation_ids_are_unique():
    assert len(IDS) == len(set(IDS))


@pytest.mark.parametrize("path, method, operation", OPERATIONS, ids=IDS)
def test_every_example_validates_against_its_schema(path, method, operation):
    bodies = []
    if "requestBody" in operation:
        bodies.append(operation["requestBody"]["content"]["application/json"])
    for response in operation["responses"].values():
        bodies.extend(resolve(response).get("content", {}).values())
    checked = 0
    for media in bodies:
        schema = resolve(media["schema"])
        for example in media.get("examples", {}).values():
            Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(example["value"])
            checked += 1
    assert checked >= 1


def test_schema_level_examples_are_arrays_that_validate():
    for name, schema in DOCUMENT["components"]["schemas"].items():
        for node in walk(resolve(schema)):
            if "examples" in node and "type" in node:
                assert isinstance(node["examples"], list), name
                for example in node["examples"]:
                    Draft202012Validator(node).validate(example)


def walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def test_every_object_schema_lists_its_properties():
    for node in walk(DOCUMENT):
        types = node.get("type") if isinstance(node, dict) else None
        if types == "object" or (isinstance(types, list) and "object" in types):
            assert node.get("properties"), node


def test_every_description_fits_chatgpts_limit_of_300_characters():
    for node in walk(DOCUMENT):
        if isinstance(node, dict) and isinstance(node.get("description"), str):
            assert len(node["description"]) <= 300, node["description"]  # what `connector check` demands


def test_served_document_is_compact_and_names_one_https_server():
    document = served_document(document_for(has_default_repo=False), "https://connector.example.com")

    assert document["servers"] == [{"url": "https://connector.example.com"}]
    # About 3 KB per operation (13 of them), answer schemas included; the enforced view is ~4 KB.
    assert len(json.dumps(document)) < 3_200 * len(document["paths"])
    validate(document, cls=OpenAPIV31SpecValidator)


def request_schemas(document):
    return {name: schema for name, schema in document["components"]["schemas"].items()
            if "owner" in schema.get("properties", {})}


@pytest.mark.one_github_layout
def test_without_a_default_repository_owner_and_repo_are_required_in_the_served_schema(make_client, double):
    served = make_client(default_repo=None).get("/openapi.json").json()

    schemas = request_schemas(served)
    # Listing the catalog names a repository only to read its workflows' inputs.
    assert not set(schemas.pop("ListEventsRequest").get("required", []))
    assert len(schemas) == 12  # every other request that names a repository
    for schema in schemas.values():
        assert {"owner", "repo"} <= set(schema["required"])


@pytest.mark.one_github_layout
def test_with_a_default_repository_owner_and_repo_are_optional_but_go_together(make_client, double):
    client = make_client(default_repo=("octo-org", "webapp"))
    enforced = client.get("/openapi.json?view=enforced").json()
    for_models = client.get("/openapi.json").json()

    for schema in [*request_schemas(enforced).values(), *request_schemas(for_models).values()]:
        assert not {"owner", "repo"} & set(schema.get("required", []))
    for schema in request_schemas(enforced).values():
        assert schema["dependentRequired"] == {"owner": ["repo"], "repo": ["owner"]}


@pytest.mark.one_github_layout
def test_openapi_json_uses_public_base_url_and_otherwise_serves_the_document_as_written(make_client, double):
    client = make_client(public_base_url="https://gpt-connector.example.org", default_repo=("o", "r"))

    served = client.get("/openapi.json?view=enforced").json()

    assert served["servers"] == [{"url": "https://gpt-connector.example.org"}]
    # As written, less the routes marked x-connector-hidden: the gateway compatibility route with
    # its auth scheme (ChatGPT takes one) and its schemas, and the two probes (no use to a model).
    expected = json.loads(json.dumps(DOCUMENT))
    del expected["paths"]["/v1/dispatch"], expected["components"]["securitySchemes"]["gatewayApiKey"]
    del expected["components"]["schemas"]["GatewayDispatchRequest"]
    del expected["components"]["schemas"]["GatewayDispatchResponse"]
    del expected["paths"]["/health/ready"], expected["paths"]["/health"]
    assert {k: v for k, v in served.items() if k != "servers"} == {
        k: v for k, v in expected.items() if k != "servers"}


@pytest.mark.one_github_layout
def test_the_view_for_models_is_lean_and_the_server_still_enforces_everything(make_client, double):
    """/openapi.json (what ChatGPT imports, and a GPT pays for in every conversation) gives the
    request schemas as the MCP tools do and one default answer for refusals; what it leaves out
    is still enforced, and the whole document is one query away for contract testers."""
    client = make_client(default_repo=None)
    for_models = client.get("/openapi.json").json()
    enforced = client.get("/openapi.json?view=enforced").json()

    text = json.dumps(for_models)
    assert len(text) < 0.8 * len(json.dumps(enforced))
    assert '"pattern"' not in text and '"not"' not in text and "x-connector-" not in text
    assert "x-openapi-router-controller" not in text and "x-openai-isConsequential" in text
    for item in for_models["paths"].values():
        for operation in item.values():
            assert set(operation["responses"]) - {"default"} <= {"200", "201", "202"}
            assert operation["responses"]["default"] == {"$ref": "#/components/responses/Problem"}
    assert set(for_models["paths"]) == set(enforced["paths"])
    validate(for_models, cls=OpenAPIV31SpecValidator)
    # What the view leaves out is refused all the same, naming the field.
    refused = client.post("/chatgpt/prs/list", json={"owner": "-not a login-", "repo": "webapp"})
    assert refused.status_code == 400 and refused.json()["errors"][0]["path"] == "$.owner"
    assert client.get("/openapi.json?view=everything").status_code == 400


@pytest.mark.one_github_layout
def test_openapi_json_falls_back_to_the_request_base_url(make_client, double):
    client = make_client(public_base_url=None)

    served = client.get("/openapi.json", headers={"Host": "10.0.0.5:9000"}).json()

    assert served["servers"] == [{"url": "http://10.0.0.5:9000"}]


def test_problem_codes_match_the_error_classes_and_the_readme():
    documented = set(DOCUMENT["components"]["schemas"]["Problem"]["properties"]["code"]["enum"])
    implemented = {cls.code for cls in ERROR_CLASSES}
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    in_readme = set(re.findall(r"^\| `([a-z_]+)` \| \d{3} \|", readme, flags=re.M))

    assert documented == implemented == in_readme


def test_every_description_is_whole_since_yaml_cuts_a_plain_scalar_at_a_hash():
    """A description written unquoted as "... after the # on GitHub." loads as "... after the"."""
    cut = []

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "description" and isinstance(value, str):
                    if not value.rstrip().endswith((".", ")", "?", "!", "`")):
                        cut.append(f"{where}: {value!r}")
                else:
                    walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(load_document(), "")
    assert cut == []
