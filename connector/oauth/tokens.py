"""Access tokens: JWTs in the RFC 9068 profile, issued by the embedded server and verified on every
request; or, with ``CONNECTOR_OAUTH_ISSUER``, verified against an external issuer's published keys.

Verification checks the signature (asymmetric algorithms only, the key chosen by ``kid`` among the
issuer's own, so neither ``alg: none`` nor an HMAC signed with a public key passes), ``iss``,
``aud`` (RFC 8707: a token for another resource is refused), ``exp``/``nbf``/``iat`` with a small
leeway, and reads the scopes. Authorization (which scopes an operation needs) happens after, in
:mod:`connector.http.auth`.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import jwt

from .signing import ALGORITHMS, SigningKeys

__all__ = ["AccessToken", "InvalidToken", "TokenIssuer", "TokenVerifier", "EmbeddedVerifier", "ExternalVerifier",
           "discover_jwks_uri", "looks_like_jwt", "resources_of", "RememberingVerifier", "LEEWAY_SECONDS"]

LEEWAY_SECONDS = 30  # clocks differ a little between the issuer and this server
TOKEN_TYPE = "at+jwt"  # RFC 9068's media type for access tokens, in the header's typ


class InvalidToken(Exception):
    """The presented token is not one this server accepts; the message says why, for the log and the
    ``error_description`` (it never contains the token)."""


@dataclass(frozen=True)
class AccessToken:
    subject: str  # the stable identity it acts for: "key:<digest prefix>" for API-key sign-in
    client_id: str | None
    scopes: frozenset[str]
    grant_id: str | None = None  # the embedded server's grant, to revoke it and to name it in the audit log
    key_name: str | None = None
    expires: float = 0.0  # its exp


def looks_like_jwt(token: str) -> bool:
    """Three base64url parts: an access token rather than an API key (API keys never have dots)."""
    parts = token.split(".")
    return len(parts) == 3 and all(parts)


def resources_of(base_url: str) -> tuple[str, str]:
    """This server's two protected resources (RFC 9728): the HTTP routes, and the MCP endpoint."""
    return base_url, base_url + "/mcp"


class TokenVerifier(Protocol):
    def verify(self, token: str, base_url: str) -> AccessToken:
        """The token's claims if this server (reached at ``base_url``) accepts it; else InvalidToken."""
        ...


class TokenIssuer:
    def __init__(self, keys: SigningKeys, *, lifetime: int, clock: Callable[[], float] = time.time) -> None:
        self.keys, self.lifetime, self._clock = keys, lifetime, clock

    def issue(self, *, issuer: str, subject: str, client_id: str, scopes: Iterable[str], audience: str,
              grant_id: str, key_name: str | None) -> str:
        now = int(self._clock())
        claims = {"iss": issuer, "sub": subject, "aud": audience, "client_id": client_id,
                  "scope": " ".join(sorted(scopes)), "iat": now, "nbf": now, "exp": now + self.lifetime,
                  "jti": secrets.token_urlsafe(16), "grant": grant_id}
        if key_name is not None:
            claims["key_name"] = key_name
        key = self.keys.current
        return jwt.encode(claims, key.private_key, algorithm=key.algorithm,
                          headers={"kid": key.kid, "typ": TOKEN_TYPE})


class RememberingVerifier:
    """A verifier that remembers the tokens it accepted, until they expire: a client sends the same
    token with every request for its lifetime, and checking one costs ~0.2 ms (a third of it PyJWT
    decoding base64 in Python), a look-up here a few µs. Keyed by the whole token, signature
    included, and by the base URL it was checked for; bounded, the oldest dropped first. What is
    checked per request beyond the token (the key it was made with still exists, the scopes an
    operation needs) is checked by the caller every time."""

    def __init__(self, verifier: TokenVerifier, *, size: int = 4096, clock: Callable[[], float] = time.time) -> None:
        self.verifier = verifier
        self._found: OrderedDict[tuple[str, str], AccessToken] = OrderedDict()
        self._size, self._clock, self._lock = size, clock, threading.Lock()

    def verify(self, token: str, base_url: str) -> AccessToken:
        with self._lock:
            found = self._found.get((token, base_url))
        if found is not None and self._clock() <= found.expires + LEEWAY_SECONDS:
            return found
        access = self.verifier.verify(token, base_url)  # an expired one is refused here, as it should be
        with self._lock:
            self._found[(token, base_url)] = access
            while len(self._found) > self._size:
                self._found.popitem(last=False)
        return access


