"""The application factory: one call builds a complete connector from one Settings object."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, TextIO

from .startup import long_lived_objects

with long_lived_objects():  # the imports that make up most of the cold start
    from connexion import AsyncApp
    from connexion.jsonifier import Jsonifier
    from connexion.middleware.context import ContextMiddleware
    from connexion.middleware.exceptions import ExceptionMiddleware
    from connexion.middleware.lifespan import LifespanMiddleware
    from connexion.middleware.request_validation import RequestValidationMiddleware
    from connexion.middleware.response_validation import ResponseValidationMiddleware
    from connexion.middleware.routing import RoutingMiddleware
    from connexion.middleware.security import SecurityMiddleware
    from connexion.middleware.server_error import ServerErrorMiddleware
    from connexion.middleware.swagger_ui import SwaggerUIMiddleware
    from connexion.options import SwaggerUIOptions
    from starlette.middleware.cors import CORSMiddleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

    from .api.run_events import run_events_endpoint
    from .config.keys import KeyRing
    from .config.settings import Settings
    from .errors import BadRequest, FieldError, MethodNotAllowed
    from .github.client import USER_AGENT, GitHub, GitHubAnswer, github_client
    from .http.arrival import ArrivalMiddleware, arrival_of
    from .http.audit import AuditLog
    from .http.auth import Authenticator, operation_scopes, security_handlers
    from .http.body_limit import BodyLimitMiddleware
    from .http.credential_headers import CredentialHeadersMiddleware
    from .http.ip_allowlist import IpAllowlistMiddleware
    from .http.metrics import Metrics, metrics_endpoint, metrics_for
    from .http.observe import OperationNoteMiddleware, RequestRecordMiddleware
    from .http.paths import MCP_PATH, METRICS_PATH, OPENAPI_PATH, RUN_EVENTS_PATH, WEBHOOK_PATH
    from .http.problem import install_error_handler
    from .http.rate_limits import RateLimitIpMiddleware, RateLimits
    from .http.readiness import Readiness
    from .http.request_id import configure_logging
    from .http.resolver import JSONResolver
    from .http.services import Services, ServicesMiddleware
    from .http.trailing_slash import TrailingSlashMiddleware
    from .http.webhooks import MAX_DELIVERY_BYTES, webhook_endpoint
    from .mcp.endpoint import McpEndpoint
    from .mcp.tools import instructions_for, tools_from_document
    from .oauth.metadata import PRM_PATH, protected_resource, with_oauth_scheme
    from .policy.rules import MAX_COMMENT_REQUEST_BYTES, MAX_DISPATCH_REQUEST_BYTES
    from .record import RequestRecord, note
    from .spec import openapi31
    from .spec.catalog import EventCatalog, load_catalog
    from .spec.document import (
        VIEWS,
        advertised_document,
        document_for_settings,
        served_document,
        served_json,
        write_operation_ids,
    )
    from .state.claims import MemoryClaimStore
    from .state.layered_claims import LayeredClaimStore
    from .state.oauth import MemoryOAuthStore
    from .state.protocols import ClaimStore, OAuthStore, RunStore
    from .state.redis_claims import RedisClaimStore
    from .state.redis_oauth import RedisOAuthStore
    from .state.redis_runs import RedisRunStore
    from .state.runs import MemoryRunStore

if TYPE_CHECKING:
    from .oauth.metadata_documents import MetadataDocuments
    from .oauth.setup import OAuth

__all__ = ["create_app", "app_from_environment", "openapi_json"]

log = logging.getLogger(__name__)

# A tool call carries an operation's body inside a JSON-RPC envelope: the largest body an
# operation accepts (a comment of GitHub's maximum length, JSON-escaped) plus room for the envelope.
MAX_MCP_REQUEST_BYTES = max(MAX_COMMENT_REQUEST_BYTES, MAX_DISPATCH_REQUEST_BYTES) + 4096


def create_app(settings: Settings, *, audit_stream: TextIO | None = None, over_http: bool = True,
               clock: Callable[[], float] = time.time, client_documents: MetadataDocuments | None = None) -> AsyncApp:
    """The connector for ``settings``. ``audit_stream`` replaces stdout for the audit log when
    CONNECTOR_AUDIT_LOG is unset, and ``over_http=False`` says nobody reaches the app over HTTP
    (``connector mcp --stdio``, which speaks MCP on stdout and has no public URL to warn about).
    ``clock`` times what the app does every so often (re-reading the keys file, looking up GitHub
    quota blocks other instances shared): tests move it on instead of sleeping. ``client_documents``
    fetches OAuth client ID metadata documents (connector.oauth.metadata_documents has the default)."""
    catalog = load_catalog(settings.events_file) if settings.events_file is not None else None
    document = document_for_settings(settings, catalog)
    keys = KeyRing(settings.api_keys, settings.keys_file, clock=clock)
    writes = write_operation_ids(document)
    metrics = metrics_for(settings)
    github = github_client(settings, listener=_github_listener(metrics), clock=clock)
    runs, claims, limits, oauth_records = _stores(settings)
    oauth = _oauth(settings, keys, oauth_records, client_documents, github)
    people = oauth.people if oauth is not None else None
    auth = Authenticator(keys, verifier=oauth.verifier if oauth is not None else None,
                         public_base_url=settings.public_base_url, embedded=oauth is not None and oauth.server is not None,
                         mcp_api_keys=settings.mcp_api_keys, operation_scopes=operation_scopes(document),
                         people=people, grants=oauth.server.book.get if oauth is not None and oauth.server else None,
                         shared_stores=settings.redis_url is not None)
    services = Services(settings=settings, github=github, events=catalog, readiness=Readiness(settings, USER_AGENT),
                        auth=auth, runs=runs, idempotency=claims, limits=limits,
                        people_github=people.github if people is not None else None)
    app = AsyncApp(__name__, middlewares=middleware_stack(settings, services, writes, metrics, audit_stream))
    openapi31.add_api(
        app,
        document,
        resolver=JSONResolver(writes=writes, idempotency=services.idempotency,
                              limits=services.limits),
        strict_validation=True,
        validate_responses=settings.validate_responses,
        validator_map=openapi31.VALIDATOR_MAP,
        security_map=security_handlers(auth),
        swagger_ui_options=SwaggerUIOptions(serve_spec=False, swagger_ui=False),
        # Compact JSON: ChatGPT drops responses over ~100k characters (Connexion indents by default).
        jsonifier=Jsonifier(json, separators=(",", ":"), ensure_ascii=False),
    )
    install_error_handler(app)
    app.add_url_rule(OPENAPI_PATH, "openapi_json", _openapi_view(document, catalog, auth, oauth), methods=["GET"])
    if settings.mcp:
        # The MCP tools are generated at start-up, so a spec they cannot be made from fails it.
        advertised = advertised_document(document, catalog)
        # A tool call passes every middleware of ``app``, as a request from outside does.
        mcp = McpEndpoint(tools_from_document(advertised), instructions_for(advertised), auth, app)
        # POST only: the endpoint is stateless (no session to DELETE), and it offers no event stream,
        # so GET is 405 as MCP asks, not a stream that never ends.
        app.add_url_rule(MCP_PATH, "mcp", mcp, methods=["POST"])
        app.add_url_rule(MCP_PATH, "mcp_post_only", _mcp_post_only, methods=["GET", "DELETE"])
    if settings.metrics_token is not None:
        app.add_url_rule(METRICS_PATH, "metrics", metrics_endpoint(settings.metrics_token.reveal()), methods=["GET"])
    app.add_url_rule(RUN_EVENTS_PATH, "run_events", run_events_endpoint(auth, document), methods=["GET"])
    if oauth is not None:
        _add_oauth_routes(app, oauth, auth)
    if settings.github_webhook_secret is not None:  # without a secret the route does not exist
        app.add_url_rule(WEBHOOK_PATH, "github_webhook", webhook_endpoint(settings.github_webhook_secret, services.runs),
                         methods=["POST"])
    _warn_about(settings, github, over_http=over_http)
    return app


async def _mcp_post_only(request: Request) -> Response:
    raise MethodNotAllowed(f"{MCP_PATH} takes POST only: it is stateless (no session to end) and offers no "
                           "event stream; send each JSON-RPC message as a POST.", headers={"Allow": "POST"})


def middleware_stack(settings: Settings, services: Services, writes: frozenset[str], metrics: Metrics | None,
                     audit_stream: TextIO | None) -> list[Any]:
    """Every layer a request passes through, outermost first: Connexion's own (as in its
    ``default_middlewares``) and the connector's, each placed for the reason beside it."""
    audit = AuditLog(settings.audit_log, writes, stream=audit_stream)
    address_limits = services.limits if services.limits is not None and services.limits.limits_addresses else None
    stack: list[Any | None] = [
        # Connexion's last resort: an exception nothing else caught becomes a plain 500.
        ServerErrorMiddleware,
        # Settles the request id and the caller's address once; every answer, refusals included,
        # carries X-Request-ID. An MCP tool call's inner request keeps its POST's (connector.http.arrival).
        partial(ArrivalMiddleware, trusted_proxies=settings.trusted_proxies),
        # Makes this app's services current for every layer below, the error renderer (which
        # answers 401s with the OAuth challenge) as much as the handlers.
        partial(ServicesMiddleware, services=services),
        # Sees every answer, the refusals below included, for the audit log and the metrics.
        partial(RequestRecordMiddleware, done=_record_consumers(audit, metrics)),
        # Outside everything that refuses, so 401s, 413s and validation errors carry CORS headers too.
        partial(CORSMiddleware, **_cors(settings)),
        # Callers from other networks are refused before anything reads their request (but not a
        # person's browser on the sign-in pages).
        partial(IpAllowlistMiddleware, allowlist=settings.ip_allowlist, browser_paths=_browser_paths(settings)),
        # Every request counts against its address, a wrong key's too, before its body is read.
        partial(RateLimitIpMiddleware, limits=address_limits) if address_limits is not None else None,
        # Bodies over the limit are refused as they arrive, before anything parses them.
        partial(BodyLimitMiddleware, max_bytes=settings.max_body_bytes,
                larger=_routes_with_larger_legal_bodies(settings)),
        # Connexion's: hands every error below to connector.http.problem, the one renderer.
        ExceptionMiddleware,
        # Two Authorization (or X-API-Key) headers: a proxy and the connector could read different ones.
        CredentialHeadersMiddleware,
        # A trailing slash is a 404, not Starlette's redirect to a URL built from the caller's Host.
        TrailingSlashMiddleware,
        # Connexion's: serves no UI or spec here (/openapi.json is the connector's own route).
        SwaggerUIMiddleware,
        # Connexion's: finds the operation for the path.
        RoutingMiddleware,
        # Knows the operation once routed, and notes it before security, so a 401 is recorded against it.
        OperationNoteMiddleware,
        # Connexion's: the operation's security requirement (the API key and its scope).
        SecurityMiddleware,
        # Connexion's: the body against the spec (strict, the 3.1 way: connector.spec.openapi31).
        RequestValidationMiddleware,
        # Connexion's: responses against the spec, when CONNECTOR_VALIDATE_RESPONSES is on.
        ResponseValidationMiddleware,
        # Connexion's: answers the ASGI server's lifespan events.
        LifespanMiddleware,
        # Connexion's: the request context its handlers read.
        ContextMiddleware,
    ]
    return [layer for layer in stack if layer is not None]


