"""POST /chatgpt/prs/list, /comment and /label against the GitHub double."""

from __future__ import annotations

import pytest

from tests.conftest import OWNER, REPO

BASE = f"/repos/{OWNER}/{REPO}"


@pytest.fixture
def pulls(double):
    """Three open pull requests, one closed and merged, and a plain issue, in creation order."""
    numbers = {
        "fix": double.add_pull(OWNER, REPO, title="Fix retry", user="alice", head="fix/retry", labels=("bug",)),
        "docs": double.add_pull(OWNER, REPO, title="Docs", user="bob", head="docs", base="release", draft=True),
        "issue": double.add_issue(OWNER, REPO, title="Crash on start"),
        "feat": double.add_pull(OWNER, REPO, title="Feature", user="carol", head="feat"),
        "old": double.add_pull(OWNER, REPO, title="Old", state="closed", merged=True, head="old"),
    }
    double.clear_requests()
    return numbers


def list_prs(client, **body):
    return client.post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO, **body})


# --- list -------------------------------------------------------------------------------------

def test_list_returns_open_pull_requests_newest_first_in_one_call(client, double, pulls):
    response = list_prs(client)

    assert response.status_code == 200
    page = response.json()
    assert page["repository"] == f"{OWNER}/{REPO}"
    assert [pr["number"] for pr in page["pull_requests"]] == [pulls["feat"], pulls["docs"], pulls["fix"]]
    assert page["page"] == 1 and page["next_page"] is None
    fix = page["pull_requests"][2]
    assert fix == {
        "number": pulls["fix"], "title": "Fix retry", "state": "open", "draft": False, "merged": False,
        "author": "alice", "head": "fix/retry", "base": "main", "labels": ["bug"],
        "html_url": fix["html_url"], "created_at": fix["created_at"], "updated_at": fix["updated_at"],
    }
    assert fix["html_url"].endswith(f"/{OWNER}/{REPO}/pull/{pulls['fix']}")
    [call] = double.requests
    assert (call.method, call.path) == ("GET", f"{BASE}/pulls")
    assert call.query == {"state": "open", "sort": "created", "direction": "desc", "per_page": "20", "page": "1"}


def test_list_passes_filters_and_reports_merged_and_draft(client, double, pulls):
    closed = list_prs(client, state="closed").json()["pull_requests"]
    drafts = list_prs(client, base="release").json()["pull_requests"]

    assert [(pr["number"], pr["merged"]) for pr in closed] == [(pulls["old"], True)]
    assert [(pr["number"], pr["draft"]) for pr in drafts] == [(pulls["docs"], True)]
    assert double.requests[1].query["base"] == "release"


def test_list_filters_by_head_in_user_branch_form(client, double, pulls):
    response = list_prs(client, head=f"{OWNER}:feat")

    assert [pr["number"] for pr in response.json()["pull_requests"]] == [pulls["feat"]]
    assert double.requests[0].query["head"] == f"{OWNER}:feat"


def test_list_pages_through_results_with_next_page(client, double, pulls):
    first = list_prs(client, state="all", per_page=2).json()
    second = list_prs(client, state="all", per_page=2, page=first["next_page"]).json()

    assert first["next_page"] == 2 and second["page"] == 2 and second["next_page"] is None
    numbers = [pr["number"] for pr in first["pull_requests"] + second["pull_requests"]]
    assert sorted(numbers) == sorted([pulls["fix"], pulls["docs"], pulls["feat"], pulls["old"]])
    assert len(double.requests) == 2


def test_list_treats_null_filters_as_defaults(client, double, pulls):
    response = list_prs(client, state=None, base=None, head=None, sort=None, direction=None, per_page=None, page=None)

    assert response.status_code == 200
    assert double.requests[0].query == {"state": "open", "sort": "created", "direction": "desc",
                                        "per_page": "20", "page": "1"}


@pytest.mark.parametrize("body, path", [
    ({"state": "merged"}, "$.state"),
    ({"per_page": 0}, "$.per_page"),
    ({"per_page": 101}, "$.per_page"),
    ({"page": 0}, "$.page"),
    ({"head": "no-colon"}, "$.head"),
    ({"base": "has space"}, "$.base"),
    ({"direction": "up"}, "$.direction"),
    ({"per_page": "10"}, "$.per_page"),
])
@pytest.mark.one_github_layout
def test_list_refuses_bad_filters_without_calling_github(client, double, body, path):
    response = list_prs(client, **body)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert [e["path"] for e in response.json()["errors"]] == [path]
    assert double.requests == []


