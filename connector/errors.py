"""One exception hierarchy; :mod:`connector.http.problem` renders it once as ``application/problem+json``.

Every failure a caller can see is a :class:`ConnectorError`; its ``code`` is a stable, documented
string an assistant can branch on and its ``detail`` says what to change. Categories (no status of
their own) group the errors callers catch; GitHub's errors fall into three, by what GitHub did::

    ConnectorError (500 internal_error)
    ├── BadRequest (400 validation_error)       ── the request does not match the schema
    ├── Unauthorized (401 unauthorized)         ── missing or wrong API key
    ├── WebhookSignatureInvalid (401 webhook_signature_invalid) ── a delivery not signed with the secret
    ├── InsufficientScope (403 insufficient_scope) ── the caller's API key lacks the operation's scope
    ├── RepoNotAllowed (403 repo_not_allowed)   ── outside the operator's repository allowlist
    ├── IpNotAllowed (403 ip_not_allowed)       ── the caller's address is not allowed (connector.http.client_ip)
    ├── LabelNotAllowed (403 label_not_allowed) ── outside the operator's CONNECTOR_LABELS_ALLOW
    ├── NotFound (404 not_found)                ── a route, or (GitHubNotFound) a repository, pull request or run
    ├── MethodNotAllowed (405 method_not_allowed)
    ├── DuplicateDelivery (409 duplicate_delivery) ── a webhook delivery id seen before (a replay)
    ├── RequestInProgress (409 request_in_progress) ── the first request with this request_id is running
    ├── RequestTimeout (408 request_timeout)   ── the body did not arrive in time (connector.http.body_limit)
    ├── PayloadTooLarge (413 payload_too_large) ── rendered by connector.http.body_limit, outside the app
    ├── UnsupportedMediaType (415 unsupported_media_type)
    ├── NotAPullRequest (422 not_a_pull_request)
    ├── UnknownLabel (422 unknown_label)
    ├── UnknownEvent (422 unknown_event)       ── an event_type outside the operator's event catalog
    ├── WorkflowNotDispatchable (422 workflow_not_dispatchable) ── no workflow_dispatch trigger, or outside the catalog
    ├── SecretInInput (422 secret_in_input)     ── a write's text holds something shaped like a credential
    ├── IdempotencyKeyReused (422 idempotency_key_reused) ── a request_id reused for another request
    ├── RateLimited (429 rate_limited)          ── the connector's own limit for the key or address
    ├── MissingApiKeyConfig (503 missing_api_key_config) ┐ the actions gateway's codes, kept on /v1/dispatch
    ├── MissingGitHubConfig (503 missing_github_config)  ┘ (with GitHubDispatchFailed below)
    ├── IdempotencyUnavailable (503 idempotency_unavailable) ── Redis unreachable: writes fail closed
    ├── RunStateUnavailable (503 run_state_unavailable) ── Redis unreachable for run state
    ├── Misconfigured (503 misconfigured)
    ├── NotReady (503 not_ready)                ── /health/ready: Redis or GitHub cannot be reached
    └── GitHubError                             ── category: GitHub's answer, or its absence, decided it
        ├── GitHubRefused                       ── category: GitHub answered no, so it did nothing
        │   ├── GitHubForbidden (403 github_forbidden) ── the connector's GitHub credentials lack a permission
        │   ├── GitHubNotFound (404 not_found; a NotFound)
        │   ├── AppNotInstalled (404 app_not_installed) ── the connector's GitHub App is not on that repository
        │   ├── GitHubValidation (422 github_validation)
        │   └── GitHubRateLimited (429 github_rate_limited; a RateLimited) ── GitHub's quota or secondary limit
        ├── GitHubUnavailable (502 github_unavailable) ── GitHub could not be reached, or failed
        │   ├── GitHubDispatchFailed (502 github_dispatch_failed) ── the gateway's word for any of GitHub's
        │   └── GitHubTimeout (504 github_timeout)
        └── GitHubMayHaveActed                  ── category: a write went out and what GitHub did is unknown;
            │                                      its request_id is never sent to GitHub again
            ├── GitHubWriteTimeout (504 github_timeout; a GitHubTimeout)
            ├── GitHubWriteUnconfirmed (502 github_unavailable) ── the write went out, its answer was
            │                                      lost, a 5xx, or unreadable
            ├── GitHubDispatchOutcomeUnknown (502 github_dispatch_failed; a GitHubDispatchFailed)
            └── RequestOutcomeUnknown (409 request_outcome_unknown) ── a repeat of such a write

Nothing here ever includes a token or a traceback.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ConnectorError",
    "BadRequest",
    "FieldError",
    "Unauthorized",
    "WebhookSignatureInvalid",
    "InsufficientScope",
    "GitHubError",
    "GitHubRefused",
    "GitHubMayHaveActed",
    "GitHubForbidden",
    "GitHubNotFound",
    "RepoNotAllowed",
    "IpNotAllowed",
    "LabelNotAllowed",
    "NotFound",
    "AppNotInstalled",
    "MethodNotAllowed",
    "DuplicateDelivery",
    "RequestInProgress",
    "RequestOutcomeUnknown",
    "RequestTimeout",
    "PayloadTooLarge",
    "UnsupportedMediaType",
    "NotAPullRequest",
    "UnknownLabel",
    "UnknownEvent",
    "WorkflowNotDispatchable",
    "SecretInInput",
    "IdempotencyKeyReused",
    "GitHubValidation",
    "RateLimited",
    "GitHubRateLimited",
    "GitHubUnavailable",
    "GitHubDispatchFailed",
    "GitHubDispatchOutcomeUnknown",
    "MissingApiKeyConfig",
    "MissingGitHubConfig",
    "IdempotencyUnavailable",
    "RunStateUnavailable",
    "Misconfigured",
    "NotReady",
    "GitHubTimeout",
    "GitHubWriteTimeout",
    "GitHubWriteUnconfirmed",
    "ERROR_CLASSES",
]

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

    def __init__(self, detail: str, *, realm: str = "connector", token_error: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": f'Bearer realm="{realm}"'})
        self.token_error = token_error  # "invalid_token" when a credential was presented and refused (RFC 6750)


class WebhookSignatureInvalid(ConnectorError):
    status, code, title = 401, "webhook_signature_invalid", "Unauthorized"


class InsufficientScope(ConnectorError):
    status, code, title = 403, "insufficient_scope", "Forbidden"


class GitHubError(ConnectorError):
    """Category: what GitHub answered, or that it did not, decided the outcome."""


class GitHubRefused(GitHubError):
    """Category: GitHub answered with a refusal, so it did nothing; a changed request may be sent again."""


class GitHubMayHaveActed(GitHubError):
    """Category: a write was sent and whether GitHub applied it is unknown. Whoever holds the
    request's ``request_id`` keeps it as "outcome unknown" and never sends that write again."""


