"""Let Connexion 3.3 serve an OpenAPI **3.1** document, validated the 3.1 way.

Connexion 3.3 refuses 3.1 documents: it checks every spec against its bundled 3.0 meta-schema
(which rejects ``openapi: 3.1.0``, type arrays such as ``["string", "null"]`` and ``examples`` in
schemas) and validates bodies with JSON Schema Draft 4, which ignores ``const`` and cannot express
3.1's null handling (upstream issue spec-first/connexion#1396). This adapter changes exactly three
things and leaves the rest of Connexion (routing, security, parameter parsing) untouched:

1. :class:`OpenAPI31Specification` validates the document against the OpenAPI 3.1 meta-schema
   (and its Schema Objects against Draft 2020-12) instead of the 3.0 meta-schema.
2. :data:`VALIDATOR_MAP` validates request and response bodies with a Draft 2020-12 validator (the
   dialect of OpenAPI 3.1 schemas; :mod:`connector.spec.json_validation`), with ``pattern``
   evaluated as ECMA-262 regexes. Requests are
   parsed strictly (no duplicate keys, no NaN), every bad field is reported with its JSON path,
   schema ``default`` values are filled in (also where a caller sent ``null``), and integral
   numbers such as ``24.0`` become integers.
3. :func:`add_api` registers a pre-built specification, because ``FlaskApp.add_api`` always loads
   documents through Connexion's 3.0-only loader.

It relies on Connexion internals (``ConnexionMiddleware.apis``/``options`` and the validator base
classes) that were read on 3.3.0; ``pyproject.toml`` pins Connexion to ``<3.4`` for that reason.
"""

from __future__ import annotations

import hashlib
import json
import threading
import typing as t
from functools import lru_cache
from importlib import resources

import jsonschema
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import InvalidSpecification, NonConformingResponseBody
from connexion.middleware.main import API
from connexion.spec import OpenAPISpecification
from connexion.validators import AbstractRequestBodyValidator, AbstractResponseBodyValidator, ParameterValidator
from jsonschema import Draft202012Validator

from ..errors import BadRequest, FieldError
from .json_validation import check_request_value, response_validator, strict_json_loads
from .schema_errors import json_path

__all__ = ["OpenAPI31Specification", "VALIDATOR_MAP", "add_api", "validate_document"]


class OpenAPI31Specification(OpenAPISpecification):
    """Connexion's OpenAPI specification, checked against the OpenAPI 3.1 meta-schema.

    The check uses the OpenAPI Initiative's own 3.1 schema (shipped in ``resources/``) and the
    Draft 2020-12 meta-schema for every Schema Object. openapi-spec-validator does this and more
    (reference resolution, duplicate operationIds) but costs 20 MB and 0.13 s at every start
    (docs/benchmarks.md), so it runs in the test suite instead.
    """

    @classmethod
    def _validate_spec(cls, spec: dict) -> None:
        validate_document(spec)


# Digests of documents that passed validate_document. Every app a process builds (one per worker,
# and one per test in the suite) validates the same few documents; checking one costs ~100-300 ms,
# hashing it under 1 ms. Only passes are remembered, so an invalid document is checked (and its
# first error reported) every time. The documents every deployment without an event catalog
# enforces (with or without a default repository, read-only or not) are checked by the test suite,
# which keeps their digests in CHECKED_DOCUMENTS; a process starts trusting those, so a cold start
# does not pay for the check. A catalog (the operator's own schemas) is always checked.
CHECKED_DOCUMENTS = "resources/checked-documents.txt"
_VALID_DIGESTS: dict[bytes, None] = {}
_VALID_DIGESTS_MAX = 32
_VALID_DIGESTS_LOCK = threading.Lock()
_JSON_SCALARS = (str, int, float, bool, type(None))


def validate_document(spec: dict) -> None:
    """Raise :class:`InvalidSpecification` naming the first place ``spec`` breaks OpenAPI 3.1.

    A document equal to one that passed before (same canonical JSON, and made only of JSON's own
    types) is not checked again; any other document gets the full check.
    """
    digest = _document_digest(spec)
    if digest is not None and (digest in _VALID_DIGESTS or digest in _checked_in_tests()):
        return
    _check_document(spec)
    if digest is not None:
        with _VALID_DIGESTS_LOCK:
            _VALID_DIGESTS[digest] = None
            while len(_VALID_DIGESTS) > _VALID_DIGESTS_MAX:
                del _VALID_DIGESTS[next(iter(_VALID_DIGESTS))]


@lru_cache(maxsize=1)
def _checked_in_tests() -> frozenset[bytes]:
    lines = resources.files(__package__).joinpath(CHECKED_DOCUMENTS).read_text().splitlines()
    return frozenset(bytes.fromhex(line) for line in lines if line and not line.startswith("#"))


def document_digest(spec: t.Any) -> bytes | None:
    """The digest :func:`validate_document` remembers a document by (None: never remembered)."""
    return _document_digest(spec)


