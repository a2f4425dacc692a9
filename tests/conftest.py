"""Fixtures: the GitHub double over real loopback HTTP, and connector apps built from explicit settings.

No fixture reads the developer's environment: every app gets a Settings object built here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn

from connector.app import create_app
from connector.ghdouble import GitHubDouble
from connector.settings import Secret, Settings

API_KEY = "test-api-key-0123456789abcdef"
OTHER_KEY = "second-api-key-abcdef0123456789"
GITHUB_TOKEN = "ghp_testtoken_never_logged_0123456789"
OWNER, REPO = "octo-org", "webapp"


@pytest.fixture(autouse=True)
def no_secret_in_any_log(caplog):
    """Every test, whatever it does: no API key or GitHub token in any log record, at any level."""
    caplog.set_level(logging.DEBUG)
    yield
    records = caplog.get_records("setup") + caplog.get_records("call")
    text = "\n".join(f"{record.getMessage()} {record.exc_text or ''}" for record in records)
    assert [secret for secret in (API_KEY, OTHER_KEY, GITHUB_TOKEN) if secret in text] == []


@pytest.fixture(scope="session", params=["", "/api/v3"], ids=["github.com", "enterprise-server"])
def github_double(request) -> Iterator[GitHubDouble]:
    """The double, once as api.github.com and once as GitHub Enterprise Server (under /api/v3):
    every integration test runs against both layouts."""
    double = GitHubDouble(token=GITHUB_TOKEN, prefix=request.param).start()
    yield double
    double.stop()


@pytest.fixture
def double(github_double: GitHubDouble) -> Iterator[GitHubDouble]:
    """The double, emptied and seeded with octo-org/webapp; its request log starts empty.

    After the test, every request the connector sent must have conformed to GitHub's official
    schema for that endpoint (the double checks each one against github-rest-subset.json).
    """
    github_double.reset()
    github_double.add_repo(OWNER, REPO, labels=("bug", "enhancement", "documentation", "needs-review"))
    yield github_double
    assert [(r.method, r.path, r.schema_errors) for r in github_double.nonconforming()] == []


@pytest.fixture
def pr(double: GitHubDouble) -> int:
    """An open pull request in octo-org/webapp; the request log starts empty."""
    number = double.add_pull(OWNER, REPO, title="Fix", head="fix")
    double.clear_requests()
    return number


@pytest.fixture
def make_settings(github_double: GitHubDouble) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = dict(
            api_keys=(Secret(API_KEY), Secret(OTHER_KEY)),
            github_token=Secret(GITHUB_TOKEN),
            github_api_url=github_double.url,
            github_timeout=2,
            public_base_url="https://connector.example.com",
            validate_responses=True,  # off in production; here every response is checked against the spec
        )
        values.update(overrides)
        return Settings(**values).validated()

    return make


@pytest.fixture
def make_client(make_settings: Callable[..., Settings]):
    def make(**overrides: Any):
        return create_app(make_settings(**overrides)).test_client(
            headers={"Authorization": f"Bearer {API_KEY}"}
        )

    return make


@pytest.fixture
def client(make_client, double):
    return make_client()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server from PATH on a free loopback port, with nothing saved to disk.

    .ci/run installs it; in CI (CI is set) a missing server fails the tests that need it, and on a
    developer's machine it skips them saying what to install."""
    executable = shutil.which("redis-server")
    if executable is None:
        message = "redis-server is not installed (Debian/Ubuntu: apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    process = subprocess.Popen([executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail("redis-server did not start")
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


def keys_file_with(path, name: str, key: str, scopes: list[str], repos: list[str] | None = None):
    """A TOML keys file holding one key (its digest, as operators write them) at ``path``."""
    entry = f'[[keys]]\nname = "{name}"\nsha256 = "{hashlib.sha256(key.encode()).hexdigest()}"\n'
    entry += f"scopes = {json.dumps(scopes)}\n" + (f"repos = {json.dumps(repos)}\n" if repos else "")
    path.write_text(entry)
    return path


def eventually(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``condition`` until it is truthy and return its value; fail after ``timeout`` seconds.

    For what happens on another thread (the double's timers, a slow answer finishing): a fixed sleep
    is either slow or flaky on a busy CI machine.
    """
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"still false after {timeout} s: {getattr(condition, '__name__', condition)}")
        time.sleep(0.02)
    return value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """The connector under uvicorn on a loopback port, in a background thread."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # As `connector serve` runs it: X-Forwarded-For is judged by CONNECTOR_TRUSTED_PROXIES alone.
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on",
                                proxy_headers=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the connector did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
