"""`connector check` against the GitHub double, in healthy and broken set-ups; never a write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from connector.ops.doctor import WRITES, run_checks
from tests.conftest import API_KEY, GITHUB_TOKEN, OWNER, REPO
from tests.test_github_app import APP_ID, key_pair

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def environ(double):
    return {
        "CONNECTOR_API_KEY": API_KEY,
        "GITHUB_TOKEN": GITHUB_TOKEN,
        "GITHUB_API_URL": double.url,
        "PUBLIC_BASE_URL": "https://connector.example.com",
        "CONNECTOR_DEFAULT_REPO": f"{OWNER}/{REPO}",
        "CONNECTOR_EVENTS_FILE": str(ROOT / "examples" / "events.yaml"),
    }


def statuses(checks):
    return {check.name: check.status for check in checks}


def details(checks):
    return {check.name: check.detail for check in checks}


def assert_no_writes(double):
    assert [r.path for r in double.requests if r.method != "GET" and "/access_tokens" not in r.path] == []


def test_a_healthy_classic_token_set_up_passes_every_check(environ, double):
    double.oauth_scopes = "repo, workflow"

    checks = run_checks(environ)

    assert statuses(checks) == {
        "settings": "ok", "API keys": "ok", "event catalog": "ok", "GitHub API": "ok", "GitHub credentials": "ok",
        f"{OWNER}/{REPO}: read": "ok", f"{OWNER}/{REPO}: read workflow runs": "ok", f"{OWNER}/{REPO}: {WRITES}": "ok",
        "public URL": "ok", "served schema": "ok",
    }
    assert "token of connector-bot (classic token, scopes: repo, workflow)" == details(checks)["GitHub credentials"]
    assert details(checks)["event catalog"] == "4 event(s): deploy, rollback, scan, report; 1 workflow(s): release.yml"
    assert_no_writes(double)


def test_a_fine_grained_token_gets_a_warning_not_a_guess(environ, double):
    checks = run_checks(environ)

    assert statuses(checks)[f"{OWNER}/{REPO}: {WRITES}"] == "warn"
    assert "fine-grained" in details(checks)["GitHub credentials"]


def test_a_token_that_cannot_read_workflow_runs_fails_that_line_naming_the_permission(environ, double):
    double.forbid("GET", f"/repos/{OWNER}/{REPO}/actions/runs", permission="actions=read")

    checks = run_checks(environ)

    assert statuses(checks)[f"{OWNER}/{REPO}: read"] == "ok"
    assert statuses(checks)[f"{OWNER}/{REPO}: read workflow runs"] == "fail"
    assert "Actions: read" in details(checks)[f"{OWNER}/{REPO}: read workflow runs"]
    assert_no_writes(double)


def test_a_classic_token_without_repo_scope_fails_on_a_private_repository(environ, double):
    double.add_repo(OWNER, "secret", private=True)
    double.oauth_scopes = "public_repo"

    checks = run_checks({**environ, "CONNECTOR_DEFAULT_REPO": f"{OWNER}/secret"})

    assert statuses(checks)[f"{OWNER}/secret: {WRITES}"] == "fail"
    assert "needs the 'repo' scope" in details(checks)[f"{OWNER}/secret: {WRITES}"]


def test_every_exact_allowed_repository_is_checked_and_a_missing_one_fails(environ, double):
    checks = run_checks({**environ, "CONNECTOR_ALLOWED_REPOS": f"{OWNER}/{REPO},{OWNER}/gone,other/*"})

    assert statuses(checks)[f"{OWNER}/{REPO}: read"] == "ok"
    assert statuses(checks)[f"{OWNER}/gone: read"] == "fail"
    assert "not found" in details(checks)[f"{OWNER}/gone: read"]


def test_a_rejected_token_fails_the_credentials_check(environ, double):
    checks = run_checks({**environ, "GITHUB_TOKEN": "ghp_wrong_token_0123456789"})

    assert statuses(checks)["GitHub API"] == "ok"
    assert statuses(checks)["GitHub credentials"] == "fail"
    assert "401" in details(checks)["GitHub credentials"]
    assert "ghp_wrong_token" not in json.dumps([c.detail for c in checks])


@pytest.mark.one_github_layout
def test_an_unreachable_api_fails_saying_where(environ):
    checks = run_checks({**environ, "GITHUB_API_URL": "http://127.0.0.1:9"})

    assert statuses(checks)["GitHub API"] == "fail"
    assert "cannot reach http://127.0.0.1:9" in details(checks)["GitHub API"]


@pytest.mark.one_github_layout
def test_bad_settings_stop_at_the_first_check(environ):
    checks = run_checks({**environ, "CONNECTOR_DEFAULT_REPO": "not a repo"})

    assert [(c.name, c.status) for c in checks] == [("settings", "fail")]
    assert "CONNECTOR_DEFAULT_REPO" in checks[0].detail


def test_a_public_url_that_is_not_https_fails(environ, double):
    checks = run_checks({**environ, "PUBLIC_BASE_URL": "http://connector.example.com"})

    assert statuses(checks)["public URL"] == "fail"


@pytest.fixture
def app_environ(environ, double, tmp_path):
    private, public = key_pair()
    double.register_app(APP_ID, public, slug="octo-connector")
    key_file = tmp_path / "app.pem"
    key_file.write_text(private)
    key_file.chmod(0o600)
    app = {k: v for k, v in environ.items() if k != "GITHUB_TOKEN"}
    return {**app, "GITHUB_APP_ID": str(APP_ID), "GITHUB_APP_PRIVATE_KEY_FILE": str(key_file)}


def test_a_healthy_app_reports_its_installation_permissions(app_environ, double):
    double.install_app(OWNER, repos=[REPO])

    checks = run_checks(app_environ)

    assert details(checks)["GitHub credentials"] == f"GitHub App 'octo-connector' (id {APP_ID})"
    assert statuses(checks)[f"{OWNER}/{REPO}: comment and label pull requests"] == "ok"
    assert statuses(checks)[f"{OWNER}/{REPO}: repository_dispatch"] == "ok"
    assert all(check.status == "ok" for check in checks), checks
    assert_no_writes(double)


def test_an_app_without_contents_write_fails_only_the_dispatch_line(app_environ, double):
    double.install_app(OWNER, repos=[REPO], permissions={"metadata": "read", "pull_requests": "write",
                                                         "issues": "write", "contents": "read"})

    checks = run_checks(app_environ)

    assert statuses(checks)[f"{OWNER}/{REPO}: comment and label pull requests"] == "ok"
    assert statuses(checks)[f"{OWNER}/{REPO}: repository_dispatch"] == "fail"
    assert "contents: write" in details(checks)[f"{OWNER}/{REPO}: repository_dispatch"]


def test_an_app_without_actions_write_fails_only_the_cancel_line(app_environ, double):
    double.install_app(OWNER, repos=[REPO], permissions={"metadata": "read", "pull_requests": "write",
                                                         "issues": "write", "contents": "write", "actions": "read"})

    checks = run_checks(app_environ)

    assert statuses(checks)[f"{OWNER}/{REPO}: read workflow runs"] == "ok"
    assert statuses(checks)[f"{OWNER}/{REPO}: repository_dispatch"] == "ok"
    assert statuses(checks)[f"{OWNER}/{REPO}: cancel, rerun, workflow_dispatch"] == "fail"
    assert "actions: write" in details(checks)[f"{OWNER}/{REPO}: cancel, rerun, workflow_dispatch"]


def test_an_app_not_installed_on_the_repository_fails_with_the_hint(app_environ, double):
    double.install_app(OWNER, repos=["other"])

    checks = run_checks(app_environ)

    assert statuses(checks)[f"{OWNER}/{REPO}: read"] == "fail"
    assert "install it there" in details(checks)[f"{OWNER}/{REPO}: read"]


def test_the_command_prints_json_and_exits_non_zero_on_a_failure(environ, double):
    env = {**os.environ, **environ, "PUBLIC_BASE_URL": "http://insecure.example.com", "PYTHONPATH": str(ROOT)}

    result = subprocess.run([sys.executable, "-m", "connector", "check", "--json"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)

    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert {"name": "public URL", "status": "fail",
            "detail": "http://insecure.example.com is not https; ChatGPT only calls https"} in report["checks"]
    assert GITHUB_TOKEN not in result.stdout + result.stderr


def test_github_sign_in_is_reported_with_who_may_sign_in_and_the_callback(environ, double, tmp_path):
    from cryptography.fernet import Fernet

    from tests.oauth_client import signing_key_pem

    pem = tmp_path / "signing.pem"
    pem.write_text(signing_key_pem())
    pem.chmod(0o600)
    checks = run_checks({**environ, "CONNECTOR_OAUTH": "embedded", "CONNECTOR_OAUTH_SIGNING_KEY_FILE": str(pem),
                         "GITHUB_OAUTH_CLIENT_ID": "Iv23liCheck", "GITHUB_OAUTH_CLIENT_SECRET": "s" * 30,
                         "CONNECTOR_OAUTH_ALLOWED_ORGS": "octo-org",
                         "CONNECTOR_OAUTH_ENCRYPTION_KEY": Fernet.generate_key().decode()})

    assert statuses(checks)["GitHub sign-in"] == "ok"
    detail = details(checks)["GitHub sign-in"]
    assert "members of octo-org" in detail and "https://connector.example.com/oauth/github/callback" in detail
    assert "s" * 30 not in json.dumps([c.detail for c in checks])
