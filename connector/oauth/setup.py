"""OAuth for one deployment, from its settings: nothing, the embedded authorization server, or an
external issuer whose tokens are accepted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config.keys import KeyRing
from ..config.settings import Settings
from ..state.protocols import OAuthStore
from .clients import ClientRegistry
from .metadata_documents import MetadataDocuments
from .redirects import RedirectPolicy
from .server import EmbeddedServer
from .signing import SigningKeys
from .tokens import ExternalVerifier, RememberingVerifier, TokenVerifier

__all__ = ["OAuth", "oauth_for", "REGISTRATIONS_PER_ADDRESS"]

REGISTRATIONS_PER_ADDRESS = "20/hour"  # dynamic client registrations; ChatGPT registers once per app


@dataclass(frozen=True)
class OAuth:
    verifier: TokenVerifier
    server: EmbeddedServer | None  # the embedded authorization server, when it is the one
    issuer: str | None  # an external issuer; None: this server is its own (its base URL)


def oauth_for(settings: Settings, keys: KeyRing, store: OAuthStore,
              client_documents: MetadataDocuments | None = None,
              caller_of: Callable[[Any], str | None] | None = None) -> OAuth | None:
    """``client_documents`` fetches client ID metadata documents (by default only from public https
    hosts; the tests' own https server on loopback needs one that trusts it); ``caller_of`` says
    which address a request comes from (the app's, which knows its trusted proxies)."""
    if settings.oauth_mode == "off":
        return None
    if settings.oauth_mode == "external":
        assert settings.oauth_issuer is not None
        verifier = RememberingVerifier(ExternalVerifier(settings.oauth_issuer, audience=settings.oauth_audience,
                                                        scope_claim=settings.oauth_scope_claim))
        return OAuth(verifier=verifier, server=None, issuer=settings.oauth_issuer)
    signing = (SigningKeys.from_pem(settings.oauth_signing_key) if settings.oauth_signing_key is not None
               else SigningKeys.ephemeral())  # the sandbox only: settings refuse embedded without a key elsewhere
    redirects = RedirectPolicy(settings.oauth_redirect_uris)
    clients = ClientRegistry(store, redirects, clients_file=settings.oauth_clients_file,
                             metadata_document=client_documents or MetadataDocuments(redirects))
    server = EmbeddedServer(store=store, keys=keys, signing=signing, clients=clients,
                            public_base_url=settings.public_base_url, token_seconds=settings.oauth_token_seconds,
                            registration_allowed=_registration_limit(), caller_of=caller_of)
    return OAuth(verifier=server.verifier, server=server, issuer=None)


def _registration_limit() -> Callable[[str], bool]:
    from limits import parse
    from limits.storage import MemoryStorage
    from limits.strategies import MovingWindowRateLimiter

    limiter, limit = MovingWindowRateLimiter(MemoryStorage()), parse(REGISTRATIONS_PER_ADDRESS)
    return lambda address: limiter.hit(limit, "oauth-register", address)
