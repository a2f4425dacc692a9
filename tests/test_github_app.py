"""Acting as a GitHub App: installation lookup, token creation, renewal, and what callers see when
the App is not (or no longer) installed — against the double, which checks every JWT."""

from __future__ import annotations

import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connector.app import create_app
from connector.ghdouble import GitHubDouble
from connector.github import credentials
from connector.github.client import github_client
from connector.types import Repository, Secret
from tests.conftest import API_KEY, GITHUB_TOKEN, OWNER, REPO

APP_ID = 424242
LOOKUP = f"/repos/{OWNER}/{REPO}/installation"
TOKENS = re.compile(r"/app/installations/\d+/access_tokens")


def key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return key_pair()


@pytest.fixture
def installed(double, keys) -> int:
    """The App registered with the double and installed on octo-org (webapp only)."""
    double.register_app(APP_ID, keys[1])
    installation = double.install_app(OWNER, repos=[REPO])
    double.add_pull(OWNER, REPO, title="Fix", head="fix")
    double.clear_requests()
    return installation


@pytest.fixture
def app_settings(make_settings, keys):
    def make(**overrides):
        return make_settings(github_token=None, github_app_id=APP_ID,
                             github_app_private_key=Secret(keys[0]), **overrides)
    return make


def client_for(settings):
    return create_app(settings).test_client(headers={"Authorization": f"Bearer {API_KEY}"})


def list_prs(client, owner=OWNER, repo=REPO):
    return client.post("/chatgpt/prs/list", json={"owner": owner, "repo": repo})


def test_the_installation_is_found_once_and_its_token_reused(app_settings, double, installed):
    client = client_for(app_settings())

    assert list_prs(client).status_code == 200
    assert list_prs(client).status_code == 200

    assert [(r.method, TOKENS.sub("/app/installations/N/access_tokens", r.path)) for r in double.requests] == [
        ("GET", LOOKUP),
        ("POST", "/app/installations/N/access_tokens"),
        ("GET", f"/repos/{OWNER}/{REPO}/pulls"),
        ("GET", f"/repos/{OWNER}/{REPO}/pulls"),
    ]


def test_a_configured_installation_skips_the_lookup(app_settings, double, installed):
    client = client_for(app_settings(github_app_installation_id=installed))

    assert list_prs(client).status_code == 200
    assert not double.calls("GET", LOOKUP)
    assert len(double.calls("POST", TOKENS)) == 1


def test_a_token_is_renewed_before_it_expires(app_settings, double, installed, monkeypatch):
    client = client_for(app_settings())

    assert list_prs(client).status_code == 200
    assert list_prs(client).status_code == 200  # the same token: it is good for an hour
    # Rather than sleep until the token is near its expiry (flaky on a busy CI machine, and GitHub's
    # expires_at has one-second resolution), widen the margin so the hour-long token is now "near".
    monkeypatch.setattr(credentials, "REFRESH_MARGIN_SECONDS", 3600)
    assert list_prs(client).status_code == 200

    assert len(double.calls("POST", TOKENS)) == 2
    assert len(double.calls("GET", LOOKUP)) == 1


def test_a_token_github_rejects_is_replaced_and_the_write_sent_once_more(app_settings, double, installed):
    client = client_for(app_settings())
    number = double.add_pull(OWNER, REPO, title="Docs", head="docs")
    assert list_prs(client).status_code == 200
    double.expire_installation_tokens()  # the connector still thinks its token is good for an hour

    response = client.post("/chatgpt/prs/comment", json={"owner": OWNER, "repo": REPO, "number": number, "body": "hi"})

    assert response.status_code == 201, response.text
    assert len(double.comments(OWNER, REPO, number)) == 1
    assert len(double.calls("POST", TOKENS)) == 2


def test_many_requests_at_expiry_fetch_one_token(app_settings, double, installed):
    github = github_client(app_settings())
    repo = Repository(OWNER, REPO)
    github.list_pulls(repo, {})  # installation known, token cached
    double.expire_installation_tokens()
    start = threading.Barrier(12)

    def call(_):
        start.wait()
        return github.list_pulls(repo, {})

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(call, range(12)))

    assert all(pulls for pulls, _ in results)
    assert len(double.calls("POST", TOKENS)) == 2  # the first, and one renewal for all twelve


def test_a_repository_without_the_app_is_app_not_installed(app_settings, double, installed):
    double.add_repo(OWNER, "elsewhere")
    client = client_for(app_settings())

    response = list_prs(client, repo="elsewhere")

    assert response.status_code == 404
    problem = response.json()
    assert problem["code"] == "app_not_installed"
    assert "install it there" in problem["detail"]
    assert not double.calls("POST", TOKENS)


def test_a_revoked_installation_writes_nothing_and_says_so(app_settings, double, installed):
    client = client_for(app_settings())
    assert list_prs(client).status_code == 200
    double.revoke_installation(installed)

    response = client.post("/chatgpt/dispatch", json={"owner": OWNER, "repo": REPO, "event_type": "deploy"})

    assert response.status_code == 404
    assert response.json()["code"] == "app_not_installed"
    assert double.dispatches(OWNER, REPO) == []


def test_a_key_github_does_not_know_is_a_clear_misconfiguration(make_settings, double, installed):
    other_private, _ = key_pair()
    client = client_for(make_settings(github_token=None, github_app_id=APP_ID,
                                      github_app_private_key=Secret(other_private)))

    response = list_prs(client)

    assert response.status_code == 503
    assert response.json()["code"] == "misconfigured"
    assert "GITHUB_APP_ID" in response.json()["detail"]


def test_no_token_key_or_jwt_reaches_a_log_even_at_debug(app_settings, double, installed, keys, caplog):
    caplog.set_level(logging.DEBUG)
    client = client_for(app_settings())
    list_prs(client)
    double.expire_installation_tokens()
    client.post("/chatgpt/prs/label", json={"owner": OWNER, "repo": REPO, "number": 1, "labels": ["bug"]})

    text = "\n".join(record.getMessage() for record in caplog.records) + caplog.text
    secrets = [token for _, token, _ in double.issued_tokens] + keys[0].splitlines()[1:-1]
    assert len(double.issued_tokens) == 2
    assert [secret for secret in secrets if secret in text] == []
    assert "eyJ" not in text  # no JWT


@pytest.mark.one_github_layout
def test_app_auth_works_against_enterprise_server(make_settings, keys):
    double = GitHubDouble(token=GITHUB_TOKEN, prefix="/api/v3").start()
    try:
        double.add_repo(OWNER, REPO)
        double.register_app(APP_ID, keys[1])
        double.install_app(OWNER)
        settings = make_settings(github_token=None, github_app_id=APP_ID, github_app_private_key=Secret(keys[0]),
                                 github_api_url=double.url)

        assert list_prs(client_for(settings)).status_code == 200
        assert [r.path for r in double.requests][:2] == [LOOKUP, next(r.path for r in double.calls("POST"))]
        assert double.nonconforming() == []
    finally:
        double.stop()
