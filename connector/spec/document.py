"""The API description: ``openapi.yaml`` as loaded, and as served at ``/openapi.json``.

``openapi.yaml`` at the top of the repository is the only place the API is described. What is served
(and enforced) is derived from it for one deployment:

* ``servers`` holds the one origin ChatGPT will call, because its importer refuses a document whose
  server is not on the origin it was imported from;
* without a default repository, ``owner`` and ``repo`` become required in every request body, so the
  schema tells callers the truth instead of a later 400 doing it (and their descriptions stop
  saying they may be omitted), except where a repository is optional even then
  (``x-connector-repository-optional``);
* in read-only mode, the operations that write are not there at all;
* with an event catalog, the dispatch schemas (those marked ``x-connector-event``) describe the
  events and their arguments, and the served copy lists the event names as an ``enum``; when it
  lists workflows, the workflow field (``x-connector-workflow``) names them the same way;
* operations marked ``x-connector-hidden`` (the actions-gateway compatibility route, which
  authenticates differently) are routed but not served: ChatGPT takes one auth scheme per action.

``/openapi.json`` serves that document in one of two views: by default as a model is shown it
(:func:`model_view_of`, what ChatGPT imports and a GPT pays for in every conversation), and with
``?view=enforced`` whole, for contract testers and client generators.
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..config.settings import Settings
from .catalog import EventCatalog
from .model_view import model_view

__all__ = ["SPEC_PATH", "is_write", "write_operation_ids", "load_document", "document_for", "document_for_settings", "advertised_document",
           "served_document", "served_json", "model_view_of", "VIEWS"]

VIEWS = ("model", "enforced")
_INTERNAL_EXTENSIONS = ("x-connector-", "x-openapi-router-controller")
_MAY_BE_OMITTED = re.compile(r"\s*May be omitted when the connector has a default repository\.")

# A link to the top-level openapi.yaml in a checkout, the document itself once installed.
SPEC_PATH = Path(__file__).parent.parent / "openapi.yaml"


@lru_cache(maxsize=1)
def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        # libyaml's loader when PyYAML was built with it: ~10x faster, and this runs at every start.
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_document(path: Path = SPEC_PATH) -> dict[str, Any]:
    """A fresh copy of ``openapi.yaml`` as written (callers may mutate it)."""
    return copy.deepcopy(_load(path))


def document_for(*, has_default_repo: bool, read_only: bool = False, catalog: EventCatalog | None = None,
                 path: Path = SPEC_PATH) -> dict[str, Any]:
    """The document one deployment enforces (see :func:`served_document` for what it serves)."""
    document = load_document(path)
    schemas = document["components"]["schemas"]
    if not has_default_repo:
        for schema in schemas.values():
            if "owner" in schema.get("properties", {}) and not schema.get("x-connector-repository-optional"):
                schema["required"] = ["owner", "repo", *schema.get("required", [])]
            if isinstance(schema.get("description"), str):
                schema["description"] = _MAY_BE_OMITTED.sub("", schema["description"])
    if catalog is not None:
        for schema in _event_schemas(document):
            fields = schema["x-connector-event"]
            catalog.describe_in(schema, name_field=fields["name"], payload_field=fields["payload"])
        for schema in _marked(document, "x-connector-workflow"):
            catalog.describe_workflows_in(schema, name_field=schema["x-connector-workflow"])
    if read_only:
        _drop_writes(document)
    return document


def document_for_settings(settings: Settings, catalog: EventCatalog | None = None) -> dict[str, Any]:
    return document_for(has_default_repo=settings.default_repo is not None, read_only=settings.read_only,
                        catalog=catalog)


def _event_schemas(document: dict[str, Any]) -> list[dict[str, Any]]:
    return _marked(document, "x-connector-event")


def _marked(document: dict[str, Any], marker: str) -> list[dict[str, Any]]:
    return [schema for schema in document["components"]["schemas"].values() if marker in schema]


def is_write(operation: Any) -> bool:
    """``x-openai-isConsequential: true`` is the spec's one marker for a write: ChatGPT asks the user
    to confirm those calls, read-only mode leaves them out, and they are made idempotent."""
    return isinstance(operation, dict) and bool(operation.get("x-openai-isConsequential"))


def write_operation_ids(document: dict[str, Any]) -> frozenset[str]:
    return frozenset(op["operationId"] for item in document["paths"].values() for op in item.values()
                     if is_write(op))


def _drop_writes(document: dict[str, Any]) -> None:
    """Remove every operation that changes something, so it is neither routed nor advertised."""
    for path, item in list(document["paths"].items()):
        for method in [m for m, op in item.items() if is_write(op)]:
            del item[method]
        if not any(isinstance(op, dict) and "operationId" in op for op in item.values()):
            del document["paths"][path]


def served_document(document: dict[str, Any], base_url: str, catalog: EventCatalog | None = None, *,
                    view: str = "model") -> dict[str, Any]:
    """What ``/openapi.json`` serves, on one server: by default the view ChatGPT's importer is
    given (:func:`model_view_of`), or with ``view="enforced"`` every schema whole, for contract
    testers and client generators."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}")
    served = advertised_document(document, catalog)
    if view == "model":
        served = model_view_of(served)
    served["servers"] = [{"url": base_url.rstrip("/")}]
    return served


