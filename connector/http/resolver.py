"""Resolve operationIds to handlers, and tell Connexion which media type a handler's result is.

Each operation documents two media types (``application/json`` for success and
``application/problem+json`` for errors), and Connexion refuses to guess between them for a
handler's return value. Errors never come from handlers' return values (they are raised and rendered
by :func:`connector.http.problem.handle_error`), so every returned value is JSON; the wrapper says so once
here instead of in every handler. Writes (operations marked ``x-openai-isConsequential``) are
wrapped once more here, by :func:`connector.http.idempotency.idempotent`, so a new write operation is
idempotent with no code of its own, and by :func:`connector.http.credential_scan.refusing_credentials`,
so none sends a credential.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import Any

from connexion import request
from connexion.resolver import Resolver

from ..errors import BadRequest, FieldError
from ..record import note_target
from .credential_scan import refusing_credentials
from .idempotency import idempotent
from .rate_limits import rate_limited

__all__ = ["JSONResolver"]

_JSON = {"Content-Type": "application/json"}
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def _returns_json(handler: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(handler):  # a handler that waits: Connexion awaits it on the event loop
        @functools.wraps(handler)
        async def waiting(*args: Any, **kwargs: Any) -> tuple[Any, int, dict[str, str]]:
            _note_target(kwargs.get("body"))
            return _as_json(await handler(*args, **kwargs))

        return waiting

    @functools.wraps(handler)  # Connexion reads the handler's parameters through __wrapped__
    def wrapper(*args: Any, **kwargs: Any) -> tuple[Any, int, dict[str, str]]:
        _note_target(kwargs.get("body"))
        return _as_json(handler(*args, **kwargs))

    return wrapper


def _note_target(body: Any) -> None:
    """For the audit log: what the request is about, before any refusal."""
    if isinstance(body, dict):
        header = request.headers.get("idempotency-key")
        note_target(body, body.get("request_id") or (header if header and _REQUEST_ID.fullmatch(header) else None))


def _as_json(result: Any) -> tuple[Any, int, dict[str, str]]:
    if not isinstance(result, tuple):
        result = (result, 200)
    body, status, *headers = result
    return body, status, {**_JSON, **(headers[0] if headers else {})}


class JSONResolver(Resolver):
    """Handlers by operationId, answering JSON; the ``writes`` among them are made idempotent."""

    def __init__(self, writes: frozenset[str] = frozenset(), idempotency: Any = None, limits: Any = None) -> None:
        super().__init__()
        self._writes, self._idempotency, self._limits = writes, idempotency, limits

    def resolve_function_from_operation_id(self, operation_id: str) -> Callable[..., Any]:
        handler = super().resolve_function_from_operation_id(operation_id)
        name = operation_id.rsplit(".", 1)[-1]  # x-openapi-router-controller prefixes the module
        if name in self._writes and inspect.iscoroutinefunction(handler):
            raise TypeError(f"{name} writes, so it must be a plain function: the claim and the credential check "
                            "around it block, and belong in a worker thread")
        if name in self._writes and self._idempotency is not None:
            handler = idempotent(name, handler, self._idempotency, idempotency_key_header)
        if name in self._writes:  # before the claim: a refused body claims no request_id
            handler = refusing_credentials(handler)
        if self._limits is not None:  # without limits configured, no wrapper on the request path
            handler = rate_limited(handler, self._limits)  # outermost: counted before anything runs
        return _returns_json(handler)


def idempotency_key_header() -> str | None:
    """The request's ``Idempotency-Key`` header, checked like a request_id."""
    value = request.headers.get("idempotency-key")
    if value is None:
        return None
    if not _REQUEST_ID.fullmatch(value):
        raise BadRequest([FieldError("Idempotency-Key", "must be 1-128 letters, digits and . _ : -, like request_id")])
    return value
