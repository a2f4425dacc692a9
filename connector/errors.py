"""One exception hierarchy, rendered once as ``application/problem+json``.

Every failure a caller can see is a :class:`ConnectorError`; its ``code`` is a stable, documented
string an assistant can branch on and its ``detail`` says what to change::

    ConnectorError (500 internal_error)
    ├── BadRequest (400 validation_error)       ── the request does not match the schema
    ├── Unauthorized (401 unauthorized)         ── missing or wrong API key
    ├── WebhookSignatureInvalid (401 webhook_signature_invalid) ── a delivery not signed with the secret
    ├── InsufficientScope (403 insufficient_scope) ── the caller's API key lacks the operation's scope
    ├── GitHubForbidden (403 github_forbidden)  ── the connector's GitHub credentials lack a permission
    ├── RepoNotAllowed (403 repo_not_allowed)   ── outside the operator's repository allowlist
    ├── IpNotAllowed (403 ip_not_allowed)       ── the caller's address is not allowed (connector.http.client_ip)
    ├── LabelNotAllowed (403 label_not_allowed) ── outside the operator's CONNECTOR_LABELS_ALLOW
    ├── NotFound (404 not_found)                ── repository, pull request or route
    ├── AppNotInstalled (404 app_not_installed) ── the connector's GitHub App is not on that repository
    ├── MethodNotAllowed (405 method_not_allowed)
    ├── DuplicateDelivery (409 duplicate_delivery) ── a webhook delivery id seen before (a replay)
    ├── RequestInProgress (409 request_in_progress) ── the first request with this request_id is running
    ├── RequestOutcomeUnknown (409 request_outcome_unknown) ── it timed out after sending; not repeated
    ├── PayloadTooLarge (413 payload_too_large) ── rendered by connector.http.body_limit, outside the app
    ├── UnsupportedMediaType (415 unsupported_media_type)
    ├── NotAPullRequest (422 not_a_pull_request)
    ├── UnknownLabel (422 unknown_label)
    ├── UnknownEvent (422 unknown_event)       ── an event_type outside the operator's event catalog
    ├── IdempotencyKeyReused (422 idempotency_key_reused) ── a request_id reused for another request
    ├── GitHubValidation (422 github_validation)
    ├── RateLimited (429 rate_limited)          ── the connector's own limit for the key or address
    │   └── GitHubRateLimited (429 github_rate_limited) ── GitHub's quota or secondary limit
    ├── GitHubUnavailable (502 github_unavailable)
    ├── GitHubDispatchFailed (502 github_dispatch_failed) ─┐
    ├── MissingApiKeyConfig (503 missing_api_key_config)   ├ the actions gateway's codes, kept on /v1/dispatch
    ├── MissingGitHubConfig (503 missing_github_config)   ─┘
    ├── IdempotencyUnavailable (503 idempotency_unavailable) ── Redis unreachable: writes fail closed
    ├── RunStateUnavailable (503 run_state_unavailable) ── Redis unreachable for run state
    ├── Misconfigured (503 misconfigured)
    ├── NotReady (503 not_ready)                ── /health/ready: Redis or GitHub cannot be reached
    └── GitHubTimeout (504 github_timeout)

Framework exceptions (Connexion's problems, Starlette's HTTP exceptions, anything unexpected) are
translated into this hierarchy by :func:`from_exception`, so :func:`handle_error` is the only place
a response body for an error is built. Nothing here ever includes a token or a traceback.
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar

from connexion.exceptions import (
    BadRequestProblem,
    NonConformingResponse,
    ProblemException,
    UnsupportedMediaTypeProblem,
)
from connexion.exceptions import Unauthorized as ConnexionUnauthorized
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from .record import note

__all__ = [
    "ConnectorError",
    "BadRequest",
    "FieldError",
    "Unauthorized",
    "WebhookSignatureInvalid",
    "InsufficientScope",
    "GitHubForbidden",
    "RepoNotAllowed",
    "IpNotAllowed",
    "LabelNotAllowed",
    "NotFound",
    "AppNotInstalled",
    "MethodNotAllowed",
    "DuplicateDelivery",
    "RequestInProgress",
    "RequestOutcomeUnknown",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "NotAPullRequest",
    "UnknownLabel",
    "UnknownEvent",
    "IdempotencyKeyReused",
    "GitHubValidation",
    "RateLimited",
    "GitHubRateLimited",
    "GitHubUnavailable",
    "GitHubDispatchFailed",
    "MissingApiKeyConfig",
    "MissingGitHubConfig",
    "IdempotencyUnavailable",
    "RunStateUnavailable",
    "Misconfigured",
    "NotReady",
    "GitHubTimeout",
    "ERROR_CLASSES",
    "from_exception",
    "handle_error",
    "install_error_handler",
    "send_problem",
]

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class ConnectorError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal Server Error"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = {key: value for key, value in extra.items() if value is not None}

    def to_problem(self) -> dict[str, Any]:
        return {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            **self.extra,
        }


class FieldError(dict):
    """One bad field of a request: ``{"path": "$.labels[0]", "message": "..."}``."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(path=path, message=message)


