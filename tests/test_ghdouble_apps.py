"""GitHub App authentication in the double: JWTs, installations and installation tokens.

The connector's App mode is only as trustworthy as the double's copy of GitHub's rules, so
these tests pin them: which JWTs GitHub accepts, what an installation token may reach, and
what happens once a token expires or the App is uninstalled. JWTs are minted with PyJWT
directly, and once through PyGithub, to prove PyGithub's requests are ones GitHub accepts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import github
import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connector.ghdouble import GitHubDouble, seed_demo
from connector.ghdouble.schemas import load_schemas

OWNER, NAME = "octo-demo", "hello-connector"
APP_ID = 424242
PAT = {"Authorization": "token test-token"}


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def public_pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
def shared() -> Iterator[GitHubDouble]:
    with GitHubDouble() as double:
        yield double


@pytest.fixture
def gh(shared: GitHubDouble, public_pem: str) -> GitHubDouble:
    shared.reset()
    seed_demo(shared)
    shared.add_repo(OWNER, "private-stuff")
    shared.add_repo("someone-else", NAME)
    shared.register_app(APP_ID, public_pem)
    return shared


def mint(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    """A JWT the way GitHub's docs build one (iat 60 s back), with ``claims`` overriding."""
    now = int(time.time())
    payload = {"iat": now - 60, "exp": now + 540, "iss": str(APP_ID), **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key, algorithm="RS256")


def as_app(key: rsa.RSAPrivateKey, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(key, **claims)}"}


def new_token(gh: GitHubDouble, key: rsa.RSAPrivateKey, installation: int,
              body: Any = None) -> requests.Response:
    return requests.post(f"{gh.url}/app/installations/{installation}/access_tokens",
                         json={"permissions": {}} if body is None else body, headers=as_app(key))


def conforms(op_id: str, response: requests.Response) -> bool:
    assert load_schemas().check_response(op_id, response.status_code, response.json()) == []
    return True


