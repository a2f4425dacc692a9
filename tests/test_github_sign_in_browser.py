"""End to end in a real browser (Debian's headless Chromium): a ChatGPT-like client sends the person
to the consent page, they choose "Sign in with GitHub", authorize on the double's GitHub page, come
back, the client gets tokens, and its MCP tool calls reach GitHub with the person's own token."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import anyio
import httpx2
import requests
from cryptography.fernet import Fernet
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from connector.app import create_app
from connector.types import Secret
from tests.conftest import ISSUED_TOKENS, OWNER, REPO, LiveServer, eventually, free_port
from tests.oauth_client import Callback, pkce, signing_key_pem

CLIENT_ID, CLIENT_SECRET = "Iv23liBrowserTests", "github-client-secret-for-the-browser-0123"


def test_a_person_signs_in_with_github_in_a_browser_and_acts_as_themselves(make_settings, double, pr, browser):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    double.register_oauth_app(CLIENT_ID, CLIENT_SECRET, [f"{base}/oauth/github/callback"], name="Connector")
    double.add_user("mona", name="Mona Lisa", orgs=["octo-org"], permissions={f"{OWNER}/{REPO}": "write"})
    double.add_user("hubot", orgs=["octo-org"], permissions={f"{OWNER}/{REPO}": "read"})
    app = create_app(make_settings(
        oauth="embedded", oauth_signing_key=Secret(signing_key_pem()), public_base_url=base,
        github_oauth_client_id=CLIENT_ID, github_oauth_client_secret=Secret(CLIENT_SECRET),
        oauth_allowed_orgs=("octo-org",), oauth_encryption_key=Secret(Fernet.generate_key().decode())))
    callback = Callback()
    with LiveServer(app, port=port):
        server = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=10).json()
        registered = requests.post(server["registration_endpoint"], timeout=10, json={
            "redirect_uris": [callback.url], "token_endpoint_auth_method": "none", "client_name": "ChatGPT",
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]}).json()
        verifier, challenge = pkce()
        browser.delete_all_cookies()
        browser.get(server["authorization_endpoint"] + "?" + urlencode({
            "response_type": "code", "client_id": registered["client_id"], "redirect_uri": callback.url,
            "scope": "prs:read prs:write", "state": "github-state", "code_challenge": challenge,
            "code_challenge_method": "S256", "resource": f"{base}/mcp"}))

        # The consent page offers GitHub; GitHub's page (the double's) asks who and to authorize.
        browser.find_element(By.ID, "github").click()
        WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.ID, "authorize")))
        assert browser.current_url.startswith(double.url.split("/api/v3")[0] + "/login/oauth/authorize")
        Select(browser.find_element(By.ID, "login")).select_by_value("mona")
        browser.find_element(By.ID, "authorize").click()
        WebDriverWait(browser, 10).until(expected_conditions.title_is("Signed in"))
        returned = eventually(lambda: callback.received)[0]
        assert returned["state"] == "github-state"

        tokens = callback.exchange(server["token_endpoint"], returned, client_id=registered["client_id"],
                                   verifier=verifier, resource=f"{base}/mcp")
        ISSUED_TOKENS.update({tokens["access_token"], tokens["refresh_token"], returned["code"]})

        async def use_mcp():
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=30)
            async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
                return await client.call_tool("comment_on_pull_request", {
                    "owner": OWNER, "repo": REPO, "number": pr, "body": "Signed in with GitHub, as myself."})

        result = anyio.run(use_mcp)
    callback.close()
    for issued in double.user_tokens("mona"):
        ISSUED_TOKENS.update(token for token in (issued.access_token, issued.refresh_token) if token)

    assert result.is_error is False, result
    comments = double.calls("POST", re.compile(r".*/issues/\d+/comments"))
    assert [(call.actor, call.body["body"]) for call in comments] == [("mona", "Signed in with GitHub, as myself.")]
    users = [call for call in double.requests if call.operation_id == "users/get-authenticated"]
    assert users and all(call.actor == "mona" for call in users)