def _cors(settings: Settings) -> dict[str, Any]:
    return dict(
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],  # DELETE ends an MCP session
        # A browser-based MCP client sends and reads the streamable-HTTP transport's headers too.
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID",
                       "Mcp-Session-Id", "Mcp-Protocol-Version", "Mcp-Method", "Mcp-Name", "Last-Event-ID"],
        expose_headers=["Retry-After", "WWW-Authenticate", "X-Request-ID", "Idempotent-Replayed",
                        "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Mcp-Session-Id"],
        max_age=600,
    )


def app_from_environment() -> AsyncApp:
    """The app for ASGI servers (``uvicorn wsgi:app --no-proxy-headers``), configured from the environment."""
    configure_logging()
    return create_app(Settings.from_env())


def _github_listener(metrics: Metrics | None) -> Callable[[GitHubAnswer], None]:
    def heard(answer: GitHubAnswer) -> None:
        note(github_request_id=answer.github_request_id)
        if metrics is not None:
            metrics.github_answer(answer)
    return heard


def _record_consumers(audit: AuditLog, metrics: Metrics | None) -> list[Callable[[RequestRecord], None]]:
    """What happens to each request's record once it is answered: the audit log, and the metrics."""
    return [audit.write] if metrics is None else [audit.write, metrics.request]


