"""MCP tools generated from the advertised API description: one per operation, none written by hand.

Each operation callers are told about (:func:`connector.spec.document.advertised_document`, so read-only mode
and the hidden gateway route apply here as they do to ``/openapi.json``) becomes a tool:

* named by its ``operationId``, titled by its ``summary``, described by its ``description``;
* whose input schema is its JSON request body's schema with every ``$ref`` inlined (MCP clients
  get a self-contained JSON Schema), as a model is shown it (:mod:`connector.spec.model_view`:
  without what only a validator uses; the route still enforces all of it), or an empty object for
  an operation without a body;
* annotated from ``x-openai-isConsequential``, the spec's one marker for a write: reads are
  ``readOnlyHint``; writes say ``destructiveHint`` (false unless ``x-connector-destructive``:
  nothing here merges, deletes or pushes, but cancelling can stop a deploy half-way) and
  ``idempotentHint`` when ``x-connector-idempotent`` sets it (MCP's default is false, so it is
  otherwise left unsaid).

Fields several operations share (``x-connector-shared``: the repository, ``request_id``,
``dry_run``) are described once, in the server's instructions (:func:`instructions_for`), rather
than in every tool that takes them.

Operations anyone may call (``security: []``, the health check) are not tools: an MCP client has
its own ``ping``. An operation whose input is not a JSON body (path or query parameters) fails
start-up here rather than being left out silently. Nothing in this module imports the MCP SDK, so
building the tool list costs an app nothing it would not pay anyway.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

from ..spec.document import is_write
from ..spec.model_view import model_view

__all__ = ["ToolSpec", "instructions_for", "tools_from_document", "tools_markdown"]

_METHODS = ("get", "put", "post", "delete", "patch")
_NO_ARGUMENTS: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
SHARED = "x-connector-shared"
INSTRUCTIONS = (
    "Dispatch GitHub Actions workflows and work with pull requests, within what the operator allows. "
    "A refused call returns a problem with a stable `code` and a `detail` that says what to change."
)

@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    description: str
    input_schema: dict[str, Any]
    annotations: dict[str, Any]  # MCP ToolAnnotations, in wire form (camelCase)
    method: str  # upper case, as the route is called
    path: str
    takes_body: bool
    scopes: frozenset[str] = frozenset()  # what the caller's key needs (the operation's bearerAuth scopes)

def tools_from_document(document: dict[str, Any]) -> list[ToolSpec]:
    """The tools for an advertised document, in the document's order."""
    default_security = document.get("security", [])
    tools = []
    for path, item in document["paths"].items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None or not operation.get("security", default_security):
                continue
            requirement = operation.get("security", default_security)[0]  # each operation names one
            scopes = frozenset(scope for names in requirement.values() for scope in names)
            tools.append(replace(_tool(document, path, method, operation), scopes=scopes))
    return tools

def instructions_for(document: dict[str, Any]) -> str:
    """The MCP server's instructions: what the tools are for, and the shared fields' descriptions."""
    shared = [(name, schema["description"]) for name, schema in document["components"]["schemas"].items()
              if schema.get(SHARED) and schema.get("description")]
    fields = " ".join(f"{_field_name(document, name)}: {text}" for name, text in shared)
    return f"{INSTRUCTIONS} Fields several tools take: {fields}" if fields else INSTRUCTIONS


def _field_name(document: dict[str, Any], component: str) -> str:
    """The property name a shared component is used under (Owner is ``owner``)."""
    ref = f"#/components/schemas/{component}"
    for schema in document["components"]["schemas"].values():
        for name, field in schema.get("properties", {}).items():
            if isinstance(field, dict) and field.get("$ref") == ref:
                return str(name)
    return component


def _tool(document: dict[str, Any], path: str, method: str, operation: dict[str, Any]) -> ToolSpec:
    name = operation["operationId"]
    if operation.get("parameters") or document["paths"][path].get("parameters"):
        raise ValueError(f"operation {name} takes parameters outside its JSON body; an MCP tool cannot carry them")
    body = operation.get("requestBody")
    if body is None:
        schema = copy.deepcopy(_NO_ARGUMENTS)
    else:
        content = body.get("content", {})
        if "application/json" not in content:
            raise ValueError(f"operation {name} takes no JSON body; an MCP tool cannot carry it")
        schema = model_view(_inline(document, content["application/json"]["schema"], seen=()))
    return ToolSpec(name=name, title=operation.get("summary", name), description=operation.get("description", ""),
                    input_schema=schema, annotations=_annotations(operation), method=method.upper(), path=path,
                    takes_body=body is not None)

def _annotations(operation: dict[str, Any]) -> dict[str, Any]:
    """MCP's hints, leaving out what their defaults already say (each hint is read by every
    conversation): a write is not read-only and not idempotent unless marked, and is destructive
    unless it says otherwise, so it always says. No annotation title: the tool's own title says it."""
    if not is_write(operation):
        return {"readOnlyHint": True}
    hints = {"destructiveHint": bool(operation.get("x-connector-destructive", False))}
    if operation.get("x-connector-idempotent"):
        hints["idempotentHint"] = True
    return hints


def _inline(document: dict[str, Any], node: Any, seen: tuple[str, ...]) -> Any:
    """``node`` with every local ``$ref`` replaced by what it points to, and the spec's own ``x-``
    annotations (which mean something only to this connector) left out, as are the descriptions
    of shared fields (the instructions carry them)."""
    if isinstance(node, list):
        return [_inline(document, value, seen) for value in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    rest = {key: _inline(document, value, seen) for key, value in node.items()
            if key != "$ref" and not key.startswith("x-") and not (key == "description" and node.get(SHARED))}
    if ref is None:
        return rest
    if not ref.startswith("#/") or ref in seen:
        raise ValueError(f"cannot inline {ref!r}: only local, non-recursive references make a tool schema")
    target: Any = document
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return {**_inline(document, target, (*seen, ref)), **rest}


def tools_markdown(tools: list[ToolSpec]) -> str:
    """The README's tool table (tests/test_mcp.py keeps the README's copy equal to this)."""
    rows = ["| tool | kind | route | what it does |", "| --- | --- | --- | --- |"]
    for tool in tools:
        hints = tool.annotations
        kind = "read" if hints.get("readOnlyHint") else ", ".join(
            ["write"] + [word for word, hint in (("idempotent", "idempotentHint"), ("destructive", "destructiveHint"))
                         if hints.get(hint)])
        rows.append(f"| `{tool.name}` | {kind} | `{tool.method} {tool.path}` | {tool.title} |")
    return "\n".join(rows)