class BadRequest(ConnectorError):
    status, code, title = 400, "validation_error", "Bad Request"

    def __init__(self, errors: list[FieldError], *, detail: str | None = None) -> None:
        if detail is None:
            first = errors[0]
            detail = f"{first['path']}: {first['message']}."
            if len(errors) > 1:
                detail += f" ({len(errors) - 1} more problem(s) listed in errors.)"
        super().__init__(detail, errors=errors)


class Unauthorized(ConnectorError):
    status, code, title = 401, "unauthorized", "Unauthorized"

    def __init__(self, detail: str, *, realm: str = "connector") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": f'Bearer realm="{realm}"'})


class WebhookSignatureInvalid(ConnectorError):
    status, code, title = 401, "webhook_signature_invalid", "Unauthorized"


class InsufficientScope(ConnectorError):
    status, code, title = 403, "insufficient_scope", "Forbidden"


class GitHubForbidden(ConnectorError):
    status, code, title = 403, "github_forbidden", "Forbidden"


class RepoNotAllowed(ConnectorError):
    status, code, title = 403, "repo_not_allowed", "Forbidden"


class IpNotAllowed(ConnectorError):
    status, code, title = 403, "ip_not_allowed", "Forbidden"


class LabelNotAllowed(ConnectorError):
    status, code, title = 403, "label_not_allowed", "Forbidden"


class NotFound(ConnectorError):
    status, code, title = 404, "not_found", "Not Found"


class AppNotInstalled(ConnectorError):
    status, code, title = 404, "app_not_installed", "Not Found"


class MethodNotAllowed(ConnectorError):
    status, code, title = 405, "method_not_allowed", "Method Not Allowed"


class DuplicateDelivery(ConnectorError):
    status, code, title = 409, "duplicate_delivery", "Conflict"


class RequestInProgress(ConnectorError):
    status, code, title = 409, "request_in_progress", "Conflict"


class RequestOutcomeUnknown(ConnectorError):
    status, code, title = 409, "request_outcome_unknown", "Conflict"


class PayloadTooLarge(ConnectorError):
    status, code, title = 413, "payload_too_large", "Content Too Large"


class UnsupportedMediaType(ConnectorError):
    status, code, title = 415, "unsupported_media_type", "Unsupported Media Type"


class NotAPullRequest(ConnectorError):
    status, code, title = 422, "not_a_pull_request", "Unprocessable Content"


class UnknownLabel(ConnectorError):
    status, code, title = 422, "unknown_label", "Unprocessable Content"


class UnknownEvent(ConnectorError):
    status, code, title = 422, "unknown_event", "Unprocessable Content"


class IdempotencyKeyReused(ConnectorError):
    status, code, title = 422, "idempotency_key_reused", "Unprocessable Content"


class GitHubValidation(ConnectorError):
    status, code, title = 422, "github_validation", "Unprocessable Content"