def _oauth(settings: Settings, keys: KeyRing, records: OAuthStore,
           client_documents: MetadataDocuments | None, github: GitHub | None) -> OAuth | None:
    """OAuth for these settings, if it is on; Authlib and the server are imported only then (~50 ms)."""
    if settings.oauth_mode == "off":
        return None
    from .oauth.setup import oauth_for

    return oauth_for(settings, keys, records, client_documents, caller_of=_caller_address, github=github)


def _browser_paths(settings: Settings) -> frozenset[str]:
    """The pages a person opens in their own browser while signing in (with the embedded server)."""
    if settings.oauth_mode != "embedded":
        return frozenset()
    from .oauth.github_signin import CALLBACK_PATH
    from .oauth.server import AUTHORIZE_PATH

    return frozenset({AUTHORIZE_PATH, CALLBACK_PATH})


def _caller_address(request: Request) -> str | None:
    """The address the arrival settled for a request, trusted proxies considered."""
    arrival = arrival_of(request.scope)
    return arrival.client_ip if arrival is not None else None


def _add_oauth_routes(app: AsyncApp, oauth: OAuth, auth: Authenticator) -> None:
    """The protected-resource metadata of the routes and of /mcp (RFC 9728) and, when the connector
    is its own authorization server, that server's endpoints."""
    for mcp in (False, True):
        app.add_url_rule(PRM_PATH + ("/mcp" if mcp else ""), f"oauth_protected_resource{'_mcp' * mcp}",
                         _protected_resource_view(oauth, auth, mcp=mcp), methods=["GET"])
    if oauth.server is not None:
        for path, endpoint, methods in oauth.server.routes():
            app.add_url_rule(path, "oauth" + path.replace("/", "_").replace(".", "_").replace("-", "_"), endpoint,
                             methods=methods)