# -- the App's own endpoints (JWT) -----------------------------------------------------------
def test_app_jwt_finds_the_installation_and_mints_a_token(gh: GitHubDouble, key) -> None:
    installation = gh.install_app(OWNER, [NAME])

    found = requests.get(f"{gh.url}/repos/{OWNER}/{NAME}/installation", headers=as_app(key))
    assert found.status_code == 200 and conforms("apps/get-repo-installation", found)
    data = found.json()
    assert (data["id"], data["app_id"], data["app_slug"]) == (installation, APP_ID, "connector-app")
    assert data["account"]["login"] == OWNER and data["repository_selection"] == "selected"
    assert data["access_tokens_url"] == f"{gh.url}/app/installations/{installation}/access_tokens"
    assert data["permissions"]["contents"] == "write" and data["single_file_name"] is None

    by_id = requests.get(f"{gh.url}/app/installations/{installation}", headers=as_app(key))
    assert by_id.status_code == 200 and conforms("apps/get-installation", by_id)
    assert by_id.json() == data

    created = new_token(gh, key, installation)
    assert created.status_code == 201 and conforms("apps/create-installation-access-token", created)
    token = created.json()
    assert token["token"].startswith("ghs_") and len(token["token"]) == 40
    assert token["repository_selection"] == "selected"
    assert [r["full_name"] for r in token["repositories"]] == [f"{OWNER}/{NAME}"]
    [(issued_for, issued, expires_at)] = gh.issued_tokens
    assert (issued_for, issued) == (installation, token["token"])
    assert 3590 <= expires_at - time.time() <= 3600
    assert token["expires_at"] == datetime.fromtimestamp(expires_at, UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    assert gh.nonconforming() == []


def test_get_app_describes_the_registered_app(gh: GitHubDouble, key) -> None:
    gh.install_app(OWNER)
    r = requests.get(f"{gh.url}/app", headers=as_app(key))
    assert r.status_code == 200 and conforms("apps/get-authenticated", r)
    assert (r.json()["id"], r.json()["slug"], r.json()["name"]) == (APP_ID, "connector-app", "Connector")
    assert r.json()["installations_count"] == 1


def test_a_token_request_without_a_body_is_accepted(gh: GitHubDouble, key) -> None:
    installation = gh.install_app(OWNER)
    r = requests.post(f"{gh.url}/app/installations/{installation}/access_tokens", headers=as_app(key))
    assert r.status_code == 201 and r.json()["repository_selection"] == "all"
    assert "repositories" not in r.json() and gh.nonconforming() == []


def test_githubs_documented_jwt_recipe_and_a_numeric_iss_are_accepted(gh: GitHubDouble, key) -> None:
    now = int(time.time())
    # octokit sends iss as a number, which PyJWT's encode() refuses, so sign the bytes directly
    numeric = jwt.PyJWS().encode(json.dumps({"iat": now, "exp": now + 60, "iss": APP_ID}).encode(),
                                 key, algorithm="RS256")
    for header in (f"Bearer {mint(key, iat=now - 60, exp=now + 600)}", f"Bearer {numeric}"):
        assert requests.get(f"{gh.url}/app", headers={"Authorization": header}).status_code == 200


def _other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(("make_header", "message"), [
    (lambda key: f"Bearer {mint(_other_key())}", "A JSON web token could not be decoded"),
    (lambda key: "Bearer not-a-jwt", "A JSON web token could not be decoded"),
    (lambda key: f"Bearer {mint(key, iss='1')}", "Integration not found"),
    (lambda key: f"Bearer {mint(key, exp=int(time.time()) + 1200)}",
     "'Expiration time' claim ('exp') is too far in the future"),
    (lambda key: f"Bearer {mint(key, iat=int(time.time()) - 700, exp=int(time.time()) - 10)}",
     "'Expiration time' claim ('exp') must be a numeric value representing the future time at "
     "which the assertion expires"),
    (lambda key: f"Bearer {mint(key, iat=None)}",
     "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"),
    # An HMAC-signed token must not pass where RS256 is expected (the algorithm-confusion trick)
    (lambda key: "Bearer " + jwt.encode({"iss": str(APP_ID), "iat": int(time.time()),
                                         "exp": int(time.time()) + 60}, "s" * 32, algorithm="HS256"),
     "A JSON web token could not be decoded"),
    (lambda key: "token test-token", "A JSON web token could not be decoded"),  # the PAT
    (lambda key: None, "A JSON web token could not be decoded"),
])
def test_app_endpoints_refuse_jwts_github_would_refuse(gh: GitHubDouble, key, make_header,
                                                       message: str) -> None:
    installation = gh.install_app(OWNER)
    header = make_header(key)
    headers = {} if header is None else {"Authorization": header}
    for method, path in (("GET", "/app"), ("GET", f"/repos/{OWNER}/{NAME}/installation"),
                         ("POST", f"/app/installations/{installation}/access_tokens")):
        r = requests.request(method, gh.url + path, headers=headers)
        assert (r.status_code, r.json()["message"]) == (401, message)
    assert gh.issued_tokens == []


def test_without_a_registered_app_no_jwt_is_accepted(key) -> None:
    with GitHubDouble(token=None) as double:  # an open double still wants the App's JWT here
        r = requests.get(f"{double.url}/app", headers=as_app(key))
        assert (r.status_code, r.json()["message"]) == (401, "Integration not found")


def test_unknown_or_uncovered_installations_are_404(gh: GitHubDouble, key) -> None:
    gh.install_app(OWNER, [NAME])
    for path in ("/app/installations/999", f"/repos/{OWNER}/private-stuff/installation",
                 f"/repos/someone-else/{NAME}/installation", f"/repos/{OWNER}/missing/installation"):
        r = requests.get(gh.url + path, headers=as_app(key))
        assert (r.status_code, r.json()["message"]) == (404, "Not Found")
    assert new_token(gh, key, 999).status_code == 404


# -- installation tokens on repository endpoints --------------------------------------------
def test_installation_token_reaches_only_the_repositories_it_covers(gh: GitHubDouble, key) -> None:
    installation = gh.install_app(OWNER, [NAME])
    token = new_token(gh, key, installation).json()["token"]
    for scheme in ("token", "Bearer"):
        auth = {"Authorization": f"{scheme} {token}"}
        assert requests.get(f"{gh.url}/repos/OCTO-demo/Hello-Connector", headers=auth).status_code == 200
        assert requests.get(f"{gh.url}/repos/{OWNER}/{NAME}/pulls", headers=auth).status_code == 200
        for hidden in (f"/repos/{OWNER}/private-stuff", f"/repos/someone-else/{NAME}/pulls"):
            r = requests.get(gh.url + hidden, headers=auth)
            assert (r.status_code, r.json()["message"]) == (404, "Not Found")
    auth = {"Authorization": f"token {token}"}
    r = requests.post(f"{gh.url}/repos/{OWNER}/{NAME}/issues/6/comments", json={"body": "hi"}, headers=auth)
    assert r.status_code == 201 and gh.comments(OWNER, NAME, 6)[0]["body"] == "hi"
    assert requests.post(f"{gh.url}/repos/{OWNER}/private-stuff/dispatches", json={"event_type": "x"},
                         headers=auth).status_code == 404
    assert gh.dispatches(OWNER, "private-stuff") == []


def test_an_all_repositories_installation_covers_repositories_added_later(gh: GitHubDouble, key) -> None:
    installation = gh.install_app(OWNER.upper())
    token = new_token(gh, key, installation).json()["token"]
    gh.add_repo(OWNER, "newer")
    auth = {"Authorization": f"token {token}"}
    assert requests.get(f"{gh.url}/repos/{OWNER}/newer", headers=auth).status_code == 200
    assert requests.get(f"{gh.url}/repos/someone-else/{NAME}", headers=auth).status_code == 404


def test_a_token_request_can_narrow_but_not_widen(gh: GitHubDouble, key) -> None:
    installation = gh.install_app(OWNER, permissions={"metadata": "read", "issues": "write"})
    narrowed = new_token(gh, key, installation, {"repositories": [NAME], "permissions": {"issues": "read"}})
    assert narrowed.status_code == 201 and conforms("apps/create-installation-access-token", narrowed)
    assert narrowed.json()["permissions"] == {"issues": "read"}
    auth = {"Authorization": f"token {narrowed.json()['token']}"}
    assert requests.get(f"{gh.url}/repos/{OWNER}/private-stuff", headers=auth).status_code == 404
    assert new_token(gh, key, installation, {"permissions": {"contents": "read"}}).status_code == 422
    assert new_token(gh, key, installation, {"repositories": [NAME, "missing"]}).status_code == 422
    assert len(gh.issued_tokens) == 1


def test_expired_tokens_are_bad_credentials_and_a_fresh_one_works(gh: GitHubDouble, key) -> None:
    installation = gh.install_app(OWNER, [NAME])
    old = new_token(gh, key, installation).json()["token"]
    gh.expire_installation_tokens()
    r = requests.get(f"{gh.url}/repos/{OWNER}/{NAME}", headers={"Authorization": f"token {old}"})
    assert (r.status_code, r.json()["message"]) == (401, "Bad credentials")
    assert gh.issued_tokens[0][2] < time.time()
    fresh = new_token(gh, key, installation).json()["token"]
    assert requests.get(f"{gh.url}/repos/{OWNER}/{NAME}", headers={"Authorization": f"token {fresh}"}).ok
    assert [t for _, t, _ in gh.issued_tokens] == [old, fresh]


def test_token_lifetime_is_configurable(shared: GitHubDouble, public_pem: str, key) -> None:
    shared.reset()
    shared.add_repo(OWNER, NAME)
    shared.register_app(APP_ID, public_pem.encode(), slug="short", token_lifetime=120)
    installation = shared.install_app(OWNER, installation_id=7)
    assert installation == 7
    new_token(shared, key, 7)
    assert 110 <= shared.issued_tokens[0][2] - time.time() <= 120


def test_revoked_installation_is_gone_and_its_tokens_stop_working(gh: GitHubDouble, key) -> None:
    installation = gh.install_app(OWNER, [NAME])
    token = new_token(gh, key, installation).json()["token"]
    gh.revoke_installation(installation)
    for path in (f"/app/installations/{installation}", f"/repos/{OWNER}/{NAME}/installation"):
        assert requests.get(gh.url + path, headers=as_app(key)).status_code == 404
    assert new_token(gh, key, installation).status_code == 404
    r = requests.get(f"{gh.url}/repos/{OWNER}/{NAME}", headers={"Authorization": f"token {token}"})
    assert (r.status_code, r.json()["message"]) == (401, "Bad credentials")
    assert requests.get(f"{gh.url}/app", headers=as_app(key)).json()["installations_count"] == 0


def test_credentials_stay_in_their_lane(gh: GitHubDouble, key) -> None:
    installation = gh.install_app(OWNER, [NAME])
    token = new_token(gh, key, installation).json()["token"]
    r = requests.get(f"{gh.url}/repos/{OWNER}/{NAME}", headers=as_app(key))  # a JWT is not a token
    assert (r.status_code, r.json()["message"]) == (401, "Bad credentials")
    r = requests.get(f"{gh.url}/app", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    for repo in (NAME, "private-stuff"):  # the PAT still reaches everything
        assert requests.get(f"{gh.url}/repos/{OWNER}/{repo}", headers=PAT).status_code == 200


def test_an_open_double_still_checks_the_tokens_it_issued(public_pem: str, key) -> None:
    with GitHubDouble(token=None) as double:
        double.add_repo(OWNER, NAME)
        double.add_repo(OWNER, "other")
        double.register_app(APP_ID, public_pem)
        token = new_token(double, key, double.install_app(OWNER, [NAME])).json()["token"]
        assert requests.get(f"{double.url}/repos/{OWNER}/other", headers={"Authorization": "token x"}).ok
        auth = {"Authorization": f"token {token}"}
        assert requests.get(f"{double.url}/repos/{OWNER}/other", headers=auth).status_code == 404
        double.expire_installation_tokens()
        assert requests.get(f"{double.url}/repos/{OWNER}/{NAME}", headers=auth).status_code == 401


def test_reset_forgets_the_app(gh: GitHubDouble, key) -> None:
    new_token(gh, key, gh.install_app(OWNER))
    gh.reset()
    assert gh.issued_tokens == []
    r = requests.get(f"{gh.url}/app", headers=as_app(key))
    assert (r.status_code, r.json()["message"]) == (401, "Integration not found")


def test_install_app_refuses_a_second_installation_and_needs_an_app(gh: GitHubDouble) -> None:
    gh.install_app(OWNER)
    with pytest.raises(ValueError, match="already installed"):
        gh.install_app(OWNER.upper())
    gh.reset()
    with pytest.raises(RuntimeError, match="register_app"):
        gh.install_app(OWNER)


# -- PyGithub -------------------------------------------------------------------------------
def test_pygithub_app_auth_conforms(gh: GitHubDouble, key) -> None:
    installation = gh.install_app(OWNER, [NAME])
    auth = github.Auth.AppAuth(APP_ID, _pem(key))
    integration = github.GithubIntegration(auth=auth, base_url=gh.url)
    assert integration.get_app().slug == "connector-app"
    assert integration.get_repo_installation(OWNER, NAME).id == installation
    assert integration.get_app_installation(installation).id == installation
    authorization = integration.get_access_token(installation)
    assert [t for _, t, _ in gh.issued_tokens] == [authorization.token]
    client = github.Github(base_url=gh.url, auth=auth.get_installation_auth(installation),
                           retry=None, seconds_between_requests=0, seconds_between_writes=0)
    assert client.get_repo(f"{OWNER}/{NAME}").full_name == f"{OWNER}/{NAME}"
    with pytest.raises(github.UnknownObjectException):
        client.get_repo(f"{OWNER}/private-stuff")
    assert len(gh.issued_tokens) == 2  # the installation auth minted its own token
    assert gh.nonconforming() == []
