"""Signing in through the embedded OAuth authorization server, and the resource server that accepts
its tokens: discovery, registration, PKCE, consent, tokens, refresh, and every refusal, each refused
before any GitHub call."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from connector.app import create_app
from connector.config.settings import SettingsError
from connector.oauth.signing import SigningKeys
from connector.oauth.tokens import InvalidToken
from connector.types import Secret
from tests.conftest import API_KEY, ISSUED_TOKENS, OWNER, REPO, Clock, keys_file_with
from tests.oauth_client import REDIRECT_URI, Flow, hidden_inputs, pkce, signing_key_pem

BASE = "https://connector.example.com"
PEM = signing_key_pem()
READER_KEY = "reader-key-0123456789abcdef0123"


@pytest.fixture
def oauth_app(make_settings):
    def make(clock=time.time, **overrides):
        settings = make_settings(oauth="embedded", oauth_signing_key=Secret(PEM), public_base_url=BASE, **overrides)
        return create_app(settings, clock=clock)
    return make


@pytest.fixture
def http(oauth_app, double):
    return oauth_app().test_client(base_url=BASE, follow_redirects=False)


@pytest.fixture
def flow(http):
    flow = Flow(http, BASE)
    assert flow.register().status_code == 201
    return flow


def signed_in(flow: Flow, key: str = API_KEY, **kwargs) -> dict:
    tokens = flow.sign_in(key, **kwargs)
    ISSUED_TOKENS.update({tokens["access_token"], tokens["refresh_token"]})  # swept for in every log at the end
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def list_prs(http, token: str):
    return http.post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO}, headers=bearer(token))


def forged(claims: dict, *, key=None, headers=None, algorithm="ES256") -> str:
    """A token like the server's, with ``claims`` changed, signed by ``key`` (the server's by default)."""
    keys = SigningKeys.from_pem(Secret(PEM))
    now = int(time.time())
    body = {"iss": BASE, "sub": "key:x", "aud": f"{BASE}/mcp", "client_id": "c", "scope": "prs:read", "iat": now,
            "nbf": now, "exp": now + 300, "jti": "j", **claims}
    header = {"kid": keys.current.kid, "typ": "at+jwt", **(headers or {})}
    return jwt.encode(body, key if key is not None else keys.current.private_key, algorithm=algorithm, headers=header)


# -- discovery --------------------------------------------------------------------------------------

@pytest.mark.one_github_layout
def test_a_request_without_a_token_is_told_where_to_sign_in(http, double):
    answer = http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})

    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith(
        f'Bearer resource_metadata="{BASE}/.well-known/oauth-protected-resource/mcp", scope="prs:read')
    route = http.post("/chatgpt/prs/comment", json={"owner": OWNER, "repo": REPO, "number": 1, "body": "hi"})
    assert route.status_code == 401
    assert route.headers["www-authenticate"] == (
        f'Bearer resource_metadata="{BASE}/.well-known/oauth-protected-resource", scope="prs:write"')
    assert double.requests == []


@pytest.mark.one_github_layout
def test_the_metadata_documents_name_each_other(http):
    resource = http.get("/.well-known/oauth-protected-resource/mcp").json()
    assert resource["resource"] == f"{BASE}/mcp"
    assert resource["authorization_servers"] == [BASE]
    assert resource["bearer_methods_supported"] == ["header"]
    assert http.get("/.well-known/oauth-protected-resource").json()["resource"] == BASE
    server = http.get("/.well-known/oauth-authorization-server").json()
    assert server["issuer"] == BASE
    assert server["authorization_endpoint"] == f"{BASE}/oauth/authorize"
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert {"none", "client_secret_post"} <= set(server["token_endpoint_auth_methods_supported"])
    assert server["grant_types_supported"] == ["authorization_code", "refresh_token"]
    jwks = http.get("/oauth/jwks.json").json()
    assert [key["kty"] for key in jwks["keys"]] == ["EC"] and "d" not in jwks["keys"][0]


# -- the flow ----------------------------------------------------------------------------------------

def test_signing_in_with_an_api_key_gives_tokens_that_act_as_that_key(flow, http, double, pr):
    tokens = signed_in(flow)

    assert tokens["token_type"] == "Bearer" and tokens["scope"] == "prs:read prs:write"
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["aud"] == f"{BASE}/mcp" and claims["iss"] == BASE and claims["client_id"] == flow.client_id
    assert API_KEY not in json.dumps(claims)
    listed = list_prs(http, tokens["access_token"])
    assert listed.status_code == 200
    assert [pull["number"] for pull in listed.json()["pull_requests"]] == [pr]


@pytest.mark.one_github_layout
def test_a_token_never_gets_more_than_the_key_or_what_was_asked(oauth_app, tmp_path, double, pr):
    keys = keys_file_with(tmp_path / "keys.toml", "reader", READER_KEY, ["prs:read"], repos=[f"{OWNER}/{REPO}"])
    http = oauth_app(keys_file=keys).test_client(base_url=BASE, follow_redirects=False)
    flow = Flow(http, BASE)
    flow.register()

    tokens = signed_in(flow, READER_KEY, scope="prs:read prs:write")

    assert tokens["scope"] == "prs:read"
    refused = http.post("/chatgpt/prs/comment", json={"owner": OWNER, "repo": REPO, "number": pr, "body": "hi"},
                        headers=bearer(tokens["access_token"]))
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
    assert 'scope="prs:write"' in refused.headers["www-authenticate"]
    elsewhere = http.post("/chatgpt/prs/list", json={"owner": OWNER, "repo": "other"},
                          headers=bearer(tokens["access_token"]))
    assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "repo_not_allowed"
    assert [r.method for r in double.requests] == []


@pytest.mark.one_github_layout
def test_a_refresh_token_rotates_and_a_reused_one_ends_the_grant(flow, http, double):
    first = signed_in(flow)
    second = flow.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200
    renewed = second.json()
    ISSUED_TOKENS.update({renewed["access_token"], renewed["refresh_token"]})
    assert renewed["refresh_token"] != first["refresh_token"]

    replayed = flow.token(grant_type="refresh_token", refresh_token=first["refresh_token"])

    assert (replayed.status_code, replayed.json()["error"]) == (400, "invalid_grant")
    after = flow.token(grant_type="refresh_token", refresh_token=renewed["refresh_token"])
    assert after.status_code == 400  # the whole grant ended, the newest refresh token with it


@pytest.mark.one_github_layout
def test_a_code_works_once_and_a_second_use_ends_what_it_opened(flow):
    verifier, challenge = pkce()
    code = flow.code_from(flow.consent(flow.authorize(challenge=challenge), API_KEY))["code"]
    redeem = dict(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier)
    tokens = flow.token(**redeem).json()
    ISSUED_TOKENS.update({tokens["access_token"], tokens["refresh_token"]})

    again = flow.token(**redeem)

    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert flow.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).status_code == 400


@pytest.mark.one_github_layout
def test_denying_sends_the_person_back_with_access_denied(flow):
    page = flow.authorize(challenge=pkce()[1])
    back = flow.code_from(flow.consent(page, "", decision="deny"))
    assert (back["error"], back["state"]) == ("access_denied", "state-123")
    assert "code" not in back


# -- refusals at the authorization and token endpoints --------------------------------------------

@pytest.mark.parametrize(("challenge", "method", "words"), [
    (None, None, "PKCE is required"),
    ("x" * 43, "plain", "S256"),
])
@pytest.mark.one_github_layout
def test_pkce_is_required_and_only_s256(flow, challenge, method, words):
    answer = flow.authorize(challenge=challenge, method=method)
    back = flow.code_from(answer)  # the client and redirect URI are known, so the error goes back to it
    assert back["error"] == "invalid_request" and words in back["error_description"]


@pytest.mark.one_github_layout
def test_a_wrong_verifier_gets_no_token(flow):
    _, challenge = pkce()
    code = flow.code_from(flow.consent(flow.authorize(challenge=challenge), API_KEY))["code"]
    answer = flow.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI,
                        code_verifier=pkce()[0])
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize("redirect", [
    "https://evil.example/connector/oauth/x",
    "https://chatgpt.com.evil.example/connector/oauth/x",
    "https://chatgpt.com@evil.example/connector/oauth/x",
    "https://chatgpt.com/connector/oauth/x/../../../elsewhere",
    "http://chatgpt.com/connector/oauth/x",
])
@pytest.mark.one_github_layout
def test_registration_refuses_redirects_the_operator_does_not_allow(http, redirect):
    answer = Flow(http, BASE, redirect_uri=redirect).register()
    assert answer.status_code == 400
    assert answer.json()["error"] in ("invalid_redirect_uri", "invalid_client_metadata")


@pytest.mark.one_github_layout
def test_an_unregistered_redirect_gets_an_error_page_never_a_redirect(flow):
    answer = flow.authorize(challenge=pkce()[1], redirect_uri="https://chatgpt.com/connector/oauth/other")
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert "not set up for this connector" in answer.text


@pytest.mark.one_github_layout
def test_an_unknown_client_gets_an_error_page(http):
    answer = Flow(http, BASE, client_id="no-such-client").authorize(challenge=pkce()[1])
    assert answer.status_code == 400 and "location" not in answer.headers


@pytest.mark.one_github_layout
def test_the_consent_form_needs_the_cookie_its_page_set(flow, http):
    page = flow.authorize(challenge=pkce()[1])
    fields = {**hidden_inputs(page.text), "api_key": API_KEY, "decision": "allow"}
    http.cookies.clear()  # a form posted from another site carries no cookie of ours
    forged_post = http.post("/oauth/authorize", data=fields)
    assert forged_post.status_code == 403 and "location" not in forged_post.headers


@pytest.mark.one_github_layout
def test_a_wrong_key_on_the_consent_page_can_be_retried_a_few_times(flow):
    page = flow.authorize(challenge=pkce()[1])
    for _ in range(4):
        page = flow.consent(page, "not-the-key")
        assert page.status_code == 401 and "not valid" in page.text
    assert "Too many wrong keys" in flow.consent(page, "not-the-key").text


@pytest.mark.one_github_layout
def test_the_consent_page_cannot_be_framed_and_loads_nothing(flow):
    page = flow.authorize(challenge=pkce()[1])
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "form-action 'self' https://chatgpt.com" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script" not in page.text
    assert "Comment on pull requests" in page.text and "chatgpt.com" in page.text


@pytest.mark.one_github_layout
def test_registration_is_rate_limited_per_address(http):
    answers = [Flow(http, BASE).register().status_code for _ in range(21)]
    assert answers[:20] == [201] * 20 and answers[20] == 429


# -- refusals at the resource server ------------------------------------------------------------------

@pytest.mark.parametrize(("case", "token"), [
    ("expired", lambda: forged({"exp": int(time.time()) - 120, "iat": int(time.time()) - 600})),
    ("not yet valid", lambda: forged({"nbf": int(time.time()) + 600})),
    ("another issuer", lambda: forged({"iss": "https://evil.example"})),
    ("another audience", lambda: forged({"aud": "https://other.example/mcp"})),
    ("another key", lambda: forged({}, key=ec.generate_private_key(ec.SECP256R1()))),
    ("not an access token", lambda: forged({}, headers={"typ": "JWT"})),
    ("alg none", lambda: _unsigned({"iss": BASE, "aud": f"{BASE}/mcp", "sub": "key:x", "exp": int(time.time()) + 60})),
    ("HMAC with the public key", lambda: _hmac_with_public_key()),
], ids=lambda value: value if isinstance(value, str) else "")
@pytest.mark.one_github_layout
def test_a_token_this_server_did_not_issue_for_itself_is_refused(http, double, case, token):
    answer = list_prs(http, token())

    assert answer.status_code == 401, case
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    assert double.requests == []


def test_a_token_stops_working_when_its_key_is_removed(oauth_app, tmp_path, double):
    keys = keys_file_with(tmp_path / "keys.toml", "reader", READER_KEY, ["prs:read"])
    clock = Clock()
    http = oauth_app(keys_file=keys, clock=clock).test_client(base_url=BASE, follow_redirects=False)
    flow = Flow(http, BASE)
    flow.register()
    tokens = signed_in(flow, READER_KEY, scope="prs:read")
    assert list_prs(http, tokens["access_token"]).status_code == 200

    keys_file_with(keys, "newcomer", "newcomer-key-0123456789abcdef", ["prs:read"])  # the operator rotates it out
    later = time.time() + 5
    os.utime(keys, (later, later))

    clock.advance(1.1)  # the keys file is re-read at most once a second

    assert list_prs(http, tokens["access_token"]).status_code == 401
    assert flow.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).status_code == 400


def test_api_keys_can_be_refused_on_mcp_only(oauth_app, double):
    http = oauth_app(mcp_api_keys=False).test_client(base_url=BASE, follow_redirects=False)
    on_mcp = http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=bearer(API_KEY))
    assert on_mcp.status_code == 401 and "OAuth" in on_mcp.json()["detail"]
    assert http.post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO}, headers=bearer(API_KEY)).status_code == 200


# -- settings -------------------------------------------------------------------------------------------

@pytest.mark.one_github_layout
def test_the_embedded_server_needs_a_signing_key_and_an_https_issuer_outside_the_sandbox(make_settings):
    with pytest.raises(SettingsError, match="CONNECTOR_OAUTH_SIGNING_KEY_FILE"):
        make_settings(oauth="embedded", public_base_url=BASE)
    with pytest.raises(SettingsError, match="PUBLIC_BASE_URL"):
        make_settings(oauth="embedded", oauth_signing_key=Secret(PEM), public_base_url="http://connector.example.com")
    assert make_settings(oauth="embedded", oauth_signing_key=Secret(PEM),
                         public_base_url="http://127.0.0.1:8080").oauth_mode == "embedded"


def _unsigned(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none', 'typ': 'at+jwt'})}.{part(claims)}."


def _hmac_with_public_key() -> str:
    """The classic confusion: HS256 keyed with the server's public key, which anyone can fetch."""
    keys = SigningKeys.from_pem(Secret(PEM))
    public = keys.current.private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                                serialization.PublicFormat.SubjectPublicKeyInfo)

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    head = part({"alg": "HS256", "typ": "at+jwt", "kid": keys.current.kid})
    body = part({"iss": BASE, "aud": f"{BASE}/mcp", "sub": "key:x", "exp": int(time.time()) + 60, "iat": 0})
    signature = hmac.new(public, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"



def test_the_audit_log_names_the_client_and_the_grant_never_the_token(oauth_app, double, pr, tmp_path):
    from tests.conftest import LOG_DIR

    audit = LOG_DIR / f"oauth-audit-{time.time_ns()}.log"
    http = oauth_app(audit_log=audit).test_client(base_url=BASE, follow_redirects=False)
    flow = Flow(http, BASE)
    flow.register()
    tokens = signed_in(flow)

    http.post("/chatgpt/prs/comment", json={"owner": OWNER, "repo": REPO, "number": pr, "body": "Signed in, never logged"},
              headers=bearer(tokens["access_token"]))

    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    grant = jwt.decode(tokens["access_token"], options={"verify_signature": False})["grant"]
    written = [line for line in lines if line.get("operation") == "comment_on_pull_request"]
    assert [(line["key"], line["oauth_client"], line["grant"], line["status"]) for line in written] == [
        ("key-1", flow.client_id, grant, 201)]
    assert tokens["access_token"] not in audit.read_text() and tokens["refresh_token"] not in audit.read_text()


# -- pre-registered clients, several instances, revocation ------------------------------------------

@pytest.mark.one_github_layout
def test_a_client_the_operator_added_signs_in_with_its_secret(oauth_app, tmp_path, double, make_settings):
    from connector.ops.oauth_admin import new_client_entry

    printed = new_client_entry(make_settings(), "My GPT", ["https://chatgpt.com/aip/g-123/oauth/callback"], public=False)
    client_id = re.search(r"client id: +(\S+)", printed).group(1)
    secret = re.search(r"client secret: +(\S+)", printed).group(1)
    clients_file = tmp_path / "clients.toml"
    clients_file.write_text(printed[printed.index("[[clients]]"):])
    http = oauth_app(oauth_clients_file=clients_file).test_client(base_url=BASE, follow_redirects=False)
    flow = Flow(http, BASE, client_id=client_id, redirect_uri="https://chatgpt.com/aip/g-123/oauth/callback")
    verifier, challenge = pkce()
    code = flow.code_from(flow.consent(flow.authorize(challenge=challenge), API_KEY))["code"]
    redeem = dict(grant_type="authorization_code", code=code, redirect_uri=flow.redirect_uri, code_verifier=verifier)

    without_secret = flow.token(**redeem)
    with_secret = flow.token(**redeem, client_secret=secret)

    assert (without_secret.status_code, without_secret.json()["error"]) == (401, "invalid_client")
    assert with_secret.status_code == 200
    ISSUED_TOKENS.update({with_secret.json()["access_token"], with_secret.json()["refresh_token"], secret})


def test_a_sign_in_started_on_one_instance_finishes_on_another_and_can_be_revoked(make_settings, double, redis_url):
    from connector.ops.oauth_admin import revoke

    settings = make_settings(oauth="embedded", oauth_signing_key=Secret(PEM), public_base_url=BASE,
                             redis_url=Secret(redis_url))
    first = create_app(settings).test_client(base_url=BASE, follow_redirects=False)
    second = create_app(settings).test_client(base_url=BASE, follow_redirects=False)
    flow = Flow(first, BASE)
    flow.register()
    verifier, challenge = pkce()
    code = flow.code_from(flow.consent(flow.authorize(challenge=challenge), API_KEY))["code"]

    tokens = Flow(second, BASE, client_id=flow.client_id).token(
        grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier).json()
    ISSUED_TOKENS.update({tokens["access_token"], tokens["refresh_token"]})
    assert list_prs(first, tokens["access_token"]).status_code == 200

    grant = jwt.decode(tokens["access_token"], options={"verify_signature": False})["grant"]
    assert revoke(settings, grant=grant) == 1
    refreshed = flow.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert (refreshed.status_code, refreshed.json()["error"]) == (400, "invalid_grant")


@pytest.mark.one_github_layout
def test_revoking_every_sign_in_of_a_key(make_settings, double, redis_url):
    from connector.ops.oauth_admin import revoke

    settings = make_settings(oauth="embedded", oauth_signing_key=Secret(PEM), public_base_url=BASE,
                             redis_url=Secret(redis_url))
    flow = Flow(create_app(settings).test_client(base_url=BASE, follow_redirects=False), BASE)
    flow.register()
    sessions = [signed_in(flow), signed_in(flow)]

    assert revoke(settings, key="key-1") >= 2
    for tokens in sessions:
        assert flow.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).status_code == 400


