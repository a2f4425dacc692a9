"""Resolve operationIds to handlers, and tell Connexion which media type a handler's result is.

Each operation documents two media types (``application/json`` for success and
``application/problem+json`` for errors), and Connexion refuses to guess between them for a
handler's return value. Errors never come from handlers' return values (they are raised and rendered
by :func:`connector.errors.handle_error`), so every returned value is JSON; the wrapper says so once
here instead of in every handler.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from connexion.resolver import Resolver

__all__ = ["JSONResolver"]

_JSON = {"Content-Type": "application/json"}


def _returns_json(handler: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handler)  # Connexion reads the handler's parameters through __wrapped__
    def wrapper(*args: Any, **kwargs: Any) -> tuple[Any, int, dict[str, str]]:
        result = handler(*args, **kwargs)
        body, status = result if isinstance(result, tuple) else (result, 200)
        return body, status, _JSON

    return wrapper


class JSONResolver(Resolver):
    def resolve_function_from_operation_id(self, operation_id: str) -> Callable[..., Any]:
        return _returns_json(super().resolve_function_from_operation_id(operation_id))
