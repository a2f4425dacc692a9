"""Label policy settings: allowed patterns, creating unknown labels, and suggestion mode."""

from __future__ import annotations

import pytest

from connector.config.settings import Settings, SettingsError
from tests.conftest import OWNER, REPO

BASE = f"/repos/{OWNER}/{REPO}"


def label(client, number, labels):
    return client.post("/chatgpt/prs/label", json={"owner": OWNER, "repo": REPO, "number": number, "labels": labels})


def test_labels_outside_the_allowed_patterns_are_refused_before_any_github_call(make_client, double, pr):
    client = make_client(labels_allow=("needs-*", "BUG"))

    refused = label(client, pr, ["bug", "enhancement"])
    allowed = label(client, pr, ["Needs-Review", "bug"])

    assert refused.status_code == 403
    assert refused.json()["code"] == "label_not_allowed"
    assert refused.json()["refused"] == ["enhancement"]
    assert allowed.status_code == 200
    assert sorted(allowed.json()["labels"]) == ["bug", "needs-review"]
    assert len(double.calls("POST")) == 1


def test_label_creation_can_be_restored(make_client, double, pr):
    response = label(make_client(labels_create=True), pr, ["brand-new"])

    assert response.status_code == 200
    assert "brand-new" in double.repo_labels(OWNER, REPO)
    assert double.calls("GET", f"{BASE}/labels") == []  # no label list needed


def test_suggestion_mode_stores_suggestions_instead_of_applying(make_client, double, pr):
    response = label(make_client(labels_mode="suggest"), pr, ["bug"])

    assert response.status_code == 200
    assert response.json()["suggested"] == ["bug"]
    assert response.json()["labels"] == []
    assert double.labels_on(OWNER, REPO, pr) == []
    assert double.requests[-1].body == {"labels": [{"name": "bug", "suggest": True}]}
    assert [suggestion["name"] for suggestion in double.suggestions(OWNER, REPO, pr)] == ["bug"]


def test_label_settings_are_read_from_the_environment():
    settings = Settings.from_env({"CONNECTOR_API_KEY": "k" * 32, "CONNECTOR_LABELS_ALLOW": "bug, needs-*",
                                  "CONNECTOR_LABELS_CREATE": "yes", "CONNECTOR_LABELS_MODE": "Suggest"})

    assert settings.labels_allow == ("bug", "needs-*")
    assert settings.labels_create is True and settings.labels_mode == "suggest"


@pytest.mark.parametrize("name, value", [("CONNECTOR_LABELS_MODE", "maybe"), ("CONNECTOR_LABELS_ALLOW", "x" * 51)])
def test_malformed_label_settings_fail_start_up(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({"CONNECTOR_API_KEY": "k" * 32, name: value})
