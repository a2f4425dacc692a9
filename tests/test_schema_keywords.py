"""Every Schema Object in the document, as written and as served, uses only keywords a validator or a
reader knows (JSON Schema 2020-12's, OpenAPI's, the project's own ``x-``), and holds no ``null``
where a schema or a string belongs. An unquoted comma in a YAML flow mapping once cut five
descriptions short and turned the rest into junk keys with null values; every validator passed it,
since JSON Schema ignores keywords it does not know."""

from __future__ import annotations

from typing import Any

import pytest

from connector.spec.catalog import load_catalog
from connector.spec.document import advertised_document, document_for, load_document
from tests.test_public_surface import ROOT

JSON_SCHEMA_2020_12 = {
    "$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "$comment", "$defs",
    "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "prefixItems", "items", "contains",
    "properties", "patternProperties", "additionalProperties", "propertyNames", "unevaluatedItems",
    "unevaluatedProperties", "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxContains",
    "minContains", "maxProperties", "minProperties", "required", "dependentRequired", "title", "description",
    "default", "deprecated", "readOnly", "writeOnly", "examples", "format", "contentEncoding", "contentMediaType",
    "contentSchema",
}
OPENAPI_SCHEMA = {"discriminator", "xml", "externalDocs", "example"}
SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
SCHEMA_VALUES = ("items", "additionalProperties", "propertyNames", "contains", "not", "if", "then", "else",
                 "unevaluatedItems", "unevaluatedProperties", "contentSchema")
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
STRINGS = ("description", "title", "pattern", "format", "$ref", "$comment")


def schema_problems(schema: Any, where: str) -> list[str]:
    if isinstance(schema, bool):
        return []
    if not isinstance(schema, dict):
        return [f"{where}: a schema must be an object, not {schema!r}"]
    problems = [f"{where}: unknown keyword {key!r}" for key in schema
                if key not in JSON_SCHEMA_2020_12 | OPENAPI_SCHEMA and not key.startswith("x-")]
    problems += [f"{where}/{key}: must be a string" for key in STRINGS if key in schema and not isinstance(schema[key], str)]
    for key in SCHEMA_MAPS:
        for name, inner in (schema.get(key) or {}).items():
            problems += schema_problems(inner, f"{where}/{key}/{name}")
    for key in SCHEMA_VALUES:
        if key in schema:
            problems += schema_problems(schema[key], f"{where}/{key}")
    for key in SCHEMA_LISTS:
        for index, inner in enumerate(schema.get(key) or []):
            problems += schema_problems(inner, f"{where}/{key}/{index}")
    return problems


def document_problems(document: dict[str, Any]) -> list[str]:
    problems = []
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        problems += schema_problems(schema, f"#/components/schemas/{name}")
    for name, response in document.get("components", {}).get("responses", {}).items():
        problems += response_problems(response, f"#/components/responses/{name}")
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                problems += schema_problems(parameter.get("schema", {}), f"{where} parameter {parameter.get('name')}")
            for media in operation.get("requestBody", {}).get("content", {}).values():
                problems += schema_problems(media.get("schema", {}), f"{where} request body")
            for status, response in operation.get("responses", {}).items():
                if "$ref" not in response:  # a shared response, checked among the components
                    problems += response_problems(response, f"{where} {status} response")
            for key in ("summary", "description"):
                if key in operation and not isinstance(operation[key], str):
                    problems.append(f"{where}: {key} must be a string")
    return problems


def response_problems(response: dict[str, Any], where: str) -> list[str]:
    problems = [] if isinstance(response.get("description"), str) else [f"{where}: description must be a string"]
    for media in response.get("content", {}).values():
        problems += schema_problems(media.get("schema", {}), where)
    return problems


@pytest.mark.parametrize("name", ["as written", "served", "served, read-only", "served with a catalog"])
def test_every_schema_uses_only_known_keywords_and_no_nulls(name):
    catalog = load_catalog(ROOT / "examples" / "events.yaml")
    document = {
        "as written": lambda: load_document(),
        "served": lambda: advertised_document(document_for(has_default_repo=False)),
        "served, read-only": lambda: advertised_document(document_for(has_default_repo=True, read_only=True)),
        "served with a catalog": lambda: advertised_document(document_for(has_default_repo=True, catalog=catalog),
                                                             catalog),
    }[name]()
    assert document_problems(document) == []


def test_the_check_finds_the_defect_it_is_for():
    broken = {"type": "integer", "description": "Seconds to wait (rate_limited", "github_rate_limited).": None}
    assert schema_problems({"properties": {"retry_after": broken}}, "#") == [
        "#/properties/retry_after: unknown keyword 'github_rate_limited).'"]
