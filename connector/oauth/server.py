"""The embedded authorization server (``CONNECTOR_OAUTH=embedded``): Authlib's machinery on Starlette.

Authlib validates the authorization and token requests, authenticates clients, runs PKCE and the
grants (:mod:`connector.oauth.grants`), registers clients (RFC 7591) and revokes tokens (RFC 7009);
this module adapts Starlette requests to it, serves the endpoints and the metadata (RFC 8414), and
puts the consent page (:mod:`connector.oauth.consent`) between the authorization request and the code.

Every call into Authlib runs in a worker thread: its stores may be Redis, and Authlib is synchronous.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlencode

import anyio.to_thread
from authlib.oauth2.rfc6749 import AuthorizationServer, JsonPayload, JsonRequest, OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint
from authlib.oauth2.rfc7591.errors import InvalidClientMetadataError, InvalidRedirectURIError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..config.keys import SCOPES, KeyRing
from ..state.protocols import OAuthStore
from .client_assertions import PrivateKeyJwt
from .clients import AUTH_METHODS, Client, ClientRegistry, secret_digest
from .consent import consent_page, error_page
from .github_signin import CALLBACK_PATH, FLOW_COOKIE, Declined, GitHubSignIn, Returned
from .grants import CLIENT_AUTH_METHODS, CodeGrant, GrantBook, RefreshGrant, S256Challenge, SignedIn, hashed
from .signing import SigningKeys
from .tokens import EmbeddedVerifier, InvalidToken, RememberingVerifier, TokenIssuer, looks_like_jwt, resources_of

__all__ = ["EmbeddedServer", "AUTHORIZE_PATH", "TOKEN_PATH", "REGISTER_PATH", "REVOKE_PATH", "JWKS_PATH"]

# At DEBUG, Authlib logs every token it issues; nothing below INFO from it, whatever the root level.
logging.getLogger("authlib").setLevel(logging.INFO)
log = logging.getLogger(__name__)

AUTHORIZE_PATH, TOKEN_PATH = "/oauth/authorize", "/oauth/token"
REGISTER_PATH, REVOKE_PATH, JWKS_PATH = "/oauth/register", "/oauth/revoke", "/oauth/jwks.json"
TRANSACTION_SECONDS = 600  # how long a consent page stays valid
MAX_SIGN_IN_ATTEMPTS = 5  # wrong keys on one consent page before it has to be started again
MAX_FORM_BYTES = 16 * 1024
CSRF_COOKIE = "connector_oauth_csrf"


class _Payload(OAuth2Payload):
    def __init__(self, values: dict[str, list[str]]) -> None:
        self._datalist = defaultdict(list, values)
        self._data = {name: found[0] for name, found in values.items() if found}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _Request(OAuth2Request):
    """A Starlette request, read in full, as Authlib reads requests."""

    def __init__(self, method: str, uri: str, headers: dict[str, str], query: dict[str, list[str]],
                 form: dict[str, list[str]], base_url: str) -> None:
        super().__init__(method, uri, headers=headers)
        self.base_url = base_url
        self.payload = _Payload({**query, **form})
        self._args = {name: values[0] for name, values in query.items() if values}
        self._form = {name: values[0] for name, values in form.items() if values}

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _JsonPayload(JsonPayload):
    def __init__(self, data: Any) -> None:
        self._data = data

    @property
    def data(self) -> Any:
        return self._data


class _JsonRequest(JsonRequest):
    def __init__(self, method: str, uri: str, headers: dict[str, str], data: Any, base_url: str) -> None:
        super().__init__(method, uri, headers)
        self.payload = _JsonPayload(data)
        self.base_url = base_url


class EmbeddedServer(AuthorizationServer):
    def __init__(self, *, store: OAuthStore, keys: KeyRing, signing: SigningKeys, clients: ClientRegistry,
                 public_base_url: str | None, token_seconds: int,
                 registration_allowed: Callable[[str], bool] = lambda address: True,
                 caller_of: Callable[[Request], str | None] | None = None, github: GitHubSignIn | None = None) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.store, self.keys, self.signing, self.clients = store, keys, signing, clients
        self.public_base_url = public_base_url
        self.github = github  # signing in with GitHub, when it is on
        self.book = GrantBook(store, keys, TokenIssuer(signing, lifetime=token_seconds),
                              people=github.people if github is not None else None)
        self.verifier = RememberingVerifier(EmbeddedVerifier(signing))
        self.registration_allowed = registration_allowed
        # Who is registering, for the per-address limit: behind a trusted proxy the app knows better
        # than the connection's peer (connector.http.arrival), so it says.
        self.caller_of = caller_of or (lambda request: request.client.host if request.client else None)
        self.register_client_auth_method("none", _none_without_secret)
        self.register_client_auth_method(PrivateKeyJwt.CLIENT_AUTH_METHOD, PrivateKeyJwt(self, TOKEN_PATH))
        self.register_grant(CodeGrant, [S256Challenge(required=True)])
        self.register_grant(RefreshGrant)
        self.register_endpoint(_Revocation(server=self))
        self._registration = _Registration(server=self)

    # -- what Authlib asks of a server ---------------------------------------------------------
    def query_client(self, client_id: str) -> Client | None:
        return self.clients.find(client_id)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        pass  # GrantBook.issue stores the refresh token as it makes it

    def create_oauth2_request(self, request: Any) -> Any:
        return request

    def create_json_request(self, request: Any) -> Any:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> Response:
        headers = dict(headers or [])
        if status == 302 or "Location" in headers:
            return Response(status_code=302, headers={"Location": headers["Location"], "Cache-Control": "no-store"})
        headers.pop("Content-Type", None)
        return JSONResponse(body, status_code=status, headers={**headers, "Cache-Control": "no-store",
                                                                "Pragma": "no-cache"})

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    # -- this deployment ---------------------------------------------------------------------
    def issuer_of(self, request: Any) -> str:
        """PUBLIC_BASE_URL; in a sandbox without one, the address the request came to."""
        return self.public_base_url or request.base_url

    def resource_of(self, request: Any) -> str:
        """The resource (RFC 8707) the tokens are for: the one asked for, else the MCP endpoint."""
        return request.payload.data.get("resource") or resources_of(self.issuer_of(request))[1]

    def metadata(self, issuer: str) -> dict[str, Any]:
        """RFC 8414, with RFC 7591's registration and the client ID metadata document draft's flag."""
        return {
            "issuer": issuer,
            "authorization_endpoint": issuer + AUTHORIZE_PATH,
            "token_endpoint": issuer + TOKEN_PATH,
            "registration_endpoint": issuer + REGISTER_PATH,
            "revocation_endpoint": issuer + REVOKE_PATH,
            "jwks_uri": issuer + JWKS_PATH,
            "scopes_supported": list(SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
            "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256"],
            "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
            "revocation_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256"],
            "client_id_metadata_document_supported": self.clients.supports_metadata_documents,
        }

    def routes(self) -> list[tuple[str, Callable[[Request], Awaitable[Response]], list[str]]]:
        github = [(CALLBACK_PATH, self._github_callback, ["GET"])] if self.github is not None else []
        return [*github,
            ("/.well-known/oauth-authorization-server", self._metadata_endpoint, ["GET"]),
            (AUTHORIZE_PATH, self._authorize, ["GET", "POST"]),
            (TOKEN_PATH, self._token, ["POST"]),
            (REGISTER_PATH, self._register, ["POST"]),
            (REVOKE_PATH, self._revoke, ["POST"]),
            (JWKS_PATH, self._jwks, ["GET"]),
        ]

    # -- endpoints -----------------------------------------------------------------------------
    async def _metadata_endpoint(self, request: Request) -> Response:
        return JSONResponse(self.metadata(self._issuer(request)))

    async def _jwks(self, request: Request) -> Response:
        return JSONResponse(self.signing.jwks(), headers={"Cache-Control": "max-age=300"})

    async def _token(self, request: Request) -> Response:
        oauth_request = await self._read(request)
        return await anyio.to_thread.run_sync(self.create_token_response, oauth_request)

    async def _revoke(self, request: Request) -> Response:
        oauth_request = await self._read(request)
        return await anyio.to_thread.run_sync(self.create_endpoint_response, "revocation", oauth_request)

    async def _register(self, request: Request) -> Response:
        address = self.caller_of(request) or "unknown"
        if not self.registration_allowed(address):
            return JSONResponse({"error": "invalid_request", "error_description": "Too many registrations from this "
                                 "address; register once per app and keep the client id."}, status_code=429,
                                headers={"Retry-After": "3600"})
        body = await request.body()
        try:
            data = json.loads(body) if len(body) <= MAX_FORM_BYTES else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return JSONResponse({"error": "invalid_client_metadata",
                                 "error_description": "Send the client metadata as a JSON object."}, status_code=400)
        json_request = _JsonRequest("POST", str(request.url), dict(request.headers), data, self._issuer(request))

        def register() -> Response:
            try:
                status, answer, headers = self._registration.create_registration_response(json_request)
            except OAuth2Error as error:
                return self.handle_error_response(json_request, error)
            return self.handle_response(status, answer, headers)

        return await anyio.to_thread.run_sync(register)

    async def _authorize(self, request: Request) -> Response:
        if request.method == "GET":
            oauth_request = self._authorization_request(request.url.query, self._issuer(request), dict(request.headers))
            return await anyio.to_thread.run_sync(self._consent, oauth_request)
        form = await self._form(request)
        return await anyio.to_thread.run_sync(self._decide, form, request.cookies.get(CSRF_COOKIE),
                                              self._issuer(request), dict(request.headers))

    # -- the consent page --------------------------------------------------------------------------
    def _consent(self, oauth_request: _Request) -> Response:
        grant, refusal = self._validated(oauth_request)
        if refusal is not None:
            return refusal
        transaction, csrf = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.store.put("authorization", hashed(transaction), {
            "query": urlencode(list(oauth_request.payload.datalist.items()), doseq=True),
            "csrf": hashed(csrf), "attempts": 0}, TRANSACTION_SECONDS)
        page = consent_page(client_name=grant.client.name, redirect_uri=grant.redirect_uri,
                            scopes=_scopes(oauth_request), transaction=transaction, csrf=csrf,
                            github_origin=self._github_origin)
        secure = oauth_request.base_url.startswith("https://")
        page.set_cookie(CSRF_COOKIE, csrf, max_age=TRANSACTION_SECONDS, path="/oauth", secure=secure,
                        httponly=True, samesite="strict")
        return page

    def _decide(self, form: dict[str, str], cookie: str | None, issuer: str, headers: dict[str, str]) -> Response:
        transaction = form.get("transaction", "")
        record = self.store.get("authorization", hashed(transaction)) if transaction else None
        if record is None:
            return error_page("This sign-in page has expired or was already used.",
                              "Go back to the app you came from and connect again.")
        presented = form.get("csrf", "")
        if not cookie or not hmac.compare_digest(presented, cookie) or not hmac.compare_digest(hashed(cookie),
                                                                                             record["csrf"]):
            return error_page("This form did not come from the sign-in page this browser was shown.",
                              "Go back to the app you came from and connect again; the page must not be "
                              "submitted from another site.", status=403)
        oauth_request = self._authorization_request(record["query"], issuer, headers)
        grant, refusal = self._validated(oauth_request)
        if refusal is not None:
            return refusal
        if form.get("decision") == "github" and self.github is not None:
            return self.github.start(hashed(transaction), issuer)  # the page stays pending until GitHub is back
        if form.get("decision") != "allow":
            self.store.delete("authorization", hashed(transaction))
            return self.create_authorization_response(oauth_request, grant_user=None, grant=grant)
        key = self.keys.find(form.get("api_key", ""))
        asked = _scopes(oauth_request)
        if key is None:
            return self._try_again(transaction, record, grant, asked, cookie,
                                   "That API key is not valid here. Check it and try again.")
        granted = _granted(asked, key.scopes)
        if not granted:
            return self._try_again(transaction, record, grant, asked, cookie,
                                   f"The key '{key.name}' may do none of what is asked for; sign in with another "
                                   "key, or ask the operator for one that has these scopes.")
        self.store.delete("authorization", hashed(transaction))  # one page, one code
        return self.create_authorization_response(oauth_request, grant=grant,
                                                  grant_user=SignedIn(key.subject, key.name, granted))

    # -- back from GitHub ------------------------------------------------------------------------------
    async def _github_callback(self, request: Request) -> Response:
        assert self.github is not None
        query = {name: value for name, value in request.query_params.items()}
        returned = await anyio.to_thread.run_sync(self.github.returned, query, request.cookies.get(FLOW_COOKIE))
        if isinstance(returned, Response):
            return returned
        return await anyio.to_thread.run_sync(self._signed_in_with_github, returned, self._issuer(request),
                                              dict(request.headers))

    def _signed_in_with_github(self, returned: Returned | Declined, issuer: str, headers: dict[str, str]) -> Response:
        assert self.github is not None
        record = self.store.get("authorization", returned.transaction_hash)
        if record is None:
            return error_page("This sign-in page has expired or was already used.",
                              "Go back to the app you came from and connect again.")
        oauth_request = self._authorization_request(record["query"], issuer, headers)
        grant, refusal = self._validated(oauth_request)
        if refusal is not None:
            return refusal
        self.store.delete("authorization", returned.transaction_hash)  # one page, one code
        if isinstance(returned, Declined):
            return self.create_authorization_response(oauth_request, grant_user=None, grant=grant)
        person = returned.person
        asked = _scopes(oauth_request)
        granted = _granted(asked, person.allowance.scopes)
        if not granted:
            return error_page(f"@{person.login} may do none of what {grant.client.name} asks for here.",
                              "Ask the operator of this connector for those permissions, then connect again.",
                              status=403)
        session = self.github.people.sessions.open(person.user_id, person.login, person.allowance, returned.tokens)
        log.info("@%s signed in with GitHub for client %s", person.login, grant.client.client_id)
        return self.create_authorization_response(oauth_request, grant=grant, grant_user=SignedIn(
            person.subject, f"@{person.login}", granted, session))

    def _try_again(self, transaction: str, record: dict[str, Any], grant: Any, asked: list[str], csrf: str,
                   problem: str) -> Response:
        attempts = record["attempts"] + 1
        if attempts >= MAX_SIGN_IN_ATTEMPTS:
            self.store.delete("authorization", hashed(transaction))
            return error_page("Too many wrong keys were tried on this page.",
                              "Go back to the app you came from and connect again.", status=401)
        self.store.put("authorization", hashed(transaction), {**record, "attempts": attempts}, TRANSACTION_SECONDS)
        return consent_page(client_name=grant.client.name, redirect_uri=grant.redirect_uri, scopes=asked,
                            transaction=transaction, csrf=csrf, error=problem, status=401,
                            github_origin=self._github_origin)

    @property
    def _github_origin(self) -> str | None:
        return self.github.web_origin if self.github is not None else None

    def _validated(self, oauth_request: _Request) -> tuple[Any, Response | None]:
        """Authlib's check of the request; an error with a known client and redirect URI goes back to
        the client, any other is a page here (never a redirect to a URI nobody vouched for)."""
        try:
            grant = self.get_consent_grant(oauth_request)
            resource = oauth_request.payload.data.get("resource")
            if resource and resource not in resources_of(self.issuer_of(oauth_request)):
                raise _InvalidTarget(redirect_uri=grant.redirect_uri, state=oauth_request.payload.state)
        except OAuth2Error as error:
            if error.redirect_uri:
                return None, self.handle_error_response(oauth_request, error)
            return None, error_page(_described(error), "The app that sent you here is not set up for this connector; "
                                    "tell its developer, or the operator of this connector.")
        return grant, None

    # -- reading requests ----------------------------------------------------------------------------
    def _issuer(self, request: Request) -> str:
        return self.public_base_url or str(request.base_url).rstrip("/")

    def _authorization_request(self, query: str, issuer: str, headers: dict[str, str]) -> _Request:
        return _Request("GET", f"{issuer}{AUTHORIZE_PATH}?{query}", headers, parse_qs(query, keep_blank_values=True),
                        {}, issuer)

    async def _form(self, request: Request) -> dict[str, str]:
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return {}
        values = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return {name: found[0] for name, found in values.items() if found}

    async def _read(self, request: Request) -> _Request:
        body = await request.body()
        form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True) if len(body) <= MAX_FORM_BYTES \
            else {}
        return _Request(request.method, str(request.url), dict(request.headers),
                        parse_qs(request.url.query, keep_blank_values=True), form, self._issuer(request))


def _granted(asked: list[str], held: frozenset[str]) -> frozenset[str]:
    """What a sign-in grants: the scopes asked for (all, when none were), within what is held."""
    return frozenset(scope for scope in (asked or SCOPES) if scope in held)


def _scopes(oauth_request: _Request) -> list[str]:
    return sorted(set((oauth_request.payload.data.get("scope") or "").split()))


def _described(error: OAuth2Error) -> str:
    return f"{error.error}: {error.description}" if error.description else str(error.error)


def _none_without_secret(query_client: Callable[[str], Client | None], request: Any) -> Client | None:
    """Authlib's ``none`` method, for public clients: the client id alone, and no secret sent."""
    client_id = request.payload.client_id
    if client_id and not request.payload.data.get("client_secret"):
        return query_client(client_id)
    return None


