"""Who a request comes from, and whether it may do what it asks: API keys, OAuth access tokens, scopes.

A bearer credential is an API key (``CONNECTOR_API_KEY``, ``CONNECTOR_KEYS_FILE``), or, with OAuth on,
an access token (a JWT: :mod:`connector.oauth.tokens` verifies it on every request). A token made
by signing in with an API key acts as that key, with at most the scopes granted at sign-in and
only the key's repositories; it stops working the moment the key is removed. Each operation's
security requirement in ``openapi.yaml`` names the scope it needs (``bearerAuth: [prs:write]``).

Connexion's ``x-bearerInfoFunc``/``x-apikeyInfoFunc`` name module-level functions, which would
force the keys into global state; instead :func:`security_handlers` builds the handlers for one
app's :class:`Authenticator`, registered through ``security_map``. Keys arrive as
``Authorization: Bearer`` everywhere, and as ``x-api-key`` on the actions-gateway compatibility
route. Routes outside the spec (the run-events stream, ``/mcp``) call :meth:`Authenticator.authenticate`.

With OAuth on, a refusal tells the client where to sign in: ``401`` and ``403 insufficient_scope``
carry ``WWW-Authenticate: Bearer resource_metadata="…", scope="…"`` (:meth:`Authenticator.challenge`,
added where errors are rendered).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from connexion.exceptions import OAuthResponseProblem
from connexion.security import NO_VALUE, ApiKeySecurityHandler, BearerSecurityHandler
from starlette.concurrency import run_in_threadpool

from ..config.allowlist import RepoAllowlist
from ..config.keys import SCOPES, ApiKey, KeyRing
from ..errors import ConnectorError, InsufficientScope, MissingApiKeyConfig, Unauthorized
from ..oauth.github_people import SUBJECT_PREFIX
from ..oauth.metadata import challenge
from ..oauth.tokens import AccessToken, InvalidToken, TokenVerifier, looks_like_jwt
from ..record import note
from .arrival import arrival_of
from .paths import MCP_PATH

if TYPE_CHECKING:
    from ..oauth.github_people import GitHubPeople
    from ..oauth.grants import Grant

__all__ = ["acts_as_person", "Authenticator", "operation_scopes", "security_handlers", "with_scopes"]

_BEARER = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)


class Authenticator:
    def __init__(self, keys: KeyRing, *, verifier: TokenVerifier | None = None, public_base_url: str | None = None,
                 embedded: bool = False, mcp_api_keys: bool = True,
                 operation_scopes: Mapping[str, tuple[str, ...]] | None = None,
                 people: GitHubPeople | None = None, grants: Callable[[str], Grant | None] | None = None,
                 shared_stores: bool = False) -> None:
        self.keys, self.verifier, self.public_base_url = keys, verifier, public_base_url
        self.embedded, self.mcp_api_keys = embedded, mcp_api_keys
        # Checking an access token may wait on the network: an external issuer's keys are fetched
        # (again for a kid not seen before, which any caller can put in a token), and a person's
        # grant and session are read from Redis. That waiting is done in a worker thread, never on
        # the event loop every request shares; an API key, or a token checked in memory, is not.
        self._checks_may_wait = verifier is not None and (not embedded or shared_stores)
        self.operation_scopes = dict(operation_scopes or {})
        self.people, self.grants = people, grants  # with signing in with GitHub

    @property
    def oauth(self) -> bool:
        return self.verifier is not None

    def base_url(self, scope: Mapping[str, Any]) -> str:
        """PUBLIC_BASE_URL, or the origin the request came to (the sandbox without one)."""
        if self.public_base_url is not None:
            return self.public_base_url
        host = next((value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"host"), None)
        server = scope.get("server") or ("localhost", 80)
        return f"{scope.get('scheme', 'http')}://{host or f'{server[0]}:{server[1]}'}"

    def identify(self, token: str, scope: Mapping[str, Any]) -> dict[str, Any] | None:
        """The token info of the key or access token ``token``: None for an unknown key, ``401`` for
        an access token this server does not accept."""
        if self.verifier is not None and looks_like_jwt(token):
            return self._from_access_token(token, scope)
        if scope.get("path") == MCP_PATH and not self.mcp_api_keys:
            raise Unauthorized("API keys are not accepted on /mcp here; connect through OAuth sign-in instead.",
                               token_error="invalid_token")
        key = self.keys.find(token)
        return key.token_info() if key is not None else None

    def may_wait(self, token: str) -> bool:
        """Whether checking ``token`` may wait on the network (so belongs in a worker thread)."""
        return self._checks_may_wait and looks_like_jwt(token)

    async def authenticate_async(self, header: str, scope: Mapping[str, Any], *, needed: str | None,
                                 what: str) -> dict[str, Any]:
        """:meth:`authenticate`, in a worker thread when checking the credential may wait."""
        match = _BEARER.match(header)
        if match is not None and self.may_wait(match.group(1)):
            return await run_in_threadpool(self.authenticate, header, scope, needed=needed, what=what)
        return self.authenticate(header, scope, needed=needed, what=what)

    def authenticate(self, header: str, scope: Mapping[str, Any], *, needed: str | None, what: str) -> dict[str, Any]:
        """The token info for an ``Authorization: Bearer`` header, which must hold scope ``needed``
        (any valid credential when it is None); ``what`` names the route in the refusal."""
        match = _BEARER.match(header)
        token_info = self.identify(match.group(1), scope) if match else None
        if token_info is None:
            raise Unauthorized("Send the connector's API key as 'Authorization: Bearer <key>'.",
                               token_error="invalid_token" if match else None)
        return with_scopes(token_info["key"], () if needed is None else (needed,), what, token_info)

    def challenge(self, scope: Mapping[str, Any], error: ConnectorError) -> str | None:
        """The ``WWW-Authenticate`` value for a ``401`` or ``403 insufficient_scope`` with OAuth on."""
        if self.verifier is None or not isinstance(error, Unauthorized | InsufficientScope):
            return None
        arrival = arrival_of(scope)
        # An MCP tool call's inner request answers an MCP client: it is pointed at /mcp's metadata.
        on_mcp = scope.get("path") == MCP_PATH or (arrival is not None and arrival.inner)
        operation = scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id") or ""
        operation_needs = self.operation_scopes.get(operation.rsplit(".", 1)[-1])
        if isinstance(error, InsufficientScope):
            return challenge(self.base_url(scope), mcp=on_mcp, scopes=operation_needs or (error.extra["required_scope"],),
                             error="insufficient_scope", description=error.detail)
        needed = operation_needs or (SCOPES if on_mcp else ())
        return challenge(self.base_url(scope), mcp=on_mcp, scopes=needed, error=error.token_error,
                         description=error.detail if error.token_error else None)

    def _from_access_token(self, token: str, scope: Mapping[str, Any]) -> dict[str, Any]:
        assert self.verifier is not None
        try:
            access = self.verifier.verify(token, self.base_url(scope))
        except InvalidToken as exc:
            raise Unauthorized(f"The access token is not accepted: {exc}. Sign in again.",
                               token_error="invalid_token") from None
        note(oauth_client=access.client_id, grant=access.grant_id)
        if self.embedded and access.subject.startswith(SUBJECT_PREFIX):
            return self._person(access)
        if self.embedded:
            key = self.keys.by_subject(access.subject)
            if key is None:
                raise Unauthorized("The API key this sign-in was made with is no longer accepted; sign in again.",
                                   token_error="invalid_token")
            acting = ApiKey(name=key.name, sha256=key.sha256, scopes=access.scopes & key.scopes, repos=key.repos)
        else:  # an external issuer's user: the scopes it granted, within the operator's allowlist
            acting = ApiKey(name=f"oauth:{access.subject}"[:80], sha256=hashlib.sha256(access.subject.encode()).digest(),
                            scopes=access.scopes & frozenset(SCOPES), repos=RepoAllowlist(()))
        return {**acting.token_info(), "client_id": access.client_id, "grant": access.grant_id}


    def _person(self, access: AccessToken) -> dict[str, Any]:
        """A person signed in with GitHub: what they may do (their grant, narrowed by what the
        policy gave them at sign-in or the last refresh) and the credentials to act as them with.
        Their grant is looked up on every request, so revoking it takes effect at once."""
        grant = self.grants(access.grant_id) if self.grants is not None and access.grant_id else None
        session = (self.people.session(grant.github_session) if self.people is not None and grant is not None
                   and not grant.revoked and grant.github_session is not None else None)
        if session is None:
            raise Unauthorized("This sign-in with GitHub has ended (revoked, or the person may no longer use the "
                               "connector); sign in again.", token_error="invalid_token")
        note(github_login=session.login)
        acting = ApiKey(name=f"@{session.login}", sha256=hashlib.sha256(access.subject.encode()).digest(),
                        scopes=access.scopes & session.allowance.scopes, repos=RepoAllowlist(session.allowance.repos))
        assert self.people is not None
        return {**acting.token_info(), "sub": access.subject, "client_id": access.client_id, "grant": access.grant_id,
                "github_credentials": self.people.credentials(session)}


def security_handlers(auth: Authenticator) -> dict[str, type]:
    """Connexion's ``security_map``: handler classes that check presented credentials with ``auth``."""

    def verifier(required_scopes: list[str] | None) -> Callable[[str, Any], dict[str, Any]]:
        needed = tuple(required_scopes or ())

        def verify(token: str, request: Any) -> dict[str, Any]:
            token_info = auth.identify(token, request.scope)
            if token_info is None:
                raise OAuthResponseProblem(detail="Provided token is not valid")
            return with_scopes(token_info["key"], needed, "operation", token_info)

        return verify

    # Connexion's generic wrappers inspect the verify function's signature on every request;
    # these know theirs and check the credential directly.
    class KeyBearerHandler(BearerSecurityHandler):
        def get_fn(self, security_scheme: dict, required_scopes: list[str]) -> Any:
            verify = verifier(required_scopes)

            def check(request: Any) -> Any:
                outer = arrival_of(request.scope)
                if outer is not None and outer.inner and outer.token_info is not None:
                    # An MCP tool call: the POST to /mcp that carries it authenticated this caller.
                    return with_scopes(outer.token_info["key"], tuple(required_scopes or ()), "operation",
                                       outer.token_info)
                auth_type, token = self.get_auth_header_value(request)
                if auth_type != "bearer":
                    return NO_VALUE
                if auth.may_wait(token):
                    return run_in_threadpool(verify, token, request)  # Connexion awaits what it is given
                return verify(token, request)

            return check

    class KeyHeaderHandler(ApiKeySecurityHandler):
        def get_fn(self, security_scheme: dict, required_scopes: list[str]) -> Any:
            verify, header = verifier(required_scopes), security_scheme["name"]

            def check(request: Any) -> Any:
                token = request.headers.get(header)
                if token is None:
                    return NO_VALUE
                if auth.keys.is_empty():  # the actions gateway's answer when it had no keys configured
                    raise MissingApiKeyConfig(
                        "The connector has no API keys configured; the operator has to set "
                        "CONNECTOR_API_KEY or add keys to CONNECTOR_KEYS_FILE."
                    )
                return verify(token, request)

            return check

    return {"bearer": KeyBearerHandler, "apiKey": KeyHeaderHandler}


