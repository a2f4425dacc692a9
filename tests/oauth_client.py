"""A small OAuth client for the tests, written from the RFCs (not from connector.oauth), driving the
authorization-code flow with PKCE against an app through its test client or over HTTP."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
from dataclasses import dataclass
from html import unescape
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

REDIRECT_URI = "https://chatgpt.com/connector/oauth/test-callback"


def signing_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def hidden_inputs(html: str) -> dict[str, str]:
    return {name: unescape(value) for name, value in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)}


@dataclass
class Flow:
    """One client's sign-in against ``http`` (a test client or a requests session with a base URL)."""

    http: Any
    base_url: str
    client_id: str | None = None
    redirect_uri: str = REDIRECT_URI

    def register(self, **metadata: Any) -> Any:
        body = {"redirect_uris": [self.redirect_uri], "token_endpoint_auth_method": "none", "client_name": "ChatGPT",
                "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"], **metadata}
        answer = self.http.post("/oauth/register", json=body)
        if answer.status_code == 201:
            self.client_id = answer.json()["client_id"]
        return answer

    def authorize(self, *, scope: str | None = "prs:read prs:write", challenge: str | None = None,
                  method: str | None = "S256", state: str = "state-123", **extra: str) -> Any:
        params = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
                  "state": state, "resource": f"{self.base_url}/mcp", **extra}
        if scope is not None:
            params["scope"] = scope
        if challenge is not None:
            params["code_challenge"] = challenge
        if method is not None:
            params["code_challenge_method"] = method
        return self.http.get("/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v is not None}))

    def consent(self, page: Any, api_key: str, decision: str = "allow", **override: str) -> Any:
        fields = {**hidden_inputs(page.text), "api_key": api_key, "decision": decision, **override}
        return self.http.post("/oauth/authorize", data=fields)

    def code_from(self, redirect: Any) -> dict[str, str]:
        assert redirect.status_code == 302, redirect.text
        location = redirect.headers["location"]
        assert location.startswith(self.redirect_uri + "?"), location
        return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}

    def token(self, **form: str) -> Any:
        return self.http.post("/oauth/token", data={"client_id": self.client_id, **form})

    def sign_in(self, api_key: str, *, scope: str | None = "prs:read prs:write") -> dict[str, Any]:
        """The whole flow: authorize, consent, code, tokens."""
        verifier, challenge = pkce()
        page = self.authorize(scope=scope, challenge=challenge)
        assert page.status_code == 200, page.text
        returned = self.code_from(self.consent(page, api_key))
        assert returned["state"] == "state-123"
        answer = self.token(grant_type="authorization_code", code=returned["code"], redirect_uri=self.redirect_uri,
                            code_verifier=verifier, resource=f"{self.base_url}/mcp")
        assert answer.status_code == 200, answer.text
        return answer.json()


class Callback:
    """The client's redirect URI on this machine (RFC 8252): it keeps the query it was sent."""

    def __init__(self) -> None:
        received: list[dict[str, str]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                received.append({k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()})
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<title>Signed in</title><p>You can close this window.")

            def log_message(self, *args: object) -> None:
                pass

        self.received = received
        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def exchange(self, token_endpoint: str, returned: dict[str, str], *, client_id: str, verifier: str,
                 resource: str) -> dict[str, Any]:
        """The code the browser brought back here, exchanged for tokens (a public client, PKCE)."""
        import requests

        return requests.post(token_endpoint, timeout=10, data={
            "grant_type": "authorization_code", "code": returned["code"], "redirect_uri": self.url,
            "client_id": client_id, "code_verifier": verifier, "resource": resource}).json()

    def close(self) -> None:
        self.server.shutdown()
