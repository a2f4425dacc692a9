"""Client ID metadata documents: fetched from a real https server on this machine (a certificate made
for the test), and every way a document's URL can be used against the connector refused."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from connector.config.keys import KeyRing
from connector.config.settings import DEFAULT_OAUTH_REDIRECT_URIS
from connector.oauth.clients import ClientRegistry
from connector.oauth.metadata_documents import MetadataDocuments
from connector.oauth.redirects import RedirectPolicy
from connector.oauth.server import EmbeddedServer
from connector.oauth.signing import SigningKeys
from connector.state.oauth import MemoryOAuthStore
from connector.types import Secret
from tests.conftest import API_KEY, ISSUED_TOKENS
from tests.oauth_client import REDIRECT_URI, Flow, pkce

BASE = "https://connector.example.com"
POLICY = RedirectPolicy(DEFAULT_OAUTH_REDIRECT_URIS)


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    """An https server on 127.0.0.1 with a certificate for "localhost", serving what ``pages`` holds."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("cimd")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    pages: dict[str, tuple[int, dict[str, str], bytes, float]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body, pause = pages.get(self.path, (404, {}, b"{}", 0.0))
            self.send_response(status)
            for header, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(header, value)
            self.end_headers()
            for start in range(0, len(body), 512):
                if pause:
                    time.sleep(pause)
                self.wfile.write(body[start:start + 512])

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"https://localhost:{server.server_address[1]}"

    def publish(path: str, document: object, *, status: int = 200, headers: dict[str, str] | None = None,
                pause: float = 0.0) -> str:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        pages[path] = (status, headers or {}, body, pause)
        return origin + path

    publish.origin, publish.ca = origin, str(cert_file)  # type: ignore[attr-defined]
    yield publish
    server.shutdown()


def fetcher(documents, **options) -> MetadataDocuments:
    return MetadataDocuments(POLICY, allow_private_addresses=True, ca_certs=documents.ca, **options)


def client_document(url: str, **fields) -> dict:
    return {"client_id": url, "client_name": "ChatGPT", "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none", **fields}


def test_a_client_signs_in_with_its_metadata_document_as_client_id(documents):
    url = documents.origin + "/oauth/client.json"
    documents("/oauth/client.json", client_document(url))
    store, keys = MemoryOAuthStore(), KeyRing((Secret(API_KEY),))
    server = EmbeddedServer(store=store, keys=keys, signing=SigningKeys.ephemeral(), public_base_url=BASE,
                            clients=ClientRegistry(store, POLICY, metadata_document=fetcher(documents)),
                            token_seconds=300)
    app = Starlette(routes=[Route(path, endpoint, methods=methods) for path, endpoint, methods in server.routes()])
    http = TestClient(app, base_url=BASE, follow_redirects=False)
    assert http.get("/.well-known/oauth-authorization-server").json()["client_id_metadata_document_supported"] is True

    tokens = Flow(http, BASE, client_id=url).sign_in(API_KEY)

    ISSUED_TOKENS.update({tokens["access_token"], tokens["refresh_token"]})
    assert tokens["scope"] == "prs:read prs:write"
    page = Flow(http, BASE, client_id=url).authorize(challenge=pkce()[1])
    assert "Allow ChatGPT" in page.text


@pytest.mark.parametrize(("case", "serve", "options"), [
    ("on a loopback address", lambda d, url: d("/a.json", client_document(url)), {"allow_private_addresses": False}),
    ("behind a redirect", lambda d, url: d("/a.json", {}, status=302, headers={"Location": d.origin + "/b.json"}), {}),
    ("oversized", lambda d, url: d("/a.json", {**client_document(url), "padding": "x" * 6000}), {}),
    ("slow", lambda d, url: d("/a.json", {**client_document(url), "padding": "x" * 2000}, pause=0.5),
     {"timeout": 1.0}),
    ("naming another client id", lambda d, url: d("/a.json", client_document("https://other.example/c.json")), {}),
    ("with a redirect URI the operator does not allow",
     lambda d, url: d("/a.json", client_document(url, redirect_uris=["https://evil.example/cb"])), {}),
    ("asking for a client secret", lambda d, url: d("/a.json", client_document(
        url, token_endpoint_auth_method="client_secret_basic")), {}),
    ("not JSON", lambda d, url: d("/a.json", b"<html>"), {}),
], ids=lambda value: value if isinstance(value, str) else "")
def test_a_document_that_could_be_used_against_the_connector_is_refused(documents, case, serve, options):
    url = documents.origin + "/a.json"
    serve(documents, url)
    fetch = MetadataDocuments(POLICY, ca_certs=documents.ca, **{"allow_private_addresses": True, **options})
    started = time.monotonic()

    assert fetch(url) is None, case
    assert time.monotonic() - started < 3


def test_urls_that_are_not_https_documents_are_not_fetched(documents):
    fetch = fetcher(documents)
    for url in ("http://localhost/client.json", documents.origin, documents.origin + "/",
                f"https://user:pw@localhost:{documents.origin.rsplit(':', 1)[1]}/c.json"):
        assert fetch(url) is None, url


def test_a_document_is_fetched_once_and_then_cached(documents):
    url = documents.origin + "/cached.json"
    documents("/cached.json", client_document(url))
    fetch = fetcher(documents)
    first = fetch(url)
    documents("/cached.json", client_document(url, client_name="Changed"))
    assert fetch(url) == first and first is not None and first.name == "ChatGPT"


