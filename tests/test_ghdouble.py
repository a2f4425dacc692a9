"""Tests of the GitHub double itself, over real HTTP.

The rest of the suite trusts the double to behave like GitHub, so these tests pin the
behaviours the connector depends on (auth, pagination, label creation, schema checks,
faults) and check the double's own responses against GitHub's published schemas.
"""

from __future__ import annotations

import threading
import time
from http.client import HTTPConnection
from urllib.parse import urlsplit

import github
import pytest
import requests

from connector.ghdouble import GitHubDouble, RecordedRequest, seed_demo
from connector.ghdouble.schemas import load_schemas
from tests.demo_double import AUTH, NAME, OWNER, demo_gh, demo_http, demo_shared  # noqa: F401 (fixtures)


def repo_url(gh: GitHubDouble, tail: str = "") -> str:
    return f"{gh.url}/repos/{OWNER}/{NAME}{tail}"


# -- auth and common headers ---------------------------------------------------------------
def test_requests_without_valid_token_are_refused(gh: GitHubDouble) -> None:
    for headers in ({}, {"Authorization": "token wrong"}, {"Authorization": "Basic dGVzdA=="}):
        r = requests.get(repo_url(gh), headers=headers)
        assert r.status_code == 401
        assert r.json()["message"] == "Bad credentials"
        assert "documentation_url" in r.json()
    assert requests.get(repo_url(gh), headers={"Authorization": "Bearer test-token"}).ok
    assert [c.status for c in gh.calls("GET")] == [401, 401, 401, 200]
    assert gh.requests[1].headers["authorization"] == "<redacted>"


def test_token_none_needs_no_auth() -> None:
    with GitHubDouble(token=None) as double:
        double.add_repo("o", "r")
        assert requests.get(f"{double.url}/repos/o/r").status_code == 200


def test_github_headers_on_every_response(gh: GitHubDouble, http: requests.Session) -> None:
    first, second = http.get(repo_url(gh)), http.get(repo_url(gh, "/nope"))
    assert first.headers["x-github-request-id"] != second.headers["x-github-request-id"]
    assert first.headers["x-ratelimit-limit"] == "5000"
    assert int(first.headers["x-ratelimit-remaining"]) == int(second.headers["x-ratelimit-remaining"]) + 1
    assert int(second.headers["x-ratelimit-used"]) == 5000 - int(second.headers["x-ratelimit-remaining"])
    assert int(first.headers["x-ratelimit-reset"]) > time.time()
    assert first.headers["x-ratelimit-resource"] == "core"
    assert first.headers["content-type"] == "application/json; charset=utf-8"
    assert int(first.headers["content-length"]) == len(first.content)


def test_http11_keep_alive_serves_several_requests_on_one_connection(gh: GitHubDouble) -> None:
    parts = urlsplit(gh.url)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        for tail in ("", "/pulls", "/issues/6"):
            conn.request("GET", f"/repos/{OWNER}/{NAME}{tail}", headers=AUTH)
            response = conn.getresponse()
            assert response.version == 11 and response.status == 200
            assert len(response.read()) == int(response.headers["content-length"])
        conn.request("POST", f"/repos/{OWNER}/{NAME}/dispatches", body=b'{"event_type":"x"}',
                     headers=AUTH)
        response = conn.getresponse()
        assert response.status == 204 and response.read() == b""
    finally:
        conn.close()


# -- repos ---------------------------------------------------------------------------------
def test_get_repo_is_case_insensitive_and_answers_stored_casing(gh: GitHubDouble,
                                                                http: requests.Session) -> None:
    r = http.get(f"{gh.url}/repos/OCTO-Demo/Hello-CONNECTOR")
    assert r.status_code == 200
    data = r.json()
    assert data["full_name"] == f"{OWNER}/{NAME}" and data["owner"]["login"] == OWNER
    assert data["url"] == repo_url(gh) and data["html_url"] == f"https://github.com/{OWNER}/{NAME}"
    assert data["default_branch"] == "main" and data["private"] is False
    assert data["permissions"]["push"] is True
    assert data["open_issues_count"] == 4  # 3 open PRs + 1 open issue, as GitHub counts
    assert http.get(f"{gh.url}/repos/{OWNER}/missing").status_code == 404


