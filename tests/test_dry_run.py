"""dry_run: every write checks everything with read calls and writes nothing."""

from __future__ import annotations

import pytest

from tests.conftest import OWNER, REPO

BASE = f"/repos/{OWNER}/{REPO}"


@pytest.fixture
def pr(double):
    number = double.add_pull(OWNER, REPO, title="Fix", head="fix", labels=("bug",))
    double.clear_requests()
    return number


def test_dispatch_dry_run_checks_the_repository_and_sends_nothing(client, double):
    response = client.post("/chatgpt/dispatch", json={"owner": OWNER, "repo": REPO, "event_type": "deploy",
                                                      "client_payload": {"env": "prod"}, "request_id": "r-1",
                                                      "dry_run": True})

    assert response.status_code == 200
    assert response.json() == {"ok": True, "dry_run": True, "would": {
        "action": "dispatch", "repository": f"{OWNER}/{REPO}", "event_type": "deploy",
        "client_payload_keys": ["env", "request_id"], "request_id": "r-1"}}
    assert [(r.method, r.path) for r in double.requests] == [("GET", BASE)]
    assert double.dispatches(OWNER, REPO) == []


def test_dispatch_dry_run_reports_a_missing_repository(client, double):
    response = client.post("/chatgpt/dispatch", json={"owner": OWNER, "repo": "nope", "event_type": "deploy",
                                                      "dry_run": True})

    assert response.status_code == 404


def test_dispatch_dry_run_reports_read_only_credentials(client, double):
    double.fail_next("GET", BASE, status=200, json={
        "id": 1, "name": REPO, "full_name": f"{OWNER}/{REPO}", "permissions": {"pull": True, "push": False}})

    response = client.post("/chatgpt/dispatch", json={"owner": OWNER, "repo": REPO, "event_type": "deploy",
                                                      "dry_run": True})

    assert response.status_code == 403
    assert response.json()["required_permission"] == "contents=write"


def test_comment_dry_run_checks_the_pull_request_and_posts_nothing(client, double, pr):
    response = client.post("/chatgpt/prs/comment", json={"owner": OWNER, "repo": REPO, "number": pr,
                                                         "body": "LGTM", "dry_run": True})

    assert response.status_code == 200
    assert response.json()["would"] == {"action": "comment", "repository": f"{OWNER}/{REPO}", "number": pr,
                                        "body_characters": 4}
    assert [r.method for r in double.requests] == ["GET"]
    assert double.comments(OWNER, REPO, pr) == []


def test_comment_dry_run_still_refuses_a_plain_issue(client, double):
    issue = double.add_issue(OWNER, REPO, title="Crash")

    response = client.post("/chatgpt/prs/comment", json={"owner": OWNER, "repo": REPO, "number": issue,
                                                         "body": "hi", "dry_run": True})

    assert response.json()["code"] == "not_a_pull_request"


def test_label_dry_run_says_what_would_change_and_writes_nothing(client, double, pr):
    response = client.post("/chatgpt/prs/label", json={"owner": OWNER, "repo": REPO, "number": pr,
                                                       "labels": ["BUG", "needs-review"], "dry_run": True})

    assert response.status_code == 200
    assert response.json()["would"] == {"action": "label", "repository": f"{OWNER}/{REPO}", "number": pr,
                                        "labels_to_add": ["needs-review"], "labels_after": ["bug", "needs-review"]}
    assert [r.method for r in double.requests] == ["GET", "GET"]
    assert double.labels_on(OWNER, REPO, pr) == ["bug"]


def test_label_dry_run_still_refuses_unknown_labels(client, double, pr):
    response = client.post("/chatgpt/prs/label", json={"owner": OWNER, "repo": REPO, "number": pr,
                                                       "labels": ["bgu"], "dry_run": True})

    assert response.json()["code"] == "unknown_label"


def test_dry_run_false_or_null_writes_as_usual(client, double, pr):
    for flag in (False, None):
        response = client.post("/chatgpt/prs/comment", json={"owner": OWNER, "repo": REPO, "number": pr,
                                                             "body": "hi", "dry_run": flag})
        assert response.status_code == 201

    assert len(double.comments(OWNER, REPO, pr)) == 2