def model_view_of(document: dict[str, Any]) -> dict[str, Any]:
    """An advertised document as a model is shown it, which every conversation of a GPT pays for.

    Request schemas are given as the MCP tools give them (:mod:`connector.spec.model_view`: no
    regex patterns, string lengths, ``not`` clauses or other rules only a validator uses; the
    server still enforces all of them and names the field it refuses). An operation's answers are
    its success responses, their schemas whole, and one ``default`` for every refusal (a problem
    document with a stable ``code``), rather than ten error responses each. What only this code
    reads goes: its ``x-connector-*`` markers and router modules (ChatGPT's ``x-openai-*`` stay),
    and the examples of answers.
    """
    lean = _without_internals(document)
    schemas = lean["components"]["schemas"]
    answered = _schemas_reached(lean, "responses") | _schemas_reached(lean["components"].get("responses", {}), None)
    for name in _schemas_reached(lean, "requestBody") - answered:
        schemas[name] = model_view(schemas[name])
    for item in lean["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            successes = {code: response for code, response in operation["responses"].items() if code.startswith("2")}
            for response in successes.values():
                for media in (response.get("content") or {}).values():
                    media.pop("examples", None)
            operation["responses"] = {**successes, "default": {"$ref": "#/components/responses/Problem"}}
    lean["components"]["responses"] = {"Problem": {
        "description": "Refused or failed: act on detail, branch on code (429 sends Retry-After).",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}}
    lean["components"].pop("headers", None)  # only the error responses used them
    _drop_unreferenced_schemas(lean)
    return lean


def _without_internals(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _without_internals(value) for key, value in node.items()
                if not (isinstance(key, str) and key.startswith(_INTERNAL_EXTENSIONS))}
    if isinstance(node, list):
        return [_without_internals(value) for value in node]
    return node


def _schemas_reached(document: dict[str, Any], part: str | None) -> set[str]:
    """The component schemas ``part`` of any operation (the whole of ``document`` when None)
    refers to, directly or through other schemas."""
    schemas = document.get("components", {}).get("schemas", {})
    if part is None:
        roots: list[Any] = [document]
    else:
        roots = [operation.get(part) for item in document["paths"].values() for operation in item.values()
                 if isinstance(operation, dict)]
    reached: set[str] = set()
    pending = roots
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in reached:
                    reached.add(name)
                    pending.append(schemas.get(name))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return reached


def advertised_document(document: dict[str, Any], catalog: EventCatalog | None = None) -> dict[str, Any]:
    """The operations callers are told about, whichever way they call them: what ``/openapi.json``
    serves apart from its server, and what the MCP tools are generated from."""
    served = copy.deepcopy(document)
    for path, item in list(served["paths"].items()):
        if any(isinstance(op, dict) and op.get("x-connector-hidden") for op in item.values()):
            del served["paths"][path]
    used = {name for item in served["paths"].values() for op in item.values() if isinstance(op, dict)
            for requirement in op.get("security", served.get("security", [])) for name in requirement}
    schemes = served["components"]["securitySchemes"]
    for name in list(schemes):
        if name not in used:
            del schemes[name]
    _drop_unreferenced_schemas(served)
    if catalog is not None:
        for schema in _event_schemas(served):
            catalog.advertise_names(schema, name_field=schema["x-connector-event"]["name"])
        for schema in _marked(served, "x-connector-workflow"):
            catalog.advertise_workflows(schema, name_field=schema["x-connector-workflow"])
    return served


def _drop_unreferenced_schemas(document: dict[str, Any]) -> None:
    """Remove the component schemas no advertised operation reaches (the hidden routes' own), so
    the served document describes nothing it does not serve."""
    schemas = document["components"]["schemas"]
    reached: set[str] = set()
    pending: list[Any] = [document["paths"]]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/"):
                _, _, kind, name = ref.split("/", 3)
                if kind == "schemas" and name not in reached and name in schemas:
                    reached.add(name)
                    pending.append(schemas[name])
                elif kind != "schemas":  # a shared response or parameter: its schemas are reached too
                    pending.append(document["components"].get(kind, {}).get(name))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    for name in set(schemas) - reached:
        del schemas[name]


def served_json(document: dict[str, Any], base_url: str, catalog: EventCatalog | None = None, *,
                view: str = "model") -> str:
    return json.dumps(served_document(document, base_url, catalog, view=view), ensure_ascii=False,
                      separators=(",", ":"))
