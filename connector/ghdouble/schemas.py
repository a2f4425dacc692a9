"""GitHub's own request/response schemas, used to keep the double (and its clients) honest.

The double must not accept requests that real GitHub would reject, otherwise tests pass
against the double and fail against github.com. So instead of hand-writing validation we
load the operations we serve from ``github-rest-subset.json`` (bytes of GitHub's official
OpenAPI 3.0 description, fully dereferenced) and validate with ``jsonschema``. The webhook
payloads the double sends are checked against the same description's webhook schemas.

OpenAPI 3.0 schemas are "almost Draft 4": the one construct that changes meaning is
``nullable: true``, which we rewrite to ``anyOf: [schema, {type: null}]`` before handing
the schema to :class:`jsonschema.Draft4Validator`.

Each REST API version has its own description of the same operations (``versions``: the default
2022-11-28 and 2026-03-10, which removed fields such as a pull request's ``merge_commit_sha``);
a request is checked against the version it asked for, and so is the answer it gets.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError, best_match

__all__ = ["DEFAULT_VERSION", "SUBSET_PATH", "Operation", "SchemaBook", "load_schemas", "to_jsonschema"]

SUBSET_PATH = Path(__file__).with_name("github-rest-subset.json")
DEFAULT_VERSION = "2022-11-28"  # what GitHub serves a request without X-GitHub-Api-Version
# Sections of the subset describing the operations as a calendar version has them.
_VERSION_SECTIONS = {"2026-03-10": "operations_2026_03_10"}

# Keys whose value is a mapping of *names* to schemas (names must not be rewritten).
_NAMED_SCHEMAS = ("properties", "patternProperties", "definitions")
_SCHEMA_VALUED = ("items", "additionalProperties", "not", "additionalItems")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")

# GitHub documents that add-labels also takes a bare array ("You can also pass an `array`
# of labels directly", and PyGithub sends exactly that), but this subset's schema only
# keeps the object form. Normalise before validating so that honest clients pass.
_BODY_ALIASES: dict[str, Callable[[Any], Any]] = {
    "issues/add-labels": lambda body: {"labels": body} if isinstance(body, list) else body,
}


def to_jsonschema(node: Any) -> Any:
    """Return a Draft 4 schema equivalent to the OpenAPI 3.0 schema ``node``."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "nullable":
            continue
        if key in _NAMED_SCHEMAS and isinstance(value, dict):
            out[key] = {name: to_jsonschema(sub) for name, sub in value.items()}
        elif key in _SCHEMA_VALUED:
            out[key] = to_jsonschema(value)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [to_jsonschema(sub) for sub in value]
        else:
            out[key] = value
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _location(error: ValidationError, root: str) -> str:
    parts = [str(p) for p in error.absolute_path]
    return "/".join([root, *parts]) if parts else root


def github_message(error: ValidationError, root: str = "properties") -> str:
    """Phrase a validation error the way GitHub's "Invalid request" 422s do."""
    if error.validator == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        required = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [name for name in required if name not in present]
        return f'"{missing[0] if missing else "?"}" wasn\'t supplied.'
    value = json.dumps(error.instance)
    if error.validator == "type":
        kind = error.validator_value
        article = "an" if str(kind)[:1] in "aeiou" else "a"
        return f"For '{_location(error, root)}', {value} is not {article} {kind}."
    return f"For '{_location(error, root)}', {error.message}."


@dataclass
class Operation:
    """One GitHub REST operation: where it lives and what it accepts."""

    id: str
    method: str
    template: str
    regex: re.Pattern[str]
    doc_url: str
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    query_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    required_query: tuple[str, ...] = ()
    body_schema: dict[str, Any] | None = None
    body_required: bool = False
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)


