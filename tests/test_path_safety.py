"""No owner or repo value can change the path of a GitHub URL: the schema refuses them first."""

from __future__ import annotations

import pytest

from tests.conftest import OWNER, REPO

BAD_OWNERS = ["../etc", "a/b", "a b", "%2e%2e", "-leading", "trailing-", "a" * 40, "owner\n", "ówner", ""]
BAD_REPOS = [".", "..", "a/b", "x%2fy", "a b", "r" * 101, "repo?x=1", "repo#frag", ""]

OPERATIONS = {
    "/chatgpt/dispatch": {"event_type": "deploy"},
    "/chatgpt/prs/list": {},
    "/chatgpt/prs/comment": {"number": 1, "body": "hi"},
    "/chatgpt/prs/label": {"number": 1, "labels": ["bug"]},
}


@pytest.mark.parametrize("path", OPERATIONS)
@pytest.mark.parametrize("owner", BAD_OWNERS)
def test_path_shaped_owner_is_refused_without_a_github_call(client, double, path, owner):
    response = client.post(path, json={"owner": owner, "repo": REPO, **OPERATIONS[path]})

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["path"] == "$.owner"
    assert double.requests == []


@pytest.mark.parametrize("path", OPERATIONS)
@pytest.mark.parametrize("repo", BAD_REPOS)
def test_path_shaped_repo_is_refused_without_a_github_call(client, double, path, repo):
    response = client.post(path, json={"owner": OWNER, "repo": repo, **OPERATIONS[path]})

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "$.repo"
    assert double.requests == []