@pytest.mark.one_github_layout
def test_the_served_schema_offers_the_sign_in_beside_the_api_key(http):
    from openapi_spec_validator import validate

    served = http.get("/openapi.json").json()

    validate(served)
    flow = served["components"]["securitySchemes"]["oauth"]["flows"]["authorizationCode"]
    assert (flow["authorizationUrl"], flow["tokenUrl"]) == (f"{BASE}/oauth/authorize", f"{BASE}/oauth/token")
    assert served["paths"]["/chatgpt/prs/comment"]["post"]["security"] == [{"bearerAuth": ["prs:write"]},
                                                                          {"oauth": ["prs:write"]}]


@pytest.mark.one_github_layout
def test_connector_check_reports_the_oauth_setup(tmp_path):
    from connector.ops.doctor import run_checks

    key_file = tmp_path / "oauth.pem"
    key_file.write_text(PEM)
    key_file.chmod(0o600)
    environ = {"CONNECTOR_API_KEY": API_KEY, "CONNECTOR_OAUTH": "embedded", "PUBLIC_BASE_URL": BASE,
               "CONNECTOR_OAUTH_SIGNING_KEY_FILE": str(key_file)}
    checks = {check.name: check for check in run_checks(environ)}

    assert checks["OAuth signing key"].status == "ok" and "ES256" in checks["OAuth signing key"].detail
    assert "https://chatgpt.com/connector/oauth/*" in checks["OAuth redirect URIs"].detail
    assert checks["OAuth sign-ins"].status == "warn"  # no Redis: one process's memory
    key_file.write_text("not a key")
    assert {check.name: check for check in run_checks(environ)}["settings"].status == "ok"
    assert {check.name: check for check in run_checks(environ)}["OAuth signing key"].status == "fail"


