"""What a model is shown of a request schema: the enforced schema less what only a validator uses.

Every conversation pays for the tool list, so a tool's input schema keeps what helps a model choose
its arguments (types, enums, defaults, ``required``, numeric limits, descriptions, and an example of
a free-form object) and leaves out what only a validator uses: regex patterns, ``not`` clauses,
property-name rules, which fields must come together, string lengths (the ones a model can reach,
such as a comment's 65,536 characters, are stated in the descriptions), trivial floors (a minimum
of 0 or 1), maxima no model comes near (10,000 and up), examples of strings and numbers (descriptions
give an "e.g." where one helps), ``additionalProperties: false`` and the ``null`` of optional fields
(the routes take ``null`` as absent, and omitting a field says the same).

Apart from the unsaid ``null``, the view admits more than the enforced schema, never less; the
route behind a tool still enforces the whole schema: a tool call is checked exactly as the same HTTP request is, and
an argument only the full schema refuses gets the route's ``400 validation_error`` naming it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["VALIDATOR_ONLY", "model_view"]

VALIDATOR_ONLY = frozenset({"pattern", "not", "propertyNames", "dependentRequired", "minLength", "maxLength",
                            "uniqueItems"})
NEEDLESS_MAXIMUM = 10_000  # a 10,000th page, an int32 id: bounds against abuse, not anything a model asks for
# Keywords whose value maps names to schemas, or is a schema or a list of them.
_NAMED = ("properties", "patternProperties", "$defs")
_SCHEMA = ("items", "additionalProperties", "contains")
_SCHEMAS = ("allOf", "anyOf", "oneOf", "prefixItems")


def model_view(schema: Any) -> Any:
    """The view of ``schema`` (a JSON Schema with its references inlined), as a new object."""
    if not isinstance(schema, dict):
        return schema
    view: dict[str, Any] = {}
    for keyword, value in schema.items():
        if keyword in VALIDATOR_ONLY or _needless_bound(keyword, value) or _repeats_description(keyword, schema):
            continue
        if keyword == "additionalProperties" and value is False:
            continue  # the properties are listed; an unknown one is the route's 400, naming it
        if keyword == "type" and isinstance(value, list) and "null" in value:
            value = _without_null(value)
        elif keyword == "enum" and isinstance(value, list) and None in value:
            value = [member for member in value if member is not None]
        if keyword in _NAMED and isinstance(value, dict):
            view[keyword] = {name: model_view(sub) for name, sub in value.items()}
        elif keyword in _SCHEMA:
            view[keyword] = model_view(value)
        elif keyword in _SCHEMAS and isinstance(value, list):
            view[keyword] = [model_view(sub) for sub in value]
        else:
            view[keyword] = value
    return view


def _without_null(types: list[str]) -> str | list[str]:
    """An optional field's ``null`` (the routes take it as "absent", as models often send it)
    goes unsaid: omitting the field says the same."""
    rest = [kind for kind in types if kind != "null"]
    return rest[0] if len(rest) == 1 else rest


def _needless_bound(keyword: str, value: Any) -> bool:
    if keyword in ("minimum", "minItems"):
        return isinstance(value, int) and value <= 1
    return keyword == "maximum" and isinstance(value, int) and value >= NEEDLESS_MAXIMUM


def _repeats_description(keyword: str, schema: dict[str, Any]) -> bool:
    """Examples of a string or a number go (a description says "e.g." where one helps); an
    example of a free-form object shows a shape no description spells out as briefly, so it stays."""
    types = schema.get("type")
    return keyword == "examples" and "object" not in (types if isinstance(types, list) else [types])