def _protected_resource_view(oauth: OAuth, auth: Authenticator, *, mcp: bool) -> Callable[[Request], Awaitable[Response]]:
    async def view(request: Request) -> Response:
        base_url = auth.base_url(request.scope)
        return JSONResponse(protected_resource(base_url, oauth.issuer or base_url, mcp=mcp))

    return view


def _stores(settings: Settings) -> tuple[RunStore, ClaimStore, RateLimits | None, OAuthStore]:
    """Where run state, idempotency claims and rate-limit counters live: this process, or Redis
    shared by every instance. The one place the choice is made; everything else sees the protocols."""
    url = settings.redis_url.reveal() if settings.redis_url is not None else None
    limits = None
    if settings.rate_limit or settings.ip_rate_limit:
        limits = RateLimits(per_key=settings.rate_limit, per_ip=settings.ip_rate_limit, storage_uri=url)
    if url is None:
        return MemoryRunStore(), MemoryClaimStore(), limits, MemoryOAuthStore()
    return RedisRunStore(url), LayeredClaimStore(RedisClaimStore(url)), limits, RedisOAuthStore(url)


def _routes_with_larger_legal_bodies(settings: Settings) -> dict[str, int]:
    """Where a request within GitHub's own limits can exceed the default body limit (64 KiB): a
    65,536-character comment, or a client_payload just under 64 KB, sent JSON-escaped (also inside
    an MCP tool call); and GitHub's webhook deliveries (up to 25 MB), when that route exists."""
    larger = {
        "/chatgpt/prs/comment": MAX_COMMENT_REQUEST_BYTES,
        "/chatgpt/dispatch": MAX_DISPATCH_REQUEST_BYTES,
        "/v1/dispatch": MAX_DISPATCH_REQUEST_BYTES,
        MCP_PATH: MAX_MCP_REQUEST_BYTES,
    }
    if settings.github_webhook_secret is not None:
        larger[WEBHOOK_PATH] = MAX_DELIVERY_BYTES
    return larger


