"""Signing in from an MCP client in a real browser (Debian's headless Chromium, driven by Selenium):
discovery from the 401, dynamic registration, authorization with PKCE, the consent page, the redirect
with the code, the token exchange, then MCP tools/list and a tool call with the access token."""

from __future__ import annotations

import re
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
from connector.types import Secret
from tests.conftest import API_KEY, ISSUED_TOKENS, OWNER, REPO, LiveServer, eventually, free_port
from tests.oauth_client import Callback, pkce, signing_key_pem


def test_an_mcp_client_signs_in_through_the_consent_page_in_a_browser(make_settings, double, pr, browser):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(make_settings(oauth="embedded", oauth_signing_key=Secret(signing_key_pem()), public_base_url=base))
    callback = Callback()
    with LiveServer(app, port=port):
        # 1. The MCP endpoint refuses, and says where to look.
        refused = requests.post(f"{base}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=10)
        assert refused.status_code == 401
        metadata_url = re.search(r'resource_metadata="([^"]+)"', refused.headers["WWW-Authenticate"]).group(1)
        resource = requests.get(metadata_url, timeout=10).json()
        issuer = resource["authorization_servers"][0]
        server = requests.get(f"{issuer}/.well-known/oauth-authorization-server", timeout=10).json()

        # 2. Dynamic registration, then the authorization request in the browser.
        registered = requests.post(server["registration_endpoint"], timeout=10, json={
            "redirect_uris": [callback.url], "token_endpoint_auth_method": "none", "client_name": "Browser Test Client",
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]}).json()
        verifier, challenge = pkce()
        browser.get(server["authorization_endpoint"] + "?" + urlencode({
            "response_type": "code", "client_id": registered["client_id"], "redirect_uri": callback.url,
            "scope": "prs:read prs:write", "state": "browser-state", "code_challenge": challenge,
            "code_challenge_method": "S256", "resource": resource["resource"]}))
        assert "Browser Test Client" in browser.find_element(By.TAG_NAME, "h1").text
        assert "Comment on pull requests" in browser.page_source
        browser.find_element(By.ID, "api_key").send_keys(API_KEY)
        browser.find_element(By.CSS_SELECTOR, "button.allow").click()
        WebDriverWait(browser, 10).until(expected_conditions.title_is("Signed in"))
        returned = eventually(lambda: callback.received)[0]
        assert returned["state"] == "browser-state"

        # 3. The code for tokens, and MCP with the access token.
        tokens = callback.exchange(server["token_endpoint"], returned, client_id=registered["client_id"],
                                   verifier=verifier, resource=resource["resource"])
        ISSUED_TOKENS.update({tokens["access_token"], tokens["refresh_token"], returned["code"]})

        async def use_mcp():
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=30)
            async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
                names = {tool.name for tool in (await client.list_tools()).tools}
                result = await client.call_tool("comment_on_pull_request", {
                    "owner": OWNER, "repo": REPO, "number": pr, "body": "Signed in from a browser, never logged."})
                return names, result

        names, result = anyio.run(use_mcp)
    callback.close()

    assert {"list_pull_requests", "comment_on_pull_request"} <= names
    assert result.is_error is False
    assert [call.body["body"] for call in double.calls("POST", re.compile(r".*/issues/\d+/comments"))] == [
        "Signed in from a browser, never logged."]