@pytest.mark.one_github_layout
def test_a_tool_call_refused_for_scope_carries_the_challenge_for_chatgpt(oauth_app, tmp_path, double, pr):
    keys = keys_file_with(tmp_path / "keys.toml", "reader", READER_KEY, ["prs:read"])
    app = oauth_app(keys_file=keys)
    with app.test_client(base_url=BASE, follow_redirects=False) as http:
        flow = Flow(http, BASE)
        flow.register()
        tokens = signed_in(flow, READER_KEY, scope="prs:read")
        answer = http.post("/mcp", headers={**bearer(tokens["access_token"]), "Accept": "application/json, text/event-stream"},
                           json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                               "name": "comment_on_pull_request",
                               "arguments": {"owner": OWNER, "repo": REPO, "number": pr, "body": "hi"}}})

    result = answer.json()["result"]
    assert result["isError"] is True and "insufficient_scope" in result["content"][0]["text"]
    [challenge] = result["_meta"]["mcp/www_authenticate"]
    assert challenge.startswith(f'Bearer resource_metadata="{BASE}/.well-known/oauth-protected-resource/mcp"')
    assert 'error="insufficient_scope"' in challenge and 'scope="prs:write"' in challenge
    assert double.requests == []


@pytest.mark.one_github_layout
def test_the_discovery_documents_are_valid_by_their_rfcs(http):
    from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

    server = http.get("/.well-known/oauth-authorization-server").json()
    AuthorizationServerMetadata(server).validate()  # RFC 8414's checks, as Authlib implements them
    for path, resource in (("/.well-known/oauth-protected-resource", BASE),
                           ("/.well-known/oauth-protected-resource/mcp", f"{BASE}/mcp")):
        document = http.get(path).json()
        assert document["resource"] == resource  # RFC 9728 3.3: the resource the client asked about
        assert document["authorization_servers"] == [server["issuer"]]
        assert set(document["scopes_supported"]) == set(server["scopes_supported"])


