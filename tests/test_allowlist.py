"""CONNECTOR_ALLOWED_REPOS: requests for other repositories are refused before any GitHub call."""

from __future__ import annotations

import logging

import pytest

from connector.app import create_app
from connector.config.allowlist import RepoAllowlist
from connector.config.settings import Settings, SettingsError
from tests.conftest import OWNER, REPO

KEY = "k" * 32
OPERATIONS = {
    "/chatgpt/dispatch": {"event_type": "deploy"},
    "/chatgpt/prs/list": {},
    "/chatgpt/prs/comment": {"number": 1, "body": "hi"},
    "/chatgpt/prs/label": {"number": 1, "labels": ["bug"]},
}


@pytest.mark.parametrize("patterns, owner, name, allowed", [
    ((), "any", "thing", True),
    (("octo-org/webapp",), "octo-org", "webapp", True),
    (("octo-org/webapp",), "Octo-Org", "WEBAPP", True),
    (("octo-org/webapp",), "octo-org", "webapp2", False),
    (("octo-org/*",), "OCTO-ORG", "anything", True),
    (("octo-org/*",), "octo-org2", "webapp", False),
    (("octo-org/*", "other/one"), "other", "one", True),
])
def test_allowlist_matches_exact_names_and_owner_wildcards_case_insensitively(patterns, owner, name, allowed):
    assert RepoAllowlist(patterns).allows(owner, name) is allowed


@pytest.mark.parametrize("path", OPERATIONS)
@pytest.mark.one_github_layout
def test_a_repository_outside_the_allowlist_is_refused_without_a_github_call(make_client, double, path):
    client = make_client(allowed_repos=(f"{OWNER}/{REPO}",))

    response = client.post(path, json={"owner": OWNER, "repo": "secret-infra", **OPERATIONS[path]})

    assert response.status_code == 403
    problem = response.json()
    assert problem["code"] == "repo_not_allowed"
    assert f"{OWNER}/secret-infra" in problem["detail"]
    assert REPO not in problem["detail"].replace("secret-infra", "")  # the allowlist is not disclosed
    assert double.requests == []


def test_an_owner_wildcard_admits_every_repository_of_that_owner(make_client, double):
    client = make_client(allowed_repos=(f"{OWNER.upper()}/*",))

    assert client.post("/chatgpt/prs/list", json={"owner": OWNER, "repo": REPO}).status_code == 200


def test_allowed_repositories_are_read_from_the_environment():
    settings = Settings.from_env({"CONNECTOR_API_KEY": KEY, "CONNECTOR_ALLOWED_REPOS": "octo-org/webapp, octo-org/*",
                                  "CONNECTOR_DEFAULT_REPO": "octo-org/api"})

    assert settings.allowed_repos == ("octo-org/webapp", "octo-org/*")


@pytest.mark.parametrize("value", ["octo-org", "octo-org/", "*/*", "octo-org/web app", "a/b/c", "octo-org/.."])
def test_malformed_allowlist_entries_fail_start_up(value):
    with pytest.raises(SettingsError, match="CONNECTOR_ALLOWED_REPOS"):
        Settings.from_env({"CONNECTOR_API_KEY": KEY, "CONNECTOR_ALLOWED_REPOS": value})


def test_a_default_repository_outside_the_allowlist_fails_start_up():
    with pytest.raises(SettingsError, match="CONNECTOR_DEFAULT_REPO=octo-org/api is not matched"):
        Settings.from_env({"CONNECTOR_API_KEY": KEY, "CONNECTOR_ALLOWED_REPOS": "octo-org/webapp",
                           "CONNECTOR_DEFAULT_REPO": "octo-org/api"})


@pytest.mark.one_github_layout
def test_start_up_warns_when_every_repository_is_exposed(make_settings, caplog):
    with caplog.at_level(logging.WARNING, logger="connector"):
        create_app(make_settings())
    assert "CONNECTOR_ALLOWED_REPOS is not set" in caplog.text

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="connector"):
        create_app(make_settings(allowed_repos=(f"{OWNER}/{REPO}",)))
    assert "CONNECTOR_ALLOWED_REPOS" not in caplog.text
