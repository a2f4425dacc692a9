"""Who may sign in with GitHub and with what (connector.config.github_users), the settings that turn
it on, and the encryption of people's GitHub tokens (connector.oauth.sealing)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from connector.config.github_users import Allowance, UserPolicy, parse_users_file
from connector.config.settings import Settings, SettingsError
from connector.oauth.sealing import Sealer, Unsealable
from connector.types import Secret

DEFAULT = frozenset({"prs:read", "prs:write", "runs:read"})


def members(*orgs: str):
    asked: list[str] = []

    def member_of(org: str) -> bool:
        asked.append(org)
        return org in orgs

    return member_of, asked


def no_team(team: str) -> bool:
    raise AssertionError(f"asked GitHub about team {team}, which this policy does not name")


def test_allowed_logins_get_the_default_scopes_whatever_their_case():
    policy = UserPolicy(allowed_users=("mona",), default_scopes=DEFAULT)
    member_of, asked = members()

    assert policy.admit("Mona", member_of, no_team) == Allowance(DEFAULT, ())
    assert policy.admit("hubot", member_of, no_team) is None
    assert asked == []  # no organisation named: GitHub is not asked about any


def test_members_of_an_allowed_org_get_in_and_others_do_not():
    policy = UserPolicy(allowed_orgs=("octo-org",), default_scopes=DEFAULT)

    assert policy.admit("mona", members("octo-org")[0], no_team) == Allowance(DEFAULT, ())
    assert policy.admit("eve", members("other-org")[0], no_team) is None


def test_a_users_file_entry_wins_over_org_entries_and_lets_the_person_in(tmp_path):
    path = tmp_path / "users.toml"
    path.write_text('[[users]]\nlogin = "Mona"\nscopes = ["prs:read", "dispatch"]\nrepos = ["octo-org/webapp"]\n\n'
                    '[[users]]\norg = "octo-org"\nscopes = ["prs:read"]\n')
    policy = UserPolicy(default_scopes=DEFAULT, entries=parse_users_file(path))

    assert policy.admit("mona", members()[0], no_team) == Allowance(frozenset({"prs:read", "dispatch"}), ("octo-org/webapp",))
    assert policy.admit("hubot", members("octo-org")[0], no_team) == Allowance(frozenset({"prs:read"}), ())
    assert policy.admit("eve", members()[0], no_team) is None


def test_a_team_entry_wins_over_an_org_entry_and_is_asked_about_only_after_the_persons_own(tmp_path):
    path = tmp_path / "users.toml"
    path.write_text('[[users]]\norg = "octo-org"\nscopes = ["prs:read"]\n\n'
                    '[[users]]\nteam = "Octo-Org/Release_Managers"\nscopes = ["prs:read", "dispatch"]\n'
                    'repos = ["octo-org/deploy"]\n\n'
                    '[[users]]\nlogin = "hubot"\nscopes = ["runs:read"]\n')
    policy = UserPolicy(default_scopes=DEFAULT, entries=parse_users_file(path))
    teams_asked: list[str] = []

    def in_team(team: str) -> bool:
        teams_asked.append(team)
        return team == "octo-org/release_managers"

    release = Allowance(frozenset({"prs:read", "dispatch"}), ("octo-org/deploy",))
    assert policy.admit("mona", members("octo-org")[0], in_team) == release
    assert teams_asked == ["octo-org/release_managers"]  # as GitHub compares slugs: lower case
    assert policy.admit("eve", members("octo-org")[0], lambda _team: False) == Allowance(frozenset({"prs:read"}), ())
    assert policy.admit("hubot", members("octo-org")[0], no_team) == Allowance(frozenset({"runs:read"}), ())
    assert policy.admit("mallory", members()[0], lambda _team: False) is None


@pytest.mark.parametrize("text, problem", [
    ('[[users]]\nscopes = ["prs:read"]\n', "give one of login"),
    ('[[users]]\nlogin = "mona"\norg = "o"\nscopes = ["prs:read"]\n', "give one of login"),
    ('[[users]]\nteam = "octo-org"\nscopes = ["prs:read"]\n', "not org/team-slug"),
    ('[[users]]\nteam = "octo-org/a b"\nscopes = ["prs:read"]\n', "not org/team-slug"),
    ('[[users]]\nteam = "-bad-/devs"\nscopes = ["prs:read"]\n', "GitHub logins"),
    ('[[users]]\nlogin = "mona"\nscopes = ["merge"]\n', "scopes must list"),
    ('[[users]]\nlogin = "-bad-"\nscopes = ["prs:read"]\n', "GitHub logins"),
    ('[[users]]\nlogin = "mona"\nscopes = ["prs:read"]\nrepos = ["nope"]\n', "owner/repo"),
    ("users = 3\n", r"no \[\[users\]\] tables"),
])
def test_a_bad_users_file_names_the_entry_and_the_problem(tmp_path, text, problem):
    path = tmp_path / "users.toml"
    path.write_text(text)

    with pytest.raises(SettingsError, match=problem):
        parse_users_file(path)


BASE = {"CONNECTOR_API_KEY": "k" * 20, "CONNECTOR_OAUTH": "embedded", "PUBLIC_BASE_URL": "https://c.example.com",
        "GITHUB_TOKEN": "ghp_x", "GITHUB_OAUTH_CLIENT_ID": "Iv23liExample"}


def test_github_sign_in_needs_a_secret_someone_to_admit_and_an_encryption_key(tmp_path):
    pem = tmp_path / "signing.pem"
    from tests.oauth_client import signing_key_pem

    pem.write_text(signing_key_pem())
    pem.chmod(0o600)
    base = {**BASE, "CONNECTOR_OAUTH_SIGNING_KEY_FILE": str(pem)}
    with pytest.raises(SettingsError, match="GITHUB_OAUTH_CLIENT_SECRET"):
        Settings.from_env(base)
    with pytest.raises(SettingsError, match="nobody may sign in"):
        Settings.from_env({**base, "GITHUB_OAUTH_CLIENT_SECRET": "s" * 20})
    with pytest.raises(SettingsError, match="CONNECTOR_OAUTH_ENCRYPTION_KEY_FILE"):
        Settings.from_env({**base, "GITHUB_OAUTH_CLIENT_SECRET": "s" * 20, "CONNECTOR_OAUTH_ALLOWED_ORGS": "octo-org"})
    settings = Settings.from_env({**base, "GITHUB_OAUTH_CLIENT_SECRET": "s" * 20, "CONNECTOR_OAUTH_ALLOWED_ORGS": "octo-org",
                                  "CONNECTOR_OAUTH_ENCRYPTION_KEY": Fernet.generate_key().decode()})
    assert settings.github_sign_in and settings.oauth_allowed_orgs == ("octo-org",)
    with pytest.raises(SettingsError, match="needs CONNECTOR_OAUTH=embedded"):
        Settings.from_env({k: v for k, v in BASE.items() if k != "CONNECTOR_OAUTH"})


@pytest.mark.parametrize("api_url, web", [
    ("https://api.github.com", "https://github.com"),
    ("https://ghe.example.com/api/v3", "https://ghe.example.com"),
    ("http://127.0.0.1:8999", "http://127.0.0.1:8999"),
])
def test_the_sign_in_pages_are_on_githubs_web_host(api_url, web):
    settings = Settings.from_env({"CONNECTOR_API_KEY": "k" * 20, "GITHUB_API_URL": api_url})
    assert settings.github_web_origin == web


def test_user_scopes_refuse_what_is_not_a_scope():
    with pytest.raises(SettingsError, match="must list some of"):
        Settings.from_env({"CONNECTOR_API_KEY": "k" * 20, "CONNECTOR_OAUTH_USER_SCOPES": "prs:read merge"})
    chosen = Settings.from_env({"CONNECTOR_API_KEY": "k" * 20, "CONNECTOR_OAUTH_USER_SCOPES": "prs:read, dispatch"})
    assert chosen.oauth_user_scopes == ("prs:read", "dispatch")


def test_sealed_tokens_are_not_readable_and_open_after_a_key_rotation():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = Sealer(Secret(old)).seal({"access_token": "ghu_secret_value"})

    assert "ghu_secret_value" not in sealed
    assert Sealer(Secret(f"{new}\n{old}")).open(sealed) == {"access_token": "ghu_secret_value"}
    with pytest.raises(Unsealable):
        Sealer(Secret(new)).open(sealed)
    with pytest.raises(SettingsError, match="Fernet keys"):
        Settings.from_env({"CONNECTOR_API_KEY": "k" * 20, "CONNECTOR_OAUTH_ENCRYPTION_KEY": "not a key"})