def test_dispatch_records_event_and_answers_204(gh: GitHubDouble, http: requests.Session) -> None:
    r = http.post(repo_url(gh, "/dispatches"),
                  json={"event_type": "deploy", "client_payload": {"env": "prod"}})
    assert r.status_code == 204 and r.content == b"" and r.headers["content-length"] == "0"
    http.post(repo_url(gh, "/dispatches"), json={"event_type": "ping"})
    assert gh.dispatches(OWNER, NAME) == [
        {"event_type": "deploy", "client_payload": {"env": "prod"}},
        {"event_type": "ping", "client_payload": None}]
    missing = http.post(f"{gh.url}/repos/{OWNER}/nope/dispatches", json={"event_type": "x"})
    assert missing.status_code == 404 and missing.json()["message"] == "Not Found"


@pytest.mark.parametrize("body", [{}, {"event_type": 5}, {"event_type": ""},
                                  {"event_type": "x", "client_payload": "not-an-object"}])
def test_invalid_dispatch_body_is_422_and_recorded(gh: GitHubDouble, http: requests.Session,
                                                   body: dict) -> None:
    r = http.post(repo_url(gh, "/dispatches"), json=body)
    assert r.status_code == 422
    assert r.json()["message"].startswith("Invalid request.\n\n")
    assert "documentation_url" in r.json()
    [bad] = gh.nonconforming()
    assert bad.operation_id == "repos/create-dispatch-event" and bad.status == 422
    assert bad.schema_errors and bad.schema_errors[0] in r.json()["message"]
    assert gh.dispatches(OWNER, NAME) == []


def test_missing_field_message_reads_like_github(gh: GitHubDouble, http: requests.Session) -> None:
    r = http.post(repo_url(gh, "/dispatches"), json={"client_payload": {}})
    assert r.json()["message"] == 'Invalid request.\n\n"event_type" wasn\'t supplied.'


