"""Signing in with GitHub on the consent page, and acting on GitHub as that person.

The connector runs GitHub's web flow against the double (which plays github.com's /login/oauth and
checks the REST calls made with user tokens against GitHub's schemas); the OAuth client is the
tests' own, written from the RFCs. What is checked: who may sign in, that calls reach GitHub with
the person's own token and are attributed to them, that GitHub's permissions for the person apply,
that renewal happens once however many requests need it, that a revoked authorization or a removal
from the organisation ends the sign-in, and that two people never share what GitHub told one.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet

from connector.app import create_app
from connector.types import Secret
from tests.conftest import API_KEY, ISSUED_TOKENS, LOG_DIR, OWNER, REPO
from tests.oauth_client import Flow, pkce, signing_key_pem

BASE = "https://connector.example.com"
CLIENT_ID, CLIENT_SECRET = "Iv23liConnectorTests", "github-client-secret-for-the-tests-0123"
CALLBACK = f"{BASE}/oauth/github/callback"
SIGNING_KEY = signing_key_pem()
ENCRYPTION_KEY = Fernet.generate_key().decode()


@pytest.fixture
def people(double):
    """The GitHub App people sign in with, and three people: two in octo-org (one may write to
    octo-org/webapp, one may only read it) and one outside it."""
    double.register_oauth_app(CLIENT_ID, CLIENT_SECRET, [CALLBACK], name="Connector tests")
    double.add_user("mona", orgs=["octo-org"], permissions={f"{OWNER}/{REPO}": "write"})
    double.add_user("hubot", orgs=["octo-org"], permissions={f"{OWNER}/{REPO}": "read"})
    double.add_user("eve", permissions={f"{OWNER}/{REPO}": "write"})
    yield double
    for login in ("mona", "hubot", "eve"):
        for issued in double.user_tokens(login):
            ISSUED_TOKENS.update(token for token in (issued.access_token, issued.refresh_token) if token)


def github_settings(make_settings, **overrides):
    values = dict(oauth="embedded", oauth_signing_key=Secret(SIGNING_KEY), public_base_url=BASE,
                  github_oauth_client_id=CLIENT_ID, github_oauth_client_secret=Secret(CLIENT_SECRET),
                  oauth_allowed_orgs=("octo-org",), oauth_encryption_key=Secret(ENCRYPTION_KEY))
    return make_settings(**{**values, **overrides})


@pytest.fixture
def audit_file():
    return LOG_DIR / f"audit-{uuid.uuid4().hex}.log"  # inside LOG_DIR: swept for secrets at the end


@pytest.fixture
def app(make_settings, people, audit_file):
    return create_app(github_settings(make_settings, audit_log=audit_file))


def http_for(app):
    return app.test_client(base_url=BASE, follow_redirects=False)


def sign_in(double, http, login: str, *, scope: str = "prs:read prs:write runs:read") -> dict:
    """The whole flow as a browser and a client would run it: the tokens the client ends with."""
    flow = Flow(http, BASE)
    assert flow.register().status_code == 201
    verifier, challenge = pkce()
    page = flow.authorize(challenge=challenge, scope=scope)
    assert page.status_code == 200 and "Sign in with GitHub" in page.text
    to_github = flow.consent(page, "", decision="github")
    assert to_github.status_code == 302, to_github.text
    back = double.approve(to_github.headers["location"], login)
    assert back.startswith(CALLBACK + "?"), back
    answer = http.get(urlsplit(back).path + "?" + urlsplit(back).query)
    if answer.status_code != 302:
        return {"refused": answer}
    code = flow.code_from(answer)["code"]
    tokens = flow.token(grant_type="authorization_code", code=code, redirect_uri=flow.redirect_uri,
                        code_verifier=verifier, resource=f"{BASE}/mcp")
    assert tokens.status_code == 200, tokens.text
    ISSUED_TOKENS.update({code, tokens.json()["access_token"], tokens.json()["refresh_token"]})
    return {**tokens.json(), "flow": flow}


def bearer(tokens: dict) -> dict:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_a_person_signs_in_with_github_and_what_they_write_is_theirs(app, people, pr, audit_file):
    http = http_for(app)
    tokens = sign_in(people, http, "mona")

    commented = http.post("/chatgpt/prs/comment", headers=bearer(tokens),
                          json={"owner": OWNER, "repo": REPO, "number": pr, "body": "Looks right to me."})

    assert commented.status_code == 201, commented.text
    sent = people.calls("POST", re.compile(r".*/issues/\d+/comments"))
    assert [request.actor for request in sent] == ["mona"]  # GitHub was called with mona's own token
    assert [stored["user"]["login"] for stored in people.comments(OWNER, REPO, pr)] == ["mona"]
    assert all(request.actor == "mona" for request in people.requests if request.operation_id
               and request.operation_id.startswith(("issues/", "pulls/")))
    written = [json.loads(line) for line in audit_file.read_text().splitlines()
               if json.loads(line).get("operation") == "comment_on_pull_request"]
    assert written[-1]["github_login"] == "mona" and written[-1]["grant"] and written[-1]["oauth_client"]
    assert written[-1]["key"] == "@mona"


def test_someone_outside_the_allowed_users_and_orgs_is_refused_with_a_page(app, people):
    refused = sign_in(people, http_for(app), "eve")["refused"]

    assert refused.status_code == 403
    assert "@eve may not use this connector" in refused.text
    assert "code=" not in refused.headers.get("location", "")


def test_an_allowed_login_gets_in_without_an_org(make_settings, people, pr):
    app = create_app(github_settings(make_settings, oauth_allowed_orgs=(), oauth_allowed_users=("eve",)))
    tokens = sign_in(people, http_for(app), "eve")

    listed = http_for(app).post("/chatgpt/prs/list", headers=bearer(tokens), json={"owner": OWNER, "repo": REPO})

    assert listed.status_code == 200 and [pull["number"] for pull in listed.json()["pull_requests"]] == [pr]


def test_githubs_own_permissions_apply_to_a_reader(app, people, pr):
    http = http_for(app)
    tokens = sign_in(people, http, "hubot")

    labelled = http.post("/chatgpt/prs/label", headers=bearer(tokens),
                         json={"owner": OWNER, "repo": REPO, "number": pr, "labels": ["bug"]})
    commented = http.post("/chatgpt/prs/comment", headers=bearer(tokens),
                          json={"owner": OWNER, "repo": REPO, "number": pr, "body": "A reader may comment."})

    assert labelled.status_code == 403, labelled.text
    assert labelled.json()["code"] == "github_forbidden"
    assert "@hubot" in labelled.json()["detail"] and "lacks the permission" in labelled.json()["detail"]
    assert commented.status_code == 201


def test_the_consent_page_and_the_connector_policy_narrow_what_a_person_may_do(app, people, pr):
    http = http_for(app)
    tokens = sign_in(people, http, "mona", scope="prs:read dispatch")  # dispatch: not in the default user scopes

    assert tokens["scope"] == "prs:read"
    dispatched = http.post("/chatgpt/dispatch", headers=bearer(tokens),
                           json={"owner": OWNER, "repo": REPO, "event_type": "deploy"})
    assert dispatched.status_code == 403 and dispatched.json()["code"] == "insufficient_scope"
    assert not people.calls("POST", re.compile(r".*/dispatches"))


def test_removal_from_the_org_ends_access_at_the_next_refresh(app, people, pr):
    http = http_for(app)
    tokens = sign_in(people, http, "mona")
    people.remove_from_org("mona", "octo-org")

    refreshed = tokens["flow"].token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    after = http.post("/chatgpt/prs/list", headers=bearer(tokens), json={"owner": OWNER, "repo": REPO})

    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    assert after.status_code == 401  # the session has ended: the last access token stops too
    assert "invalid_token" in after.headers["www-authenticate"]


def test_a_team_in_the_users_file_gives_its_members_its_scopes_until_they_leave_it(make_settings, people, pr,
                                                                                 tmp_path):
    users = tmp_path / "users.toml"
    users.write_text('[[users]]\nteam = "octo-org/release-managers"\nscopes = ["prs:read", "dispatch"]\n\n'
                     '[[users]]\norg = "octo-org"\nscopes = ["prs:read"]\n')
    people.add_to_team("mona", "octo-org/release-managers")
    app = create_app(github_settings(make_settings, oauth_allowed_orgs=(), oauth_users_file=users))
    http = http_for(app)
    tokens = sign_in(people, http, "mona", scope="prs:read dispatch")

    dispatched = http.post("/chatgpt/dispatch", headers=bearer(tokens),
                           json={"owner": OWNER, "repo": REPO, "event_type": "deploy"})
    asked = [r for r in people.requests if r.operation_id == "teams/get-membership-for-user-in-org"]
    people.remove_from_team("mona", "octo-org/release-managers")
    refreshed = tokens["flow"].token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    ISSUED_TOKENS.update({refreshed.json().get("access_token", ""), refreshed.json().get("refresh_token", "")})
    again = http.post("/chatgpt/dispatch", headers=bearer(refreshed.json()),
                      json={"owner": OWNER, "repo": REPO, "event_type": "deploy"})

    assert set(tokens["scope"].split()) == {"prs:read", "dispatch"}
    assert dispatched.status_code == 202, dispatched.text
    assert [(r.actor, r.path, r.schema_errors) for r in asked] == [
        ("mona", "/orgs/octo-org/teams/release-managers/memberships/mona", [])]
    assert refreshed.status_code == 200  # still in octo-org: the org's entry applies now
    assert again.status_code == 403 and again.json()["code"] == "insufficient_scope"
    assert len(people.calls("POST", re.compile(r".*/dispatches"))) == 1


def test_a_refresh_keeps_a_member_signed_in_with_new_tokens(app, people, pr):
    http = http_for(app)
    tokens = sign_in(people, http, "mona")

    refreshed = tokens["flow"].token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    ISSUED_TOKENS.update({refreshed.json().get("access_token", ""), refreshed.json().get("refresh_token", "")})
    listed = http.post("/chatgpt/prs/list", headers=bearer(refreshed.json()), json={"owner": OWNER, "repo": REPO})

    assert refreshed.status_code == 200 and listed.status_code == 200


def test_a_revoked_github_authorization_ends_the_sign_in(app, people, pr):
    http = http_for(app)
    tokens = sign_in(people, http, "mona")
    people.revoke_user_authorization("mona")

    refused = http.post("/chatgpt/prs/list", headers=bearer(tokens), json={"owner": OWNER, "repo": REPO})
    again = http.post("/chatgpt/prs/list", headers=bearer(tokens), json={"owner": OWNER, "repo": REPO})

    assert refused.status_code == 401, refused.text
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert "sign in again" in refused.json()["detail"]
    assert again.status_code == 401
    refreshes = [r for r in people.requests if r.operation_id == "oauth/access-token"]
    assert len(refreshes) == 2  # the sign-in's exchange, and the one renewal GitHub refused


def test_concurrent_requests_with_an_expired_token_make_one_refresh_across_instances(make_settings, people, pr,
                                                                                   redis_url):
    settings = github_settings(make_settings, redis_url=Secret(redis_url))
    first, second = create_app(settings), create_app(settings)
    tokens = sign_in(people, http_for(first), "mona")
    exchanges = len([r for r in people.requests if r.operation_id == "oauth/access-token"])
    people.expire_user_tokens("mona")
    people.latency = 0.2  # the refresh takes a while, so the others arrive while it runs
    answers: list[int] = []

    def call(app) -> None:
        answer = http_for(app).post("/chatgpt/prs/list", headers=bearer(tokens), json={"owner": OWNER, "repo": REPO})
        answers.append(answer.status_code)

    threads = [threading.Thread(target=call, args=(app,)) for app in (first, second) * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    people.latency = 0.0

    assert answers == [200] * 8
    assert len([r for r in people.requests if r.operation_id == "oauth/access-token"]) == exchanges + 1
    live = [issued for issued in people.user_tokens("mona") if issued.live()]
    assert len(live) == 1
    listed = people.calls("GET", re.compile(r".*/pulls$"))
    assert {r.actor for r in listed if r.status == 200} == {"mona"}  # the refused ones name nobody


def test_two_people_never_share_what_github_told_one_of_them(app, people, pr):
    http = http_for(app)
    mona, hubot = sign_in(people, http, "mona"), sign_in(people, http, "hubot")
    body = {"owner": OWNER, "repo": REPO, "number": pr, "labels": ["bug"]}

    by_mona = http.post("/chatgpt/prs/label", headers=bearer(mona), json=body)
    by_hubot = http.post("/chatgpt/prs/label", headers=bearer(hubot), json=body)
    label_lists = people.calls("GET", re.compile(r".*/labels$"))
    comment = {"owner": OWNER, "repo": REPO, "number": pr, "body": "Same request id, two people.", "request_id": "r-1"}
    first = http.post("/chatgpt/prs/comment", headers=bearer(mona), json=comment)
    second = http.post("/chatgpt/prs/comment", headers=bearer(hubot), json=comment)

    assert by_mona.status_code == 200 and by_hubot.status_code == 403
    assert sorted(r.actor for r in label_lists) == ["hubot", "mona"]  # each asked GitHub with their own token
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers  # another person's claim is not theirs to replay
    assert [r.actor for r in people.calls("POST", re.compile(r".*/issues/\d+/comments"))] == ["mona", "hubot"]


def test_no_github_user_token_is_stored_in_plain_text(make_settings, people, pr, redis_url):
    import redis

    app = create_app(github_settings(make_settings, redis_url=Secret(redis_url)))
    http = http_for(app)
    tokens = sign_in(people, http, "mona")
    http.post("/chatgpt/prs/list", headers=bearer(tokens), json={"owner": OWNER, "repo": REPO})
    secrets = [token for issued in people.user_tokens("mona")
               for token in (issued.access_token, issued.refresh_token) if token]
    client = redis.Redis.from_url(redis_url)
    stored = b"".join((client.get(key) or b"") for key in client.keys("*") if client.type(key) == b"string")

    assert secrets and len(stored) > 0
    assert not any(secret.encode() in stored for secret in secrets)
    assert b"github_session" in b"".join(client.keys("*"))


def test_a_declined_authorization_at_github_sends_the_client_access_denied(app, people):
    http = http_for(app)
    flow = Flow(http, BASE)
    flow.register()
    _, challenge = pkce()
    page = flow.authorize(challenge=challenge)
    to_github = flow.consent(page, "", decision="github")
    state = parse_qs(urlsplit(to_github.headers["location"]).query)["state"][0]

    back = http.get(f"/oauth/github/callback?error=access_denied&state={state}")

    assert back.status_code == 302
    assert parse_qs(urlsplit(back.headers["location"]).query)["error"] == ["access_denied"]


def test_the_callback_refuses_a_state_from_another_browser(app, people):
    http = http_for(app)
    flow = Flow(http, BASE)
    flow.register()
    _, challenge = pkce()
    to_github = flow.consent(flow.authorize(challenge=challenge), "", decision="github")
    back = people.approve(to_github.headers["location"], "mona")

    elsewhere = http_for(app).get(urlsplit(back).path + "?" + urlsplit(back).query)  # no cookie: another browser

    assert elsewhere.status_code == 403 and "another browser" in elsewhere.text


def test_a_token_about_to_expire_is_renewed_before_it_is_used(app, people, pr):
    import time

    people.user_token_seconds = 1  # renewed past half its life: after half a second
    http = http_for(app)
    tokens = sign_in(people, http, "mona")
    time.sleep(0.6)

    listed = http.post("/chatgpt/prs/list", headers=bearer(tokens), json={"owner": OWNER, "repo": REPO})

    assert listed.status_code == 200
    assert [r.status for r in people.calls("GET", re.compile(r".*/pulls$"))] == [200]  # never refused first
    assert len([r for r in people.requests if r.operation_id == "oauth/access-token"]) == 2


@pytest.mark.one_github_layout
def test_the_sandbox_lets_a_newcomer_sign_in_with_github_as_either_seeded_person():
    from connector.config.settings import Settings
    from connector.ops.sandbox import start_sandbox

    sandbox = start_sandbox(Settings.from_env({}, sandbox=True))
    try:
        assert sandbox.settings.github_sign_in and set(sandbox.people["users"]) == {"mona", "hubot"}
        assert "Sign in with GitHub on the consent page as mona (write) or hubot (read)" in sandbox.banner("http://x")
        base = "http://127.0.0.1:8080"
        http = create_app(sandbox.settings).test_client(base_url=base, follow_redirects=False)
        flow = Flow(http, base)
        assert flow.register().status_code == 201
        verifier, challenge = pkce()
        to_github = flow.consent(flow.authorize(challenge=challenge), "", decision="github")
        back = sandbox.double.approve(to_github.headers["location"], "hubot")
        code = flow.code_from(http.get(urlsplit(back).path + "?" + urlsplit(back).query))["code"]
        tokens = flow.token(grant_type="authorization_code", code=code, redirect_uri=flow.redirect_uri,
                            code_verifier=verifier, resource=f"{base}/mcp").json()
        ISSUED_TOKENS.update({code, tokens["access_token"], tokens["refresh_token"]})
        number = sandbox.demo["open_pulls"][0]

        commented = http.post("/chatgpt/prs/comment", headers=bearer(tokens), json={"number": number, "body": "Hi!"})
        labelled = http.post("/chatgpt/prs/label", headers=bearer(tokens), json={"number": number, "labels": ["bug"]})
    finally:
        for issued in sandbox.double.user_tokens("hubot"):
            ISSUED_TOKENS.update(token for token in (issued.access_token, issued.refresh_token) if token)
        sandbox.stop()

    assert commented.status_code == 201
    assert labelled.status_code == 403 and labelled.json()["code"] == "github_forbidden"


@pytest.mark.one_github_layout
def test_the_sandbox_behind_a_public_url_registers_that_callback_too():
    from connector.config.settings import Settings
    from connector.ops.sandbox import start_sandbox

    sandbox = start_sandbox(Settings.from_env({"PUBLIC_BASE_URL": "https://tunnel.example.com"}, sandbox=True))
    try:
        app = sandbox.double.people.apps[sandbox.people["client_id"]]
        assert app.accepts_callback("https://tunnel.example.com/oauth/github/callback")
        assert app.accepts_callback("http://127.0.0.1:8080/oauth/github/callback")
    finally:
        sandbox.stop()


def test_a_persons_dispatch_record_is_theirs_alone(make_settings, people, pr):
    app = create_app(github_settings(make_settings, oauth_user_scopes=("dispatch", "runs:read")))
    http = http_for(app)
    mona = sign_in(people, http, "mona", scope="dispatch runs:read")
    hubot = sign_in(people, http, "hubot", scope="dispatch runs:read")

    sent = http.post("/chatgpt/dispatch", headers=bearer(mona),
                     json={"owner": OWNER, "repo": REPO, "event_type": "deploy", "request_id": "mine-1"})
    own = http.post("/chatgpt/dispatch/status", headers=bearer(mona),
                    json={"owner": OWNER, "repo": REPO, "request_id": "mine-1"})
    other = http.post("/chatgpt/dispatch/status", headers=bearer(hubot),
                      json={"owner": OWNER, "repo": REPO, "request_id": "mine-1"})

    assert sent.status_code == 202 and [r.actor for r in people.calls("POST", re.compile(r".*/dispatches"))] == ["mona"]
    assert own.status_code == 200 and own.json()["seconds_since_dispatch"] is not None
    assert other.status_code == 404, other.text  # no record of hubot's, and no run named after it


def test_connector_rate_limits_count_each_person_apart(make_settings, people, pr):
    app = create_app(github_settings(make_settings, rate_limit=("2/minute",)))
    http = http_for(app)
    mona, hubot = sign_in(people, http, "mona"), sign_in(people, http, "hubot")
    body = {"owner": OWNER, "repo": REPO}

    monas = [http.post("/chatgpt/prs/list", headers=bearer(mona), json=body).status_code for _ in range(3)]
    hubots = http.post("/chatgpt/prs/list", headers=bearer(hubot), json=body).status_code

    assert monas == [200, 200, 429] and hubots == 200


def test_an_mcp_tool_call_after_github_revoked_the_app_asks_the_client_to_sign_in_again(app, people, pr):
    with http_for(app) as http:
        tokens = sign_in(people, http, "mona")
        people.revoke_user_authorization("mona")
        answer = http.post("/mcp", headers={**bearer(tokens), "Accept": "application/json, text/event-stream"},
                           json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                               "name": "list_pull_requests", "arguments": {"owner": OWNER, "repo": REPO}}})

    result = answer.json()["result"]
    assert result["isError"] is True and "sign in again" in result["content"][0]["text"]
    [challenge] = result["_meta"]["mcp/www_authenticate"]
    assert challenge.startswith(f'Bearer resource_metadata="{BASE}/.well-known/oauth-protected-resource/mcp"')
    assert 'error="invalid_token"' in challenge


def test_without_credentials_of_its_own_the_connector_still_acts_for_people(make_settings, people, pr):
    app = create_app(github_settings(make_settings, github_token=None))
    http = http_for(app)
    tokens = sign_in(people, http, "mona")

    as_mona = http.post("/chatgpt/prs/list", headers=bearer(tokens), json={"owner": OWNER, "repo": REPO})
    with_a_key = app.test_client(base_url=BASE).post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO},
                                                     headers={"Authorization": f"Bearer {API_KEY}"})

    assert as_mona.status_code == 200
    assert with_a_key.status_code == 503 and "signed in with GitHub" in with_a_key.json()["detail"]


def test_an_ip_allowlist_lets_a_persons_browser_reach_the_sign_in_pages_only(make_settings, people):
    import ipaddress

    app = create_app(github_settings(make_settings, ip_allowlist=(ipaddress.ip_network("192.0.2.0/24"),)))
    http = http_for(app)  # the test client's address, testclient, is outside the allowlist

    flow = Flow(http, BASE)
    registered = flow.register()
    page = http.get("/oauth/authorize?client_id=unknown")
    callback = http.get("/oauth/github/callback?state=nothing")
    api = http.post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO})

    assert registered.status_code == 403 and api.status_code == 403  # the assistant's own calls
    assert page.status_code == 400 and "cannot go on" in page.text  # reached: the page itself answers
    assert callback.status_code == 400 and "expired or was already used" in callback.text
