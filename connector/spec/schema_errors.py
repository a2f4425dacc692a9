"""Turn JSON Schema validation errors into short messages a language model can act on.

jsonschema's own messages repeat the offending value in full (a 70,000-character comment body
would come back whole) and name keywords rather than fixes. Each message here names the field by
JSON path, says what a valid value looks like, and quotes at most a short excerpt of what was sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema.exceptions import ValidationError

from ..errors import FieldError

__all__ = ["describe", "json_path"]

_EXCERPT = 40
# openapi.yaml's pattern for names (labels, event types): no C0/C1 control characters, no outer spaces.
_PRINTABLE_NAME = "^[^\\s\\u0000-\\u001f\\u007f-\\u009f](?:[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f])?$"
_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a JSON object",
    "array": "an array",
    "null": "null",
}


def json_path(parts: Iterable[Any]) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def excerpt(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"


def describe(error: ValidationError) -> list[FieldError]:
    """One or more field errors for one jsonschema error."""
    path = json_path(error.absolute_path)
    # Set on every error a validator raises; typed as possibly unset for errors built by hand.
    keyword, expected, value = str(error.validator), error.validator_value, error.instance
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if keyword == "additionalProperties" and isinstance(value, dict):
        allowed = ", ".join(schema.get("properties", {})) or "none"
        known = set(schema.get("properties", {}))
        return [
            FieldError(json_path([*error.absolute_path, name]), f"is not a known field; allowed fields: {allowed}")
            for name in value
            if name not in known
        ]
    if "propertyNames" in error.relative_schema_path:
        return [FieldError(json_path([*error.absolute_path, value]), "is a key that is not allowed here")]
    if keyword == "required":
        missing = re.match(r"'(.+)' is a required property", error.message)
        name = missing.group(1) if missing else "?"
        return [FieldError(json_path([*error.absolute_path, name]), "is required")]
    if keyword == "dependentRequired" and isinstance(expected, dict) and isinstance(value, dict):
        return [FieldError(json_path([*error.absolute_path, needed]), f"is required when {given} is given: give "
                           f"both {given} and {needed}, or neither")
                for given, needs in expected.items() if given in value for needed in needs if needed not in value]
    return [FieldError(path, _message(keyword, expected, value, schema))]


def _message(keyword: str, expected: Any, value: Any, schema: Mapping[str, Any]) -> str:
    if keyword == "type":
        types = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(_TYPE_NAMES.get(str(name), str(name)) for name in types)
        return f"must be {wanted} (got {_type_of(value)})"
    if keyword == "enum":
        choices = ", ".join(str(choice) for choice in expected if choice is not None)
        return f"must be one of {choices} (got {excerpt(value)})"
    if keyword == "const":
        return f"must be {expected!r}"
    if keyword == "minLength":
        return "must not be empty" if expected == 1 else f"must be at least {expected} characters long"
    if keyword == "maxLength":
        return f"must be at most {expected} characters long (got {len(value)})"
    if keyword == "pattern":
        hint = schema.get("description", "")
        if expected == "\\S":
            return "must contain a non-whitespace character"
        if expected == _PRINTABLE_NAME:
            return "must not be blank, start or end with whitespace, or contain control characters such as line breaks"
        return f"{excerpt(value)} is not allowed here: it must match {expected}" + (f" ({hint})" if hint else "")
    if keyword == "minimum":
        return f"must be at least {expected} (got {value})"
    if keyword == "maximum":
        return f"must be at most {expected} (got {value})"
    if keyword == "minItems":
        return f"must have at least {expected} item(s)"
    if keyword == "maxItems":
        return f"must have at most {expected} items (got {len(value)})"
    if keyword == "uniqueItems":
        return "must not list the same item twice"
    if keyword == "maxProperties":
        return f"must have at most {expected} keys (got {len(value)})"
    if keyword == "not" and isinstance(expected, dict) and "const" in expected:
        return f"must not be {expected['const']!r}"
    if keyword == "not" and isinstance(expected, dict) and "enum" in expected:
        return f"must not be any of {', '.join(map(repr, expected['enum']))}"
    if keyword == "format":
        return f"{excerpt(value)} is not a valid {expected}"
    return f"is invalid ({keyword})"


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