class _InvalidTarget(OAuth2Error):
    error = "invalid_target"
    description = "The resource asked for is not this connector; use the resource its metadata names."


class _Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        server: EmbeddedServer = self.server
        if looks_like_jwt(token_string):
            try:
                issuer = server.public_base_url or ""
                grant_id = server.verifier.verify(token_string, issuer).grant_id if issuer else None
            except InvalidToken:
                grant_id = None
        else:
            found = server.store.get("refresh", hashed(token_string))
            grant_id = found["grant_id"] if found else None
        grant = server.book.get(grant_id) if grant_id else None
        return _Revocable(grant.grant_id, grant.client_id) if grant is not None else None

    def revoke_token(self, token: Any, request: Any) -> None:
        self.server.book.revoke(token.grant_id)


class _Revocable:
    def __init__(self, grant_id: str, client_id: str) -> None:
        self.grant_id, self.client_id = grant_id, client_id

    def check_client(self, client: Any) -> bool:
        return client.get_client_id() == self.client_id


class _Registration(ClientRegistrationEndpoint):
    """Open registration (RFC 7591), bounded in number; only redirect URIs the operator allows."""

    def authenticate_token(self, request: Any) -> str:
        return "anonymous"  # anyone may register; what a client may then do is decided at sign-in

    def get_server_metadata(self) -> dict[str, Any]:
        return {"scopes_supported": list(SCOPES), "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS}

    def generate_client_info(self, request: Any) -> dict[str, Any]:
        info = super().generate_client_info(request)
        if request.payload.data.get("token_endpoint_auth_method") in ("none", "private_key_jwt"):
            info.pop("client_secret", None)
            info.pop("client_secret_expires_at", None)
        return info

    def save_client(self, client_info: dict[str, Any], client_metadata: dict[str, Any], request: Any) -> Client:
        server: EmbeddedServer = self.server
        if server.clients.dynamic_count() >= server.clients.max_dynamic:
            raise InvalidClientMetadataError("This connector has as many registered clients as it keeps; "
                                             "ask its operator for a pre-registered client.")
        uris = client_metadata.get("redirect_uris") or []
        if not uris or not server.clients.allows_redirects(uris):
            raise InvalidRedirectURIError("A redirect URI is not one this connector allows; the operator lists "
                                          "them in CONNECTOR_OAUTH_REDIRECT_URIS.")
        method = client_metadata.get("token_endpoint_auth_method", "client_secret_basic")
        if method not in CLIENT_AUTH_METHODS or method not in AUTH_METHODS:
            raise InvalidClientMetadataError(f"token_endpoint_auth_method {method} is not supported here; use "
                                             "none, client_secret_post, client_secret_basic or private_key_jwt.")
        jwks = client_metadata.get("jwks")
        if method == "private_key_jwt" and not (isinstance(jwks, dict) and jwks.get("keys")):
            raise InvalidClientMetadataError("private_key_jwt needs the client's public keys in jwks.")
        secret = client_info.get("client_secret")
        client = Client(client_id=client_info["client_id"], name=str(client_metadata.get("client_name") or
                        "An unnamed app")[:100], redirect_uris=tuple(uris), auth_method=method,
                        secret_sha256=secret_digest(secret) if secret and method not in ("none", "private_key_jwt")
                        else None, kind="dynamic", jwks=jwks if method == "private_key_jwt" else None)
        server.clients.register(client)
        log.info("OAuth client %s registered (%s)", client.client_id, client.name)
        return client