def _document_digest(spec: t.Any) -> bytes | None:
    """SHA-256 of ``spec``'s canonical JSON; None unless it holds only dicts with string keys,
    lists and JSON scalars (JSON would blur an int key or a tuple into what validates differently)."""
    if not _json_native(spec):
        return None
    try:
        text = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _json_native(root: t.Any) -> bool:
    stack = [root]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is dict:
            if any(type(key) is not str for key in node):
                return False
            stack.extend(node.values())
        elif kind is list:
            stack.extend(node)
        elif kind not in _JSON_SCALARS:
            return False
    return True


def _check_document(spec: dict) -> None:
    if not str(spec.get("openapi", "")).startswith("3.1."):
        raise InvalidSpecification(f"expected an OpenAPI 3.1 document, got openapi: {spec.get('openapi')!r}")
    error = jsonschema.exceptions.best_match(_openapi_meta_validator().iter_errors(spec))
    if error is not None:
        raise InvalidSpecification(f"invalid OpenAPI 3.1 document at {json_path(error.absolute_path)}: {error.message}")
    schema_validator = Draft202012Validator(Draft202012Validator.META_SCHEMA)  # one for all schemas
    for path, schema in _schema_objects(spec, ()):
        error = jsonschema.exceptions.best_match(schema_validator.iter_errors(schema))
        if error is not None:
            raise InvalidSpecification(f"invalid schema at {json_path(path)}: {error.message}")


def _openapi_meta_validator() -> Draft202012Validator:
    raw = resources.files(__package__).joinpath("resources/openapi-3.1-schema.json").read_text()
    # The schema's only dynamic anchor is "meta" on $defs/schema, and no outer dialect schema
    # overrides it here, so a static $ref means the same; jsonschema then checks the document in
    # 10 ms instead of 65 ms, which counts at every start.
    return Draft202012Validator(json.loads(raw.replace('"$dynamicRef": "#meta"', '"$ref": "#/$defs/schema"')))


def _schema_objects(node: t.Any, path: tuple) -> t.Iterator[tuple[tuple, dict]]:
    """Every Schema Object: the values of ``schema`` keys and of ``components.schemas``."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = (*path, key)
            if key == "schema" and isinstance(value, dict):
                yield here, value
            elif path == ("components",) and key == "schemas" and isinstance(value, dict):
                yield from (((*here, name), schema) for name, schema in value.items())
            else:
                yield from _schema_objects(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _schema_objects(item, (*path, index))


def add_api(app: t.Any, specification: dict, **options: t.Any) -> None:
    """Register a 3.1 document on a Connexion app; ``options`` are those of ``app.add_api``."""
    middleware = app.middleware
    if middleware.middleware_stack is not None:
        raise RuntimeError("cannot add an API after the application has started")
    spec = OpenAPI31Specification(specification)
    merged = middleware.options.replace(**options)
    middleware.apis.append(API(spec, base_path=None, name=None, **merged.__dict__))


# --- request and response bodies ---------------------------------------------------------


class JSONRequestBodyValidator(AbstractRequestBodyValidator):
    """Strict JSON parsing, Draft 2020-12 validation, defaults filled in, every bad field listed."""

    MUTABLE_VALIDATION = True

    def __init__(self, *, schema: dict, encoding: str, **kwargs: t.Any) -> None:
        super().__init__(
            schema=schema,
            required=kwargs.get("required", False),
            nullable=kwargs.get("nullable", False),
            encoding=encoding,
            strict_validation=kwargs.get("strict_validation", False),
        )

    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: t.Any) -> t.Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw.strip():
            return None
        return strict_json_loads(raw, self._encoding)

    def _validate(self, body: t.Any) -> None:
        if body is None:
            raise BadRequest([FieldError("$", "a JSON object body is required")])
        check_request_value(self._schema, body)


class JSONResponseBodyValidator(AbstractResponseBodyValidator):
    """Checks the connector's own responses against the 3.1 schemas (a bug guard, not input checking).

    jsonschema-rs would make this ~100x faster (0.01 ms instead of 1.2 ms for a page of 20 pull
    requests) but holds 2.5 MB more per worker, which put a worker over its 80 MB budget; against
    GitHub's own latency a millisecond does not show (docs/benchmarks.md).
    """

    def _parse(self, stream: t.Generator[bytes, None, None]) -> t.Any:
        raw = b"".join(stream)
        return json.loads(raw) if raw else None

    def _validate(self, body: t.Any) -> None:
        error = jsonschema.exceptions.best_match(response_validator(self._schema).iter_errors(body))
        if error is not None:
            raise NonConformingResponseBody(detail=f"{json_path(error.absolute_path)}: {error.message[:200]}")


VALIDATOR_MAP = {
    "parameter": ParameterValidator,
    "body": MediaTypeDict({"*/*json": JSONRequestBodyValidator}),
    "response": MediaTypeDict({"*/*json": JSONResponseBodyValidator}),
}