class EmbeddedVerifier:
    """Tokens the embedded server signed: the key by ``kid`` among its own, ``typ`` at+jwt, issued by
    this server (its public base URL is the issuer) for one of its two resources."""

    def __init__(self, keys: SigningKeys) -> None:
        self.keys = keys

    def verify(self, token: str, base_url: str) -> AccessToken:
        header = _header(token)
        if header.get("typ", "").lower() not in (TOKEN_TYPE, "application/" + TOKEN_TYPE):
            raise InvalidToken("the token is not an access token (its typ is not at+jwt)")
        key = self.keys.verification_key(header.get("kid"))
        if key is None or header.get("alg") != key.algorithm:
            raise InvalidToken("the token was not signed by this server")
        claims = _decode(token, key.public_key, [key.algorithm], base_url, list(resources_of(base_url)))
        return AccessToken(subject=claims["sub"], client_id=claims.get("client_id"),
                           scopes=frozenset(str(claims.get("scope", "")).split()), grant_id=claims.get("grant"),
                           key_name=claims.get("key_name"), expires=float(claims["exp"]))


class ExternalVerifier:
    """Tokens from an external issuer (``CONNECTOR_OAUTH_ISSUER``): its keys from its ``jwks_uri``,
    found by discovery (RFC 8414, else OpenID Connect's) on first use and cached by PyJWT's client,
    which fetches them again for a ``kid`` it has not seen (a rotation)."""

    def __init__(self, issuer: str, *, audience: str | None = None, scope_claim: str = "scope",
                 timeout: float = 5.0) -> None:
        self.issuer, self.audience, self.scope_claim, self.timeout = issuer, audience, scope_claim, timeout
        self._jwks: jwt.PyJWKClient | None = None

    def verify(self, token: str, base_url: str) -> AccessToken:
        header = _header(token)
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken(f"the token's algorithm {header.get('alg')!r} is not accepted; ES256 or RS256 only")
        try:
            signing = self._keys().get_signing_key_from_jwt(token)
        except jwt.PyJWKClientError as exc:
            raise InvalidToken(f"the issuer's keys do not include the token's ({exc})") from None
        if signing.algorithm_name not in ALGORITHMS:
            raise InvalidToken("the issuer's key is not an ES256 or RS256 key")
        audiences = [self.audience] if self.audience is not None else [resources_of(base_url)[1]]
        claims = _decode(token, signing.key, [header["alg"]], self.issuer, audiences)
        raw = claims.get(self.scope_claim, "")
        scopes = raw.split() if isinstance(raw, str) else [str(item) for item in raw] if isinstance(raw, list) else []
        return AccessToken(subject=str(claims["sub"]), client_id=claims.get("client_id") or claims.get("azp"),
                           scopes=frozenset(scopes), expires=float(claims["exp"]))


    def _keys(self) -> jwt.PyJWKClient:
        if self._jwks is None:
            jwks_uri = discover_jwks_uri(self.issuer, timeout=self.timeout)
            if jwks_uri is None:
                raise InvalidToken(f"the issuer {self.issuer} could not be reached or publishes no jwks_uri")
            self._jwks = jwt.PyJWKClient(jwks_uri, cache_keys=True, lifespan=600, timeout=int(max(1, self.timeout)))
        return self._jwks


def discover_jwks_uri(issuer: str, *, timeout: float = 5.0) -> str | None:
    """The ``jwks_uri`` an issuer's metadata names (RFC 8414, else OpenID discovery), if that
    metadata is the issuer's own (its ``issuer`` is exactly ``issuer``)."""
    import requests

    for document in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        try:
            answer = requests.get(issuer + document, timeout=timeout, allow_redirects=False)
            metadata = answer.json() if answer.status_code == 200 else None
        except (requests.RequestException, ValueError):
            continue
        if isinstance(metadata, dict) and metadata.get("issuer") == issuer and metadata.get("jwks_uri"):
            return str(metadata["jwks_uri"])
    return None


def _header(token: str) -> dict[str, Any]:
    """The JOSE header, to choose the key by; decoded with the standard library, since PyJWT's own
    decoding (done again, in full, when the signature is verified) costs a third of a check."""
    segment = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, TypeError):
        raise InvalidToken("the token is not a well-formed JWT") from None
    if not isinstance(header, dict):
        raise InvalidToken("the token is not a well-formed JWT")
    return header


def _decode(token: str, key: Any, algorithms: list[str], issuer: str, audiences: list[str]) -> dict[str, Any]:
    try:
        return jwt.decode(token, key, algorithms=algorithms, issuer=issuer, audience=audiences, leeway=LEEWAY_SECONDS,
                          options={"require": ["exp", "iat", "iss", "aud", "sub"]})
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the token has expired") from None
    except jwt.ImmatureSignatureError:
        raise InvalidToken("the token is not valid yet") from None
    except jwt.InvalidAudienceError:
        raise InvalidToken("the token was issued for another resource (its aud)") from None
    except jwt.InvalidIssuerError:
        raise InvalidToken("the token was issued by another issuer (its iss)") from None
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidToken(f"the token lacks the {exc.claim} claim") from None
    except jwt.InvalidSignatureError:
        raise InvalidToken("the token's signature does not verify") from None
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"the token is not valid ({type(exc).__name__})") from None
