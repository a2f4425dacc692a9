"""Request bodies as the connector reads and checks them: strict JSON, and JSON Schema Draft 2020-12
(the dialect of OpenAPI 3.1) with ECMA-262 patterns.

Parsing refuses what RFC 8259 peers would not send (duplicate keys, NaN, bytes that are not the
declared charset, unbounded nesting), and names the field of a number no peer reads as sent
(``1e400``, hundreds of digits) or of a string holding NUL or a lone surrogate. Validation fills in ``default`` values (also where a caller
sent ``null``), turns integral numbers such as ``24.0`` into integers, evaluates ``pattern`` as
ECMA-262 does, and reports every bad field by its JSON path. Nothing here imports Connexion, so the
event catalog and the run stream use it without loading the web stack
(:mod:`connector.spec.openapi31` plugs it into Connexion).
"""

from __future__ import annotations

import json
import math
import re
import typing as t
from functools import lru_cache

import jsonschema
from jsonschema import Draft202012Validator

from ..errors import BadRequest, FieldError
from .schema_errors import describe, json_path

__all__ = ["check_request_value", "ecma_regex", "response_validator", "strict_json_loads"]

_MAX_ERRORS = 10


class _StrictJSONError(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, t.Any]]) -> dict[str, t.Any]:
    result: dict[str, t.Any] = {}
    for key, value in pairs:
        if key in result:
            raise _StrictJSONError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _no_constants(name: str) -> _BadNumber:
    # Kept in place like a bad number, so the field is named: an MCP client's 1e400 arrives as
    # Infinity, since /mcp parses the message (and re-encodes its arguments) before the route sees it.
    return _BadNumber(f"is {name}, which is not valid JSON (send a finite number)")


