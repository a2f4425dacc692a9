"""The double's GitHub GraphQL API, over real HTTP: the connector's pull request query answered from
seeded facts, GitHub's verdicts (reviewDecision, statusCheckRollup, mergeStateStatus), GitHub's
error shapes (NOT_FOUND, a field not in GitHub's schema, bad credentials), people's sight of
private repositories, and Enterprise Server's ``/api/graphql``.
"""

from __future__ import annotations

from typing import Any

import github
import pytest
import requests
from graphql import parse, validate

from connector.ghdouble import GitHubDouble
from connector.ghdouble.graphql import SCHEMA_FILE, load_schema
from connector.ghdouble.schemas import load_schemas
from connector.github.pull_query import PULL_REQUEST_QUERY  # the query the connector sends

OWNER, NAME = "octo-org", "webapp"
TOKEN = "graphql-tests-token"
AUTH = {"Authorization": f"bearer {TOKEN}"}


@pytest.fixture(scope="module")
def shared() -> Any:
    with GitHubDouble(token=TOKEN) as double:
        yield double


@pytest.fixture
def gh(shared: GitHubDouble) -> GitHubDouble:
    shared.reset()
    shared.add_repo(OWNER, NAME)
    return shared


def ask(double: GitHubDouble, query: str = PULL_REQUEST_QUERY, headers: dict[str, str] | None = None,
        **variables: Any) -> requests.Response:
    return requests.post(f"{double.url}/graphql", json={"query": query, "variables": variables},
                         headers=AUTH if headers is None else headers, timeout=5)


def pull(double: GitHubDouble, number: int, files: int = 100, **kwargs: Any) -> dict[str, Any]:
    answer = ask(double, owner=OWNER, name=NAME, number=number, files=files, **kwargs)
    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    return answer.json()["data"]["repository"]["issueOrPullRequest"]


def test_the_connector_s_query_validates_against_github_s_schema_as_shipped() -> None:
    assert validate(load_schema(), parse(PULL_REQUEST_QUERY)) == []
    assert "@octokit/graphql-schema@15.26.1" in SCHEMA_FILE.read_text(encoding="utf-8").splitlines()[0]


def test_the_pull_request_query_answers_with_the_seeded_facts(gh: GitHubDouble) -> None:
    number = gh.add_pull(OWNER, NAME, title="Add caching", user="mona", labels=["bug", "enhancement"],
                         head="mona:cache", body=None)
    gh.set_pull_details(OWNER, NAME, number, body="Caches the index.", author_association="first_time_contributor",
                        additions=120, deletions=7, files=["src/cache.py", "tests/test_cache.py"],
                        requested_reviewers=["hubot", "dependabot[bot]"], requested_teams=["core"])
    gh.add_review(OWNER, NAME, number, "octocat", "APPROVED")
    gh.add_check_run(OWNER, NAME, number, "build")
    gh.add_commit_status(OWNER, NAME, number, "ci/lint", "success")
    gh.clear_requests()

    pr = pull(gh, number)

    assert {k: pr[k] for k in ("__typename", "number", "title", "body", "state", "isDraft", "merged", "url",
                               "author", "authorAssociation", "baseRefName", "headRefName", "mergeable",
                               "mergeStateStatus", "reviewDecision", "additions", "deletions",
                               "changedFiles")} == {
        "__typename": "PullRequest", "number": number, "title": "Add caching", "body": "Caches the index.",
        "state": "OPEN", "isDraft": False, "merged": False, "url": f"https://github.com/{OWNER}/{NAME}/pull/{number}",
        "author": {"login": "mona"}, "authorAssociation": "FIRST_TIME_CONTRIBUTOR", "baseRefName": "main",
        "headRefName": "cache", "mergeable": "MERGEABLE", "mergeStateStatus": "CLEAN", "reviewDecision": "APPROVED",
        "additions": 120, "deletions": 7, "changedFiles": 2}
    assert pr["createdAt"].endswith("Z") and pr["updatedAt"] > pr["createdAt"]
    assert pr["labels"] == {"totalCount": 2, "nodes": [{"name": "bug"}, {"name": "enhancement"}]}
    assert pr["reviewRequests"] == {"totalCount": 3, "nodes": [
        {"requestedReviewer": {"__typename": "User", "login": "hubot"}},
        {"requestedReviewer": {"__typename": "Bot", "login": "dependabot"}},
        {"requestedReviewer": {"__typename": "Team", "slug": "core"}}]}
    assert pr["files"] == {"totalCount": 2, "nodes": [{"path": "src/cache.py"}, {"path": "tests/test_cache.py"}]}
    commit = pr["commits"]["nodes"][0]["commit"]
    assert len(commit["oid"]) == 40
    assert commit["statusCheckRollup"] == {"state": "SUCCESS", "contexts": {"totalCount": 2, "nodes": [
        {"__typename": "CheckRun", "name": "build", "status": "COMPLETED", "conclusion": "SUCCESS"},
        {"__typename": "StatusContext", "context": "ci/lint", "state": "SUCCESS"}]}}
    [call] = gh.calls("POST", "/graphql")
    assert gh.requests == [call] and call.schema_errors == []
    assert call.body["variables"]["number"] == number


