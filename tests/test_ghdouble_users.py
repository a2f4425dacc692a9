"""The double's user side: GitHub's web flow, user-to-server tokens and people's permissions.

Real HTTP to the double, in both URL layouts (the web flow stays at the host root when the REST
API is under GitHub Enterprise Server's ``/api/v3``). What GitHub documents is checked as it is
documented: codes bound to client, redirect URI and PKCE challenge and used once, tokens that
expire and rotate, revocation as ``401 Bad credentials``, a private repository hidden (404) from
someone without access, and 403 naming the permission for a write their role does not allow.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.etree import ElementTree

import pytest
import requests

from connector.ghdouble import GitHubDouble, UserToken, seed_demo, seed_demo_users
from connector.ghdouble.schemas import load_schemas
from tests.conftest import GITHUB_TOKEN, ISSUED_TOKENS, OWNER, REPO

CLIENT_ID, CLIENT_SECRET = "Iv23liDoubleTests", "double-tests-client-secret-0123456789"
OTHER_ID, OTHER_SECRET = "Iv23liSomeoneElse", "someone-elses-client-secret-9876543210"
CALLBACK = "https://connector.example.com/oauth/github/callback"
SECOND_CALLBACK = "https://connector.example.com/oauth/github/second"
PRIVATE = "vault"  # octo-org/vault, a private repository
SCHEMAS = load_schemas()


@pytest.fixture
def people(double: GitHubDouble):
    """A GitHub App people sign in to, octo-org/vault (private, with a pull request), and three
    people in octo-org: mona may write to both repositories, hubot may read vault, tri may triage it."""
    double.register_oauth_app(CLIENT_ID, CLIENT_SECRET, [CALLBACK, SECOND_CALLBACK], name="Connector tests")
    double.add_repo(OWNER, PRIVATE, private=True)
    double.add_pull(OWNER, PRIVATE, title="Rotate keys", head="rotate")
    double.add_user("mona", name="Mona Lisa", orgs=["Octo-Org"],
                    permissions={f"{OWNER}/{REPO}": "write", f"{OWNER}/{PRIVATE}": "write"})
    double.add_user("hubot", orgs=[OWNER], permissions={f"{OWNER}/{PRIVATE}": "read"})
    double.add_user("tri", orgs=[OWNER], permissions={f"{OWNER}/{PRIVATE}": "triage"})
    yield double
    remember_tokens(double)


def remember_tokens(double: GitHubDouble) -> None:
    """The session's log sweep looks for every user token issued (conftest's ISSUED_TOKENS)."""
    for issued in double.people.tokens:
        ISSUED_TOKENS.update(token for token in (issued.access_token, issued.refresh_token) if token)


# -- helpers: what a client of GitHub's web flow does -------------------------------------------
def web(double: GitHubDouble) -> str:
    """github.com's counterpart on the double: the host root, without the API's prefix."""
    return double.url.removesuffix(double.prefix)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(double: GitHubDouble, **params: str | None) -> str:
    query = {"client_id": CLIENT_ID, "redirect_uri": CALLBACK, "state": "st4te-1", **params}
    return f"{web(double)}/login/oauth/authorize?{urlencode({k: v for k, v in query.items() if v is not None})}"


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(double: GitHubDouble, code: str, *, verifier: str | None = None, accept: str = "application/json",
             client: tuple[str, str] = (CLIENT_ID, CLIENT_SECRET), **extra: str) -> requests.Response:
    data = {"client_id": client[0], "client_secret": client[1], "code": code, **extra}
    if verifier is not None:
        data["code_verifier"] = verifier
    return requests.post(f"{web(double)}/login/oauth/access_token", data=data, headers={"Accept": accept},
                         timeout=5)


def refresh(double: GitHubDouble, refresh_token: str, **extra: str) -> dict[str, Any]:
    data = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "refresh_token",
            "refresh_token": refresh_token, **extra}
    return requests.post(f"{web(double)}/login/oauth/access_token", json=data,
                         headers={"Accept": "application/json"}, timeout=5).json()


def sign_in(double: GitHubDouble, login: str, client_id: str = CLIENT_ID,
            client_secret: str = CLIENT_SECRET, **params: str) -> dict[str, Any]:
    """The whole flow, approved as ``login``: the token endpoint's JSON answer."""
    verifier, challenge = pkce()
    location = double.approve(authorize_url(double, client_id=client_id, code_challenge=challenge,
                                            code_challenge_method="S256", **params), login)
    answer = exchange(double, query_of(location)["code"], verifier=verifier, client=(client_id, client_secret))
    assert answer.status_code == 200 and "access_token" in answer.json(), answer.text
    return answer.json()


