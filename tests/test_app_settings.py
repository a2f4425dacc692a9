"""GitHub App settings: the key is checked at start-up, read from a private file, never shown."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from connector.config.settings import Settings, SettingsError

KEY = "k" * 32


@pytest.fixture(scope="module")
def pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def key_file(tmp_path, text: str, mode: int = 0o600):
    path = tmp_path / "app.pem"
    path.write_text(text)
    os.chmod(path, mode)
    return str(path)


def test_an_app_is_read_from_id_key_file_and_optional_installation(tmp_path, pem):
    settings = Settings.from_env({"CONNECTOR_API_KEY": KEY, "GITHUB_APP_ID": "123",
                                  "GITHUB_APP_PRIVATE_KEY_FILE": key_file(tmp_path, pem),
                                  "GITHUB_APP_INSTALLATION_ID": "456"})

    assert settings.github_app_id == 123
    assert settings.github_app_private_key.reveal() == pem.strip()
    assert settings.github_app_installation_id == 456
    assert settings.has_github_credentials
    assert "PRIVATE KEY" not in repr(settings) and pem.splitlines()[1] not in repr(settings)


def test_a_key_with_escaped_line_breaks_in_the_environment_is_accepted(pem):
    settings = Settings.from_env({"CONNECTOR_API_KEY": KEY, "GITHUB_APP_ID": "1",
                                  "GITHUB_APP_PRIVATE_KEY": pem.strip().replace("\n", "\\n")})

    assert settings.github_app_private_key.reveal() == pem.strip()


def test_a_world_readable_key_file_is_refused_unless_allowed(tmp_path, pem):
    path = key_file(tmp_path, pem, mode=0o644)
    environ = {"CONNECTOR_API_KEY": KEY, "GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY_FILE": path}

    with pytest.raises(SettingsError, match=r"readable by every user.*chmod 600"):
        Settings.from_env(environ)
    assert Settings.from_env({**environ, "CONNECTOR_ALLOW_READABLE_KEY_FILE": "true"}).github_app_id == 1


@pytest.mark.parametrize(("environ", "message"), [
    ({"GITHUB_TOKEN": "ghp_x", "GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY": "PEM"}, "both GITHUB_TOKEN and a GitHub App"),
    ({"GITHUB_APP_ID": "1"}, "GITHUB_APP_PRIVATE_KEY .* is not set"),
    ({"GITHUB_APP_PRIVATE_KEY": "PEM"}, "GITHUB_APP_ID is not set"),
    ({"GITHUB_APP_INSTALLATION_ID": "5"}, "GITHUB_APP_INSTALLATION_ID is set without"),
    ({"GITHUB_APP_ID": "app", "GITHUB_APP_PRIVATE_KEY": "PEM"}, "GITHUB_APP_ID='app' is not a positive whole number"),
    ({"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY": "not a key"}, "not an unencrypted PEM private key"),
])
def test_app_settings_mistakes_stop_start_up_with_a_clear_message(environ, message, pem):
    environ = {key: (pem if value == "PEM" else value) for key, value in environ.items()}

    with pytest.raises(SettingsError, match=message) as raised:
        Settings.from_env({"CONNECTOR_API_KEY": KEY, **environ})
    assert pem.splitlines()[1] not in str(raised.value)


def test_a_key_that_is_not_rsa_is_refused():
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()

    with pytest.raises(SettingsError, match="not an RSA key"):
        Settings.from_env({"CONNECTOR_API_KEY": KEY, "GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY": ec_pem})
