"""With CONNECTOR_DEFAULT_REPO, owner and repo may be left out or sent as null (models send exactly
that); giving one without the other is refused, saying which is missing and why."""

from __future__ import annotations

import pytest

from tests.conftest import OWNER, REPO


def test_null_owner_and_repo_mean_the_default_repository(make_client, double, pr):
    client = make_client(default_repo=(OWNER, REPO))

    listed = client.post("/chatgpt/prs/list", json={"owner": None, "repo": None})

    assert listed.status_code == 200
    assert listed.json()["repository"] == f"{OWNER}/{REPO}"
    assert [p["number"] for p in listed.json()["pull_requests"]] == [pr]


@pytest.mark.one_github_layout
@pytest.mark.parametrize(("body", "missing", "given"), [
    ({"owner": OWNER}, "repo", "owner"),
    ({"repo": REPO}, "owner", "repo"),
])
def test_one_without_the_other_says_which_is_missing(make_client, double, body, missing, given):
    answer = make_client(default_repo=(OWNER, REPO)).post("/chatgpt/prs/list", json=body)

    assert answer.status_code == 400
    problem = answer.json()
    assert problem["errors"] == [{"path": f"$.{missing}", "message": f"is required when {given} is given: give "
                                                                    f"both {given} and {missing}, or neither"}]
    assert double.requests == []


@pytest.mark.one_github_layout
def test_without_a_default_null_is_still_refused(make_client, double):
    answer = make_client().post("/chatgpt/prs/list", json={"owner": None, "repo": None})
    assert answer.status_code == 400 and answer.json()["errors"][0]["path"] == "$.owner"
    assert double.requests == []


def test_a_null_owner_or_repo_means_left_out_and_the_default_applies(make_client, double):
    """owner and repo go together, but a null one is a field left out, not half a repository."""
    client = make_client(default_repo=(OWNER, REPO))

    for body in ({"repo": None}, {"owner": None}, {"owner": None, "repo": None}):
        response = client.post("/chatgpt/prs/list", json=body)
        assert response.status_code == 200, (body, response.text)
        assert response.json()["repository"] == f"{OWNER}/{REPO}"