def test_the_rest_pull_request_tells_the_same_facts(gh: GitHubDouble) -> None:
    number = gh.add_pull(OWNER, NAME, title="Add caching", user="mona")
    gh.set_pull_details(OWNER, NAME, number, author_association="NONE", additions=3, deletions=1,
                        files=["a.py", "b.py", "c.py"], mergeable="conflicting",
                        requested_reviewers=["hubot"], requested_teams=["core"])
    got = requests.get(f"{gh.url}/repos/{OWNER}/{NAME}/pulls/{number}", headers=AUTH, timeout=5)
    body = got.json()

    assert load_schemas().check_response("pulls/get", 200, body) == []
    assert [u["login"] for u in body["requested_reviewers"]] == ["hubot"]
    assert [t["slug"] for t in body["requested_teams"]] == ["core"]
    assert (body["additions"], body["deletions"], body["changed_files"]) == (3, 1, 3)
    assert (body["mergeable"], body["mergeable_state"], body["author_association"]) == (False, "dirty", "NONE")
    assert pull(gh, number)["mergeStateStatus"] == "DIRTY"


@pytest.mark.parametrize(("reviews", "decision"), [
    ([], "REVIEW_REQUIRED"),
    ([("hubot", "COMMENTED")], "REVIEW_REQUIRED"),
    ([("hubot", "APPROVED")], "APPROVED"),
    ([("hubot", "APPROVED"), ("hubot", "COMMENTED")], "APPROVED"),  # a comment does not undo a verdict
    ([("hubot", "CHANGES_REQUESTED"), ("hubot", "APPROVED")], "APPROVED"),  # the latest verdict counts
    ([("hubot", "APPROVED"), ("mona", "CHANGES_REQUESTED")], "CHANGES_REQUESTED"),
    ([("mona", "CHANGES_REQUESTED"), ("mona", "DISMISSED")], "REVIEW_REQUIRED"),
])
def test_review_decision_counts_each_reviewer_s_latest_decisive_review(gh: GitHubDouble, reviews, decision) -> None:
    number = gh.add_pull(OWNER, NAME, title="Reviewed")
    for login, state in reviews:
        gh.add_review(OWNER, NAME, number, login, state)
    pr = pull(gh, number)
    assert pr["reviewDecision"] == decision
    assert pr["mergeStateStatus"] == ("CLEAN" if decision == "APPROVED" else "BLOCKED")


def test_a_requested_reviewer_who_reviews_is_no_longer_requested(gh: GitHubDouble) -> None:
    number = gh.add_pull(OWNER, NAME, title="Reviewed")
    gh.set_pull_details(OWNER, NAME, number, requested_reviewers=["hubot", "mona"])
    gh.add_review(OWNER, NAME, number, "hubot", "commented")
    assert pull(gh, number)["reviewRequests"]["nodes"] == [
        {"requestedReviewer": {"__typename": "User", "login": "mona"}}]


