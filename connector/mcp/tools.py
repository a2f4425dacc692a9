"""MCP tools generated from the advertised API description: one per operation, none written by hand.

Each operation callers are told about (:func:`connector.spec.document.advertised_document`, so read-only mode
and the hidden gateway route apply here as they do to ``/openapi.json``) becomes a tool:

* named by its ``operationId``, titled by its ``summary``, described by its ``description``;
* whose input schema is its JSON request body's schema with every ``$ref`` inlined (MCP clients
  get a self-contained JSON Schema), or an empty object for an operation without a body;
* annotated from ``x-openai-isConsequential``, the spec's one marker for a write: reads are
  ``readOnlyHint``; writes say ``destructiveHint`` (default false: nothing here merges, deletes
  or pushes) and ``idempotentHint`` (default false), from ``x-connector-destructive`` and
  ``x-connector-idempotent`` when an operation sets them.

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

__all__ = ["ToolSpec", "tools_from_document", "tools_markdown"]

_METHODS = ("get", "put", "post", "delete", "patch")
_NO_ARGUMENTS: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}

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
        schema = _inline(document, content["application/json"]["schema"], seen=())
    return ToolSpec(name=name, title=operation.get("summary", name), description=operation.get("description", ""),
                    input_schema=schema, annotations=_annotations(operation), method=method.upper(), path=path,
                    takes_body=body is not None)

def _annotations(operation: dict[str, Any]) -> dict[str, Any]:
    title = operation.get("summary")
    if not is_write(operation):
        return {"title": title, "readOnlyHint": True}
    return {
        "title": title,
        "readOnlyHint": False,
        "destructiveHint": bool(operation.get("x-connector-destructive", False)),
        "idempotentHint": bool(operation.get("x-connector-idempotent", False)),
    }

def _inline(document: dict[str, Any], node: Any, seen: tuple[str, ...]) -> Any:
    """``node`` with every local ``$ref`` replaced by what it points to, and the spec's own ``x-``
    annotations (which mean something only to this connector) left out."""
    if isinstance(node, list):
        return [_inline(document, value, seen) for value in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    rest = {key: _inline(document, value, seen) for key, value in node.items()
            if key != "$ref" and not key.startswith("x-")}
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
        kind = "read" if hints["readOnlyHint"] else ("write, idempotent" if hints["idempotentHint"] else "write")
        rows.append(f"| `{tool.name}` | {kind} | `{tool.method} {tool.path}` | {tool.title} |")
    return "\n".join(rows)