def _coerce(value: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?\d+", value):
        return int(value)
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def _all_errors(schema: dict[str, Any], instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
            for e in Draft4Validator(schema).iter_errors(instance)]


def _first_error(schema: dict[str, Any], instance: Any) -> ValidationError | None:
    return best_match(Draft4Validator(schema).iter_errors(instance))


class SchemaBook:
    """The loaded subset: route matching plus request and response validation."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.operations: dict[str, Operation] = {}
        for op_id, entry in document["operations"].items():
            self.operations[op_id] = self._build(op_id, entry)
        # Each API version's description of the same operations; the default one is ``operations``.
        self.versions: dict[str, dict[str, Operation]] = {DEFAULT_VERSION: self.operations}
        for version, section in _VERSION_SECTIONS.items():
            if section in document:
                self.versions[version] = {op_id: self._build(op_id, entry)
                                          for op_id, entry in document[section].items()}
        self._validators: dict[tuple[str, str, str], Draft4Validator] = {}  # answers checked per request
        # Payload schemas by (X-GitHub-Event, action); ``ping`` has no action.
        self.webhooks: dict[tuple[str, str | None], dict[str, Any]] = {}
        for entry in document.get("webhooks", {}).values():
            schema = entry["operation"]["requestBody"]["content"]["application/json"]["schema"]
            action = schema.get("properties", {}).get("action", {}).get("enum", [None])[0]
            self.webhooks[(entry["event"], action)] = to_jsonschema(schema)
        # Prefer templates with more literal segments if two ever match one path.
        self._routes = sorted(
            self.operations.values(),
            key=lambda op: -sum(1 for s in op.template.split("/") if s and "{" not in s),
        )

    @staticmethod
    def _build(op_id: str, entry: Mapping[str, Any]) -> Operation:
        raw = entry["operation"]
        template = entry["path"]
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        # A file's {path} (repos/get-content) spans directories: GitHub takes its slashes as they are.
        pattern = pattern.replace("/(?P<path>[^/]+)", "/(?P<path>.*)")
        op = Operation(
            id=op_id,
            method=entry["method"].upper(),
            template=template,
            regex=re.compile(pattern),
            doc_url=raw.get("externalDocs", {}).get("url", "https://docs.github.com/rest"),
        )
        required: list[str] = []
        for param in raw.get("parameters", []):
            schema = to_jsonschema(param.get("schema", {}))
            if param["in"] == "path":
                op.path_params[param["name"]] = schema
            elif param["in"] == "query":
                op.query_params[param["name"]] = schema
                if param.get("required"):
                    required.append(param["name"])
        op.required_query = tuple(required)
        body = raw.get("requestBody")
        if body:
            op.body_schema = to_jsonschema(body["content"]["application/json"]["schema"])
            op.body_required = bool(body.get("required"))
        for status, response in raw.get("responses", {}).items():
            content = response.get("content", {}).get("application/json")
            if content and "schema" in content:
                op.responses[status] = to_jsonschema(content["schema"])
        return op

    def operation(self, op_id: str, version: str = DEFAULT_VERSION) -> Operation:
        """``op_id`` as API ``version`` describes it (the default description if that version has none)."""
        return self.versions.get(version, self.operations).get(op_id) or self.operations[op_id]

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        for op in self._routes:
            if op.method == method.upper() and (m := op.regex.fullmatch(path)):
                return op, m.groupdict()
        return None

    def check_path(self, op: Operation, params: Mapping[str, str]) -> list[str]:
        errors = []
        for name, raw in params.items():
            error = _first_error(op.path_params.get(name, {}), _coerce(raw, op.path_params.get(name, {})))
            if error is not None:
                errors.append(github_message(error, f"path/{name}"))
        return errors

    def check_request(
        self, op: Operation, query: Mapping[str, str], body: Any, has_body: bool
    ) -> list[str]:
        """All ways this request departs from GitHub's description (empty when it conforms)."""
        errors: list[str] = []
        for name, raw in query.items():
            schema = op.query_params.get(name)
            if schema is None:
                errors.append(f"Unknown query parameter '{name}' for {op.id}.")
                continue
            error = _first_error(schema, _coerce(raw, schema))
            if error is not None:
                errors.append(github_message(error, f"query/{name}"))
        errors.extend(f'"{n}" wasn\'t supplied.' for n in op.required_query if n not in query)
        if op.body_schema is not None:
            if not has_body:
                if op.body_required:
                    errors.append("A request body is required.")
            else:
                body = _BODY_ALIASES.get(op.id, lambda b: b)(body)
                error = _first_error(op.body_schema, body)
                if error is not None:
                    errors.append(github_message(error))
        return errors

    def check_response(self, op_id: str, status: int, body: Any, version: str = DEFAULT_VERSION) -> list[str]:
        """Errors of ``body`` against GitHub's schema for ``op_id``/``status`` in API ``version``."""
        schema = self.operation(op_id, version).responses.get(str(status))
        if schema is None:
            return [f"{op_id} documents no JSON response for status {status}"]
        key = (version, op_id, str(status))
        validator = self._validators.get(key) or self._validators.setdefault(key, Draft4Validator(schema))
        return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
                for e in validator.iter_errors(body)]

    def check_webhook(self, event: str, action: str | None, payload: Any) -> list[str]:
        """Errors of a webhook ``payload`` against GitHub's schema for ``event``/``action``."""
        schema = self.webhooks.get((event, action))
        if schema is None:
            return [f"no webhook schema for {event}/{action}"]
        return _all_errors(schema, payload)


@functools.cache
def load_schemas(path: str | None = None) -> SchemaBook:
    """Parse the subset once per process; every double shares the (read-only) result."""
    with open(path or SUBSET_PATH, encoding="utf-8") as fh:
        return SchemaBook(json.load(fh))
