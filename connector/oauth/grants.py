"""Grants, authorization codes and refresh tokens, and Authlib's two grants bound to them.

A person signs in on the consent page with an API key; that makes a *grant*: a client, the key's
stable identity, the scopes granted (never more than the key has) and the resource (RFC 8707) the
tokens are for. The code the client gets back is single-use, lives 60 s and is stored only as a
hash; redeeming it twice revokes the grant it opened. Each refresh token is opaque, stored as a
hash and rotates on every use; presenting a used one revokes the whole grant (RFC 9700 4.14).
Access tokens are short-lived JWTs (:mod:`connector.oauth.tokens`), so a revoked grant's last
access token works until it expires (``CONNECTOR_OAUTH_TOKEN_SECONDS``); a key removed from the
keys file ends its tokens at once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc7636 import CodeChallenge

from ..config.keys import KeyRing
from ..state.protocols import OAuthStore
from .tokens import TokenIssuer

if TYPE_CHECKING:
    from .github_people import GitHubPeople

__all__ = ["CODE_SECONDS", "REFRESH_SECONDS", "Grant", "GrantBook", "SignedIn", "CodeGrant", "RefreshGrant",
           "RecheckFailed", "S256Challenge", "hashed"]

CODE_SECONDS = 60
REFRESH_SECONDS = 30 * 24 * 3600
log = logging.getLogger(__name__)


def hashed(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """Who signed in on the consent page, and what they granted."""

    subject: str  # the key's stable identity ("key:…"), never its name; or "github:<user id>"
    key_name: str  # the key's name; or "@login" for a person signed in with GitHub
    scopes: frozenset[str]
    github_session: str | None = None  # signed in with GitHub: their session (connector.oauth.github_sessions)


@dataclass(frozen=True)
class Grant:
    grant_id: str
    client_id: str
    subject: str
    key_name: str
    scopes: tuple[str, ...]
    resource: str
    created: float
    revoked: bool = False
    github_session: str | None = None


class _Code:
    """What Authlib needs of a redeemed code (its AuthorizationCodeMixin)."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record

    def get_redirect_uri(self) -> str:
        return self.record["redirect_uri"]

    def get_scope(self) -> str:
        return " ".join(self.record["scopes"])


class _Refresh:
    """What Authlib needs of a presented refresh token (its TokenMixin)."""

    def __init__(self, grant: Grant) -> None:
        self.grant = grant

    def check_client(self, client: Any) -> bool:
        return client.get_client_id() == self.grant.client_id

    def get_scope(self) -> str:
        return " ".join(self.grant.scopes)

    def is_expired(self) -> bool:
        return False

    def is_revoked(self) -> bool:
        return self.grant.revoked


class GrantBook:
    """Grants, codes and refresh tokens in the OAuth store."""

    def __init__(self, store: OAuthStore, keys: KeyRing, tokens: TokenIssuer | None = None,
                 people: GitHubPeople | None = None) -> None:
        self.store, self.keys, self.tokens = store, keys, tokens  # no issuer: book-keeping only (revocation)
        self.people = people  # with signing in with GitHub

    # -- codes ------------------------------------------------------------------------------
    def new_code(self, code: str, *, client_id: str, redirect_uri: str, user: SignedIn, challenge: str,
                 resource: str) -> None:
        grant_id = secrets.token_urlsafe(12)
        self.store.put("code", hashed(code), {
            "client_id": client_id, "redirect_uri": redirect_uri, "subject": user.subject, "key_name": user.key_name,
            "scopes": sorted(user.scopes), "challenge": challenge, "resource": resource, "grant_id": grant_id,
            "expires": time.time() + CODE_SECONDS, "github_session": user.github_session,
        }, CODE_SECONDS * 10)  # kept past its 60 s so that a late replay still revokes what it opened

    def redeem_code(self, code: str, client_id: str) -> dict[str, Any] | None:
        record, used = self.store.use("code", hashed(code))
        if record is None or record["client_id"] != client_id:
            return None
        if used:
            log.warning("an authorization code was presented twice; its grant %s is revoked", record["grant_id"])
            self.revoke(record["grant_id"])
            return None
        return record if record["expires"] >= time.time() else None

    # -- grants and tokens ----------------------------------------------------------------------
    def open(self, code: dict[str, Any]) -> Grant:
        grant = Grant(grant_id=code["grant_id"], client_id=code["client_id"], subject=code["subject"],
                      key_name=code["key_name"], scopes=tuple(code["scopes"]), resource=code["resource"],
                      created=time.time(), github_session=code.get("github_session"))
        self._save(grant)
        self.store.index(f"client:{grant.client_id}", grant.grant_id, REFRESH_SECONDS)
        self.store.index(f"subject:{grant.subject}", grant.grant_id, REFRESH_SECONDS)
        return grant

    def issue(self, grant: Grant, issuer: str) -> dict[str, Any]:
        """An access token and a fresh refresh token for ``grant``, as the token endpoint answers them."""
        assert self.tokens is not None, "this book was opened for revocation only"
        refresh = secrets.token_urlsafe(32)
        self.store.put("refresh", hashed(refresh), {"grant_id": grant.grant_id}, REFRESH_SECONDS)
        access = self.tokens.issue(issuer=issuer, subject=grant.subject, client_id=grant.client_id,
                                   scopes=grant.scopes, audience=grant.resource, grant_id=grant.grant_id,
                                   key_name=grant.key_name)
        return {"token_type": "Bearer", "access_token": access, "expires_in": self.tokens.lifetime,
                "refresh_token": refresh, "scope": " ".join(grant.scopes)}

    def by_refresh_token(self, refresh: str) -> Grant | None:
        """The live grant a refresh token belongs to, the token used up in the same step; a token
        presented a second time revokes its grant."""
        record, used = self.store.use("refresh", hashed(refresh))
        if record is None:
            return None
        if used:
            log.warning("a refresh token was presented twice; its grant %s is revoked", record["grant_id"])
            self.revoke(record["grant_id"])
            return None
        grant = self.get(record["grant_id"])
        if grant is None or grant.revoked:
            return None
        try:
            held = self._still_held(grant)
        except RecheckFailed:
            # GitHub could not be asked: the client's refresh token stays good for a retry.
            self.store.put("refresh", hashed(refresh), {"grant_id": grant.grant_id}, REFRESH_SECONDS)
            raise
        if held is None:
            self.revoke(grant.grant_id)
            return None
        narrowed = tuple(scope for scope in grant.scopes if scope in held)
        return Grant(**{**asdict(grant), "scopes": narrowed}) if narrowed != grant.scopes else grant

    def _still_held(self, grant: Grant) -> frozenset[str] | None:
        """The scopes the grant's subject still holds: its key's, or (signed in with GitHub) what the
        person may still do, asked of GitHub again. None: the key was removed, or the person may no
        longer sign in; what they signed in for ends with it."""
        if grant.github_session is not None:
            if self.people is None:
                return None
            allowance = self.people.recheck(grant.github_session)
            return allowance.scopes if allowance is not None else None
        key = self.keys.by_subject(grant.subject)
        return key.scopes if key is not None else None

    def get(self, grant_id: str) -> Grant | None:
        record = self.store.get("grant", grant_id)
        if record is None:
            return None
        record.pop("used", None)
        return Grant(**{**record, "scopes": tuple(record["scopes"])})

    def revoke(self, grant_id: str) -> bool:
        grant = self.get(grant_id)
        if grant is None:
            return False
        self._save(Grant(**{**asdict(grant), "revoked": True}))
        return True

    def revoke_all(self, index: str) -> int:
        """Revoke every grant of a client (``client:ID``) or of a key (``subject:key:…``)."""
        return sum(self.revoke(grant_id) for grant_id in self.store.members(index))

    def _save(self, grant: Grant) -> None:
        self.store.put("grant", grant.grant_id, asdict(grant), REFRESH_SECONDS)


