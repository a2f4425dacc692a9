"""Settings: read once, secrets from NAME or NAME_FILE, never shown, clear errors naming the variable."""

from __future__ import annotations

import pytest

from connector.config.settings import DEFAULT_CORS_ORIGINS, Settings, SettingsError
from connector.types import Secret

KEY = "k" * 32


def test_defaults_with_only_an_api_key():
    settings = Settings.from_env({"CONNECTOR_API_KEY": KEY})

    assert settings.api_keys == (Secret(KEY),)
    assert settings.github_token is None
    assert settings.github_api_url == "https://api.github.com"
    assert settings.github_timeout == 10
    assert settings.cors_origins == DEFAULT_CORS_ORIGINS
    assert settings.default_repo is None


def test_several_comma_separated_api_keys():
    settings = Settings.from_env({"CONNECTOR_API_KEY": f"{KEY}, {'m' * 20} ,"})

    assert [key.reveal() for key in settings.api_keys] == [KEY, "m" * 20]


def test_missing_api_key_outside_the_sandbox_fails_start_up_naming_the_variable():
    with pytest.raises(SettingsError, match="CONNECTOR_API_KEY is not set"):
        Settings.from_env({"GITHUB_TOKEN": "ghp_x"})


def test_sandbox_needs_no_api_key():
    assert Settings.from_env({}, sandbox=True).api_keys == ()


def test_short_api_keys_are_refused():
    with pytest.raises(SettingsError, match="shorter than 16"):
        Settings.from_env({"CONNECTOR_API_KEY": "short"})


def test_secrets_are_read_from_files(tmp_path):
    (tmp_path / "key").write_text(KEY + "\n")
    (tmp_path / "token").write_text("ghp_fromfile\n")

    settings = Settings.from_env({"CONNECTOR_API_KEY_FILE": str(tmp_path / "key"),
                                  "GITHUB_TOKEN_FILE": str(tmp_path / "token")})

    assert settings.api_keys == (Secret(KEY),)
    assert settings.github_token.reveal() == "ghp_fromfile"


def test_setting_a_secret_and_its_file_is_an_error(tmp_path):
    (tmp_path / "token").write_text("ghp_x")
    with pytest.raises(SettingsError, match="GITHUB_TOKEN or GITHUB_TOKEN_FILE"):
        Settings.from_env({"CONNECTOR_API_KEY": KEY, "GITHUB_TOKEN": "a", "GITHUB_TOKEN_FILE": str(tmp_path / "token")})


def test_an_unreadable_secret_file_is_named(tmp_path):
    with pytest.raises(SettingsError, match="GITHUB_TOKEN_FILE"):
        Settings.from_env({"CONNECTOR_API_KEY": KEY, "GITHUB_TOKEN_FILE": str(tmp_path / "missing")})


def test_secrets_never_appear_in_repr_or_str():
    settings = Settings.from_env({"CONNECTOR_API_KEY": KEY, "GITHUB_TOKEN": "ghp_supersecret"})

    for text in (repr(settings), str(settings), repr(settings.github_token), f"{settings.api_keys}"):
        assert KEY not in text and "ghp_supersecret" not in text


@pytest.mark.parametrize("name, value, fragment", [
    ("GITHUB_API_URL", "api.github.com", "GITHUB_API_URL"),
    ("GITHUB_API_URL", "ftp://x", "GITHUB_API_URL"),
    ("CONNECTOR_GITHUB_TIMEOUT", "ten", "CONNECTOR_GITHUB_TIMEOUT"),
    ("CONNECTOR_GITHUB_TIMEOUT", "0", "CONNECTOR_GITHUB_TIMEOUT"),
    ("CONNECTOR_GITHUB_TIMEOUT", "60", "CONNECTOR_GITHUB_TIMEOUT"),
    ("CONNECTOR_GITHUB_TIMEOUT", "2.5", "CONNECTOR_GITHUB_TIMEOUT"),
    ("PUBLIC_BASE_URL", "connector.example.com", "PUBLIC_BASE_URL"),
    ("CONNECTOR_DEFAULT_REPO", "just-owner", "CONNECTOR_DEFAULT_REPO"),
    ("CONNECTOR_DEFAULT_REPO", "a/../b", "CONNECTOR_DEFAULT_REPO"),
    ("CONNECTOR_CORS_ORIGINS", "chatgpt.com", "CONNECTOR_CORS_ORIGINS"),
    ("CONNECTOR_VALIDATE_RESPONSES", "sometimes", "CONNECTOR_VALIDATE_RESPONSES"),
    ("CONNECTOR_AUDIT_LOG", "/no/such/directory/audit.log", "CONNECTOR_AUDIT_LOG"),
    ("CONNECTOR_AUDIT_LOG", "/tmp", "CONNECTOR_AUDIT_LOG"),
    ("CONNECTOR_METRICS_TOKEN", "short", "CONNECTOR_METRICS_TOKEN"),
    ("CONNECTOR_METRICS_PORT", "http", "CONNECTOR_METRICS_PORT"),
    ("CONNECTOR_METRICS_PORT", "70000", "CONNECTOR_METRICS_PORT"),
])
def test_malformed_settings_fail_with_a_message_naming_the_variable(name, value, fragment):
    with pytest.raises(SettingsError, match=fragment):
        Settings.from_env({"CONNECTOR_API_KEY": KEY, name: value})


def test_production_settings_are_parsed(tmp_path):
    settings = Settings.from_env({"CONNECTOR_API_KEY": KEY, "CONNECTOR_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
                                  "CONNECTOR_METRICS_TOKEN": "metrics-token-0123456789", "CONNECTOR_METRICS_PORT": "9090"})

    assert settings.audit_log == tmp_path / "audit.jsonl"
    assert settings.metrics_token.reveal() == "metrics-token-0123456789" and settings.metrics_port == 9090
    assert "metrics-token-0123456789" not in repr(settings)
    assert Settings.from_env({"CONNECTOR_API_KEY": KEY, "CONNECTOR_AUDIT_LOG": "-"}).audit_log is None


def test_enterprise_server_api_url_and_default_repo_are_parsed():
    settings = Settings.from_env({"CONNECTOR_API_KEY": KEY, "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
                                  "CONNECTOR_DEFAULT_REPO": "octo-org/webapp", "CONNECTOR_GITHUB_TIMEOUT": "25",
                                  "CONNECTOR_CORS_ORIGINS": "https://a.example, https://b.example/"})

    assert settings.github_api_url == "https://ghe.example.com/api/v3"
    assert settings.default_repo == ("octo-org", "webapp")
    assert settings.github_timeout == 25
    assert settings.cors_origins == ("https://a.example", "https://b.example")


def test_responses_are_checked_against_the_spec_only_when_asked():
    assert Settings.from_env({"CONNECTOR_API_KEY": KEY}).validate_responses is False
    assert Settings.from_env({"CONNECTOR_API_KEY": KEY, "CONNECTOR_VALIDATE_RESPONSES": "true"}).validate_responses


@pytest.mark.parametrize("validate, status", [(True, 500), (False, 200)])
@pytest.mark.one_github_layout
def test_a_response_that_breaks_the_spec_is_refused_only_when_checked(make_client, monkeypatch, validate, status):
    monkeypatch.setattr("connector.api.meta.get_health", lambda: {"ok": False})  # the spec says const: true

    response = make_client(validate_responses=validate).get("/health")

    assert response.status_code == status
