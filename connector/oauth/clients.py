"""Who may ask for tokens: OAuth clients, found in the order ChatGPT identifies itself.

1. Pre-registered by the operator (``CONNECTOR_OAUTH_CLIENTS_FILE``, written with
   ``connector oauth clients add``): what a custom GPT's OAuth settings need, a client id and secret.
2. Client ID metadata documents: the client id is an https URL whose JSON describes the client
   (:mod:`connector.oauth.metadata_documents`).
3. Dynamic client registration (RFC 7591), kept in the OAuth store, bounded in number.

Every redirect URI a client registers must be allowed by the operator's patterns
(:class:`~connector.oauth.redirects.RedirectPolicy`); a client is sent back only to one of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin

from ..config.settings import SettingsError
from ..state.protocols import OAuthStore
from .redirects import RedirectPolicy

__all__ = ["Client", "ClientRegistry", "ClientsFileError", "parse_clients_file", "new_client_credentials",
           "secret_digest", "AUTH_METHODS"]

AUTH_METHODS = ("none", "client_secret_post", "client_secret_basic", "private_key_jwt")
GRANT_TYPES = ("authorization_code", "refresh_token")
DYNAMIC_CLIENT_SECONDS = 90 * 24 * 3600  # a registration unused for this long is forgotten


class ClientsFileError(SettingsError):
    """The OAuth clients file is malformed; the message names the file, the client and the problem."""


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_client_credentials() -> tuple[str, str]:
    """A fresh client id and secret (the secret is shown once and stored only as its digest)."""
    return f"connector-{secrets.token_urlsafe(12)}", secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Client(ClientMixin):
    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    auth_method: str = "none"
    secret_sha256: str | None = None
    kind: str = "registered"  # "registered" (the operator's file), "dynamic" (RFC 7591), "metadata" (CIMD)
    jwks: dict[str, Any] | None = None  # for private_key_jwt
    jwks_uri: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # -- Authlib's ClientMixin -------------------------------------------------------------
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Only a client with exactly one redirect URI may leave it out of the request (RFC 6749 3.1.2.3).
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        return scope or ""  # what may be granted is decided at consent, from the signing-in key's scopes

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return self.secret_sha256 is not None and hmac.compare_digest(secret_digest(client_secret), self.secret_sha256)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


def parse_clients_file(path: Path, redirects: RedirectPolicy) -> dict[str, Client]:
    """The operator's clients, by id; raises ClientsFileError saying what is wrong."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ClientsFileError(f"{path} cannot be read as TOML: {exc}") from None
    clients = {}
    for index, entry in enumerate(data.get("clients", []), start=1):
        where = f"{path}, client {index} ({entry.get('name', 'unnamed')!r})"
        client_id, digest, uris = entry.get("client_id"), entry.get("secret_sha256"), entry.get("redirect_uris")
        if not isinstance(client_id, str) or not client_id:
            raise ClientsFileError(f"{where}: client_id is missing")
        if not isinstance(uris, list) or not uris or not all(isinstance(uri, str) for uri in uris):
            raise ClientsFileError(f"{where}: redirect_uris must list at least one URI")
        refused = [uri for uri in uris if not redirects.allows(uri)]
        if refused:
            raise ClientsFileError(f"{where}: {refused[0]} is not allowed by CONNECTOR_OAUTH_REDIRECT_URIS")
        if digest is not None and (not isinstance(digest, str) or len(digest) != 64):
            raise ClientsFileError(f"{where}: secret_sha256 must be the 64 hex digits of the secret's SHA-256")
        clients[client_id] = Client(client_id=client_id, name=str(entry.get("name") or client_id),
                                    redirect_uris=tuple(uris), secret_sha256=digest,
                                    auth_method="client_secret_post" if digest else "none")
    return clients


class ClientRegistry:
    """Finds a client by id among the operator's, the registered ones and metadata documents."""

    def __init__(self, store: OAuthStore, redirects: RedirectPolicy, *, clients_file: Path | None = None,
                 metadata_document: Callable[[str], Client | None] | None = None, max_dynamic: int = 1000) -> None:
        self.store, self.redirects, self.max_dynamic = store, redirects, max_dynamic
        self._file_clients = parse_clients_file(clients_file, redirects) if clients_file is not None else {}
        self._metadata_document = metadata_document

    def find(self, client_id: str | None) -> Client | None:
        if not client_id or len(client_id) > 2000:
            return None
        if client_id in self._file_clients:
            return self._file_clients[client_id]
        if client_id.startswith("https://"):
            return self._metadata_document(client_id) if self._metadata_document is not None else None
        stored = self.store.get("client", client_id)
        return _client_from_record(stored) if stored is not None else None

    def register(self, client: Client) -> None:
        self.store.put("client", client.client_id, asdict(client), DYNAMIC_CLIENT_SECONDS)
        self.store.index("clients", client.client_id, DYNAMIC_CLIENT_SECONDS)

    @property
    def supports_metadata_documents(self) -> bool:
        return self._metadata_document is not None

    def dynamic_count(self) -> int:
        return self.store.count("clients")

    def allows_redirects(self, uris: Iterable[str]) -> bool:
        return all(self.redirects.allows(uri) for uri in uris)


def _client_from_record(record: dict[str, Any]) -> Client:
    record = {**record, "redirect_uris": tuple(record["redirect_uris"])}
    record.pop("used", None)
    return Client(**record)