def _openapi_view(document: dict, catalog: EventCatalog | None, auth: Authenticator,
                  oauth: OAuth | None) -> Callable[[Request], Awaitable[Response]]:
    @lru_cache(maxsize=8)  # keyed by base URL and view; bounded because the Host header is the caller's
    def render(base_url: str, view: str) -> str:
        return openapi_json(document, base_url, catalog, embedded_oauth=oauth is not None and oauth.server is not None,
                            view=view)

    async def openapi_view(request: Request) -> Response:
        base_url = auth.public_base_url or str(request.base_url)
        view = request.query_params.get("view", "model")
        if view not in VIEWS:
            raise BadRequest([FieldError("view", f"is one of {', '.join(VIEWS)} (model when left out)")])
        return Response(render(base_url.rstrip("/"), view), media_type="application/json")

    return openapi_view


def openapi_json(document: dict, base_url: str, catalog: EventCatalog | None, *, embedded_oauth: bool,
                 view: str = "model") -> str:
    """``/openapi.json`` as served at ``base_url`` (and printed by ``connector spec``), in one of
    its views (connector.spec.document.VIEWS): with the embedded authorization server, its sign-in
    is offered beside the API key."""
    if not embedded_oauth:
        return served_json(document, base_url, catalog, view=view)
    served = with_oauth_scheme(served_document(document, base_url, catalog, view=view), base_url)
    return json.dumps(served, ensure_ascii=False, separators=(",", ":"))


def _warn_about(settings: Settings, github: GitHub | None, *, over_http: bool) -> None:
    if settings.read_only:
        log.info("CONNECTOR_READ_ONLY is set: operations that write are not served")
    if over_http and settings.public_base_url is None:
        log.warning("PUBLIC_BASE_URL is not set: /openapi.json names the URL each request came in on; "
                    "ChatGPT needs the public https origin, e.g. PUBLIC_BASE_URL=https://connector.example.com")
    elif over_http and not settings.public_base_url_is_https:
        log.warning("PUBLIC_BASE_URL=%s is not https; ChatGPT only calls https servers", settings.public_base_url)
    if github is None and settings.github_sign_in:
        log.info("neither GITHUB_TOKEN nor a GitHub App is set: only people signed in with GitHub can act on GitHub")
    elif github is None:
        log.warning("neither GITHUB_TOKEN nor a GitHub App is set: every GitHub operation will answer 503 misconfigured")
    if not settings.allowed_repos and not settings.sandbox:
        log.warning("CONNECTOR_ALLOWED_REPOS is not set: every repository the GitHub token can reach is "
                    "exposed to callers; list the ones they need, e.g. CONNECTOR_ALLOWED_REPOS=octo-org/webapp")
