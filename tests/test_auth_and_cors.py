"""Bearer authentication and CORS, including on the responses Connexion produces before Flask runs."""

from __future__ import annotations

import pytest

from connector.app import create_app
from tests.conftest import API_KEY, OTHER_KEY, OWNER, REPO

LIST = "/chatgpt/prs/list"
BODY = {"owner": OWNER, "repo": REPO}


@pytest.fixture
def anonymous(make_settings, double):
    return create_app(make_settings()).test_client()


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer wrong-key-0000000000000000"},
    {"Authorization": f"Basic {API_KEY}"},
    {"Authorization": "Bearer"},
    {"Authorization": f"Bearer {API_KEY}x"},
])
@pytest.mark.one_github_layout
def test_requests_without_a_valid_key_get_401_and_make_no_github_call(anonymous, double, headers):
    response = anonymous.post(LIST, json=BODY, headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    problem = response.json()
    assert problem["code"] == "unauthorized"
    assert "Authorization: Bearer" in problem["detail"]
    assert API_KEY not in response.text
    assert double.requests == []


@pytest.mark.parametrize("key", [API_KEY, OTHER_KEY])
def test_each_configured_key_is_accepted(anonymous, double, key):
    response = anonymous.post(LIST, json=BODY, headers={"Authorization": f"Bearer {key}"})

    assert response.status_code == 200


@pytest.mark.one_github_layout
def test_authentication_is_checked_before_the_body_is_validated(anonymous, double):
    response = anonymous.post(LIST, json={"state": "nope"})

    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/health", "/openapi.json"])
@pytest.mark.one_github_layout
def test_health_and_schema_are_public(anonymous, path):
    assert anonymous.get(path).status_code == 200


@pytest.mark.one_github_layout
def test_health_does_not_touch_github(anonymous, double):
    assert anonymous.get("/health").json() == {"ok": True}
    assert double.requests == []


@pytest.mark.one_github_layout
def test_preflight_is_answered_without_authentication(anonymous, double):
    response = anonymous.options(LIST, headers={
        "Origin": "https://chatgpt.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    })

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://chatgpt.com"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


@pytest.mark.one_github_layout
def test_a_browser_mcp_client_may_send_and_read_the_transports_headers(anonymous, double):
    response = anonymous.options("/mcp", headers={
        "Origin": "https://chatgpt.com",
        "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "authorization, mcp-session-id, mcp-protocol-version",
    })

    assert response.status_code == 200
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "mcp-session-id" in allowed and "mcp-protocol-version" in allowed
    answered = anonymous.get("/health", headers={"Origin": "https://chatgpt.com"})
    assert "mcp-session-id" in answered.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize("headers, body, status", [
    ({}, BODY, 401),                                                  # produced by Connexion's security
    ({"Authorization": f"Bearer {API_KEY}"}, {"state": "x"}, 400),   # produced by request validation
    ({"Authorization": f"Bearer {API_KEY}"}, BODY, 200),             # produced by the Flask handler
])
def test_cors_headers_are_on_every_response(anonymous, double, headers, body, status):
    response = anonymous.post(LIST, json=body, headers={"Origin": "https://chat.openai.com", **headers})

    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == "https://chat.openai.com"


def test_cors_does_not_allow_unlisted_origins(anonymous, double):
    response = anonymous.post(LIST, json=BODY, headers={"Origin": "https://evil.example", "Authorization": f"Bearer {API_KEY}"})

    assert "access-control-allow-origin" not in response.headers


@pytest.mark.one_github_layout
def test_cors_origins_are_configurable(make_settings, double):
    client = create_app(make_settings(cors_origins=("https://app.example",))).test_client()

    response = client.get("/health", headers={"Origin": "https://app.example"})

    assert response.headers["access-control-allow-origin"] == "https://app.example"


@pytest.mark.one_github_layout
def test_wrong_method_is_405_with_an_allow_header(client):
    response = client.request("TRACE", LIST)

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert "POST" in response.headers["allow"]