def test_a_300_file_pull_request_answers_the_first_50_paths_and_the_total(gh: GitHubDouble) -> None:
    number = gh.add_pull(OWNER, NAME, title="Big")
    gh.set_pull_details(OWNER, NAME, number, files=[f"src/module_{i:03}.py" for i in range(300)])

    pr = pull(gh, number, files=50)

    assert pr["changedFiles"] == pr["files"]["totalCount"] == 300
    assert [node["path"] for node in pr["files"]["nodes"]] == [f"src/module_{i:03}.py" for i in range(50)]


def _location_of(text: str) -> dict[str, int]:
    """Where ``text`` starts in the connector's query, as GraphQL counts (from 1)."""
    for line, content in enumerate(PULL_REQUEST_QUERY.split("\n"), 1):
        if text in content:
            return {"line": line, "column": content.index(text) + 1}
    raise AssertionError(f"{text!r} is not in the query")


def test_more_than_100_files_at_once_is_refused_as_github_refuses_it(gh: GitHubDouble) -> None:
    number = gh.add_pull(OWNER, NAME, title="Big")
    answer = ask(gh, owner=OWNER, name=NAME, number=number, files=300).json()
    assert answer["errors"] == [{"type": "EXCESSIVE_PAGINATION",
                                 "path": ["repository", "issueOrPullRequest", "files"],
                                 "locations": [_location_of("files(first: $files)")],
                                 "message": "Requesting 300 records on the `files` connection exceeds the `first` "
                                            "limit of 100 records."}]


@pytest.mark.parametrize(("checks", "statuses", "rollup", "merge_state"), [
    ([], [], None, "CLEAN"),
    ([("build", "completed", "success"), ("docs", "completed", "skipped")], [("ci", "success")], "SUCCESS", "CLEAN"),
    ([("build", "in_progress", None)], [("ci", "success")], "PENDING", "UNSTABLE"),
    ([("build", "completed", "success")], [("ci", "pending")], "PENDING", "UNSTABLE"),
    ([("build", "in_progress", None), ("lint", "completed", "failure")], [], "FAILURE", "UNSTABLE"),
    ([("build", "completed", "timed_out")], [("ci", "pending")], "FAILURE", "UNSTABLE"),
    ([], [("ci", "error")], "FAILURE", "UNSTABLE"),
])
def test_the_check_rollup_is_failure_then_pending_then_success(gh: GitHubDouble, checks, statuses, rollup,
                                                               merge_state) -> None:
    number = gh.add_pull(OWNER, NAME, title="Checked")
    gh.add_review(OWNER, NAME, number, "hubot", "APPROVED")
    for name, status, conclusion in checks:
        gh.add_check_run(OWNER, NAME, number, name, status, conclusion)
    for context, state in statuses:
        gh.add_commit_status(OWNER, NAME, number, context, state)

    pr = pull(gh, number)

    found = pr["commits"]["nodes"][0]["commit"]["statusCheckRollup"]
    assert (found and found["state"]) == rollup
    assert pr["mergeStateStatus"] == merge_state
    assert (found["contexts"]["totalCount"] if found else 0) == len(checks) + len(statuses)


def test_the_latest_check_run_per_name_and_status_per_context_count(gh: GitHubDouble) -> None:
    number = gh.add_pull(OWNER, NAME, title="Re-run")
    gh.add_check_run(OWNER, NAME, number, "build", "completed", "failure")
    gh.add_check_run(OWNER, NAME, number, "build", "completed", "success")
    gh.add_commit_status(OWNER, NAME, number, "ci", "failure")
    gh.add_commit_status(OWNER, NAME, number, "ci", "success")
    rollup = pull(gh, number)["commits"]["nodes"][0]["commit"]["statusCheckRollup"]
    assert rollup["state"] == "SUCCESS" and rollup["contexts"]["totalCount"] == 2


