"""The resource server against an authorization server this project did not write: panva's certified
oidc-provider (npm), run by Node on a loopback port, issuing RFC 9068 JWT access tokens for the
connector's MCP resource. The connector finds its keys by discovery and checks every token."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from connector.app import create_app
from tests.conftest import ISSUED_TOKENS, LOG_DIR, OWNER, REPO, free_port, missing_tool

PROVIDER = Path(__file__).resolve().parent / "oidc"
CLIENT_SECRET = "oidc-client-secret-0123456789abcdef"
BASE = "https://connector.example.com"
AUDIENCE = f"{BASE}/mcp"


@pytest.fixture(scope="module")
def issuer():
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing_tool("node and npm are not installed (Debian: apt-get install nodejs npm)")
    if not (PROVIDER / "node_modules" / "oidc-provider").is_dir():
        subprocess.run([npm, "ci" if (PROVIDER / "package-lock.json").exists() else "install", "--no-audit",
                        "--no-fund", "--silent"], cwd=PROVIDER, check=True, timeout=300)
    key = json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1())))
    port = free_port()
    log = (LOG_DIR / f"oidc-provider-{port}.log").open("ab")
    process = subprocess.Popen([node, "provider.mjs"], cwd=PROVIDER, stdout=log, stderr=subprocess.STDOUT, env={
        "PATH": os.environ.get("PATH", ""), "PORT": str(port), "AUDIENCE": AUDIENCE, "CLIENT_SECRET": CLIENT_SECRET,
        "SIGNING_JWK": json.dumps({**key, "kid": "provider-key-1"}), "NODE_ENV": "test"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{url}/.well-known/openid-configuration", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("oidc-provider did not start; see " + log.name)
        time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


def access_token(issuer: str, *, scope: str = "prs:read", resource: str = AUDIENCE) -> str:
    answer = requests.post(f"{issuer}/token", auth=("connector-test", CLIENT_SECRET), timeout=10,
                           data={"grant_type": "client_credentials", "scope": scope, "resource": resource})
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    ISSUED_TOKENS.add(token)
    return token


@pytest.fixture
def http(make_settings, double, issuer):
    app = create_app(make_settings(oauth_issuer=issuer, oauth_audience=AUDIENCE, public_base_url=BASE))
    return app.test_client(base_url=BASE)


def test_its_tokens_are_accepted_with_the_scopes_it_granted(http, issuer, double, pr):
    token = access_token(issuer, scope="prs:read")
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["typ"] == "at+jwt"

    listed = http.post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO},
                       headers={"Authorization": f"Bearer {token}"})
    refused = http.post("/chatgpt/prs/comment", json={"owner": OWNER, "repo": REPO, "number": pr, "body": "hi"},
                        headers={"Authorization": f"Bearer {token}"})

    assert listed.status_code == 200 and [p["number"] for p in listed.json()["pull_requests"]] == [pr]
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"


@pytest.mark.one_github_layout
def test_the_protected_resource_names_it_as_the_authorization_server(http, issuer):
    assert http.get("/.well-known/oauth-protected-resource/mcp").json()["authorization_servers"] == [issuer]


@pytest.mark.one_github_layout
def test_a_token_it_issued_for_another_resource_is_refused(make_settings, double, issuer):
    app = create_app(make_settings(oauth_issuer=issuer, oauth_audience="https://another.example/mcp",
                                   public_base_url=BASE))
    answer = app.test_client(base_url=BASE).post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO},
                                                  headers={"Authorization": f"Bearer {access_token(issuer)}"})
    assert answer.status_code == 401 and 'error="invalid_token"' in answer.headers["www-authenticate"]
    assert double.requests == []


@pytest.mark.one_github_layout
def test_a_token_with_its_signature_altered_is_refused(http, issuer, double):
    head, body, signature = access_token(issuer).split(".")
    tampered = f"{head}.{body}.{signature[:-4]}{'AAAA' if not signature.endswith('AAAA') else 'BBBB'}"
    answer = http.post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO},
                       headers={"Authorization": f"Bearer {tampered}"})
    assert answer.status_code == 401
    assert double.requests == []
