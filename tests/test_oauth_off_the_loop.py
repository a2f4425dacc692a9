"""Checking an access token that needs the network is done in a worker thread: while an external
issuer's keys are slow to fetch (any caller can force a fetch with a kid the connector has not
seen), every other request is still answered."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from connector.app import create_app
from tests.conftest import API_KEY, OWNER, REPO, LiveServer

BASE = "https://connector.example.com"
AUDIENCE = f"{BASE}/mcp"
SLOW_KEYS_SECONDS = 1.5


@pytest.fixture
def slow_issuer():
    """An issuer whose metadata answers at once and whose keys take SLOW_KEYS_SECONDS."""
    key = json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key()))
    fetches: list[float] = []

    class Issuer(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/jwks":
                fetches.append(time.monotonic())
                time.sleep(SLOW_KEYS_SECONDS)
                body = {"keys": [{**key, "kid": "issuer-key-1", "use": "sig", "alg": "ES256"}]}
            elif self.path == "/.well-known/oauth-authorization-server":
                body = {"issuer": url, "jwks_uri": f"{url}/jwks"}
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Issuer)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield url, fetches
    server.shutdown()


def test_a_token_whose_keys_are_slow_to_fetch_does_not_hold_up_other_requests(make_settings, double, slow_issuer):
    url, fetches = slow_issuer
    token = jwt.encode({"iss": url, "sub": "someone", "aud": AUDIENCE, "exp": int(time.time()) + 300,
                        "scope": "prs:read"}, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256",
                       headers={"kid": "a-kid-never-seen"})
    settings = make_settings(oauth_issuer=url, oauth_audience=AUDIENCE, public_base_url=BASE)
    with LiveServer(create_app(settings)) as server:
        answers: dict[str, requests.Response] = {}

        def with_token():
            answers["token"] = requests.post(f"{server.url}/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO},
                                             headers={"Authorization": f"Bearer {token}"}, timeout=30)

        checking = threading.Thread(target=with_token)
        checking.start()
        deadline = time.monotonic() + 10
        while not fetches and time.monotonic() < deadline:
            time.sleep(0.02)  # the keys are being fetched now
        health = requests.get(f"{server.url}/health", timeout=30)
        with_key = requests.post(f"{server.url}/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO},
                                 headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30)
        still_checking = checking.is_alive()
        checking.join(30)

    assert fetches, "the connector never fetched the issuer's keys"
    assert health.status_code == 200 and with_key.status_code == 200, with_key.text
    assert still_checking  # both were answered while the token's keys were still on their way
    assert answers["token"].status_code == 401