def test_draft_closed_and_merged_pull_requests_say_so(gh: GitHubDouble) -> None:
    draft = gh.add_pull(OWNER, NAME, title="Draft", draft=True)
    closed = gh.add_pull(OWNER, NAME, title="Closed", state="closed")
    merged = gh.add_pull(OWNER, NAME, title="Merged", merged=True)
    assert {k: pull(gh, draft)[k] for k in ("isDraft", "state", "mergeStateStatus")} == {
        "isDraft": True, "state": "OPEN", "mergeStateStatus": "DRAFT"}
    assert {k: pull(gh, closed)[k] for k in ("state", "merged", "mergeable", "mergeStateStatus")} == {
        "state": "CLOSED", "merged": False, "mergeable": "UNKNOWN", "mergeStateStatus": "UNKNOWN"}
    assert {k: pull(gh, merged)[k] for k in ("state", "merged")} == {"state": "MERGED", "merged": True}


def test_a_plain_issue_number_is_an_issue(gh: GitHubDouble) -> None:
    number = gh.add_issue(OWNER, NAME, title="Crash on start")
    assert pull(gh, number) == {"__typename": "Issue"}


def test_what_is_not_there_is_not_found_in_github_s_shape(gh: GitHubDouble) -> None:
    issue = gh.add_issue(OWNER, NAME, title="Crash on start")
    missing_repo = ask(gh, owner=OWNER, name="nope", number=1, files=10).json()
    missing_number = ask(gh, owner=OWNER, name=NAME, number=999, files=10).json()
    by_pull_request = ask(gh, 'query($n: Int!) { repository(owner: "octo-org", name: "webapp") '
                              '{ pullRequest(number: $n) { number } } }', n=issue).json()

    assert missing_repo == {"data": {"repository": None}, "errors": [{
        "type": "NOT_FOUND", "path": ["repository"], "locations": [{"line": 3, "column": 3}],
        "message": f"Could not resolve to a Repository with the name '{OWNER}/nope'."}]}
    assert missing_number == {"data": {"repository": {"isPrivate": False, "issueOrPullRequest": None}}, "errors": [{
        "type": "NOT_FOUND", "path": ["repository", "issueOrPullRequest"], "locations": [{"line": 5, "column": 5}],
        "message": "Could not resolve to an issue or pull request with the number of 999."}]}
    assert by_pull_request == {"data": {"repository": {"pullRequest": None}}, "errors": [{
        "type": "NOT_FOUND", "path": ["repository", "pullRequest"], "locations": [{"line": 1, "column": 67}],
        "message": f"Could not resolve to a PullRequest with the number of {issue}."}]}
    assert [r.schema_errors for r in gh.requests] == [[], [], []]  # valid queries, answered


def test_pygithub_s_graphql_query_raises_unknown_object_for_not_found(gh: GitHubDouble) -> None:
    client = github.Github(base_url=gh.url, auth=github.Auth.Token(TOKEN), retry=None)
    with pytest.raises(github.UnknownObjectException):
        client.requester.graphql_query(PULL_REQUEST_QUERY, {"owner": OWNER, "name": "nope", "number": 1, "files": 1})


def test_a_field_not_in_github_s_schema_is_refused_with_github_s_error(gh: GitHubDouble) -> None:
    query = PULL_REQUEST_QUERY.replace("isPrivate", "isPrivate isSecret")
    answer = ask(gh, query, owner=OWNER, name=NAME, number=1, files=1)

    assert answer.status_code == 200
    assert answer.json() == {"errors": [{
        "path": ["query PullRequest", "repository", "isSecret"],
        "extensions": {"code": "undefinedField", "typeName": "Repository", "fieldName": "isSecret"},
        "locations": [{"line": 4, "column": 15}], "message": "Field 'isSecret' doesn't exist on type 'Repository'"}]}
    assert gh.requests[-1].schema_errors == ["Field 'isSecret' doesn't exist on type 'Repository'"]