def call(double: GitHubDouble, method: str, path: str, token: str, scheme: str = "Bearer",
         **kwargs: Any) -> requests.Response:
    return requests.request(method, double.url + path, headers={"Authorization": f"{scheme} {token}"},
                            timeout=5, **kwargs)


def conforms(op_id: str, response: requests.Response) -> bool:
    return SCHEMAS.check_response(op_id, response.status_code, response.json() if response.content else None) == []


# -- the web flow ---------------------------------------------------------------------------------
def test_a_person_signs_in_through_the_web_flow_and_get_user_answers_as_them(people):
    verifier, challenge = pkce()
    url = authorize_url(people, code_challenge=challenge, code_challenge_method="S256", login="mona")
    page = requests.get(url, timeout=5, allow_redirects=False)
    location = people.approve(url, "mona")
    answer = exchange(people, query_of(location)["code"], verifier=verifier)
    tokens = answer.json()
    me = call(people, "GET", "/user", tokens["access_token"])
    also_me = call(people, "GET", "/user", tokens["access_token"], scheme="token")

    assert page.status_code == 200 and "<h1>Authorize Connector tests</h1>" in page.text
    assert '<select name="login" id="login">' in page.text and '<option value="mona" selected>' in page.text
    assert 'id="authorize"' in page.text and 'id="cancel"' in page.text
    assert location.startswith(CALLBACK + "?") and query_of(location)["state"] == "st4te-1"
    assert answer.headers["content-type"].startswith("application/json")
    assert tokens["access_token"].startswith("ghu_") and tokens["refresh_token"].startswith("ghr_")
    assert (tokens["expires_in"], tokens["refresh_token_expires_in"], tokens["scope"], tokens["token_type"]) == (
        28800, 15897600, "", "bearer")
    assert me.status_code == 200 and conforms("users/get-authenticated", me)
    assert (me.json()["login"], me.json()["name"], also_me.json()["login"]) == ("mona", "Mona Lisa", "mona")
    recorded = [(r.operation_id, r.status, r.schema_errors, r.actor) for r in people.requests]
    assert recorded == [("oauth/authorize", 200, [], None), ("oauth/authorize-approve", 302, [], None),
                        ("oauth/access-token", 200, [], None), ("users/get-authenticated", 200, [], "mona"),
                        ("users/get-authenticated", 200, [], "mona")]
    issued = people.user_tokens("mona")
    assert [(t.access_token, t.refresh_token, t.client_id, t.login, t.live()) for t in issued] == [
        (tokens["access_token"], tokens["refresh_token"], CLIENT_ID, "mona", True)]
    assert 28790 < issued[0].expires_at - time.time() <= 28800


def test_the_double_s_own_token_still_answers_get_user_as_its_viewer(people):
    me = call(people, "GET", "/user", GITHUB_TOKEN)

    assert me.status_code == 200 and me.json()["login"] == "connector-bot"
    assert people.requests[-1].actor is None


def test_the_authorize_page_posts_its_form_back_and_cancel_is_access_denied(people):
    page = requests.get(authorize_url(people), timeout=5).text
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    action = web(people) + re.search(r'<form method="post" action="([^"]+)"', page).group(1)

    approved = requests.post(action, data={**form, "login": "hubot", "decision": "authorize"},
                             allow_redirects=False, timeout=5)
    cancelled = requests.post(action, data={**form, "login": "hubot", "decision": "cancel"},
                              allow_redirects=False, timeout=5)

    assert form == {"client_id": CLIENT_ID, "redirect_uri": CALLBACK, "state": "st4te-1"}
    assert approved.status_code == 302 and set(query_of(approved.headers["location"])) == {"code", "state"}
    refused = query_of(cancelled.headers["location"])
    assert cancelled.headers["location"].startswith(CALLBACK + "?")
    assert (refused["error"], refused["state"]) == ("access_denied", "st4te-1") and refused["error_description"]
    tokens = exchange(people, query_of(approved.headers["location"])["code"]).json()
    assert call(people, "GET", "/user", tokens["access_token"]).json()["login"] == "hubot"
    assert [r.operation_id for r in people.requests][:3] == [
        "oauth/authorize", "oauth/authorize-approve", "oauth/authorize-approve"]


def test_an_unknown_client_id_is_a_404_page(people):
    page = requests.get(authorize_url(people, client_id="Iv23liNobody"), timeout=5, allow_redirects=False)

    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    with pytest.raises(ValueError, match="unknown client_id"):
        people.approve(authorize_url(people, client_id="Iv23liNobody"), "mona")


def test_an_unregistered_redirect_uri_goes_back_to_the_first_callback_with_redirect_uri_mismatch(people):
    elsewhere = authorize_url(people, redirect_uri="https://evil.example/callback")
    page = requests.get(elsewhere, timeout=5, allow_redirects=False)
    approved = people.approve(elsewhere, "mona")

    for location in (page.headers["location"], approved):
        assert location.startswith(CALLBACK + "?") and "evil" not in location
        assert query_of(location)["error"] == "redirect_uri_mismatch" and query_of(location)["state"] == "st4te-1"
        assert "code" not in query_of(location)


