"""Prune GitHub's public GraphQL schema to what the GitHub double serves, into the package.

    npm pack @octokit/graphql-schema@15.26.1 && tar xzf octokit-graphql-schema-15.26.1.tgz
    python tools/extract_github_graphql.py package/schema.graphql

Re-run it when the double starts serving another field: add a query using it to ``SERVED``.

The whole schema (1.2 MB, ~1,700 types) takes graphql-core about 3 s and 30 MB to build, every
process; Repository alone reaches nearly all of it. So the subset is cut by field, not by type:
every field the ``SERVED`` documents select, on the type they select it from, with all of that
field's arguments; every type those fields and arguments name (input objects and enums whole);
every member of a kept union and every implementation of a kept interface (with the interface's
kept fields), so a fragment that is legal on GitHub stays legal. The result is a true subset: a
query that validates against it validates against GitHub's schema, and the only queries it
refuses that GitHub would accept are those asking for fields the double does not serve.

Two repairs, both outside what the subset keeps today and checked on every run: a field defined
twice in one type keeps its first definition (GitHub's schema has EnterpriseOwnerInfo's settings
twice), and ``@deprecated`` is dropped from an implementation whose interface field is not
deprecated (graphql-core 3.3 refuses that pairing; GitHub's graphql-ruby does not mind).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_schema,
    get_named_type,
    parse,
    print_ast,
    validate,
    visit,
)
from graphql.language import (
    DefinitionNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    UnionTypeDefinitionNode,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from a checkout
from connector.github.pull_query import PULL_REQUEST_QUERY

PACKAGE, VERSION = "@octokit/graphql-schema", "15.26.1"
OUT = Path(__file__).resolve().parent.parent / "connector" / "ghdouble" / "github-graphql-subset.graphql"

# What the double answers: the connector's pull request query, plus the neighbours its resolvers
# serve (pullRequest by number, an Issue's own fields, the viewer).
SERVED = [
    PULL_REQUEST_QUERY,
    """
query Neighbours($owner: String!, $name: String!, $number: Int!) {
  viewer { login }
  repository(owner: $owner, name: $name) {
    name nameWithOwner url owner { login }
    issueOrPullRequest(number: $number) {
      ... on Issue { number title body state url createdAt updatedAt closed author { login } authorAssociation
                     labels(first: 1) { totalCount nodes { name color } } }
    }
    pullRequest(number: $number) {
      number closed closedAt mergedAt
      files(first: 1) { nodes { path additions deletions } }
      reviewRequests(first: 1) { nodes { requestedReviewer { ... on Team { name } ... on User { name: login } } } }
      latestReviews(first: 1) { totalCount nodes { state author { login } } }
      commits(last: 1) { totalCount nodes { commit { statusCheckRollup { contexts(first: 1) {
        nodes { ... on CheckRun { detailsUrl } ... on StatusContext { description targetUrl } } } } } } }
    }
  }
}
""",
]


def selected(schema: GraphQLSchema, documents: list[DocumentNode]) -> tuple[dict[str, set[str]], set[str]]:
    """``{type name: field names selected on it}`` and the type conditions of fragments."""
    fields: dict[str, set[str]] = {}
    conditions: set[str] = set()
    info = TypeInfo(schema)

    class Collect(Visitor):
        def enter_field(self, node: Any, *_: Any) -> None:
            parent = info.get_parent_type()
            if parent is not None and not node.name.value.startswith("__"):
                fields.setdefault(parent.name, set()).add(node.name.value)

        def enter_inline_fragment(self, node: Any, *_: Any) -> None:
            if node.type_condition is not None:
                conditions.add(node.type_condition.name.value)

    for document in documents:
        errors = validate(schema, document)
        if errors:
            raise SystemExit(f"a SERVED query does not validate against GitHub's schema: {errors[0].message}")
        visit(document, TypeInfoVisitor(info, Collect()))
    return fields, conditions


def closure(schema: GraphQLSchema, fields: dict[str, set[str]], conditions: set[str]) -> dict[str, set[str]]:
    """Every type to keep, each with the fields it keeps (empty for scalars, enums, inputs, unions)."""
    keep: dict[str, set[str]] = {"Query": set()}
    for name in conditions:
        keep.setdefault(name, set())
    for name, names in fields.items():
        keep.setdefault(name, set()).update(names)
    changed = True
    while changed:
        changed = False
        before = {name: len(names) for name, names in keep.items()}

        def need(type_: Any) -> None:
            keep.setdefault(get_named_type(type_).name, set())

        for name in list(keep):
            type_ = schema.type_map[name]
            if isinstance(type_, GraphQLUnionType):
                for member in type_.types:
                    need(member)
            if isinstance(type_, GraphQLInterfaceType):
                for impl in schema.get_implementations(type_).objects + schema.get_implementations(type_).interfaces:
                    keep.setdefault(impl.name, set()).update(keep[name])
            if isinstance(type_, (GraphQLObjectType, GraphQLInterfaceType)):
                for interface in type_.interfaces:
                    if interface.name in keep:  # the implementation keeps what its interface keeps
                        keep[name].update(keep[interface.name])
                if not keep[name]:  # an object needs one field: a leaf one, id if it has one
                    keep[name].add("id" if "id" in type_.fields else next(
                        f for f, d in type_.fields.items() if not hasattr(get_named_type(d.type), "fields")))
                for field_name in keep[name]:
                    field = type_.fields[field_name]
                    need(field.type)
                    for arg in field.args.values():
                        need(arg.type)
            if isinstance(type_, GraphQLInputObjectType):
                for field in type_.fields.values():
                    need(field.type)
        changed = before != {name: len(names) for name, names in keep.items()}
    builtins = {"String", "Int", "Float", "Boolean", "ID"}
    return {name: names for name, names in keep.items() if name not in builtins}


def _unwrap(type_: Any) -> Any:
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        type_ = type_.of_type
    return type_


def prune(sdl: str, schema: GraphQLSchema, keep: dict[str, set[str]]) -> str:
    """The kept definitions of ``sdl``, in its order, with only the kept fields and interfaces."""
    definitions: list[DefinitionNode] = []
    for node in parse(sdl).definitions:
        name = getattr(getattr(node, "name", None), "value", None)
        if name not in keep:
            continue
        if isinstance(node, (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode)):
            seen: set[str] = set()
            kept_fields: list[FieldDefinitionNode] = []
            for field in node.fields or ():
                if field.name.value in keep[name] and field.name.value not in seen:
                    seen.add(field.name.value)
                    kept_fields.append(_without_bad_deprecation(schema, name, field))
            node = type(node)(name=node.name, description=node.description, directives=(),
                              interfaces=tuple(i for i in node.interfaces or () if i.name.value in keep),
                              fields=tuple(kept_fields))
        elif isinstance(node, (EnumTypeDefinitionNode, InputObjectTypeDefinitionNode, UnionTypeDefinitionNode,
                               ScalarTypeDefinitionNode)):
            node = _strip_capabilities(node)
        else:
            continue
        definitions.append(node)
    return "\n\n".join(print_ast(node) for node in definitions) + "\n"


def _strip_capabilities(node: Any) -> Any:
    """GitHub's ``@requiredCapabilities`` marks are dropped; ``@deprecated`` ones stay."""
    def clean(item: Any) -> Any:
        directives = tuple(d for d in getattr(item, "directives", None) or () if d.name.value == "deprecated")
        kwargs = {key: getattr(item, key) for key in item.keys if key != "loc"}
        kwargs["directives"] = directives
        for key in ("values", "fields"):
            if kwargs.get(key):
                kwargs[key] = tuple(clean(child) for child in kwargs[key])
        return type(item)(**kwargs)
    return clean(node)