def test_other_mistakes_are_refused_before_anything_runs(gh: GitHubDouble) -> None:
    number = gh.add_pull(OWNER, NAME, title="x")
    unused = ask(gh, "query Q($x: Int) { viewer { login } }").json()
    no_number = ask(gh, owner=OWNER, name=NAME, files=1).json()
    broken = ask(gh, "query { repository(owner: \"o\", name: \"r\") { isPrivate ").json()
    no_query = requests.post(f"{gh.url}/graphql", json={"variables": {}}, headers=AUTH, timeout=5).json()
    no_bounds = ask(gh, 'query($n: Int!) { repository(owner: "octo-org", name: "webapp") '
                        '{ pullRequest(number: $n) { files { totalCount } } } }', n=number).json()

    assert unused["errors"][0]["message"] == "Variable $x is declared by Q but not used"
    assert no_number == {"errors": [{
        "extensions": {"value": None, "problems": [{"path": [], "explanation": "Expected value to not be null"}]},
        "locations": [{"line": 2, "column": 52}], "message": "Variable $number of type Int! was provided invalid value"}]}
    assert "data" not in broken and broken["errors"][0]["locations"] == [{"line": 1, "column": 55}]
    assert no_query == {"errors": [{"message": "A query attribute must be specified and must be a string."}]}
    assert no_bounds["errors"][0]["type"] == "MISSING_PAGINATION_BOUNDARIES"


def test_bad_or_missing_credentials_are_401(gh: GitHubDouble) -> None:
    bad = ask(gh, headers={"Authorization": "bearer wrong"}, owner=OWNER, name=NAME, number=1, files=1)
    none = ask(gh, headers={}, owner=OWNER, name=NAME, number=1, files=1)
    assert bad.status_code == none.status_code == 401
    assert bad.json() == {"message": "Bad credentials", "documentation_url": "https://docs.github.com/graphql"}
    assert none.json()["message"] == "This endpoint requires you to be authenticated."
    assert [r.status for r in gh.calls("POST", "/graphql")] == [401, 401]


def test_a_private_repository_is_not_found_for_a_person_who_cannot_see_it(gh: GitHubDouble) -> None:
    gh.add_repo(OWNER, "vault", private=True)
    number = gh.add_pull(OWNER, "vault", title="Rotate keys")
    gh.register_oauth_app("Iv23liGraphQL", "graphql-client-secret-0123456789", ["https://c.example/cb"])
    gh.add_user("eve")
    gh.add_user("hubot", permissions={f"{OWNER}/vault": "read"})
    app = gh.people.apps["Iv23liGraphQL"]
    eve, hubot = (gh.people.issue(app, login, "").access_token for login in ("eve", "hubot"))

    hidden = ask(gh, headers={"Authorization": f"bearer {eve}"}, owner=OWNER, name="vault", number=number, files=1)
    seen = ask(gh, headers={"Authorization": f"bearer {hubot}"}, owner=OWNER, name="vault", number=number, files=1)

    assert hidden.json()["data"] == {"repository": None}
    assert hidden.json()["errors"][0]["type"] == "NOT_FOUND"
    assert hidden.json()["errors"][0]["message"] == f"Could not resolve to a Repository with the name '{OWNER}/vault'."
    assert seen.json()["data"]["repository"]["isPrivate"] is True
    assert [r.actor for r in gh.calls("POST", "/graphql")] == ["eve", "hubot"]


def test_faults_apply_to_graphql_too(gh: GitHubDouble) -> None:
    gh.fail_next("POST", "/graphql", status=502)
    assert ask(gh, owner=OWNER, name=NAME, number=1, files=1).status_code == 502
    assert ask(gh, owner=OWNER, name=NAME, number=1, files=1).status_code == 200


