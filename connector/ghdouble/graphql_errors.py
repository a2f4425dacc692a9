"""GraphQL errors as GitHub words and shapes them, from graphql-core's.

GitHub runs graphql-ruby, whose messages differ from graphql-js's (which graphql-core copies):
``Field 'x' doesn't exist on type 'Repository'`` rather than ``Cannot query field 'x' on type
'Repository'.``, with a ``path`` through the document (``["query PullRequest", "repository",
"x"]``) and ``extensions`` naming the rule (``undefinedField``). The messages GitHub is known to
send for the usual mistakes are translated; any other keeps graphql-core's wording, with its
``locations``. An error raised while resolving carries GitHub's ``type`` (``NOT_FOUND``) at the
top of the error, in GitHub's key order: type, path, locations, message.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import DocumentNode, GraphQLError, print_ast
from graphql.language import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

__all__ = ["document_paths", "executed", "refused"]

Error = dict[str, Any]


def document_paths(document: DocumentNode) -> dict[int, list[str]]:
    """Where each selection sits in the document, as graphql-ruby names it (by node id)."""
    found: dict[int, list[str]] = {}

    def walk(selections: SelectionSetNode | None, prefix: list[str]) -> None:
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                path = prefix + [(selection.alias or selection.name).value]
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                path = prefix + [f"... on {condition.name.value}" if condition else "..."]
            elif isinstance(selection, FragmentSpreadNode):
                path = prefix + [f"... {selection.name.value}"]
            else:
                continue
            found[id(selection)] = path
            for argument in getattr(selection, "arguments", None) or ():
                found[id(argument)] = path + [argument.name.value]
            walk(getattr(selection, "selection_set", None), path)

    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            name = definition.name.value if definition.name else ""
            head = f"{definition.operation.value} {name}".strip()
            found[id(definition)] = [head]
            for declared in definition.variable_definitions or ():
                found[id(declared)] = [head]
            walk(definition.selection_set, [head])
        elif isinstance(definition, FragmentDefinitionNode):
            found[id(definition)] = [f"fragment {definition.name.value}"]
            walk(definition.selection_set, found[id(definition)])
    return found


def _locations(error: GraphQLError) -> list[dict[str, int]]:
    return [{"line": loc.line, "column": loc.column} for loc in error.locations or ()]


def refused(error: GraphQLError, document: DocumentNode | None, paths: dict[int, list[str]],
            variables: dict[str, Any] | None = None) -> Error:
    """A query GitHub will not run (syntax, validation, ``variables``' values) as GitHub reports it."""
    message, extensions = error.message, None
    if m := re.match(r"Cannot query field '(\w+)' on type '(\w+)'\.", message):
        message = f"Field '{m[1]}' doesn't exist on type '{m[2]}'"
        extensions = {"code": "undefinedField", "typeName": m[2], "fieldName": m[1]}
    elif m := re.match(r"Unknown argument '(\w+)' on field '\w+\.(\w+)'\.", message):
        message = f"Field '{m[2]}' doesn't accept argument '{m[1]}'"
        extensions = {"code": "argumentNotAccepted", "name": m[2], "typeName": "Field", "argumentName": m[1]}
    elif m := re.match(r"Argument '\w+\.(\w+)\((\w+):\)' of type '.+' is required, but it was not provided\.",
                       message):
        message = f"Field '{m[1]}' is missing required arguments: {m[2]}"
        extensions = {"code": "missingRequiredArguments", "className": "Field", "name": m[1], "arguments": m[2]}
    elif m := re.match(r"Variable '\$(\w+)' is never used(?: in operation '(\w+)')?\.", message):
        message = f"Variable ${m[1]} is declared by {m[2] or 'anonymous query'} but not used"
        extensions = {"code": "variableNotUsed", "variableName": m[1]}
    elif m := re.match(r"Variable '\$(\w+)' has invalid value: (.*)", message, re.S):
        explanation = m[2].rstrip(".")
        if "non-null type" in explanation:
            explanation = "Expected value to not be null"
        message = f"Variable ${m[1]} of type {_declared(document, m[1])} was provided invalid value"
        extensions = {"value": (variables or {}).get(m[1]), "problems": [{"path": [], "explanation": explanation}]}
    path = next((paths[id(node)] for node in error.nodes or () if id(node) in paths), None)
    shaped: Error = {}
    if path is not None and extensions is not None and extensions.get("code"):
        shaped["path"] = path
    if extensions is not None:
        shaped["extensions"] = extensions
    shaped["locations"] = _locations(error)
    shaped["message"] = message
    return shaped


def _declared(document: DocumentNode | None, variable: str) -> str:
    for definition in document.definitions if document else ():
        for declared in getattr(definition, "variable_definitions", None) or ():
            if declared.variable.name.value == variable:
                return print_ast(declared.type)
    return "?"


def executed(error: GraphQLError) -> Error:
    """An error raised while resolving a field: GitHub's ``type`` first, then path, locations, message."""
    extensions = dict(error.extensions or {})
    shaped: Error = {}
    if "type" in extensions:
        shaped["type"] = extensions.pop("type")
    if error.path is not None:
        shaped["path"] = list(error.path)
    if extensions:
        shaped["extensions"] = extensions
    shaped["locations"] = _locations(error)
    shaped["message"] = error.message
    return shaped