# --- comment ----------------------------------------------------------------------------------

def comment(client, number, body="Looks good"):
    return client.post("/chatgpt/prs/comment", json={"owner": OWNER, "repo": REPO, "number": number, "body": body})


def test_comment_posts_once_after_checking_the_number_is_a_pull_request(client, double, pulls):
    response = comment(client, pulls["fix"], "LGTM, but log each retry.")

    assert response.status_code == 201
    body = response.json()
    [stored] = double.comments(OWNER, REPO, pulls["fix"])
    assert body == {"ok": True, "comment_id": stored["id"], "html_url": stored["html_url"]}
    assert stored["body"] == "LGTM, but log each retry."
    assert [(r.method, r.path) for r in double.requests] == [
        ("GET", f"{BASE}/issues/{pulls['fix']}"),
        ("POST", f"{BASE}/issues/{pulls['fix']}/comments"),
    ]


def test_comment_refuses_a_plain_issue_number_without_writing(client, double, pulls):
    response = comment(client, pulls["issue"])

    assert response.status_code == 422
    assert response.json()["code"] == "not_a_pull_request"
    assert f"#{pulls['issue']}" in response.json()["detail"]
    assert [r.method for r in double.requests] == ["GET"]
    assert double.comments(OWNER, REPO, pulls["issue"]) == []


def test_comment_on_a_missing_number_is_not_found_after_one_read(client, double, pulls):
    response = comment(client, 999)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "#999" in response.json()["detail"]
    assert [r.method for r in double.requests] == ["GET"]


@pytest.mark.parametrize("text, message", [
    ("", "must not be empty"),
    (" \n\t ", "must contain a non-whitespace character"),
    ("x" * 65_537, "must be at most 65536 characters long (got 65537)"),
])
@pytest.mark.one_github_layout
def test_comment_body_limits_are_checked_before_any_github_call(client, double, pulls, text, message):
    response = comment(client, pulls["fix"], text)

    assert response.status_code == 400
    assert response.json()["errors"] == [{"path": "$.body", "message": message}]
    assert double.requests == []


def test_comment_of_exactly_65536_characters_is_accepted(client, double, pulls):
    response = comment(client, pulls["fix"], "é" * 65_536)

    assert response.status_code == 201
    assert len(double.comments(OWNER, REPO, pulls["fix"])[0]["body"]) == 65_536


@pytest.mark.parametrize("number", [0, -1, 2**31, 1.5, 0.0, "1", True, None])
@pytest.mark.one_github_layout
def test_comment_refuses_numbers_that_are_not_positive_integers(client, double, number):
    response = comment(client, number)

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "$.number"
    assert double.requests == []


# --- label ------------------------------------------------------------------------------------

def label(client, number, labels):
    return client.post("/chatgpt/prs/label", json={"owner": OWNER, "repo": REPO, "number": number, "labels": labels})


def test_label_adds_and_returns_every_label_now_on_the_pull_request(client, double, pulls):
    response = label(client, pulls["fix"], ["needs-review", "documentation"])

    assert response.status_code == 200
    assert response.json() == {"ok": True, "number": pulls["fix"],
                               "labels": ["bug", "documentation", "needs-review"]}
    assert sorted(double.labels_on(OWNER, REPO, pulls["fix"])) == ["bug", "documentation", "needs-review"]
    assert [(r.method, r.path) for r in double.requests] == [
        ("GET", f"{BASE}/labels"),
        ("GET", f"{BASE}/issues/{pulls['fix']}"),
        ("POST", f"{BASE}/issues/{pulls['fix']}/labels"),
    ]
    assert double.requests[2].body == {"labels": ["needs-review", "documentation"]}