def _without_bad_deprecation(schema: GraphQLSchema, type_name: str, field: FieldDefinitionNode) -> Any:
    type_ = schema.type_map[type_name]
    assert isinstance(type_, (GraphQLObjectType, GraphQLInterfaceType))
    interfaces_deprecated = [i.fields[field.name.value].deprecation_reason is not None
                             for i in type_.interfaces if field.name.value in i.fields]
    cleaned = _strip_capabilities(field)
    if interfaces_deprecated and not all(interfaces_deprecated):
        cleaned = type(cleaned)(**{**{k: getattr(cleaned, k) for k in cleaned.keys if k != "loc"},
                                   "directives": tuple(d for d in cleaned.directives
                                                       if d.name.value != "deprecated")})
    return cleaned


def header() -> str:
    lines = [
        f"Pruned from schema.graphql of the npm package {PACKAGE}@{VERSION}: GitHub's public GraphQL",
        "schema (api.github.com), as octokit republishes it. Written by tools/extract_github_graphql.py; do",
        "not edit by hand. Only the fields the GitHub double serves are kept (see the tool's docstring).",
        "",
        "@octokit/graphql-schema's licence (LICENSE.md):",
        "Copyright (c) GitHub 2025 - Licensed as MIT.",
        "Permission is hereby granted, free of charge, to any person obtaining a copy of this software and",
        'associated documentation files (the "Software"), to deal in the Software without restriction,',
        "including without limitation the rights to use, copy, modify, merge, publish, distribute,",
        "sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is",
        "furnished to do so, subject to the following conditions: The above copyright notice and this",
        "permission notice shall be included in all copies or substantial portions of the Software.",
        'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED.',
    ]
    return "".join(f"# {line}".rstrip() + "\n" for line in lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    sdl = Path(argv[0]).read_text(encoding="utf-8")
    full = build_schema(sdl, assume_valid_sdl=True)  # GitHub's SDL repeats a few fields; see above
    # The queries are checked against the whole schema with graphql-core's schema checks skipped (the
    # deprecation pairing above); the subset written below passes every check.
    full._validation_errors = []  # graphql-core caches its verdict here
    documents = [parse(text) for text in SERVED]
    fields, conditions = selected(full, documents)
    subset = header() + prune(sdl, full, closure(full, fields, conditions))
    built = build_schema(subset)  # the subset must be a valid schema on its own, fully checked
    for document in documents:
        errors = validate(built, document)
        if errors:
            raise SystemExit(f"the subset refuses a SERVED query: {errors[0].message}")
    OUT.write_text(subset, encoding="utf-8")
    print(f"{OUT.name}: {len(built.type_map)} types, {len(subset):,} characters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