def test_malformed_json_is_400(gh: GitHubDouble, http: requests.Session) -> None:
    r = http.post(repo_url(gh, "/dispatches"), data=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["message"] == "Problems parsing JSON"
    assert gh.nonconforming()[0].raw_body == b"{nope"


# -- pulls ---------------------------------------------------------------------------------
def test_list_pulls_filters_and_sorts(gh: GitHubDouble, http: requests.Session) -> None:
    def numbers(**params: str) -> list[int]:
        r = http.get(repo_url(gh, "/pulls"), params=params)
        assert r.status_code == 200, r.text
        return [p["number"] for p in r.json()]

    assert numbers() == [5, 4, 3]  # open, newest first
    assert numbers(state="closed") == [2, 1]
    assert numbers(state="all", direction="asc") == [1, 2, 3, 4, 5]
    assert numbers(head="hubot:readme-typo") == [4]
    assert numbers(head=f"{OWNER}:retry-backoff") == [3]
    assert numbers(base="develop") == []
    assert not gh.nonconforming()


def test_list_pulls_item_shape(gh: GitHubDouble, http: requests.Session) -> None:
    items = {p["number"]: p for p in http.get(repo_url(gh, "/pulls")).json()}
    assert items[5]["draft"] is True and items[3]["draft"] is False
    assert {label["name"] for label in items[3]["labels"]} == {"enhancement", "needs-review"}
    assert items[4]["head"]["label"] == "hubot:readme-typo" and items[4]["head"]["repo"]["fork"]
    assert items[3]["head"]["ref"] == "retry-backoff" and items[3]["base"]["ref"] == "main"
    assert items[3]["issue_url"] == repo_url(gh, "/issues/3")
    assert "merged" not in items[3]  # the list endpoint omits it; PyGithub lazily completes
    assert len({p["user"]["login"] for p in items.values()}) == 3


def test_pagination_link_header(gh: GitHubDouble, http: requests.Session) -> None:
    for i in range(2):
        gh.add_pull(OWNER, NAME, title=f"extra {i}", user="octocat", head=f"extra-{i}")
    first = http.get(repo_url(gh, "/pulls"), params={"state": "all", "per_page": 3})
    assert len(first.json()) == 3
    assert set(first.links) == {"next", "last"}
    assert first.links["next"]["url"] == repo_url(gh, "/pulls?state=all&per_page=3&page=2")
    assert first.links["last"]["url"].endswith("page=3")
    assert first.headers["link"] == (f'<{repo_url(gh, "/pulls?state=all&per_page=3&page=2")}>; '
                                     f'rel="next", <{repo_url(gh, "/pulls?state=all&per_page=3&page=3")}>'
                                     '; rel="last"')
    middle = http.get(first.links["next"]["url"])
    assert set(middle.links) == {"prev", "next", "last", "first"}
    last = http.get(first.links["last"]["url"])
    assert [p["number"] for p in last.json()] == [1]
    assert "next" not in last.links and set(last.links) == {"prev", "first"}
    seen = [p["number"] for r in (first, middle, last) for p in r.json()]
    assert seen == [8, 7, 5, 4, 3, 2, 1]  # #6 is the demo's plain issue
    single = http.get(repo_url(gh, "/pulls"))
    assert "link" not in single.headers


def test_per_page_is_capped_at_100(gh: GitHubDouble, http: requests.Session) -> None:
    for i in range(101):
        gh.add_issue(OWNER, NAME, title=f"bulk {i}")
        gh.state.ensure_label(gh.state.repo(OWNER, NAME), f"l{i:03d}")
    r = http.get(repo_url(gh, "/labels"), params={"per_page": 500})
    assert len(r.json()) == 100 and "next" in r.links


def test_get_pull_and_its_404s(gh: GitHubDouble, http: requests.Session) -> None:
    pr = http.get(repo_url(gh, "/pulls/1")).json()
    assert pr["merged"] is True and pr["state"] == "closed" and pr["merged_at"]
    assert pr["merged_by"]["login"] == OWNER and pr["merge_commit_sha"]
    assert http.get(repo_url(gh, "/pulls/5")).json()["mergeable_state"] == "draft"
    assert http.get(repo_url(gh, "/pulls/6")).status_code == 404  # #6 is a plain issue
    assert http.get(repo_url(gh, "/pulls/42")).status_code == 404
    assert http.get(repo_url(gh, "/pulls/abc")).status_code == 404


# -- issues, comments, labels --------------------------------------------------------------
def test_issue_has_pull_request_key_only_for_pulls(gh: GitHubDouble, http: requests.Session) -> None:
    issue = http.get(repo_url(gh, "/issues/6")).json()
    assert "pull_request" not in issue and issue["html_url"].endswith("/issues/6")
    assert [label["name"] for label in issue["labels"]] == ["documentation", "good first issue"]
    pull = http.get(repo_url(gh, "/issues/1")).json()
    assert pull["pull_request"]["url"] == repo_url(gh, "/pulls/1")
    assert pull["pull_request"]["html_url"] == f"https://github.com/{OWNER}/{NAME}/pull/1"
    assert pull["pull_request"]["merged_at"] == http.get(repo_url(gh, "/pulls/1")).json()["merged_at"]
    assert http.get(repo_url(gh, "/issues/99")).status_code == 404


def test_create_comment_on_pull_and_issue(gh: GitHubDouble, http: requests.Session) -> None:
    r = http.post(repo_url(gh, "/issues/3/comments"), json={"body": "LGTM"})
    assert r.status_code == 201
    comment = r.json()
    assert comment["html_url"] == f"https://github.com/{OWNER}/{NAME}/pull/3#issuecomment-{comment['id']}"
    assert comment["user"]["login"] == "connector-bot" and comment["body"] == "LGTM"
    assert comment["issue_url"] == repo_url(gh, "/issues/3")
    assert r.headers["location"] == comment["url"]
    on_issue = http.post(repo_url(gh, "/issues/6/comments"), json={"body": "ok"}).json()
    assert "/issues/6#issuecomment-" in on_issue["html_url"] and on_issue["id"] != comment["id"]
    assert [c["body"] for c in gh.comments(OWNER, NAME, 3)] == ["LGTM"]
    assert http.get(repo_url(gh, "/issues/3")).json()["comments"] == 1
    assert http.post(repo_url(gh, "/issues/77/comments"), json={"body": "x"}).status_code == 404


def test_blank_comment_is_rejected_like_github(gh: GitHubDouble, http: requests.Session) -> None:
    r = http.post(repo_url(gh, "/issues/3/comments"), json={"body": "   "})
    assert r.status_code == 422 and r.json()["message"] == "Validation Failed"
    assert gh.comments(OWNER, NAME, 3) == []
    assert not gh.nonconforming()  # schema-valid; GitHub's business rule refused it
    missing = http.post(repo_url(gh, "/issues/3/comments"), json={"text": "hi"})
    assert missing.status_code == 422 and len(gh.nonconforming()) == 1


def test_add_labels_creates_unknown_and_returns_all(gh: GitHubDouble, http: requests.Session) -> None:
    r = http.post(repo_url(gh, "/issues/3/labels"), json={"labels": ["BUG", "triage/needed"]})
    assert r.status_code == 200
    assert [label["name"] for label in r.json()] == ["bug", "enhancement", "needs-review", "triage/needed"]
    created = next(label for label in r.json() if label["name"] == "triage/needed")
    assert created["color"] == "ededed" and created["default"] is False
    assert created["description"] is None
    assert created["url"] == repo_url(gh, "/labels/triage/needed")
    assert "triage/needed" in gh.repo_labels(OWNER, NAME)
    assert gh.repo_labels(OWNER, NAME).count("bug") == 1  # matched case-insensitively
    assert gh.labels_on(OWNER, NAME, 3) == ["bug", "enhancement", "needs-review", "triage/needed"]


def test_add_labels_accepts_bare_array_like_pygithub_sends(gh: GitHubDouble,
                                                          http: requests.Session) -> None:
    r = http.post(repo_url(gh, "/issues/6/labels"), json=["bug"])
    assert r.status_code == 200 and "bug" in [label["name"] for label in r.json()]
    assert not gh.nonconforming()
    assert http.post(repo_url(gh, "/issues/6/labels"), json={"labels": []}).status_code == 422


def test_suggested_labels_are_parked_not_applied(gh: GitHubDouble, http: requests.Session) -> None:
    body = {"labels": ["bug", {"name": "security", "suggest": True, "confidence": "high"}]}
    r = http.post(repo_url(gh, "/issues/6/labels"), json=body)
    assert r.status_code == 200
    assert "security" not in [label["name"] for label in r.json()]
    assert gh.suggestions(OWNER, NAME, 6) == [{"name": "security", "suggest": True, "confidence": "high"}]
    assert "security" not in gh.repo_labels(OWNER, NAME)
    assert gh.labels_on(OWNER, NAME, 6) == ["bug", "documentation", "good first issue"]


def test_list_repo_labels(gh: GitHubDouble, http: requests.Session) -> None:
    r = http.get(repo_url(gh, "/labels"))
    names = [label["name"] for label in r.json()]
    assert names == ["bug", "documentation", "enhancement", "good first issue", "needs-review"]
    assert r.json()[0]["description"] == "Something isn't working"
    page2 = http.get(repo_url(gh, "/labels"), params={"per_page": 2, "page": 2})
    assert [label["name"] for label in page2.json()] == ["enhancement", "good first issue"]
    assert set(page2.links) == {"prev", "next", "last", "first"}


# -- recording and schema conformance ------------------------------------------------------
def test_recorded_request_fields_and_filters(gh: GitHubDouble, http: requests.Session) -> None:
    http.get(repo_url(gh, "/pulls"), params={"state": "all"}, headers={"X-Trace": "abc"})
    http.post(repo_url(gh, "/issues/6/comments"), json={"body": "hi"})
    get, post = gh.requests
    assert isinstance(get, RecordedRequest)
    assert (get.method, get.path, get.query) == ("GET", f"/repos/{OWNER}/{NAME}/pulls", {"state": "all"})
    assert get.operation_id == "pulls/list" and get.status == 200 and get.body is None
    assert get.headers["x-trace"] == "abc" and get.headers["authorization"] == "<redacted>"
    assert post.body == {"body": "hi"} and post.raw_body == b'{"body": "hi"}' and post.status == 201
    assert gh.calls("post") == [post]
    assert gh.calls(path=f"/repos/{OWNER}/{NAME}/pulls") == [get]
    gh.clear_requests()
    assert gh.requests == []


def test_unknown_query_parameter_is_nonconforming(gh: GitHubDouble, http: requests.Session) -> None:
    r = http.get(repo_url(gh, "/pulls"), params={"state": "open", "labels": "bug"})
    assert r.status_code == 422
    [bad] = gh.nonconforming()
    assert "labels" in bad.schema_errors[0] and bad.query == {"state": "open", "labels": "bug"}
    assert http.get(repo_url(gh, "/pulls"), params={"state": "merged"}).status_code == 422


def test_unknown_route_is_404_and_recorded(gh: GitHubDouble, http: requests.Session) -> None:
    r = http.delete(repo_url(gh, "/issues/6/labels/bug"))
    assert r.status_code == 404 and r.json()["message"] == "Not Found"
    [bad] = gh.nonconforming()
    assert bad.operation_id is None and "no such route" in bad.schema_errors[0]


SCHEMA_CASES = [
    ("pulls/list", "GET", "/pulls?state=all", None, 200),
    ("pulls/get", "GET", "/pulls/1", None, 200),
    ("pulls/get", "GET", "/pulls/4", None, 200),
    ("repos/get", "GET", "", None, 200),
    ("issues/get", "GET", "/issues/6", None, 200),
    ("issues/get", "GET", "/issues/3", None, 200),
    ("issues/create-comment", "POST", "/issues/3/comments", {"body": "hello"}, 201),
    ("issues/add-labels", "POST", "/issues/6/labels", {"labels": ["bug", "brand-new"]}, 200),
    ("issues/list-labels-for-repo", "GET", "/labels", None, 200),
    ("issues/get", "GET", "/issues/404", None, 404),
]


@pytest.mark.parametrize(("op_id", "method", "tail", "body", "status"), SCHEMA_CASES)
def test_double_responses_match_githubs_schemas(gh: GitHubDouble, http: requests.Session, op_id: str,
                                                method: str, tail: str, body: dict | None,
                                                status: int) -> None:
    r = http.request(method, repo_url(gh, tail), json=body)
    assert r.status_code == status
    assert gh.requests[-1].operation_id == op_id
    assert load_schemas().check_response(op_id, status, r.json()) == []


def test_schema_check_would_catch_a_dishonest_response() -> None:
    errors = load_schemas().check_response("issues/get", 200, {"number": "1", "user": None})
    assert any("number" in e for e in errors) and any("required" in e for e in errors)


# -- faults ---------------------------------------------------------------------------------
def test_fail_next_status_json_headers_and_times(gh: GitHubDouble, http: requests.Session) -> None:
    gh.fail_next("GET", r"/repos/[^/]+/[^/]+/pulls", status=502, json={"message": "boom"},
                 headers={"X-Extra": "1"}, times=2)
    for _ in range(2):
        r = http.get(repo_url(gh, "/pulls"))
        assert (r.status_code, r.json(), r.headers["x-extra"]) == (502, {"message": "boom"}, "1")
        assert "x-github-request-id" in r.headers
    assert http.get(repo_url(gh, "/pulls")).status_code == 200
    assert [c.status for c in gh.calls("GET")] == [502, 502, 200]
    assert http.get(repo_url(gh)).status_code == 200  # other paths untouched


def test_primary_rate_limit(gh: GitHubDouble, http: requests.Session) -> None:
    gh.rate_limit_primary("GET", r".*/pulls", reset_in=120)
    r = http.get(repo_url(gh, "/pulls"))
    assert r.status_code == 403 and r.json()["message"] == "API rate limit exceeded for user ID 1."
    assert r.headers["x-ratelimit-remaining"] == "0"
    assert 100 < int(r.headers["x-ratelimit-reset"]) - time.time() <= 121
    assert http.get(repo_url(gh, "/pulls")).status_code == 200


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_rate_limit(gh: GitHubDouble, http: requests.Session, status: int) -> None:
    gh.rate_limit_secondary("POST", r".*/comments", retry_after=7, status=status)
    r = http.post(repo_url(gh, "/issues/3/comments"), json={"body": "x"})
    assert r.status_code == status and r.headers["retry-after"] == "7"
    assert "secondary rate limit" in r.json()["message"]
    assert gh.comments(OWNER, NAME, 3) == []


def test_forbid(gh: GitHubDouble, http: requests.Session) -> None:
    gh.forbid("POST", r".*/labels", permission="issues=write")
    r = http.post(repo_url(gh, "/issues/3/labels"), json={"labels": ["bug"]})
    assert r.status_code == 403
    assert r.json()["message"] == "Resource not accessible by personal access token"
    assert r.headers["x-accepted-github-permissions"] == "issues=write"
    assert "bug" not in gh.labels_on(OWNER, NAME, 3)


def test_fault_delay_then_normal_answer(gh: GitHubDouble, http: requests.Session) -> None:
    gh.fail_next("GET", r".*", delay=1.0)  # long enough that a busy machine cannot blur the two
    started = time.monotonic()
    r = http.get(repo_url(gh))
    assert r.status_code == 200 and time.monotonic() - started >= 1.0
    started = time.monotonic()
    http.get(repo_url(gh))
    assert time.monotonic() - started < 1.0


def test_fault_drop_closes_connection(gh: GitHubDouble) -> None:
    gh.fail_next("POST", r".*/dispatches", drop=True)
    with pytest.raises(requests.ConnectionError):
        requests.post(repo_url(gh, "/dispatches"), json={"event_type": "x"}, headers=AUTH)
    assert gh.requests[-1].status == 0 and gh.dispatches(OWNER, NAME) == []
    assert requests.post(repo_url(gh, "/dispatches"), json={"event_type": "x"}, headers=AUTH).status_code == 204


def test_faulted_request_is_still_schema_checked(gh: GitHubDouble, http: requests.Session) -> None:
    gh.fail_next("POST", r".*", status=500)
    r = http.post(repo_url(gh, "/dispatches"), json={"event_type": 1})
    assert r.status_code == 500 and r.json()["message"] == "Internal Server Error"
    [bad] = gh.nonconforming()
    assert bad.status == 500 and bad.schema_errors


def test_latency_applies_to_every_response() -> None:
    with GitHubDouble(latency=0.15) as double:
        started = time.monotonic()
        requests.get(f"{double.url}/nothing", headers=AUTH)
        requests.get(f"{double.url}/nothing")
        assert time.monotonic() - started >= 0.3


def test_reset_clears_everything(gh: GitHubDouble, http: requests.Session) -> None:
    gh.fail_next("GET", r".*", status=500)
    gh.reset()
    assert gh.requests == [] and gh.state.find(OWNER, NAME) is None
    assert http.get(repo_url(gh)).status_code == 404  # the fault is gone too


# -- deployment modes ------------------------------------------------------------------------
def test_enterprise_prefix_mode() -> None:
    with GitHubDouble(prefix="/api/v3") as double:
        seed_demo(double)
        assert double.url.endswith("/api/v3")
        headers = AUTH
        base = f"{double.url}/repos/{OWNER}/{NAME}"
        assert requests.get(base, headers=headers).json()["url"] == base
        r = requests.get(f"{base}/pulls", params={"per_page": 1}, headers=headers)
        assert r.links["next"]["url"].startswith(f"{double.url}/repos/")
        assert double.requests[-1].path == f"/repos/{OWNER}/{NAME}/pulls"
        root = double.url.removesuffix("/api/v3")
        outside = requests.get(f"{root}/repos/{OWNER}/{NAME}", headers=headers)
        assert outside.status_code == 404 and double.nonconforming()


def test_seed_demo_describes_what_it_made() -> None:
    with GitHubDouble() as double:
        info = seed_demo(double)
        state = double.state.repo(info["owner"], info["repo"])
        open_pulls = [i for i in state.issues.values() if i.pull and i.state == "open"]
        assert sorted(info["open_pulls"]) == sorted(i.number for i in open_pulls) and len(open_pulls) == 3
        assert sum(i.pull.draft for i in open_pulls) == 1
        assert len({i.user for i in open_pulls}) == 3 and any(i.labels for i in open_pulls)
        closed = [i for i in state.issues.values() if i.pull and i.state == "closed"]
        assert len(closed) == 2 and sum(i.pull.merged_at is not None for i in closed) == 1
        assert state.issues[info["issue"]].pull is None
        assert set(double.repo_labels(OWNER, NAME)) == {
            "bug", "enhancement", "documentation", "good first issue", "needs-review"}


def test_concurrent_writes_are_safe(gh: GitHubDouble) -> None:
    def post(i: int) -> None:
        with requests.Session() as s:
            for j in range(5):
                assert s.post(repo_url(gh, "/issues/6/comments"), json={"body": f"{i}-{j}"},
                              headers=AUTH).status_code == 201
    threads = [threading.Thread(target=post, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    comments = gh.comments(OWNER, NAME, 6)
    assert len(comments) == 40 and len({c["id"] for c in comments}) == 40
    assert len(gh.requests) == 40


def test_stop_does_not_hang_on_idle_keep_alive_connections() -> None:
    double = GitHubDouble().start()
    session = requests.Session()
    session.get(f"{double.url}/x", headers=AUTH)  # leaves a pooled, idle connection open
    started = time.monotonic()
    double.stop()
    session.close()
    assert time.monotonic() - started < 2


def test_pygithub_talks_to_the_double(gh: GitHubDouble) -> None:
    client = github.Github(base_url=gh.url, auth=github.Auth.Token("test-token"), per_page=2,
                           retry=None, seconds_between_requests=0, seconds_between_writes=0)
    repo = client.get_repo(f"{OWNER}/{NAME}")
    assert [p.number for p in repo.get_pulls(state="all")] == [5, 4, 3, 2, 1]
    pull = repo.get_pull(3)
    pull.create_issue_comment("from PyGithub")
    pull.add_to_labels("bug")
    repo.create_repository_dispatch("deploy", {"sha": "abc"})
    assert repo.get_issue(6).pull_request is None and repo.get_issue(3).pull_request is not None
    assert gh.labels_on(OWNER, NAME, 3) == ["bug", "enhancement", "needs-review"]
    assert gh.dispatches(OWNER, NAME) == [{"event_type": "deploy", "client_payload": {"sha": "abc"}}]
    assert [c["body"] for c in gh.comments(OWNER, NAME, 3)] == ["from PyGithub"]
    assert gh.nonconforming() == []