def strict_json_loads(raw: bytes, encoding: str = "utf-8") -> t.Any:
    """Parse JSON the way RFC 8259 peers expect: UTF-8, no duplicate keys, no NaN/Infinity, numbers
    that are finite and of sane length, and strings of Unicode scalar values without NUL."""
    try:
        value = json.loads(
            raw.decode(encoding),
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except UnicodeDecodeError:
        raise BadRequest([FieldError("$", f"the body is not valid {encoding}")]) from None
    except LookupError:  # a charset Python does not know, from the Content-Type header
        raise BadRequest([FieldError("$", f"unknown charset {encoding!r}; send UTF-8 JSON")]) from None
    except RecursionError:
        raise BadRequest([FieldError("$", "the body is nested too deeply")]) from None
    except _StrictJSONError as exc:
        raise BadRequest([FieldError("$", str(exc))]) from None
    except json.JSONDecodeError as exc:
        raise BadRequest(
            [FieldError("$", f"the body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})")]
        ) from None
    bad = list(_bad_text(value, ()))
    if bad:
        raise BadRequest(bad[:_MAX_ERRORS])
    return value


MAX_NUMBER_DIGITS = 100  # far past any id or count; Python would refuse past 4,300 with a crash


class _BadNumber:
    """A number no JSON peer reads as written, kept in place so that its path can be named."""

    def __init__(self, problem: str) -> None:
        self.problem = problem


def _finite_float(text: str) -> float | _BadNumber:
    number = float(text)
    if not math.isfinite(number):
        return _BadNumber(f"is a number too large for JSON peers ({text[:20]}{'…' if len(text) > 20 else ''})")
    return number


def _bounded_int(text: str) -> int | _BadNumber:
    if len(text) > MAX_NUMBER_DIGITS:
        return _BadNumber(f"is a number of {len(text)} digits (at most {MAX_NUMBER_DIGITS})")
    return int(text)


_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")  # NUL, and halves of a surrogate pair left alone


def _bad_text(value: t.Any, path: tuple[str | int, ...]) -> t.Iterator[FieldError]:
    """Every number JSON peers cannot read as sent (infinite, or of absurd length) and every string
    (key or value) that is not text GitHub accepts: one holding NUL or a lone surrogate (which no
    UTF-8 encoder can send on). A bad key is reported at its object's
    path, without the key itself, and nothing under it is looked at."""
    stack: list[tuple[t.Any, tuple[str | int, ...]]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, _BadNumber):
            yield FieldError(json_path(where), node.problem)
        elif isinstance(node, str):
            problem = _text_problem(node)
            if problem:
                yield FieldError(json_path(where), f"contains {problem}")
        elif isinstance(node, dict):
            for key, item in node.items():
                problem = _text_problem(key)
                if problem:
                    yield FieldError(json_path(where), f"has a key that contains {problem}")
                else:
                    stack.append((item, (*where, key)))
        elif isinstance(node, list):
            stack.extend((item, (*where, index)) for index, item in enumerate(node))


def _text_problem(text: str) -> str:
    found = _NOT_TEXT.search(text)
    if found is None:
        return ""
    what = "a NUL character" if found.group() == "\x00" else "a lone surrogate (not a Unicode character)"
    return f"{what} at position {found.start()}"


# ECMA-262's character-class escapes, which Python reads more widely: its \s also matches U+001C-
# U+001F and U+0085, and its \d and \w any Unicode digit or letter.
_ECMA_CLASS_ESCAPES = {
    "s": "\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff",
    "d": "0-9",
    "w": "A-Za-z0-9_",
}


@lru_cache(maxsize=512)
def ecma_regex(pattern: str) -> re.Pattern[str]:
    r"""Compile an ECMA-262 pattern (the dialect of JSON Schema's ``pattern``) for Python.

    * Python's ``$`` also matches before a final newline, so ``^[a-z]+$`` would accept "owner\n";
      an unescaped ``$`` outside a character class becomes ``\Z``.
    * ``\s``, ``\d`` and ``\w`` (and their negations outside a class) become ECMA's explicit sets,
      so a schema means the same here as in the caller's validator: Python's ``\s`` would refuse a
      label ending in U+0085, which ECMA's allows.
    """
    out, escaped, in_class = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
            members = _ECMA_CLASS_ESCAPES.get(char.lower())
            if members is not None and (in_class and char.islower()):
                out.append(members)
                continue
            if members is not None and not in_class:
                out.append(f"[{'^' if char.isupper() else ''}{members}]")
                continue
            out.append("\\" + char)
            continue
        if char == "\\":
            escaped = True
            continue
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            out.append(r"\Z")
            continue
        out.append(char)
    return re.compile("".join(out))


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _properties_normalised(validator, properties, instance, schema):
    """Validate ``properties`` after normalising the values handlers will see.

    * Defaults are filled in, also where a caller sent null for an optional field (language
      models do); an optional field that takes no null and has no default, sent as null, is taken
      as left out, which is what handlers see either way (``owner``/``repo`` with a default
      repository, for instance). Only in closed objects: what an open one holds is passed on as sent.
    * An integral number such as ``24.0`` is a valid JSON Schema ``integer``; it becomes ``24`` so
      that it does not reach GitHub as "24.0" (in a query string or a URL path).
    """
    if isinstance(instance, dict):
        required = schema.get("required", [])
        # Only in objects the connector defines whole (no additional properties): an open object
        # such as client_payload goes to the workflow as sent, so nothing in it is dropped.
        closed = schema.get("additionalProperties") is False
        for name, subschema in properties.items():
            if not isinstance(subschema, dict):
                continue
            value = instance.get(name)
            if value is None and "default" in subschema:
                instance[name] = subschema["default"]
            elif value is None and name in instance and name not in required and closed \
                    and not validator.evolve(schema=subschema).is_valid(None):
                del instance[name]  # null where the field takes no null: the caller meant to leave it out
            elif isinstance(value, float) and value.is_integer() and "integer" in _types(subschema):
                instance[name] = int(value)
    yield from Draft202012Validator.VALIDATORS["properties"](validator, properties, instance, schema)


def _types(schema: dict) -> list[str]:
    types = schema.get("type", [])
    return types if isinstance(types, list) else [types]


_ResponseValidator = jsonschema.validators.extend(Draft202012Validator, {"pattern": _pattern})
_RequestValidator = jsonschema.validators.extend(_ResponseValidator, {"properties": _properties_normalised})


_COMPILED: dict[tuple[int, bool], tuple[dict, jsonschema.protocols.Validator]] = {}


def _validator_for(schema: dict, *, with_defaults: bool) -> jsonschema.protocols.Validator:
    # Connexion builds a validator object per request but hands it the same schema dict each time
    # (one per operation and media type), so compiled validators are cached by that dict's
    # identity; the dict is kept in the entry so its id cannot be reused.
    key = (id(schema), with_defaults)
    entry = _COMPILED.get(key)
    if entry is None or entry[0] is not schema:
        # Responses are checked without asserting `format` (an annotation in Draft 2020-12 unless
        # a validator opts in): they are the connector's own output, and it saves ~10% per check.
        if with_defaults:
            validator = _RequestValidator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        else:
            validator = _ResponseValidator(schema)
        entry = (schema, validator)
        _COMPILED[key] = entry
    return entry[1]


def check_request_value(schema: dict, value: t.Any, *, at: tuple[str | int, ...] = ()) -> None:
    """Validate (and normalise, as for request bodies) ``value`` found at path ``at`` of a request.

    Raises :class:`BadRequest` listing every bad field by its JSON path from the body's root.
    ``schema`` must be long-lived (validators are cached by its identity).
    """
    validator = _validator_for(schema, with_defaults=True)
    errors = sorted(validator.iter_errors(value), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    if errors:
        # One message per field is enough to act on; "" breaks both minLength and pattern.
        by_path: dict[str, FieldError] = {}
        for error in errors:
            error.path.extendleft(reversed(at))
            for field_error in describe(error):
                by_path.setdefault(field_error["path"], field_error)
        # Errors are described after the walk, which drops nulls that mean "left out": one that
        # held only because of such a null ({"repo": null} against owner/repo go together) is gone.
        if by_path:
            raise BadRequest(list(by_path.values())[:_MAX_ERRORS])




def response_validator(schema: dict) -> jsonschema.protocols.Validator:
    """The validator for the connector's own responses (no defaults filled in, ``format`` unchecked)."""
    return _validator_for(schema, with_defaults=False)