def test_without_redirect_uri_the_code_goes_to_the_first_registered_callback(people):
    location = people.approve(authorize_url(people, redirect_uri=None), "mona")

    assert location.startswith(CALLBACK + "?code=")
    assert "access_token" in exchange(people, query_of(location)["code"]).json()


def test_a_loopback_callback_may_use_another_port_but_nothing_else_may_differ(double):
    double.register_oauth_app(CLIENT_ID, CLIENT_SECRET, ["http://127.0.0.1/callback", "http://localhost:8000/cb",
                                                         "http://[::1]/cb", "https://connector.example.com/cb"])
    double.add_user("mona")

    def outcome(uri: str) -> str:
        query = query_of(double.approve(authorize_url(double, redirect_uri=uri), "mona"))
        return "code" if "code" in query else query["error"]

    assert outcome("http://127.0.0.1:54321/callback") == "code"
    assert outcome("http://localhost:9999/cb") == "code"
    assert outcome("http://[::1]:8080/cb") == "code"
    assert outcome("http://127.0.0.1:54321/other") == "redirect_uri_mismatch"
    assert outcome("http://localhost:54321/callback") == "redirect_uri_mismatch"  # another host
    assert outcome("http://127.0.0.1:54321/callback?extra=1") == "redirect_uri_mismatch"
    assert outcome("https://127.0.0.1:54321/callback") == "redirect_uri_mismatch"  # another scheme
    assert outcome("https://connector.example.com:8443/cb") == "redirect_uri_mismatch"  # not loopback
    assert outcome("https://connector.example.com/cb") == "code"


def test_a_wrong_or_missing_pkce_verifier_is_bad_verification_code_and_uses_the_code_up(people):
    verifier, challenge = pkce()
    codes = [query_of(people.approve(authorize_url(people, code_challenge=challenge, code_challenge_method="S256"),
                                     "mona"))["code"] for _ in range(2)]

    wrong = exchange(people, codes[0], verifier=pkce()[0]).json()
    then_right = exchange(people, codes[0], verifier=verifier).json()
    missing = exchange(people, codes[1]).json()

    assert wrong["error"] == then_right["error"] == missing["error"] == "bad_verification_code"
    assert wrong["error_description"] == "The code passed is incorrect or expired."
    assert "bad-verification-code" in wrong["error_uri"]
    assert people.user_tokens("mona") == []


def test_a_challenge_method_other_than_s256_is_refused_at_the_callback(people):
    verifier, challenge = pkce()
    plain = people.approve(authorize_url(people, code_challenge=verifier, code_challenge_method="plain"), "mona")
    no_method = people.approve(authorize_url(people, code_challenge=challenge), "mona")
    no_challenge = people.approve(authorize_url(people, code_challenge_method="S256"), "mona")
    not_sha256 = people.approve(authorize_url(people, code_challenge="short", code_challenge_method="S256"), "mona")
    page = requests.get(authorize_url(people, code_challenge=verifier, code_challenge_method="plain"),
                        timeout=5, allow_redirects=False)

    for location in (plain, no_method, no_challenge, not_sha256, page.headers["location"]):
        assert location.startswith(CALLBACK + "?")
        assert query_of(location)["error"] == "invalid_request" and "code" not in query_of(location)


def test_a_code_works_once_for_its_own_client_and_for_ten_minutes(people):
    people.register_oauth_app(OTHER_ID, OTHER_SECRET, [CALLBACK], name="Someone else")
    first, second, third = (query_of(people.approve(authorize_url(people), "mona"))["code"] for _ in range(3))
    people.people.codes[third].expires = time.time() - 1  # 10 minutes later

    used = exchange(people, first).json()
    reused = exchange(people, first).json()
    stolen = exchange(people, second, client=(OTHER_ID, OTHER_SECRET)).json()
    expired = exchange(people, third).json()
    made_up = exchange(people, "0123456789abcdef0123").json()

    assert used["access_token"].startswith("ghu_")
    assert [a["error"] for a in (reused, stolen, expired, made_up)] == ["bad_verification_code"] * 4
    assert len(people.user_tokens("mona")) == 1


def test_the_redirect_uri_of_the_exchange_must_be_the_authorization_s(people):
    codes = [query_of(people.approve(authorize_url(people), "mona"))["code"] for _ in range(3)]

    same = exchange(people, codes[0], redirect_uri=CALLBACK).json()
    other_registered = exchange(people, codes[1], redirect_uri=SECOND_CALLBACK).json()
    unregistered = exchange(people, codes[2], redirect_uri="https://evil.example/callback").json()

    assert "access_token" in same
    assert other_registered["error"] == unregistered["error"] == "redirect_uri_mismatch"