class RecheckFailed(Exception):
    """Whether the subject may still sign in could not be found out now (GitHub unreachable)."""


class _TemporarilyUnavailable(OAuth2Error):
    error = "temporarily_unavailable"
    description = "GitHub could not be asked whether this sign-in still holds; try the refresh again shortly."
    status_code = 503


class S256Challenge(CodeChallenge):
    """PKCE, required of every client and with S256 only: ``plain`` would let whoever saw the
    authorization request redeem the code."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported.")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier': PKCE is required.")
        super().validate_code_verifier(grant, result)

    def get_authorization_code_challenge(self, authorization_code: _Code) -> str:
        return authorization_code.record["challenge"]

    def get_authorization_code_challenge_method(self, authorization_code: _Code) -> str:
        return "S256"


CLIENT_AUTH_METHODS = ["none", "client_secret_post", "client_secret_basic", "private_key_jwt"]


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    @property
    def book(self) -> GrantBook:
        return self.server.book

    def save_authorization_code(self, code: str, request: Any) -> None:
        self.book.new_code(code, client_id=request.client.get_client_id(), redirect_uri=request.payload.redirect_uri
                           or request.client.get_default_redirect_uri(), user=request.user,
                           challenge=request.payload.data["code_challenge"],
                           resource=self.server.resource_of(request))

    def query_authorization_code(self, code: str, client: Any) -> _Code | None:
        record = self.book.redeem_code(code, client.get_client_id())
        if record is None:
            return None
        resource = self.request.payload.data.get("resource")
        if resource and resource != record["resource"]:
            return None  # RFC 8707: the token request may only repeat the resource the code was for
        return _Code(record)

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        pass  # already marked used, and kept so that a replay revokes the grant

    def authenticate_user(self, authorization_code: _Code) -> SignedIn:
        record = authorization_code.record
        return SignedIn(record["subject"], record["key_name"], frozenset(record["scopes"]), record.get("github_session"))

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        code: _Code = self.request.authorization_code
        grant = self.book.open(code.record)
        self.request.user = self.authenticate_user(code)
        return 200, self.book.issue(grant, self.server.issuer_of(self.request)), self.TOKEN_RESPONSE_HEADER


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> _Refresh | None:
        try:
            grant = self.server.book.by_refresh_token(refresh_token)
        except RecheckFailed:
            raise _TemporarilyUnavailable() from None
        return _Refresh(grant) if grant is not None else None

    def authenticate_user(self, refresh_token: _Refresh) -> SignedIn:
        grant = refresh_token.grant
        return SignedIn(grant.subject, grant.key_name, frozenset(grant.scopes), grant.github_session)

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        refresh: _Refresh = self.request.refresh_token
        grant = refresh.grant
        asked = self.request.payload.scope
        if asked:  # a narrower scope may be asked for (checked against the grant by Authlib)
            grant = Grant(**{**asdict(grant), "scopes": tuple(sorted(set(asked.split()) & set(grant.scopes)))})
        self.request.user = self.authenticate_user(refresh)
        return 200, self.server.book.issue(grant, self.server.issuer_of(self.request)), self.TOKEN_RESPONSE_HEADER