def test_every_field_the_double_serves_resolves(gh: GitHubDouble) -> None:
    number = gh.add_pull(OWNER, NAME, title="All of it", labels=["bug"])
    gh.set_pull_details(OWNER, NAME, number, requested_reviewers=["hubot"], requested_teams=["core"])
    gh.add_review(OWNER, NAME, number, "mona", "APPROVED")
    gh.add_check_run(OWNER, NAME, number, "build")
    gh.add_commit_status(OWNER, NAME, number, "ci", "success", description="fine")
    query = """query($number: Int!) {
      viewer { login }
      repository(owner: "octo-org", name: "webapp") {
        name nameWithOwner url owner { login }
        issueOrPullRequest(number: $number) {
          ... on Issue { number title body state url createdAt updatedAt closed author { login } authorAssociation
                         labels(first: 1) { totalCount nodes { name color } } } }
        pullRequest(number: $number) {
          number closed closedAt mergedAt
          files(first: 1) { nodes { path additions deletions } }
          reviewRequests(first: 2) { nodes { requestedReviewer { ... on Team { name } ... on User { name: login } } } }
          latestReviews(first: 1) { totalCount nodes { state author { login } } }
          commits(last: 1) { totalCount nodes { commit { statusCheckRollup { contexts(first: 2) {
            nodes { ... on CheckRun { detailsUrl } ... on StatusContext { description targetUrl } } } } } } } } } }"""
    answer = ask(gh, query, number=number).json()
    assert "errors" not in answer, answer
    data = answer["data"]
    assert data["viewer"] == {"login": "connector-bot"}
    assert data["repository"]["nameWithOwner"] == f"{OWNER}/{NAME}"
    assert data["repository"]["issueOrPullRequest"] == {}  # a pull request, not an Issue
    assert data["repository"]["pullRequest"]["latestReviews"] == {
        "totalCount": 1, "nodes": [{"state": "APPROVED", "author": {"login": "mona"}}]}
    assert data["repository"]["pullRequest"]["files"]["nodes"] == [{"path": "README.md", "additions": 10,
                                                                     "deletions": 2}]


def test_seeding_refuses_values_github_does_not_have(gh: GitHubDouble) -> None:
    number = gh.add_pull(OWNER, NAME, title="x")
    with pytest.raises(ValueError, match="author_association"):
        gh.set_pull_details(OWNER, NAME, number, author_association="FRIEND")
    with pytest.raises(ValueError, match="review"):
        gh.add_review(OWNER, NAME, number, "hubot", "LGTM")
    with pytest.raises(ValueError, match="conclusion"):
        gh.add_check_run(OWNER, NAME, number, "build", "completed", None)
    with pytest.raises(KeyError):
        gh.add_review(OWNER, NAME, gh.add_issue(OWNER, NAME, title="plain"), "hubot", "APPROVED")


# -- GitHub Enterprise Server: the API under /api/v3, GraphQL at /api/graphql ---------------------------
@pytest.fixture(scope="module")
def enterprise() -> Any:
    with GitHubDouble(token=TOKEN, prefix="/api/v3") as double:
        yield double


def test_enterprise_server_answers_graphql_at_api_graphql(enterprise: GitHubDouble) -> None:
    enterprise.reset()
    enterprise.add_repo(OWNER, NAME)
    number = enterprise.add_pull(OWNER, NAME, title="On GHES")
    root = enterprise.url.removesuffix("/api/v3")
    client = github.Github(base_url=enterprise.url, auth=github.Auth.Token(TOKEN), retry=None)

    assert client.requester.graphql_url == f"{root}/api/graphql"
    _, data = client.requester.graphql_query(PULL_REQUEST_QUERY,
                                             {"owner": OWNER, "name": NAME, "number": number, "files": 5})
    under_v3 = requests.post(f"{enterprise.url}/graphql", json={"query": "{ viewer { login } }"}, headers=AUTH,
                             timeout=5)

    assert data["data"]["repository"]["issueOrPullRequest"]["title"] == "On GHES"
    assert under_v3.status_code == 404  # /api/v3/graphql is a REST path, and no such route
    assert [(r.method, r.path, r.status) for r in enterprise.calls("POST")] == [
        ("POST", "/graphql", 200), ("POST", "/graphql", 404)]


def test_github_com_answers_pygithub_s_graphql_query_in_one_call(gh: GitHubDouble) -> None:
    number = gh.add_pull(OWNER, NAME, title="One call")
    gh.clear_requests()
    client = github.Github(base_url=gh.url, auth=github.Auth.Token(TOKEN), retry=None)
    _, data = client.requester.graphql_query(PULL_REQUEST_QUERY, {"owner": OWNER, "name": NAME, "number": number,
                                                                  "files": 5})
    assert data["data"]["repository"]["issueOrPullRequest"]["number"] == number
    assert len(gh.requests) == 1 and gh.requests[0].headers["authorization"] == "<redacted>"