def test_wrong_client_credentials_are_incorrect_client_credentials(people):
    code = query_of(people.approve(authorize_url(people), "mona"))["code"]

    wrong_secret = exchange(people, code, client=(CLIENT_ID, "not-the-secret")).json()
    unknown_client = exchange(people, code, client=("Iv23liNobody", CLIENT_SECRET)).json()
    still_good = exchange(people, code).json()

    assert wrong_secret["error"] == unknown_client["error"] == "incorrect_client_credentials"
    assert wrong_secret["error_description"] == "The client_id and/or client_secret passed are incorrect."
    assert "access_token" in still_good  # refused before the code was looked at


def test_the_token_endpoint_takes_query_form_or_json_and_answers_form_json_or_xml(people):
    codes = [query_of(people.approve(authorize_url(people), "mona"))["code"] for _ in range(3)]
    endpoint = f"{web(people)}/login/oauth/access_token"
    params = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    # The tests' HTTP client logs each URL it requests, and the session's log sweep looks for the
    # module's secrets: parameters in the query string are sent for an app with a throwaway secret.
    throwaway = secrets.token_urlsafe(24)
    people.register_oauth_app("Iv23liQueryString", throwaway, [CALLBACK])
    in_query_code = query_of(people.approve(authorize_url(people, client_id="Iv23liQueryString"), "mona"))["code"]

    in_query = requests.post(endpoint, params={"client_id": "Iv23liQueryString", "client_secret": throwaway,
                                               "code": in_query_code}, timeout=5)
    in_form = requests.post(endpoint, data={**params, "code": codes[0]}, timeout=5)
    in_json = requests.post(endpoint, json={**params, "code": codes[1]}, headers={"Accept": "application/json"},
                            timeout=5)
    as_xml = requests.post(endpoint, data={**params, "code": codes[2]}, headers={"Accept": "application/xml"},
                           timeout=5)
    error_as_form = requests.post(endpoint, data={**params, "code": codes[0]}, timeout=5)  # used already

    for answer in (in_query, in_form):
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/x-www-form-urlencoded")
        assert query_of("?" + answer.text)["access_token"].startswith("ghu_")
        assert query_of("?" + answer.text)["token_type"] == "bearer"
    assert in_json.json()["access_token"].startswith("ghu_")
    root = ElementTree.fromstring(as_xml.text)
    assert root.tag == "OAuth" and root.findtext("access_token", "").startswith("ghu_")
    assert root.findtext("expires_in") == "28800"
    assert error_as_form.status_code == 200 and query_of("?" + error_as_form.text)["error"] == "bad_verification_code"
    assert [r.body.get("code") for r in people.requests if r.operation_id == "oauth/access-token"] == [
        in_query_code, codes[0], codes[1], codes[2], codes[0]]