def test_a_number_known_to_be_a_pull_request_costs_one_call_to_comment_on_or_label(client, double, pulls):
    comment(client, pulls["fix"], "First look.")
    label(client, pulls["fix"], ["bug"])  # the label list is read once and kept for a minute
    double.clear_requests()

    commented = comment(client, pulls["fix"], "Second look.")
    labelled = label(client, pulls["fix"], ["needs-review"])

    assert commented.status_code == 201 and labelled.status_code == 200
    assert [(r.method, r.path) for r in double.requests] == [
        ("POST", f"{BASE}/issues/{pulls['fix']}/comments"),
        ("POST", f"{BASE}/issues/{pulls['fix']}/labels"),
    ]


def test_label_refuses_a_plain_issue_number_without_writing(client, double, pulls):
    response = label(client, pulls["issue"], ["bug"])

    assert response.status_code == 422
    assert response.json()["code"] == "not_a_pull_request"
    assert double.labels_on(OWNER, REPO, pulls["issue"]) == []
    assert [r.method for r in double.requests] == ["GET", "GET"]


@pytest.mark.parametrize("labels, path", [
    ([], "$.labels"),
    (["bug", "bug"], "$.labels"),
    ([f"l{i}" for i in range(21)], "$.labels"),
    (["x" * 51], "$.labels[0]"),
    (["ok", "tab\there"], "$.labels[1]"),
    ([" padded"], "$.labels[0]"),
    (["bell\u0007"], "$.labels[0]"),
    ([""], "$.labels[0]"),
    ("bug", "$.labels"),
])
@pytest.mark.one_github_layout
def test_label_refuses_bad_label_lists_without_calling_github(client, double, pulls, labels, path):
    response = label(client, pulls["fix"], labels)

    assert response.status_code == 400
    assert path in [e["path"] for e in response.json()["errors"]]
    assert double.requests == []


def test_integral_numbers_sent_as_floats_reach_github_as_integers(client, double, pulls):
    # 24.0 is a valid JSON Schema integer (found by schemathesis: GitHub refused per_page=24.0).
    listed = list_prs(client, per_page=2.0, page=1.0)
    commented = comment(client, float(pulls["fix"]))

    assert listed.status_code == 200 and listed.json()["page"] == 1
    assert double.requests[0].query["per_page"] == "2"
    assert commented.status_code == 201
    assert double.requests[-1].path == f"{BASE}/issues/{pulls['fix']}/comments"


def test_label_refuses_an_unknown_label_and_suggests_a_close_match_without_writing(client, double, pulls):
    response = label(client, pulls["fix"], ["needs-review", "bgu"])

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "unknown_label"
    assert "label 'bgu' does not exist in octo-org/webapp; did you mean 'bug'?" in problem["detail"]
    assert problem["unknown"] == ["bgu"]
    assert problem["suggestions"] == [{"label": "bgu", "did_you_mean": ["bug"]}]
    assert [(r.method, r.path) for r in double.requests] == [("GET", f"{BASE}/labels")]
    assert "bgu" not in double.repo_labels(OWNER, REPO)
    assert double.labels_on(OWNER, REPO, pulls["fix"]) == ["bug"]


def test_label_names_match_regardless_of_case_and_are_sent_as_the_repository_spells_them(client, double, pulls):
    response = label(client, pulls["feat"], ["NEEDS-Review"])

    assert response.json()["labels"] == ["needs-review"]
    assert double.requests[-1].body == {"labels": ["needs-review"]}


def test_the_label_list_is_read_once_for_a_burst_of_label_requests(client, double, pulls):
    for number in (pulls["fix"], pulls["feat"], pulls["docs"]):
        assert label(client, number, ["enhancement"]).status_code == 200

    assert len(double.calls("GET", f"{BASE}/labels")) == 1
    assert len(double.calls("POST")) == 3


def test_every_page_of_a_long_label_list_is_read(make_client, double):
    double.add_repo(OWNER, "big", labels=tuple(f"area/{i:03d}" for i in range(150)))
    number = double.add_pull(OWNER, "big", title="x", head="x")
    double.clear_requests()

    response = make_client().post("/chatgpt/prs/label", json={"owner": OWNER, "repo": "big", "number": number,
                                                                  "labels": ["area/149"]})

    assert response.status_code == 200
    assert [r.query.get("page") for r in double.calls("GET", f"/repos/{OWNER}/big/labels")] == ["1", "2"]