def test_a_remembered_token_is_checked_again_once_it_expires():
    """The cache of verified tokens: a token is checked once, then found, until its exp (plus the
    leeway) passes on the verifier's clock, when it is checked again (and an expired one refused)."""
    from connector.oauth.tokens import AccessToken, EmbeddedVerifier, RememberingVerifier, TokenIssuer

    keys = SigningKeys.from_pem(Secret(PEM))
    token = TokenIssuer(keys, lifetime=60).issue(issuer=BASE, subject="key:x", client_id="c", scopes=["prs:read"],
                                                 audience=f"{BASE}/mcp", grant_id="g", key_name="k")

    class Counting:
        def __init__(self) -> None:
            self.checked, self.inner = 0, EmbeddedVerifier(keys)

        def verify(self, presented: str, base_url: str) -> AccessToken:
            self.checked += 1
            return self.inner.verify(presented, base_url)

    now, counting = [time.time()], Counting()
    remembering = RememberingVerifier(counting, clock=lambda: now[0])
    assert remembering.verify(token, BASE).grant_id == "g"
    assert remembering.verify(token, BASE).grant_id == "g"
    assert counting.checked == 1  # the second request found it
    now[0] += 60 + 31  # past its exp and the leeway, on the verifier's clock
    remembering.verify(token, BASE)
    assert counting.checked == 2
    with pytest.raises(InvalidToken):
        remembering.verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), BASE)  # never taken for it


@pytest.mark.one_github_layout
def test_behind_a_trusted_proxy_registrations_are_counted_per_forwarded_address(oauth_app, double):
    import ipaddress

    import requests

    from tests.conftest import LiveServer

    app = oauth_app(trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),))
    body = {"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none", "client_name": "ChatGPT"}
    with LiveServer(app) as server:
        def register(address: str) -> int:
            return requests.post(f"{server.url}/oauth/register", json=body, timeout=10,
                                 headers={"X-Forwarded-For": address}).status_code

        first = [register("203.0.113.1") for _ in range(21)]
        other = register("203.0.113.2")

    assert first[:20] == [201] * 20 and first[20] == 429
    assert other == 201  # the proxy's other callers are not held to the first one's limit