def test_a_client_with_its_own_key_authenticates_with_a_signed_assertion(documents):
    import uuid

    import jwt as pyjwt
    from jwt.algorithms import ECAlgorithm

    client_key = ec.generate_private_key(ec.SECP256R1())
    public = {**json.loads(ECAlgorithm.to_jwk(client_key.public_key())), "kid": "client-1", "use": "sig", "alg": "ES256"}
    url = documents.origin + "/oauth/signed-client.json"
    documents("/oauth/signed-client.json", client_document(url, token_endpoint_auth_method="private_key_jwt",
                                                           jwks={"keys": [public]}))
    store, keys = MemoryOAuthStore(), KeyRing((Secret(API_KEY),))
    server = EmbeddedServer(store=store, keys=keys, signing=SigningKeys.ephemeral(), public_base_url=BASE,
                            clients=ClientRegistry(store, POLICY, metadata_document=fetcher(documents)),
                            token_seconds=300)
    http = TestClient(Starlette(routes=[Route(p, e, methods=m) for p, e, m in server.routes()]), base_url=BASE,
                      follow_redirects=False)
    assert "private_key_jwt" in http.get("/.well-known/oauth-authorization-server").json()[
        "token_endpoint_auth_methods_supported"]
    flow = Flow(http, BASE, client_id=url)

    def assertion(key=client_key, jti=None):
        now = int(time.time())
        return pyjwt.encode({"iss": url, "sub": url, "aud": f"{BASE}/oauth/token", "iat": now, "exp": now + 60,
                             "jti": jti or uuid.uuid4().hex}, key, algorithm="ES256", headers={"kid": "client-1"})

    def redeem(signed):
        verifier, challenge = pkce()
        code = flow.code_from(flow.consent(flow.authorize(challenge=challenge), API_KEY))["code"]
        return flow.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier,
                          client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                          client_assertion=signed)

    used = assertion(jti="once")
    accepted = redeem(used)
    assert accepted.status_code == 200, accepted.text
    ISSUED_TOKENS.update({accepted.json()["access_token"], accepted.json()["refresh_token"]})
    assert redeem(used).json()["error"] == "invalid_client"  # the same jti again: a replay
    assert redeem(assertion(key=ec.generate_private_key(ec.SECP256R1()))).json()["error"] == "invalid_client"
    without = Flow(http, BASE, client_id=url)
    verifier, challenge = pkce()
    code = without.code_from(without.consent(without.authorize(challenge=challenge), API_KEY))["code"]
    unsigned = without.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
    assert unsigned.json()["error"] == "invalid_client"  # this client may not authenticate with none


def test_in_a_browser_a_client_known_by_its_metadata_document_signs_in_and_calls_tools(
        documents, browser, make_settings, double, pr):
    """The whole flow with a client ID metadata document instead of registration: the client id is
    the document's URL, the consent page names the client the document names."""
    import re as regex
    from urllib.parse import urlencode

    import anyio
    import httpx2
    import requests
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    from connector.app import create_app
    from tests.conftest import OWNER, REPO, LiveServer, eventually, free_port
    from tests.oauth_client import Callback, signing_key_pem

    port, callback = free_port(), Callback()
    base = f"http://127.0.0.1:{port}"
    url = documents.origin + "/oauth/browser-client.json"
    documents("/oauth/browser-client.json", client_document(url, client_name="Metadata Document Client",
                                                            redirect_uris=[callback.url]))
    app = create_app(make_settings(oauth="embedded", oauth_signing_key=Secret(signing_key_pem()), public_base_url=base),
                     client_documents=fetcher(documents))
    with LiveServer(app, port=port):
        server = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=10).json()
        assert server["client_id_metadata_document_supported"] is True
        verifier, challenge = pkce()
        browser.get(server["authorization_endpoint"] + "?" + urlencode({
            "response_type": "code", "client_id": url, "redirect_uri": callback.url, "scope": "prs:read prs:write",
            "state": "cimd-state", "code_challenge": challenge, "code_challenge_method": "S256",
            "resource": f"{base}/mcp"}))
        assert "Metadata Document Client" in browser.find_element(By.TAG_NAME, "h1").text
        browser.find_element(By.ID, "api_key").send_keys(API_KEY)
        browser.find_element(By.CSS_SELECTOR, "button.allow").click()
        WebDriverWait(browser, 10).until(expected_conditions.title_is("Signed in"))
        returned = eventually(lambda: callback.received)[0]
        tokens = requests.post(server["token_endpoint"], timeout=10, data={
            "grant_type": "authorization_code", "code": returned["code"], "redirect_uri": callback.url,
            "client_id": url, "code_verifier": verifier, "resource": f"{base}/mcp"}).json()
        ISSUED_TOKENS.update({tokens["access_token"], tokens["refresh_token"], returned["code"]})

        async def use_mcp():
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=30)
            async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
                await client.list_tools()
                return await client.call_tool("list_pull_requests", {"owner": OWNER, "repo": REPO})

        result = anyio.run(use_mcp)
    callback.close()

    assert returned["state"] == "cimd-state"
    assert result.is_error is False and [p["number"] for p in result.structured_content["pull_requests"]] == [pr]
    assert regex.search(r"/pulls", " ".join(r.path for r in double.requests))
