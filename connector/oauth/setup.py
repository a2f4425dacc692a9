"""OAuth for one deployment, from its settings: nothing, the embedded authorization server, or an
external issuer whose tokens are accepted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config.github_users import UserPolicy
from ..config.keys import KeyRing
from ..config.settings import Settings
from ..github.client import GitHub
from ..github.users import NoCredentials
from ..state.protocols import OAuthStore
from .clients import ClientRegistry
from .github_people import GitHubPeople
from .github_sessions import GitHubSessions
from .github_signin import GitHubSignIn
from .github_web import GitHubWeb
from .metadata_documents import MetadataDocuments
from .redirects import RedirectPolicy
from .sealing import Sealer
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
    people: GitHubPeople | None = None  # people who sign in with GitHub, when they may


def oauth_for(settings: Settings, keys: KeyRing, store: OAuthStore,
              client_documents: MetadataDocuments | None = None,
              caller_of: Callable[[Any], str | None] | None = None, github: GitHub | None = None) -> OAuth | None:
    """``client_documents`` fetches client ID metadata documents (by default only from public https
    hosts; the tests' own https server on loopback needs one that trusts it); ``caller_of`` says
    which address a request comes from (the app's, which knows its trusted proxies); ``github`` is
    the app's GitHub client, which people signed in with GitHub act through with their own tokens."""
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
    sign_in = _github_sign_in(settings, store, github) if settings.github_sign_in else None
    server = EmbeddedServer(store=store, keys=keys, signing=signing, clients=clients,
                            public_base_url=settings.public_base_url, token_seconds=settings.oauth_token_seconds,
                            registration_allowed=_registration_limit(), caller_of=caller_of, github=sign_in)
    return OAuth(verifier=server.verifier, server=server, issuer=None,
                 people=sign_in.people if sign_in is not None else None)


def _github_sign_in(settings: Settings, store: OAuthStore, github: GitHub | None) -> GitHubSignIn:
    assert settings.github_oauth_client_id is not None and settings.github_oauth_client_secret is not None
    web = GitHubWeb(api_url=settings.github_api_url, web_origin=settings.github_web_origin,
                    client_id=settings.github_oauth_client_id, client_secret=settings.github_oauth_client_secret,
                    timeout=settings.github_timeout)
    # Without credentials of its own the connector still acts for people, each with their token.
    acting = github or GitHub(base_url=settings.github_api_url, timeout=settings.github_timeout,
                              credentials=NoCredentials())
    sessions = GitHubSessions(store, Sealer(settings.oauth_encryption_key), web)
    people = GitHubPeople(policy=UserPolicy.from_settings(settings), sessions=sessions, github=acting)
    return GitHubSignIn(web=web, people=people, store=store)


def _registration_limit() -> Callable[[str], bool]:
    from limits import parse
    from limits.storage import MemoryStorage
    from limits.strategies import MovingWindowRateLimiter

    limiter, limit = MovingWindowRateLimiter(MemoryStorage()), parse(REGISTRATIONS_PER_ADDRESS)
    return lambda address: limiter.hit(limit, "oauth-register", address)
