"""Every error answer is built here: ``application/problem+json`` from a :class:`~connector.errors.ConnectorError`.

Framework exceptions (Connexion's problems, Starlette's HTTP exceptions, anything unexpected) are
translated into the hierarchy by :func:`from_exception` first, so :func:`handle_error` (inside
Connexion) and :func:`problem_response` (for the pure ASGI middlewares outside it) are the only two
places an error body is made, and both make it with :func:`problem_body`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from connexion.exceptions import (
    BadRequestProblem,
    NonConformingResponse,
    OAuthResponseProblem,
    ProblemException,
    UnsupportedMediaTypeProblem,
)
from connexion.exceptions import Unauthorized as ConnexionUnauthorized
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response

from ..errors import (
    BadRequest,
    ConnectorError,
    FieldError,
    MethodNotAllowed,
    NotFound,
    Unauthorized,
    UnsupportedMediaType,
)
from ..record import note
from .current import current_services

__all__ = ["PROBLEM_JSON", "from_exception", "handle_error", "install_error_handler", "problem_body",
           "problem_response"]

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


def from_exception(request: ConnexionRequest, exc: Exception) -> ConnectorError:
    """Translate any exception that reached the error handler into a :class:`ConnectorError`."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, ConnexionUnauthorized):
        # Connexion's own messages ("No authorization token provided") are fine to pass on;
        # they never contain the presented credential.
        return Unauthorized(
            f"{exc.detail.rstrip('.')}. Send the connector's API key as 'Authorization: Bearer <key>'"
            + (" or 'x-api-key: <key>'." if request.url.path.startswith("/v1/") else "."),
            token_error="invalid_token" if isinstance(exc, OAuthResponseProblem) else None,
        )
    if isinstance(exc, UnsupportedMediaTypeProblem):
        return UnsupportedMediaType(
            "Send the request body as JSON with 'Content-Type: application/json'."
        )
    if isinstance(exc, BadRequestProblem):
        # Raised by Connexion for bodies that are not JSON at all, and for unknown query parameters.
        return BadRequest([FieldError("$", _clip(str(exc.detail)))])
    if isinstance(exc, NonConformingResponse):
        log.error("response did not match the spec: %s", exc.detail)
        return ConnectorError("The connector produced an invalid response; this is a bug.")
    if isinstance(exc, (ProblemException, HTTPException)):
        status = exc.status_code
        if status == 404:
            return NotFound(
                f"There is no {request.method} {request.url.path}; the operations are listed "
                "in /openapi.json."
            )
        if status == 405:
            # Starlette's router (which Connexion routes with) puts the Allow header on the exception.
            allowed = (exc.headers or {}).get("Allow", "")
            return MethodNotAllowed(
                f"{request.url.path} does not accept {request.method}; use {allowed or 'another method'}.",
                headers={"Allow": allowed} if allowed else None,
            )
        if 400 <= status < 500:
            return BadRequest([FieldError("$", _clip(str(getattr(exc, "detail", "") or "bad request")))])
    log.error("unexpected error", exc_info=exc)
    return ConnectorError("The connector failed unexpectedly; the operator can find details in its log.")


def install_error_handler(app: Any) -> None:
    """Make :func:`handle_error` the handler for everything on a Connexion app.

    Starlette looks handlers up along the exception's MRO and Connexion pre-registers its own for
    ProblemException and HTTPException, so all three are claimed to keep one error format.
    """
    for exception_class in (Exception, HTTPException, ProblemException):
        app.add_error_handler(exception_class, handle_error)


def handle_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    """The one error handler: every error response is built here. It cannot fail itself: whatever
    goes wrong while building an answer becomes a fixed ``500 internal_error``, logged once."""
    try:
        error = from_exception(request, exc)
        _challenge(request.scope, error)
        return ConnexionResponse(status_code=error.status, mimetype=PROBLEM_JSON, content_type=PROBLEM_JSON,
                                 body=problem_body(error), headers=error.headers)
    except Exception:
        log.exception("the error handler failed while answering %s", type(exc).__name__)
        note(code="internal_error")
        return ConnexionResponse(status_code=500, mimetype=PROBLEM_JSON, content_type=PROBLEM_JSON,
                                 body=LAST_RESORT)


LAST_RESORT = json.dumps({"type": "about:blank", "title": "Internal Server Error", "status": 500,
                          "detail": "The connector failed unexpectedly; the operator can find details in its log.",
                          "code": "internal_error"}, separators=(",", ":")).encode()


def _challenge(scope: Any, error: ConnectorError) -> None:
    """With OAuth on, a 401 or 403 insufficient_scope says where to sign in (RFC 9728's challenge)."""
    current = current_services()
    header = current.auth.challenge(scope, error) if current is not None else None
    if header is not None:
        error.headers["WWW-Authenticate"] = header


def problem_body(error: ConnectorError) -> bytes:
    """The compact JSON of ``error``'s problem; noting its code on the request's record on the way."""
    note(code=error.code)
    # A detail may quote what the caller sent; a lone surrogate in it, which UTF-8 cannot carry,
    # becomes its JSON escape (\udXXX inside a string), so the answer can always be encoded.
    return json.dumps(error.to_problem(), ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace")


def problem_response(error: ConnectorError) -> Response:
    """``error`` as a Starlette response, for a pure ASGI middleware that sits outside Connexion's
    handlers: ``await problem_response(error)(scope, receive, send)``."""
    return Response(problem_body(error), status_code=error.status, headers=error.headers, media_type=PROBLEM_JSON)


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
