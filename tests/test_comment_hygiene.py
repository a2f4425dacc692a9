"""Comment hygiene: a cap on @mentions, and an optional footer naming the API key that wrote it."""

from __future__ import annotations

import pytest

from connector.config.settings import Settings, SettingsError
from connector.errors import BadRequest
from connector.policy.rules import comment_body
from tests.conftest import OWNER, REPO


def comment(client, number, text):
    return client.post("/chatgpt/prs/comment", json={"owner": OWNER, "repo": REPO, "number": number, "body": text})


@pytest.mark.parametrize("text, count", [
    ("@a @b @c", 3),
    ("@alice @Alice @ALICE", 1),                 # the same login in any case counts once
    ("ping @octo-org/reviewers and @bob", 2),    # teams count
    ("mail me at dev@example.com", 0),           # not a mention
    ("`@not-a-mention` but @real", 1),
    ("(@mona), @hubot! and @tri.", 3),           # after and before punctuation
    ("café@mona", 1),                            # a non-ASCII letter does not make it an address
    ("&#64;mona &commat;hubot &#x40;tri", 3),    # HTML entities GitHub renders as @ before it looks
])
def test_mentions_are_counted_as_github_would_notify(text, count):
    assert comment_body(text, max_mentions=count, footer=None) == text
    if count:
        with pytest.raises(BadRequest):
            comment_body(text, max_mentions=count - 1, footer=None)


@pytest.mark.one_github_layout
def test_too_many_mentions_are_refused_before_any_github_call(client, double, pr):
    text = "Heads up " + " ".join(f"@user{i}" for i in range(6))

    response = comment(client, pr, text)

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["path"] == "$.body"
    assert "mentions 6 people or teams" in error["message"] and "at most 5" in error["message"]
    assert double.requests == []


@pytest.mark.one_github_layout
def test_the_mention_cap_is_configurable(make_client, double, pr):
    response = comment(make_client(max_mentions=0), pr, "thanks @alice")

    assert response.status_code == 400


def test_the_footer_names_the_key_that_posted(make_client, double, pr):
    response = comment(make_client(comment_footer=True), pr, "Looks good")

    assert response.status_code == 201
    [stored] = double.comments(OWNER, REPO, pr)
    assert stored["body"].startswith("Looks good\n\n<sub>Posted by an assistant")
    assert "(API key key-1)" in stored["body"]


def test_without_the_footer_setting_the_body_is_posted_unchanged(client, double, pr):
    comment(client, pr, "Looks good")

    assert double.comments(OWNER, REPO, pr)[0]["body"] == "Looks good"


@pytest.mark.one_github_layout
def test_a_body_that_only_fits_without_the_footer_is_refused_before_any_github_call(make_client, double, pr):
    response = comment(make_client(comment_footer=True), pr, "x" * 65_536)

    assert response.status_code == 400
    assert "attribution footer" in response.json()["errors"][0]["message"]
    assert double.requests == []


def test_comment_settings_are_read_from_the_environment():
    settings = Settings.from_env({"CONNECTOR_API_KEY": "k" * 32, "CONNECTOR_MAX_MENTIONS": "2",
                                  "CONNECTOR_COMMENT_FOOTER": "true"})

    assert (settings.max_mentions, settings.comment_footer) == (2, True)


@pytest.mark.parametrize("name, value", [("CONNECTOR_MAX_MENTIONS", "-1"), ("CONNECTOR_MAX_MENTIONS", "many"),
                                         ("CONNECTOR_COMMENT_FOOTER", "maybe")])
def test_malformed_comment_settings_fail_start_up(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({"CONNECTOR_API_KEY": "k" * 32, name: value})
