"""Scoped API keys from CONNECTOR_KEYS_FILE: scopes per operation, repositories per key, reloading."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connector.app import create_app
from connector.config.keys import KeyRing, KeysFileError, parse_keys_file
from connector.config.settings import Settings, SettingsError
from tests.conftest import OWNER, REPO, Clock

ROOT = Path(__file__).resolve().parent.parent
READER, WRITER = "reader-key-0123456789abcdef", "writer-key-0123456789abcdef"


def sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def write_keys(path: Path, *entries: str) -> Path:
    path.write_text("\n".join(entries))
    return path


def entry(name: str, key: str, scopes: str, repos: str | None = None) -> str:
    text = f'[[keys]]\nname = "{name}"\nsha256 = "{sha(key)}"\nscopes = {scopes}\n'
    return text + (f"repos = {repos}\n" if repos else "")


@pytest.fixture
def keys_file(tmp_path):
    return write_keys(tmp_path / "keys.toml",
                      entry("reader", READER, '["prs:read"]'),
                      entry("writer", WRITER, '["prs:read", "prs:write"]', f'["{OWNER}/{REPO}"]'))


@pytest.fixture
def app_client(make_settings, keys_file, double):
    return create_app(make_settings(api_keys=(), keys_file=keys_file)).test_client()


def call(client, key, path, body):
    return client.post(path, json={"owner": OWNER, "repo": REPO, **body}, headers={"Authorization": f"Bearer {key}"})


@pytest.mark.one_github_layout
def test_a_key_without_the_operations_scope_gets_403_naming_it(app_client, double):
    response = call(app_client, READER, "/chatgpt/prs/comment", {"number": 1, "body": "hi"})

    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert response.json()["required_scope"] == "prs:write"
    assert "'reader'" in response.json()["detail"]
    assert double.requests == []


def test_each_key_can_do_what_its_scopes_allow(app_client, double):
    number = double.add_pull(OWNER, REPO, title="x", head="x")

    assert call(app_client, READER, "/chatgpt/prs/list", {}).status_code == 200
    assert call(app_client, WRITER, "/chatgpt/prs/comment", {"number": number, "body": "hi"}).status_code == 201
    assert call(app_client, WRITER, "/chatgpt/dispatch", {"event_type": "deploy"}).json()["code"] == "insufficient_scope"


def test_a_keys_own_repositories_limit_it_further(app_client, double):
    double.add_repo(OWNER, "other")

    response = call(app_client, WRITER, "/chatgpt/prs/list", {"repo": "other"})

    assert response.status_code == 403
    assert response.json()["code"] == "repo_not_allowed"
    assert call(app_client, READER, "/chatgpt/prs/list", {"repo": "other"}).status_code == 200


def test_the_keys_file_is_reread_when_it_changes(make_settings, keys_file, double):
    clock = Clock()
    client = create_app(make_settings(api_keys=(), keys_file=keys_file), clock=clock).test_client()
    newcomer = "newcomer-key-0123456789abcdef"
    assert call(client, newcomer, "/chatgpt/prs/list", {}).status_code == 401

    write_keys(keys_file, entry("newcomer", newcomer, '["prs:read"]'))
    os.utime(keys_file, (time.time() + 5, time.time() + 5))
    clock.advance(1.1)  # the file is checked at most once a second

    assert call(client, newcomer, "/chatgpt/prs/list", {}).status_code == 200
    assert call(client, READER, "/chatgpt/prs/list", {}).status_code == 401  # rotated out


def test_a_malformed_update_keeps_the_previous_keys_and_says_why(make_settings, keys_file, double, caplog):
    clock = Clock()
    client = create_app(make_settings(api_keys=(), keys_file=keys_file), clock=clock).test_client()
    keys_file.write_text("[[keys]]\nname = 'broken'\n")
    os.utime(keys_file, (time.time() + 5, time.time() + 5))
    clock.advance(1.1)

    with caplog.at_level(logging.WARNING, logger="connector"):
        response = call(client, READER, "/chatgpt/prs/list", {})

    assert response.status_code == 200
    assert "keeping the previous keys" in caplog.text and "sha256" in caplog.text


@pytest.mark.parametrize("text, message", [
    ("not toml [", "cannot be read as TOML"),
    ("[[keys]]\nname = 'a'\nsha256 = 'abc'\nscopes = ['prs:read']\n", "64 hex digits"),
    (f"[[keys]]\nname = 'a'\nsha256 = '{'0' * 64}'\nscopes = ['admin']\n", "scopes must list"),
    (f"[[keys]]\nname = 'a'\nsha256 = '{'0' * 64}'\nscopes = ['prs:read']\nrepos = ['x/../y']\n", "repos must list"),
])
def test_malformed_keys_files_are_refused_with_the_reason(tmp_path, text, message):
    with pytest.raises(KeysFileError, match=message):
        parse_keys_file(write_keys(tmp_path / "keys.toml", text))


def test_yaml_keys_files_work_too(tmp_path):
    path = tmp_path / "keys.yaml"
    path.write_text(f"keys:\n  - name: bot\n    sha256: {sha(READER)}\n    scopes: [prs:read]\n")

    assert KeyRing((), path).find(READER).name == "bot"


def test_a_keys_file_alone_satisfies_the_api_key_requirement(keys_file):
    settings = Settings.from_env({"CONNECTOR_KEYS_FILE": str(keys_file)})

    assert settings.keys_file == keys_file


def test_a_missing_keys_file_fails_start_up(tmp_path):
    with pytest.raises(SettingsError, match="CONNECTOR_KEYS_FILE"):
        Settings.from_env({"CONNECTOR_KEYS_FILE": str(tmp_path / "nope.toml")})


def test_keys_new_prints_a_key_and_an_entry_that_works(tmp_path, double, make_settings):
    output = subprocess.run([sys.executable, "-m", "connector", "keys", "new", "triage-bot",
                             "--scopes", "prs:read,prs:write", "--repos", f"{OWNER}/*"],
                            capture_output=True, text=True, check=True, cwd=ROOT,
                            env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}).stdout
    key = re.search(r"^  (\S+)$", output, flags=re.M).group(1)
    path = tmp_path / "keys.toml"
    path.write_text(output[output.index("[[keys]]"):])

    client = create_app(make_settings(api_keys=(), keys_file=path)).test_client()

    assert sha(key) in output and key not in output[output.index("[[keys]]"):]
    assert call(client, key, "/chatgpt/prs/list", {}).status_code == 200