class RateLimited(ConnectorError):
    status, code, title = 429, "rate_limited", "Too Many Requests"

    def __init__(self, detail: str, *, retry_after: int, extra_headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        retry_after = max(0, int(retry_after))
        super().__init__(
            detail, headers={"Retry-After": str(retry_after), **(extra_headers or {})}, retry_after=retry_after,
            **extra,
        )


class GitHubRateLimited(RateLimited):
    """GitHub's own limit, which waiting out helps as much as the connector's: a subclass, so code
    that handles any rate limit handles this one."""

    code = "github_rate_limited"


class GitHubUnavailable(ConnectorError):
    status, code, title = 502, "github_unavailable", "Bad Gateway"


class GitHubDispatchFailed(ConnectorError):
    status, code, title = 502, "github_dispatch_failed", "Bad Gateway"


class MissingApiKeyConfig(ConnectorError):
    status, code, title = 503, "missing_api_key_config", "Service Unavailable"


class MissingGitHubConfig(ConnectorError):
    status, code, title = 503, "missing_github_config", "Service Unavailable"


class IdempotencyUnavailable(ConnectorError):
    status, code, title = 503, "idempotency_unavailable", "Service Unavailable"


class RunStateUnavailable(ConnectorError):
    status, code, title = 503, "run_state_unavailable", "Service Unavailable"


class Misconfigured(ConnectorError):
    status, code, title = 503, "misconfigured", "Service Unavailable"


class NotReady(ConnectorError):
    status, code, title = 503, "not_ready", "Service Unavailable"


class GitHubTimeout(ConnectorError):
    status, code, title = 504, "github_timeout", "Gateway Timeout"


ERROR_CLASSES: tuple[type[ConnectorError], ...] = (
    ConnectorError,
    BadRequest,
    Unauthorized,
    WebhookSignatureInvalid,
    InsufficientScope,
    GitHubForbidden,
    RepoNotAllowed,
    IpNotAllowed,
    LabelNotAllowed,
    NotFound,
    AppNotInstalled,
    MethodNotAllowed,
    DuplicateDelivery,
    RequestInProgress,
    RequestOutcomeUnknown,
    PayloadTooLarge,
    UnsupportedMediaType,
    NotAPullRequest,
    UnknownLabel,
    UnknownEvent,
    IdempotencyKeyReused,
    GitHubValidation,
    RateLimited,
    GitHubRateLimited,
    GitHubUnavailable,
    GitHubDispatchFailed,
    MissingApiKeyConfig,
    MissingGitHubConfig,
    IdempotencyUnavailable,
    RunStateUnavailable,
    Misconfigured,
    NotReady,
    GitHubTimeout,
)


def from_exception(request: ConnexionRequest, exc: Exception) -> ConnectorError:
    """Translate any exception that reached the error handler into a :class:`ConnectorError`."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, ConnexionUnauthorized):
        # Connexion's own messages ("No authorization token provided") are fine to pass on;
        # they never contain the presented credential.
        return Unauthorized(
            f"{exc.detail.rstrip('.')}. Send the connector's API key as 'Authorization: Bearer <key>'"
            + (" or 'x-api-key: <key>'." if request.url.path.startswith("/v1/") else ".")
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
    """The one error handler: every error response is built here."""
    error = from_exception(request, exc)
    note(code=error.code)
    return ConnexionResponse(
        status_code=error.status,
        mimetype=PROBLEM_JSON,
        content_type=PROBLEM_JSON,
        body=json.dumps(error.to_problem(), ensure_ascii=False, separators=(",", ":")).encode(),
        headers=error.headers,
    )


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def send_problem(send: Any, error: ConnectorError) -> None:
    """Answer with ``error`` from a pure ASGI middleware that sits outside Connexion's handlers."""
    note(code=error.code)
    body = json.dumps(error.to_problem(), ensure_ascii=False, separators=(",", ":")).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    headers += [(name.lower().encode(), value.encode()) for name, value in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