def operation_scopes(document: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each operation's scopes, from its security requirement (for the challenge's ``scope``)."""
    default = document.get("security", [])
    found = {}
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                requirement = (operation.get("security", default) or [{}])[0]
                found[operation["operationId"]] = tuple(scope for names in requirement.values() for scope in names)
    return found


def acts_as_person(token_info: Mapping[str, Any]) -> bool:
    """The caller signed in with GitHub and acts on GitHub as themselves (with their own token),
    rather than with the connector's credentials."""
    return "github_credentials" in token_info


def with_scopes(key: ApiKey, needed: tuple[str, ...], what: str, token_info: dict[str, Any]) -> dict[str, Any]:
    """``token_info`` if its key holds every scope in ``needed``; else ``403 insufficient_scope``."""
    note(key=key.name)
    missing = [scope for scope in needed if scope not in key.scopes]
    if missing:
        whose = f"The API key '{key.name}'" if "grant" not in token_info else f"The sign-in as '{key.name}'"
        if acts_as_person(token_info):
            remedy = "ask the operator to allow it (CONNECTOR_OAUTH_USER_SCOPES or the users file) and sign in again."
        else:
            remedy = "ask the operator for a key that has it" + (" and sign in again." if "grant" in token_info else ".")
        raise InsufficientScope(f"{whose} lacks the scope {', '.join(missing)} this {what} needs; {remedy}",
                                required_scope=missing[0])
    return token_info
