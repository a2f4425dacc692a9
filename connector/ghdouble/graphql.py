"""GitHub's GraphQL API on the double: ``POST /graphql`` (``/api/graphql`` on Enterprise Server).

Every query is parsed and validated against GitHub's own schema (``github-graphql-subset.graphql``,
cut from GitHub's published SDL by ``tools/extract_github_graphql.py`` down to the fields the
double serves), then executed against the double's state (``graphql_resolvers``). GitHub's order
and answers: credentials first (401 ``Bad credentials``, or ``This endpoint requires you to be
authenticated.`` without any), then an injected fault, then the body (400 ``Problems parsing
JSON``); a query GitHub will not run is HTTP 200 with only ``errors`` (``graphql_errors`` words
them as GitHub does); one it runs is HTTP 200 with ``data`` and, for what it could not resolve
(``NOT_FOUND``, a private repository the caller cannot see included), ``errors`` beside it.

Requests are recorded like REST ones, under the path ``/graphql`` in both layouts, so
``double.calls("POST", "/graphql")`` counts GitHub calls and fault patterns match ``/graphql``; a
refused query's reasons are its ``schema_errors``. Their ``operation_id`` stays ``None``: no REST
operation (and no REST version's response schema) applies to them.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Protocol

from graphql import DocumentNode, GraphQLError, GraphQLSchema, build_schema, execute_sync, parse, validate

from .apps import Apps
from .faults import FaultQueue
from .graphql_errors import document_paths, executed, refused
from .graphql_resolvers import Context, resolve_field, resolve_type, root
from .pipeline import Caller, authenticate
from .records import RecordedRequest, Reply, error
from .state import State
from .users import People

__all__ = ["DOCS", "PATH", "SCHEMA_FILE", "GraphQL", "load_schema"]

DOCS = "https://docs.github.com/graphql"
PATH = "/graphql"  # as recorded, in either layout
SCHEMA_FILE = Path(__file__).with_name("github-graphql-subset.graphql")
_ANONYMOUS = ("This endpoint requires you to be authenticated.",
              "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql")
_HEADERS = {"x-ratelimit-resource": "graphql", "x-github-media-type": "github.v4; format=json"}


@functools.cache
def load_schema() -> GraphQLSchema:
    """The schema, built once per process (about 0.1 s) on the first GraphQL request."""
    return build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))


class Host(Protocol):
    token: str | None
    prefix: str
    state: State
    apps: Apps
    people: People


class GraphQL:
    """The GraphQL endpoint of the ``host`` double."""

    def __init__(self, host: Host, faults: FaultQueue) -> None:
        self._host, self._faults = host, faults

    def serves(self, rec: RecordedRequest, routed: bool) -> bool:
        """Whether ``rec`` is a GraphQL call: PyGithub's ``graphql_url``, the base URL with ``/v3``
        dropped plus ``/graphql``. Its path is then recorded as ``/graphql``."""
        prefix = self._host.prefix
        full = prefix + rec.path if routed else rec.path
        if rec.method != "POST" or full != prefix.removesuffix("/v3") + PATH:
            return False
        rec.path = PATH
        return True

    def answer(self, rec: RecordedRequest, authorization: str | None) -> Reply | None:
        """The reply to a GraphQL call (``None``: hang up, as an injected fault asks)."""
        host = self._host
        caller = authenticate(None, authorization, token=host.token, apps=host.apps, people=host.people)
        if isinstance(caller, Reply):
            message, doc = _ANONYMOUS if not (authorization or "").strip() else ("Bad credentials", DOCS)
            return error(401, message, doc)
        rec.actor = caller.user.login if caller.user is not None else None
        fault = self._faults.take(rec.method, rec.path)
        if fault is not None and not fault.after:
            replaced, override = fault.strike_first(DOCS)
            if replaced:
                return override
        reply = self._run(rec, caller)
        if fault is not None and fault.after:  # answered, and the answer goes wrong on the way back
            return fault.strike_after(DOCS, reply)
        return reply

    def _run(self, rec: RecordedRequest, caller: Caller) -> Reply:
        try:
            rec.body = json.loads(rec.raw_body or b"null")
        except ValueError:
            rec.schema_errors.append("Problems parsing JSON")
            return error(400, "Problems parsing JSON", DOCS)
        body = rec.body if isinstance(rec.body, dict) else {}
        query, variables = body.get("query"), body.get("variables") or {}
        if isinstance(variables, str):  # GitHub also takes the variables as a JSON string
            try:
                variables = json.loads(variables or "{}")
            except ValueError:
                variables = None
        if not isinstance(query, str) or not isinstance(variables, dict):
            message = ("A query attribute must be specified and must be a string." if not isinstance(query, str)
                       else "Variables are invalid JSON.")
            return self._refuse(rec, [{"message": message}])
        try:
            document = parse(query)
        except GraphQLError as exc:
            return self._refuse(rec, [refused(exc, None, {})])
        schema = load_schema()
        problems = validate(schema, document)
        if problems:
            paths = document_paths(document)
            return self._refuse(rec, [refused(p, document, paths) for p in problems])
        return self._execute(rec, caller, schema, document, variables, body.get("operationName"))

    def _execute(self, rec: RecordedRequest, caller: Caller, schema: GraphQLSchema, document: DocumentNode,
                 variables: dict[str, Any], operation: Any) -> Reply:
        state = self._host.state
        context = Context(state, caller.sees, caller.user.login if caller.user is not None else state.viewer)
        with state.lock:  # one consistent view of the state for the whole query
            result = execute_sync(schema, document, root_value=root(context), variable_values=variables,
                                  operation_name=operation if isinstance(operation, str) else None,
                                  field_resolver=resolve_field, type_resolver=resolve_type)
        errors = list(result.errors or ())
        crashed = [e.original_error for e in errors if e.original_error is not None
                   and not isinstance(e.original_error, GraphQLError)]
        if crashed:  # a bug in the double: loud, as on the REST side
            rec.schema_errors.append(f"double crashed: {crashed[0]!r}")
            return error(500, f"GitHub double error: {crashed[0]!r}", DOCS)
        if result.data is None and errors and all(e.path is None for e in errors):  # never ran: the variables
            paths = document_paths(document)
            return self._refuse(rec, [refused(e, document, paths, variables) for e in errors])
        answer: dict[str, Any] = {"data": result.data}
        if errors:
            answer["errors"] = [executed(e) for e in errors]
        return Reply(200, answer, dict(_HEADERS))

    @staticmethod
    def _refuse(rec: RecordedRequest, errors: list[dict[str, Any]]) -> Reply:
        """A query GitHub will not run: HTTP 200, only ``errors``, and the reasons on the record."""
        rec.schema_errors.extend(str(e["message"]) for e in errors)
        return Reply(200, {"errors": errors}, dict(_HEADERS))
