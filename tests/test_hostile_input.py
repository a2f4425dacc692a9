"""Hostile input, tried on every operation: whatever it is, the answer is a 4xx problem document
and the GitHub double sees no request at all.

Path-shaped owners and repositories, unicode look-alikes, oversized and deeply nested bodies,
duplicate keys, wrong content types, huge label lists, and CR/LF (header injection) in every
string that could end up in a URL, a header or a name.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import API_KEY, OWNER, REPO

# Every operation that takes a body, with a valid body for it (pull request 1 need not exist:
# nothing here may get as far as asking GitHub).
OPERATIONS = {
    "/chatgpt/dispatch": {"owner": OWNER, "repo": REPO, "event_type": "deploy"},
    "/chatgpt/prs/list": {"owner": OWNER, "repo": REPO},
    "/chatgpt/prs/comment": {"owner": OWNER, "repo": REPO, "number": 1, "body": "hi"},
    "/chatgpt/prs/label": {"owner": OWNER, "repo": REPO, "number": 1, "labels": ["bug"]},
    "/v1/dispatch": {"action": "deploy", "args": {"env": "staging"}},
}
WITH_REPOSITORY = [path for path, body in OPERATIONS.items() if "owner" in body]

BAD_OWNERS = [
    "../etc", "..", "a/b", "a b", " octo-org", "%2e%2e", "%2F", "-leading", "trailing-", "a" * 40,
    "owner\n", "owner\r\nX-Injected: 1", "a\x00b",
    "ówner", "оcto-org",  # Cyrillic о, a look-alike of o
    "ｏcto-org",  # fullwidth
    "",
]
BAD_REPOS = [
    ".", "..", "../..", "a/b", "x%2fy", "%2e%2e", "a b", "r" * 101, "repo?x=1", "repo#frag", "repo\r\nX: 1",
    "wеbapp",  # Cyrillic е
    "",
]


def post(client, path, body=None, *, content=None, headers=None):
    """POST with the right credentials for the route: a bearer key, or x-api-key on /v1/."""
    merged = {"x-api-key": API_KEY} if path.startswith("/v1/") else {}
    merged.update(headers or {})
    if content is None:
        return client.post(path, json=body, headers=merged)
    return client.post(path, content=content, headers={"Content-Type": "application/json", **merged})


@pytest.fixture
def hostile_client(make_client, double):
    return make_client(default_repo=(OWNER, REPO))


def assert_refused(response, double, status=None):
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if status is not None:
        assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == response.status_code and problem["code"] and problem["detail"]
    assert double.requests == []
    return problem


@pytest.mark.parametrize("path", WITH_REPOSITORY)
@pytest.mark.parametrize("owner", BAD_OWNERS)
@pytest.mark.one_github_layout
def test_path_shaped_owner_is_refused_without_a_github_call(hostile_client, double, path, owner):
    problem = assert_refused(post(hostile_client, path, {**OPERATIONS[path], "owner": owner}), double, 400)
    assert problem["errors"][0]["path"] == "$.owner"


@pytest.mark.parametrize("path", WITH_REPOSITORY)
@pytest.mark.parametrize("repo", BAD_REPOS)
@pytest.mark.one_github_layout
def test_path_shaped_repo_is_refused_without_a_github_call(hostile_client, double, path, repo):
    problem = assert_refused(post(hostile_client, path, {**OPERATIONS[path], "repo": repo}), double, 400)
    assert problem["errors"][0]["path"] == "$.repo"


@pytest.mark.one_github_layout
def test_the_gateway_route_takes_no_repository_at_all(hostile_client, double):
    problem = assert_refused(post(hostile_client, "/v1/dispatch", {**OPERATIONS["/v1/dispatch"], "repo": "../x"}),
                             double, 400)
    assert problem["errors"][0]["path"] == "$.repo"


@pytest.mark.parametrize("path", OPERATIONS)
@pytest.mark.one_github_layout
def test_an_oversized_body_is_413_before_anything_reads_it(hostile_client, double, path):
    body = json.dumps({**OPERATIONS[path], "padding": "x" * 2_000_000})

    problem = assert_refused(post(hostile_client, path, content=body), double, 413)
    assert problem["code"] == "payload_too_large"


@pytest.mark.parametrize("path", OPERATIONS)
@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml",
])
@pytest.mark.one_github_layout
def test_a_body_that_is_not_json_is_415(hostile_client, double, path, content_type):
    response = post(hostile_client, path, content=json.dumps(OPERATIONS[path]), headers={"Content-Type": content_type})

    assert assert_refused(response, double, 415)["code"] == "unsupported_media_type"


@pytest.mark.parametrize("path", OPERATIONS)
@pytest.mark.parametrize("depth", [64, 20_000])  # 20,000 is past any recursion limit, within 64 KiB
@pytest.mark.one_github_layout
def test_deeply_nested_json_is_refused(hostile_client, double, path, depth):
    body = json.dumps(OPERATIONS[path])[:-1] + ', "nested": ' + "[" * depth + "]" * depth + "}"

    assert_refused(post(hostile_client, path, content=body), double, 400)


@pytest.mark.parametrize("path", OPERATIONS)
@pytest.mark.one_github_layout
def test_duplicate_keys_are_refused(hostile_client, double, path):
    first_key = next(iter(OPERATIONS[path]))
    body = json.dumps(OPERATIONS[path])[:-1] + f', "{first_key}": {json.dumps(OPERATIONS[path][first_key])}}}'

    problem = assert_refused(post(hostile_client, path, content=body), double, 400)
    assert "appears twice" in problem["detail"]


@pytest.mark.parametrize("path", OPERATIONS)
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.one_github_layout
def test_non_standard_numbers_are_refused(hostile_client, double, path, literal):
    body = json.dumps(OPERATIONS[path])[:-1] + f', "n": {literal}}}'

    assert_refused(post(hostile_client, path, content=body), double, 400)


@pytest.mark.parametrize("path", OPERATIONS)
@pytest.mark.parametrize("content", [b"", b"null", b"[]", b'"text"', b"{", b"\xff\xfe{}"])
@pytest.mark.one_github_layout
def test_bodies_that_are_not_an_object_are_refused(hostile_client, double, path, content):
    assert_refused(post(hostile_client, path, content=content), double, 400)


@pytest.mark.parametrize("labels", [
    [f"label-{i}" for i in range(5_000)],
    ["bug"] * 21,
    ["x" * 51],
    [""],
    [" bug"],
    ["bug\r\nX-Injected: 1"],
    ["bug\x85"],  # a C1 control (NEL): whitespace to Python, not to ECMA-262, so named explicitly
    [["nested"]],
])
@pytest.mark.one_github_layout
def test_huge_or_malformed_label_lists_are_refused(hostile_client, double, labels):
    problem = assert_refused(post(hostile_client, "/chatgpt/prs/label", {**OPERATIONS["/chatgpt/prs/label"],
                                                                         "labels": labels}), double, 400)
    assert problem["errors"][0]["path"].startswith("$.labels")


INJECTION = "x\r\nX-Injected: 1"
# Every string field that names something (and so could reach a URL, a header or a workflow's
# `types:` match). Free text — a comment body, a client_payload value — may hold line breaks: it
# only ever travels inside a JSON body.
NAMED_STRINGS = [
    ("/chatgpt/dispatch", "owner"), ("/chatgpt/dispatch", "repo"), ("/chatgpt/dispatch", "event_type"),
    ("/chatgpt/dispatch", "request_id"),
    ("/chatgpt/prs/list", "owner"), ("/chatgpt/prs/list", "repo"), ("/chatgpt/prs/list", "state"),
    ("/chatgpt/prs/list", "base"), ("/chatgpt/prs/list", "head"), ("/chatgpt/prs/list", "sort"),
    ("/chatgpt/prs/list", "direction"),
    ("/chatgpt/prs/comment", "owner"), ("/chatgpt/prs/comment", "repo"),
    ("/chatgpt/prs/label", "owner"), ("/chatgpt/prs/label", "repo"),
    ("/v1/dispatch", "action"), ("/v1/dispatch", "request_id"),
]


@pytest.mark.parametrize(("path", "field"), NAMED_STRINGS)
@pytest.mark.one_github_layout
def test_line_breaks_in_any_named_string_are_refused(hostile_client, double, path, field):
    response = post(hostile_client, path, {**OPERATIONS[path], field: INJECTION})

    problem = assert_refused(response, double, 400)
    assert problem["errors"][0]["path"] == f"$.{field}"
    assert "x-injected" not in {name.lower() for name in response.headers}


def test_line_breaks_in_a_comment_stay_text_in_the_json_body(hostile_client, double):
    number = double.add_pull(OWNER, REPO, title="x", head="x")
    double.clear_requests()

    response = post(hostile_client, "/chatgpt/prs/comment", {"number": number, "body": "line one\r\nX-Injected: 1"})

    assert response.status_code == 201
    assert double.comments(OWNER, REPO, number)[-1]["body"] == "line one\r\nX-Injected: 1"
    assert all("X-Injected" not in str(request.headers) for request in double.requests)


@pytest.mark.parametrize("path", OPERATIONS)
@pytest.mark.one_github_layout
def test_numbers_where_strings_belong_and_wrong_types_everywhere_are_refused(hostile_client, double, path):
    body = {key: ({"$gt": ""} if isinstance(value, str) else "1; DROP TABLE") for key, value in OPERATIONS[path].items()}

    assert_refused(post(hostile_client, path, body), double, 400)


@pytest.mark.parametrize("header", ["authorization", "x-api-key"])
def test_credentials_sent_twice_are_refused_before_authentication(hostile_client, double, header):
    headers = [("authorization", f"Bearer {API_KEY}")] if header == "x-api-key" else []
    headers += [(header, f"Bearer {API_KEY}" if header == "authorization" else API_KEY), (header, "Bearer other")]

    response = hostile_client.post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO}, headers=headers)

    assert response.status_code == 400
    assert response.json()["errors"] == [{"path": f"header {header}", "message": "was sent more than once; send it once"}]
    assert double.requests == []


@pytest.mark.parametrize("method, path", [("POST", "/chatgpt/prs/list/"), ("GET", "/health/"), ("POST", "/mcp/"),
                                          ("GET", "/openapi.json/"), ("GET", "/.well-known/oauth-protected-resource/")])
def test_a_trailing_slash_is_not_found_never_a_redirect_to_the_callers_host(hostile_client, double, method, path):
    response = hostile_client.request(method, path, json={"owner": OWNER, "repo": REPO}, follow_redirects=False,
                                      headers={"Host": "attacker.example", "Authorization": f"Bearer {API_KEY}"})

    assert response.status_code == 404 and "location" not in response.headers
    assert response.json()["code"] == "not_found" and "attacker" not in response.text
    assert double.requests == []
