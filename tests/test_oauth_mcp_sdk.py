"""The official MCP SDK client's own OAuth support completing the sign-in against /mcp: it finds the
protected-resource and authorization-server metadata from the 401, registers itself, sends the
person to the consent page (driven here over HTTP, as a browser would post it) and calls the
tools with the tokens it got."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
import requests
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from connector.app import create_app
from connector.types import Secret
from tests.conftest import API_KEY, ISSUED_TOKENS, OWNER, REPO, LiveServer, free_port
from tests.oauth_client import hidden_inputs, signing_key_pem

REDIRECT = "http://127.0.0.1:9/callback"  # never reached: the consent page's redirect is read, not followed


class Memory:
    """The SDK's TokenStorage, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        ISSUED_TOKENS.update({tokens.access_token, tokens.refresh_token or tokens.access_token})

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


def test_the_mcp_sdk_client_signs_in_by_itself_and_calls_tools(make_settings, double, pr):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(make_settings(oauth="embedded", oauth_signing_key=Secret(signing_key_pem()), public_base_url=base))
    returned: dict[str, str] = {}

    async def consent(authorization_url: str) -> None:
        def sign_in() -> None:
            browser = requests.Session()
            page = browser.get(authorization_url, timeout=10)
            assert page.status_code == 200, page.text
            answer = browser.post(f"{base}/oauth/authorize", allow_redirects=False, timeout=10,
                                  data={**hidden_inputs(page.text), "api_key": API_KEY, "decision": "allow"})
            location = answer.headers["Location"]
            assert location.startswith(REDIRECT)
            returned.update({k: v[0] for k, v in parse_qs(urlsplit(location).query).items()})
        await anyio.to_thread.run_sync(sign_in)

    async def callback() -> AuthorizationCodeResult:
        return AuthorizationCodeResult(code=returned["code"], state=returned.get("state"))

    storage = Memory()
    auth = OAuthClientProvider(
        server_url=f"{base}/mcp", storage=storage, redirect_handler=consent, callback_handler=callback,
        client_metadata=OAuthClientMetadata(client_name="MCP SDK client", redirect_uris=[REDIRECT],
                                            grant_types=["authorization_code", "refresh_token"],
                                            response_types=["code"], token_endpoint_auth_method="none",
                                            scope="prs:read prs:write"))

    async def scenario():
        async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
            async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
                names = {tool.name for tool in (await client.list_tools()).tools}
                result = await client.call_tool("comment_on_pull_request", {
                    "owner": OWNER, "repo": REPO, "number": pr, "body": "The SDK signed in, never logged."})
                return names, result

    with LiveServer(app, port=port):
        names, result = anyio.run(scenario)

    assert storage.client is not None and storage.tokens is not None
    # The SDK asks for the scopes the 401's challenge named (every scope on /mcp); the key has them all.
    assert set(storage.tokens.scope.split()) == {"prs:read", "prs:write", "dispatch", "runs:read", "runs:write", "runs:cancel"}
    assert {"list_pull_requests", "comment_on_pull_request", "dispatch_event"} <= names
    assert result.is_error is False
    assert len(double.calls("POST", re.compile(r".*/issues/\d+/comments"))) == 1