def test_token_errors_answer_200_with_github_s_three_fields(people):
    answer = requests.post(f"{web(people)}/login/oauth/access_token", headers={"Accept": "application/json"},
                           data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": "nope"}, timeout=5)

    assert answer.status_code == 200
    assert set(answer.json()) == {"error", "error_description", "error_uri"}


# -- tokens: refresh, expiry, revocation ---------------------------------------------------------
def test_a_refresh_rotates_the_pair_and_the_old_pair_stops_working(people):
    people.user_token_seconds = 600
    first = sign_in(people, "mona")

    second = refresh(people, first["refresh_token"])
    old_refresh_again = refresh(people, first["refresh_token"])

    assert second["access_token"] != first["access_token"] and second["refresh_token"] != first["refresh_token"]
    assert second["expires_in"] == 600 and second["token_type"] == "bearer"
    assert call(people, "GET", "/user", first["access_token"]).status_code == 401
    assert call(people, "GET", "/user", second["access_token"]).json()["login"] == "mona"
    assert old_refresh_again["error"] == "bad_refresh_token"
    assert [t.live() for t in people.user_tokens("mona")] == [False, True]
    third = refresh(people, second["refresh_token"])
    assert call(people, "GET", "/user", third["access_token"]).status_code == 200


def test_only_the_issuing_client_refreshes_and_other_grant_types_are_unsupported(people):
    people.register_oauth_app(OTHER_ID, OTHER_SECRET, [CALLBACK])
    tokens = sign_in(people, "mona")

    by_other = refresh(people, tokens["refresh_token"], client_id=OTHER_ID, client_secret=OTHER_SECRET)
    made_up = refresh(people, "ghr_" + "x" * 76)
    device = refresh(people, tokens["refresh_token"], grant_type="urn:ietf:params:oauth:grant-type:device_code")

    assert by_other["error"] == made_up["error"] == "bad_refresh_token"
    assert device["error"] == "unsupported_grant_type"
    assert "access_token" in refresh(people, tokens["refresh_token"])  # none of that used it up


def test_an_expired_access_token_is_bad_credentials_until_refreshed(people):
    tokens = sign_in(people, "mona")
    hubot = sign_in(people, "hubot")

    people.expire_user_tokens("mona")
    expired = call(people, "GET", "/user", tokens["access_token"])
    renewed = refresh(people, tokens["refresh_token"])

    assert expired.status_code == 401 and expired.json()["message"] == "Bad credentials"
    assert call(people, "GET", "/user", renewed["access_token"]).json()["login"] == "mona"
    assert call(people, "GET", "/user", hubot["access_token"]).status_code == 200  # only mona's expired
    people.expire_user_tokens()
    assert call(people, "GET", "/user", hubot["access_token"]).status_code == 401


def test_an_expired_refresh_token_is_bad_refresh_token(people):
    tokens = sign_in(people, "mona")
    people.people.tokens[-1].refresh_expires_at = int(time.time()) - 1  # six months later

    assert refresh(people, tokens["refresh_token"])["error"] == "bad_refresh_token"


def test_a_revoked_authorization_ends_every_token_of_the_person(people):
    first = sign_in(people, "mona")
    second = sign_in(people, "mona")
    code = query_of(people.approve(authorize_url(people), "mona"))["code"]

    people.revoke_user_authorization("mona")

    for tokens in (first, second):
        answer = call(people, "GET", f"/repos/{OWNER}/{REPO}", tokens["access_token"])
        assert answer.status_code == 401 and answer.json()["message"] == "Bad credentials"
        assert refresh(people, tokens["refresh_token"])["error"] == "bad_refresh_token"
    assert exchange(people, code).json()["error"] == "bad_verification_code"
    assert not any(t.live() for t in people.user_tokens("mona"))
    again = sign_in(people, "mona")  # authorizing anew works
    assert call(people, "GET", "/user", again["access_token"]).status_code == 200


def test_an_app_without_expiring_tokens_and_an_oauth_app_issue_no_refresh_tokens(double):
    double.register_oauth_app(CLIENT_ID, CLIENT_SECRET, [CALLBACK], expiring=False)
    double.register_oauth_app(OTHER_ID, OTHER_SECRET, [CALLBACK], kind="oauth_app")
    double.add_user("mona")

    github_app = sign_in(double, "mona")
    oauth_app = sign_in(double, "mona", client_id=OTHER_ID, client_secret=OTHER_SECRET, scope="repo read:org")

    assert github_app["access_token"].startswith("ghu_") and github_app["scope"] == ""
    assert oauth_app["access_token"].startswith("gho_") and oauth_app["scope"] == "repo,read:org"
    for answer in (github_app, oauth_app):
        assert {"expires_in", "refresh_token", "refresh_token_expires_in"}.isdisjoint(answer)
        assert call(double, "GET", "/user", answer["access_token"]).json()["login"] == "mona"
    assert [t.refresh_token for t in double.user_tokens("mona")] == [None, None]
    assert all(t.expires_at > time.time() + 10 * 365 * 86400 for t in double.user_tokens("mona"))


# -- organisations ---------------------------------------------------------------------------------
def test_org_membership_endpoints_answer_for_the_person(people):
    mona = sign_in(people, "mona")["access_token"]
    people.add_user("eve")

    orgs = call(people, "GET", "/user/orgs", mona)
    member = call(people, "GET", "/user/memberships/orgs/octo-org", mona)
    elsewhere = call(people, "GET", "/user/memberships/orgs/other-org", mona)
    checks = [call(people, "GET", f"/orgs/octo-org/members/{login}", mona).status_code
              for login in ("mona", "hubot", "eve", "nobody")]

    assert orgs.status_code == 200 and conforms("orgs/list-for-authenticated-user", orgs)
    assert [org["login"] for org in orgs.json()] == ["Octo-Org"]  # as GitHub spells it
    assert member.status_code == 200 and conforms("orgs/get-membership-for-authenticated-user", member)
    assert (member.json()["state"], member.json()["organization"]["login"], member.json()["user"]["login"]) == (
        "active", "Octo-Org", "mona")
    assert elsewhere.status_code == 404
    assert checks == [204, 204, 404, 404]
    assert [r.actor for r in people.requests if r.operation_id and r.operation_id.startswith("orgs/")] == [
        "mona"] * 7


def test_joining_and_leaving_an_org_shows_at_the_next_call(people):
    hubot = sign_in(people, "hubot")["access_token"]

    people.remove_from_org("hubot", OWNER)
    gone = call(people, "GET", f"/user/memberships/orgs/{OWNER}", hubot).status_code
    check = call(people, "GET", f"/orgs/{OWNER}/members/hubot", GITHUB_TOKEN).status_code
    people.add_to_org("hubot", "new-org")
    joined = call(people, "GET", "/user/memberships/orgs/new-org", hubot).status_code

    assert (gone, check, joined) == (404, 404, 200)
    assert [o["login"] for o in call(people, "GET", "/user/orgs", hubot).json()] == ["new-org"]


def test_team_membership_answers_for_members_and_hides_the_team_from_outsiders(people):
    people.add_to_team("hubot", f"{OWNER}/release-managers", role="maintainer")
    people.add_user("eve")
    mona, eve = sign_in(people, "mona")["access_token"], sign_in(people, "eve")["access_token"]
    path = f"/orgs/{OWNER}/teams/release-managers/memberships"

    seen = call(people, "GET", f"{path}/hubot", mona)
    not_in_team = call(people, "GET", f"{path}/mona", mona).status_code
    from_outside = call(people, "GET", f"{path}/hubot", eve).status_code  # eve is not in octo-org
    with_the_double_s_token = call(people, "GET", f"{path}/hubot", GITHUB_TOKEN).status_code
    people.remove_from_org("hubot", OWNER)  # leaving the organisation leaves its teams
    after_leaving = call(people, "GET", f"{path}/hubot", mona).status_code

    assert seen.status_code == 200 and conforms("teams/get-membership-for-user-in-org", seen)
    assert (seen.json()["role"], seen.json()["state"]) == ("maintainer", "active")
    assert (not_in_team, from_outside, with_the_double_s_token, after_leaving) == (404, 404, 200, 404)


# -- repositories: who may see and do what --------------------------------------------------------
def test_a_private_repository_is_404_to_someone_without_access_and_public_ones_are_readable(people):
    people.add_user("eve")
    eve, hubot = sign_in(people, "eve")["access_token"], sign_in(people, "hubot")["access_token"]

    hidden = call(people, "GET", f"/repos/{OWNER}/{PRIVATE}", eve)
    hidden_pulls = call(people, "GET", f"/repos/{OWNER}/{PRIVATE}/pulls", eve)
    public = call(people, "GET", f"/repos/{OWNER}/{REPO}", eve)
    readable = call(people, "GET", f"/repos/{OWNER}/{PRIVATE}", hubot)
    people.set_user_permission("hubot", f"{OWNER}/{PRIVATE}", None)
    revoked = call(people, "GET", f"/repos/{OWNER}/{PRIVATE}", hubot)

    assert hidden.status_code == hidden_pulls.status_code == revoked.status_code == 404
    assert hidden.json()["message"] == "Not Found"
    assert public.status_code == 200 and conforms("repos/get", public)
    assert public.json()["permissions"] == {"admin": False, "maintain": False, "push": False, "triage": False,
                                            "pull": True}
    assert readable.status_code == 200 and readable.json()["permissions"]["pull"] is True
    assert readable.json()["permissions"]["push"] is False


def test_a_write_the_person_s_role_does_not_allow_is_403_naming_the_permission(people):
    people.add_workflow(OWNER, PRIVATE, "Deploy")
    hubot, tri, mona = (sign_in(people, login)["access_token"] for login in ("hubot", "tri", "mona"))
    labels, comments = f"/repos/{OWNER}/{PRIVATE}/issues/1/labels", f"/repos/{OWNER}/{PRIVATE}/issues/1/comments"
    dispatches = f"/repos/{OWNER}/{PRIVATE}/dispatches"

    commented = call(people, "POST", comments, hubot, json={"body": "Readers may comment."})
    label_by_reader = call(people, "POST", labels, hubot, json={"labels": ["bug"]})
    dispatch_by_reader = call(people, "POST", dispatches, hubot, json={"event_type": "deploy"})
    label_by_triager = call(people, "POST", labels, tri, json={"labels": ["bug"]})
    dispatch_by_triager = call(people, "POST", dispatches, tri, json={"event_type": "deploy"})
    dispatch_by_writer = call(people, "POST", dispatches, mona, json={"event_type": "deploy"})
    run_id = people.runs(OWNER, PRIVATE)[0]["id"]
    cancel_by_reader = call(people, "POST", f"/repos/{OWNER}/{PRIVATE}/actions/runs/{run_id}/cancel", hubot)
    cancel_by_writer = call(people, "POST", f"/repos/{OWNER}/{PRIVATE}/actions/runs/{run_id}/cancel", mona)

    assert commented.status_code == 201
    for refused, permission in ((label_by_reader, "issues=write; pull_requests=write"),
                                (dispatch_by_reader, "contents=write"), (dispatch_by_triager, "contents=write"),
                                (cancel_by_reader, "actions=write")):
        assert refused.status_code == 403 and refused.json()["message"] == "Resource not accessible by integration"
        assert refused.headers["x-accepted-github-permissions"] == permission
    assert label_by_triager.status_code == 200 and [label["name"] for label in label_by_triager.json()] == ["bug"]
    assert dispatch_by_writer.status_code == 204 and cancel_by_writer.status_code == 202
    assert len(people.dispatches(OWNER, PRIVATE)) == 1 and len(people.runs(OWNER, PRIVATE)) == 1


def test_an_oauth_app_token_is_refused_with_github_s_role_message(double):
    double.register_oauth_app(OTHER_ID, OTHER_SECRET, [CALLBACK], kind="oauth_app")
    double.add_user("hubot")
    double.add_pull(OWNER, REPO, title="Fix", head="fix")
    hubot = sign_in(double, "hubot", client_id=OTHER_ID, client_secret=OTHER_SECRET, scope="repo")["access_token"]

    refused = call(double, "POST", f"/repos/{OWNER}/{REPO}/issues/1/labels", hubot, json={"labels": ["bug"]})

    assert refused.status_code == 403 and refused.json()["message"] == "Must have triage access to repository."
    assert "x-accepted-github-permissions" not in refused.headers


def test_what_a_person_writes_is_attributed_to_them(people):
    people.add_workflow(OWNER, REPO, "Deploy")
    number = people.add_pull(OWNER, REPO, title="Fix", head="fix")
    mona = sign_in(people, "mona")["access_token"]
    path = f"/repos/{OWNER}/{REPO}/issues/{number}/comments"

    by_mona = call(people, "POST", path, mona, json={"body": "Mona writes this herself."})
    by_bot = call(people, "POST", path, GITHUB_TOKEN, json={"body": "The connector's own token writes this."})
    dispatched = call(people, "POST", f"/repos/{OWNER}/{REPO}/dispatches", mona, json={"event_type": "deploy"})

    assert by_mona.status_code == 201 and conforms("issues/create-comment", by_mona)
    assert by_mona.json()["user"]["login"] == "mona" and by_bot.json()["user"]["login"] == "connector-bot"
    assert [c["user"]["login"] for c in people.comments(OWNER, REPO, number)] == ["mona", "connector-bot"]
    assert dispatched.status_code == 204
    run = people.runs(OWNER, REPO)[0]
    assert (run["actor"]["login"], run["triggering_actor"]["login"]) == ("mona", "mona")
    assert [r.actor for r in people.calls("POST", re.compile(r".*/comments|.*/dispatches"))] == [
        "mona", None, "mona"]


def test_a_github_app_s_user_tokens_reach_only_where_it_is_installed(double):
    double.add_repo("other-org", "tools")
    double.add_repo(OWNER, "site")
    double.register_oauth_app(CLIENT_ID, CLIENT_SECRET, [CALLBACK], installed_on=[f"{OWNER}/{REPO}"])
    double.register_oauth_app(OTHER_ID, OTHER_SECRET, [CALLBACK], installed_on=[f"{OWNER}/*"])
    double.add_user("mona", permissions={f"{OWNER}/{REPO}": "write", "other-org/tools": "write"})
    one_repo = sign_in(double, "mona")["access_token"]
    whole_org = sign_in(double, "mona", client_id=OTHER_ID, client_secret=OTHER_SECRET)["access_token"]

    def status(token: str, full_name: str) -> int:
        return call(double, "GET", f"/repos/{full_name}", token).status_code

    assert [status(one_repo, name) for name in (f"{OWNER}/{REPO}", f"{OWNER}/site", "other-org/tools")] == [
        200, 404, 404]
    assert [status(whole_org, name) for name in (f"{OWNER}/{REPO}", f"{OWNER}/site", "other-org/tools")] == [
        200, 200, 404]


# -- the double itself ----------------------------------------------------------------------------
def test_faults_apply_to_the_token_endpoint_too(people):
    code = query_of(people.approve(authorize_url(people), "mona"))["code"]
    people.fail_next("POST", "/login/oauth/access_token", status=502)

    failed = exchange(people, code)
    then = exchange(people, code)

    assert failed.status_code == 502
    assert "access_token" in then.json()  # the failed attempt never reached the code
    assert [r.status for r in people.requests if r.operation_id == "oauth/access-token"] == [502, 200]


def test_approve_refuses_what_is_not_this_double_s_authorize_page_or_not_a_known_login(people):
    url = authorize_url(people)

    with pytest.raises(ValueError, match="not this double's Authorize page"):
        people.approve(url.replace(web(people), "https://github.com"), "mona")
    with pytest.raises(ValueError, match="not this double's Authorize page"):
        people.approve(url.replace("/login/oauth/authorize", "/api/v3/login/oauth/authorize"), "mona")
    with pytest.raises(ValueError, match="no user 'nobody'"):
        people.approve(url, "nobody")


def test_unknown_web_paths_are_flagged_and_a_browser_s_icon_request_is_not(people):
    icon = requests.get(f"{web(people)}/favicon.ico", timeout=5)
    unknown = requests.get(f"{web(people)}/login/oauth/access_token", timeout=5)

    assert icon.status_code == unknown.status_code == 404
    assert [r.schema_errors for r in people.requests] == [[], ["no such route: GET /login/oauth/access_token"]]
    people.clear_requests()  # the fixture would fail the test on the flagged request


@pytest.mark.parametrize("prefix", ["", "/api/v3"], ids=["github.com", "enterprise-server"])
def test_reset_forgets_people_apps_codes_and_tokens(prefix):
    with GitHubDouble(token=GITHUB_TOKEN, prefix=prefix) as double:
        double.register_oauth_app(CLIENT_ID, CLIENT_SECRET, [CALLBACK])
        double.add_user("mona")
        double.user_token_seconds = 60
        tokens = sign_in(double, "mona")
        code = query_of(double.approve(authorize_url(double), "mona"))["code"]
        remember_tokens(double)

        double.reset()

        assert call(double, "GET", "/user", tokens["access_token"]).status_code == 401
        assert requests.get(authorize_url(double), timeout=5).status_code == 404  # no such app any more
        assert double.user_tokens("mona") == [] and double.people.users == {} and double.people.codes == {}
        assert (double.user_token_seconds, double.refresh_token_seconds) == (28800, 15897600)
        with pytest.raises(KeyError):
            double.set_user_permission("mona", f"{OWNER}/{REPO}", "read")
        assert code not in double.people.codes


def test_seeding_refuses_a_role_github_does_not_have(double):
    with pytest.raises(ValueError, match="read, triage, write, maintain, admin"):
        double.add_user("mona", permissions={f"{OWNER}/{REPO}": "owner"})
    double.add_user("hubot")
    with pytest.raises(ValueError):
        double.set_user_permission("hubot", f"{OWNER}/{REPO}", "push")


def test_a_user_token_s_repr_shows_no_token():
    token = UserToken("ghu_secretvalue", "ghr_secretvalue", 0, None, CLIENT_ID, "mona")

    assert "secretvalue" not in repr(token) and "mona" in repr(token)


@pytest.mark.parametrize("prefix", ["", "/api/v3"], ids=["github.com", "enterprise-server"])
def test_the_sandbox_s_people_sign_in_with_their_own_permissions(prefix):
    with GitHubDouble(token=GITHUB_TOKEN, prefix=prefix) as double:
        demo = seed_demo(double)
        seeded = seed_demo_users(double, ["http://127.0.0.1/oauth/github/callback"])
        port = urlsplit(double.url).port
        url = (f"{web(double)}/login/oauth/authorize?"
               + urlencode({"client_id": seeded["client_id"], "redirect_uri": f"http://127.0.0.1:{port}/oauth/github/callback"}))
        tokens = {}
        for login in ("mona", "hubot"):
            code = query_of(double.approve(url, login))["code"]
            tokens[login] = exchange(double, code, client=(seeded["client_id"], seeded["client_secret"])).json()
        remember_tokens(double)
        repo, pull = demo["full_name"], demo["open_pulls"][0]

        hubot_comment = call(double, "POST", f"/repos/{repo}/issues/{pull}/comments", tokens["hubot"]["access_token"],
                             json={"body": "hubot can comment"})
        hubot_label = call(double, "POST", f"/repos/{repo}/issues/{pull}/labels", tokens["hubot"]["access_token"],
                           json={"labels": ["bug"]})
        hubot_dispatch = call(double, "POST", f"/repos/{repo}/dispatches", tokens["hubot"]["access_token"],
                              json={"event_type": "deploy"})
        mona_dispatch = call(double, "POST", f"/repos/{repo}/dispatches", tokens["mona"]["access_token"],
                             json={"event_type": "deploy"})
        member = call(double, "GET", "/user/memberships/orgs/octo-demo", tokens["hubot"]["access_token"])

        assert seeded["client_id"].startswith("Iv23liSandbox") and seeded["client_secret"]
        assert {k: seeded[k] for k in ("users", "org")} == {"users": {"mona": "write", "hubot": "read"},
                                                             "org": "octo-demo"}
        assert tokens["mona"]["refresh_token"].startswith("ghr_")  # expiring tokens
        assert (hubot_comment.status_code, hubot_label.status_code, hubot_dispatch.status_code) == (201, 403, 403)
        assert mona_dispatch.status_code == 204 and member.json()["state"] == "active"
        assert double.nonconforming() == []