class GitHubForbidden(GitHubRefused):
    status, code, title = 403, "github_forbidden", "Forbidden"

class RepoNotAllowed(ConnectorError):
    status, code, title = 403, "repo_not_allowed", "Forbidden"


class IpNotAllowed(ConnectorError):
    status, code, title = 403, "ip_not_allowed", "Forbidden"


class LabelNotAllowed(ConnectorError):
    status, code, title = 403, "label_not_allowed", "Forbidden"


class NotFound(ConnectorError):
    status, code, title = 404, "not_found", "Not Found"


class GitHubNotFound(NotFound, GitHubRefused):
    """GitHub's 404: the repository, pull request or run is not there, or the credentials cannot see it."""


class AppNotInstalled(GitHubRefused):
    status, code, title = 404, "app_not_installed", "Not Found"

class MethodNotAllowed(ConnectorError):
    status, code, title = 405, "method_not_allowed", "Method Not Allowed"


class DuplicateDelivery(ConnectorError):
    status, code, title = 409, "duplicate_delivery", "Conflict"


class RequestInProgress(ConnectorError):
    status, code, title = 409, "request_in_progress", "Conflict"


class RequestOutcomeUnknown(GitHubMayHaveActed):
    status, code, title = 409, "request_outcome_unknown", "Conflict"

class RequestTimeout(ConnectorError):
    status, code, title = 408, "request_timeout", "Request Timeout"


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


class WorkflowNotDispatchable(ConnectorError):
    status, code, title = 422, "workflow_not_dispatchable", "Unprocessable Content"


class SecretInInput(ConnectorError):
    status, code, title = 422, "secret_in_input", "Unprocessable Content"


class IdempotencyKeyReused(ConnectorError):
    status, code, title = 422, "idempotency_key_reused", "Unprocessable Content"


class GitHubValidation(GitHubRefused):
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


class GitHubRateLimited(RateLimited, GitHubRefused):
    """GitHub's own limit, which waiting out helps as much as the connector's: a RateLimited, so code
    that handles any rate limit handles this one."""

    code = "github_rate_limited"

class GitHubUnavailable(GitHubError):
    status, code, title = 502, "github_unavailable", "Bad Gateway"

class GitHubDispatchFailed(GitHubUnavailable):
    status, code, title = 502, "github_dispatch_failed", "Bad Gateway"


class GitHubDispatchOutcomeUnknown(GitHubDispatchFailed, GitHubMayHaveActed):
    """The gateway's code for a dispatch that may have reached GitHub."""

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


class GitHubTimeout(GitHubUnavailable):
    status, code, title = 504, "github_timeout", "Gateway Timeout"


class GitHubWriteTimeout(GitHubTimeout, GitHubMayHaveActed):
    """GitHub did not answer a write in time: it may still have applied it."""


class GitHubWriteUnconfirmed(GitHubUnavailable, GitHubMayHaveActed):
    """A write went out and no usable answer came back (a dropped connection, a 5xx, a body that
    cannot be read): it may have been applied."""

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
    RequestTimeout,
    PayloadTooLarge,
    UnsupportedMediaType,
    NotAPullRequest,
    UnknownLabel,
    UnknownEvent,
    WorkflowNotDispatchable,
    SecretInInput,
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
