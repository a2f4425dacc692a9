"""Client ID metadata documents (the IETF OAuth draft ChatGPT prefers, and MCP's 2026 authorization
spec): a client whose id is an https URL publishes its metadata at that URL, so it needs no
registration.

Fetching a URL a stranger chose is a server-side request forgery risk, so a fetch is narrow: https
only, to a host whose every address is public (no private, loopback, link-local, multicast or
reserved address; the connection goes to the address that was checked, so a second DNS answer
cannot swap it), with the certificate checked for the host, no redirects, at most 5 KiB, within 3
seconds in all. A document must name itself (``client_id`` equal to its URL), register only redirect
URIs the operator allows, and authenticate with ``none`` (PKCE alone) or ``private_key_jwt`` (its
``jwks``, inline or at a ``jwks_uri`` fetched the same narrow way). Good documents are cached for
five minutes, failures for one.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

import urllib3

from .clients import Client
from .redirects import RedirectPolicy

__all__ = ["MetadataDocuments", "MAX_DOCUMENT_BYTES"]

MAX_DOCUMENT_BYTES = 5 * 1024
FETCH_SECONDS = 3.0
GOOD_SECONDS, BAD_SECONDS = 300.0, 60.0
log = logging.getLogger(__name__)


class _Refused(Exception):
    pass


class MetadataDocuments:
    """``client_id`` (an https URL) to the :class:`~connector.oauth.clients.Client` its document describes."""

    def __init__(self, redirects: RedirectPolicy, *, allow_private_addresses: bool = False,
                 ca_certs: str | None = None, timeout: float = FETCH_SECONDS, max_cached: int = 1000) -> None:
        # allow_private_addresses and ca_certs exist for the tests' own https server on loopback.
        self.redirects, self.allow_private_addresses, self.ca_certs = redirects, allow_private_addresses, ca_certs
        self.timeout, self.max_cached = timeout, max_cached
        self._cache: OrderedDict[str, tuple[float, Client | None]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, client_id: str) -> Client | None:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(client_id)
            if cached is not None and cached[0] > now:
                return cached[1]
        try:
            client: Client | None = self._client(client_id)
        except _Refused as refusal:
            log.warning("client metadata document %s refused: %s", client_id[:200], refusal)
            client = None
        with self._lock:
            self._cache[client_id] = (now + (GOOD_SECONDS if client else BAD_SECONDS), client)
            self._cache.move_to_end(client_id)
            while len(self._cache) > self.max_cached:
                self._cache.popitem(last=False)
        return client

    def _client(self, client_id: str) -> Client:
        document = self._fetch(client_id)
        if document.get("client_id") != client_id:
            raise _Refused("its client_id is not its own URL")
        uris = document.get("redirect_uris")
        if not isinstance(uris, list) or not uris or not all(isinstance(uri, str) for uri in uris):
            raise _Refused("it lists no redirect_uris")
        if not all(self.redirects.allows(uri) for uri in uris):
            raise _Refused("a redirect URI is not allowed by CONNECTOR_OAUTH_REDIRECT_URIS")
        method = document.get("token_endpoint_auth_method", "none")
        jwks = None
        if method == "private_key_jwt":
            jwks = document.get("jwks") if "jwks" in document else self._fetch(str(document.get("jwks_uri", "")))
            if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
                raise _Refused("private_key_jwt needs the client's public keys (jwks or jwks_uri)")
        elif method != "none":
            raise _Refused(f"token_endpoint_auth_method {method} is not supported for these clients; use none "
                           "or private_key_jwt")
        name = document.get("client_name") if isinstance(document.get("client_name"), str) else urlsplit(client_id).netloc
        return Client(client_id=client_id, name=str(name)[:100], redirect_uris=tuple(uris), auth_method=method,
                      kind="metadata", jwks=jwks)

    def _fetch(self, url: str) -> dict[str, Any]:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or parts.username or parts.password or parts.fragment \
                or parts.path in ("", "/") or len(url) > 2000:
            raise _Refused("a client id document must be an https URL with a path, no credentials and no fragment")
        host, port = parts.hostname, parts.port or 443
        deadline = time.monotonic() + self.timeout
        address = self._public_address(host, port)
        pool = urllib3.HTTPSConnectionPool(address, port, server_hostname=host, assert_hostname=host,
                                           ca_certs=self.ca_certs, cert_reqs="CERT_REQUIRED", retries=False,
                                           timeout=urllib3.Timeout(connect=self.timeout, read=self.timeout))
        try:
            answer = pool.urlopen("GET", parts.path + (f"?{parts.query}" if parts.query else ""), redirect=False,
                                  preload_content=False, headers={"Host": parts.netloc, "Accept": "application/json"})
            if answer.status != 200:
                raise _Refused(f"it answered {answer.status} (redirects are not followed)")
            body = b""
            for chunk in answer.stream(1024):
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise _Refused(f"it is larger than {MAX_DOCUMENT_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise _Refused(f"it took longer than {self.timeout} s")
        except urllib3.exceptions.HTTPError as exc:
            raise _Refused(f"it could not be fetched ({type(exc).__name__})") from None
        finally:
            pool.close()
        try:
            document = json.loads(body)
        except ValueError:
            raise _Refused("it is not JSON") from None
        if not isinstance(document, dict):
            raise _Refused("it is not a JSON object")
        return document

    def _public_address(self, host: str, port: int) -> str:
        try:
            found = {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
        except OSError:
            raise _Refused("its host does not resolve") from None
        addresses = [ipaddress.ip_address(str(address).split("%")[0]) for address in found]
        if not addresses:
            raise _Refused("its host has no address")
        if not self.allow_private_addresses and not all(address.is_global for address in addresses):
            raise _Refused("its host has a private, loopback, link-local or reserved address")
        return str(sorted(addresses, key=lambda address: address.version)[0])
