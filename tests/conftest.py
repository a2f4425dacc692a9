"""Fixtures: the GitHub double over real loopback HTTP, and connector apps built from explicit settings.

No fixture reads the developer's environment: every app gets a Settings object built here.

Two GitHub layouts. The session's double (``github_double``, and ``double``, ``make_settings``,
``make_client`` and ``client`` built on it) serves either api.github.com's layout or GitHub
Enterprise Server's (everything under ``/api/v3``), chosen by the ``github_layout`` parameter.
The rule for which tests run under which:

* A test runs under **both** layouts unless it is marked ``@pytest.mark.one_github_layout``.
  That is the default, so a new test loses no coverage by being left unmarked.
* ``@pytest.mark.one_github_layout`` is for tests that never make the connector (or anything
  else) send the session's double a request: refused before any GitHub call (validation, auth,
  limits, policy), or about settings, the served spec, MCP tool listings and the like. No GitHub
  URL is formed, so the layout cannot change what they see; they run once, as github.com.
* The mark is checked, not trusted: a marked test that sends the session's double even one
  request fails, naming the requests, so that it is unmarked and also runs as Enterprise Server.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
import uvicorn

from connector.app import create_app
from connector.config.settings import Settings
from connector.ghdouble import GitHubDouble
from connector.types import Secret

API_KEY = "test-api-key-0123456789abcdef"
OTHER_KEY = "second-api-key-abcdef0123456789"
GITHUB_TOKEN = "ghp_testtoken_never_logged_0123456789"
OWNER, REPO = "octo-org", "webapp"

# Where every server the session runs leaves its log lines (in-process records, audit logs,
# subprocess output), swept for secrets and comment bodies when the session ends (log_sweep).
LOG_DIR = Path(tempfile.mkdtemp(prefix="connector-test-logs-"))
AUDIT_LOG = LOG_DIR / "audit.log"
COMMENT_BODIES: set[str] = set()  # what the double received, filled as tests finish
ISSUED_TOKENS: set[str] = set()  # App installation tokens and user tokens the double issued
_SECRET_NAME = re.compile(r"(SECRET|TOKEN|_KEY)$")


# The two layouts the session's double serves: id -> URL prefix (see the module docstring).
GITHUB_LAYOUTS = {"github.com": "", "enterprise-server": "/api/v3"}
_SENT_BEFORE_TEST = pytest.StashKey[int]()


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "one_github_layout: the test sends GitHub (the session's double) no request, so it runs "
                   "under the github.com layout only; it fails if it sends one (see tests/conftest.py)")
    handler = logging.FileHandler(LOG_DIR / "in-process.log", encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    # The tests' own MCP client logs each message it sends at DEBUG, comment bodies included; the
    # sweep is about what the connector's servers write.
    handler.addFilter(lambda record: not record.name.startswith("mcp.client"))
    logging.getLogger().addHandler(handler)


def pytest_sessionfinish(session, exitstatus) -> None:
    from tests.log_sweep import MIN_BODY_LENGTH, sweep

    secrets = {API_KEY, OTHER_KEY, GITHUB_TOKEN, "PRIVATE KEY-----", *ISSUED_TOKENS}
    for module in {item.module for item in session.items if getattr(item, "module", None)}:
        secrets |= {value for name, value in vars(module).items()
                    if _SECRET_NAME.search(name) and isinstance(value, str) and len(value) >= 8}
    bodies = {body for body in COMMENT_BODIES if len(body) >= MIN_BODY_LENGTH}
    for handler in logging.getLogger().handlers:
        handler.flush()
    hits = sweep(LOG_DIR, secrets | bodies)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"log sweep: {len(secrets)} secrets and {len(bodies)} comment bodies looked for in "
                            f"{LOG_DIR}: {len(hits)} found")
        for file_name, needle in hits:
            reporter.write_line(f"log sweep: {file_name} holds {'a comment body' if needle in bodies else 'a secret'}"
                                f" ({needle[:4]}…)", red=True)
    if hits:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def no_secret_in_any_log(caplog):
    """Every test, whatever it does: no API key or GitHub token in any log record, at any level."""
    caplog.set_level(logging.DEBUG)
    yield
    records = caplog.get_records("setup") + caplog.get_records("call")
    text = "\n".join(f"{record.getMessage()} {record.exc_text or ''}" for record in records)
    assert [secret for secret in (API_KEY, OTHER_KEY, GITHUB_TOKEN) if secret in text] == []


def pytest_generate_tests(metafunc) -> None:
    """Both layouts for every test on the session's double, except those marked one_github_layout."""
    if "github_layout" in metafunc.fixturenames:
        ids = ["github.com"] if metafunc.definition.get_closest_marker("one_github_layout") else list(GITHUB_LAYOUTS)
        metafunc.parametrize("github_layout", [GITHUB_LAYOUTS[i] for i in ids], ids=ids, indirect=True,
                             scope="session")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item) -> None:
    item.stash[_SENT_BEFORE_TEST] = len(_SessionDouble.sent)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A test marked one_github_layout that sent the session's double a request fails (setup and call)."""
    report = yield
    if (call.when == "call" and report.passed and item.get_closest_marker("one_github_layout")
            and "github_layout" in item.fixturenames):
        sent = _SessionDouble.sent[item.stash.get(_SENT_BEFORE_TEST, len(_SessionDouble.sent)):]
        if sent:
            report.outcome = "failed"
            report.longrepr = (f"{item.nodeid} is marked one_github_layout but sent GitHub {len(sent)} request(s) "
                               f"({', '.join(sent[:3])}{', ...' if len(sent) > 3 else ''}): remove the mark so "
                               "that it runs under the Enterprise Server layout too")
    return report


class _SessionDouble(GitHubDouble):
    """The session's double (either layout), noting each request as it arrives, before any delay
    or fault: ``sent`` lists them in order as "METHOD /path?query", the path as double.calls() has
    it (without the layout's prefix). The one_github_layout check reads it."""

    sent: ClassVar[list[str]] = []

    def _handle(self, h) -> None:
        path = h.path.removeprefix(self.prefix) if self.prefix and h.path.startswith(self.prefix + "/") else h.path
        _SessionDouble.sent.append(f"{h.command} {path}")
        super()._handle(h)


@pytest.fixture(scope="session")
def github_layout(request) -> str:
    """The URL prefix of the layout this test runs under (parametrised in pytest_generate_tests)."""
    return request.param


@pytest.fixture(scope="session")
def github_double(github_layout: str) -> Iterator[GitHubDouble]:
    """The double, as api.github.com or as GitHub Enterprise Server (under /api/v3): see the module
    docstring for which tests run under both."""
    double = _SessionDouble(token=GITHUB_TOKEN, prefix=github_layout).start()
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
    for request in github_double.calls("POST", re.compile(r".*/issues/\d+/comments")):
        if isinstance(request.body, dict) and isinstance(request.body.get("body"), str):
            COMMENT_BODIES.add(request.body["body"])
    ISSUED_TOKENS.update(token for _, token, _ in github_double.issued_tokens)
    for issued in github_double.people.tokens:  # people's user tokens: never in any log either
        ISSUED_TOKENS.update(token for token in (issued.access_token, issued.refresh_token) if token)
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
            # The double's pull requests are by CONTRIBUTORs of a public repository, which lockdown (on by
            # default there) would withhold; tests/test_get_pull_request.py and test_job_logs.py turn it on.
            lockdown="off",
            audit_log=AUDIT_LOG,
        )
        values.update(overrides)
        return Settings(**values).validated()

    return make


@pytest.fixture
def make_client(make_settings: Callable[..., Settings]):
    def make(clock: Callable[[], float] = time.time, **overrides: Any):
        return create_app(make_settings(**overrides), clock=clock).test_client(
            headers={"Authorization": f"Bearer {API_KEY}"}
        )

    return make


@pytest.fixture
def client(make_client, double):
    return make_client()


def missing_tool(message: str) -> None:
    """A program a test needs is not installed: in CI (CI is set, as .ci/run sets it) that fails the
    test, since .ci/run installs it; on a developer's machine it skips the test, saying what to install."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class RedisServer:
    """A real redis-server from PATH on a free loopback port, with nothing saved to disk.

    .ci/run installs it; in CI (CI is set) a missing server fails the tests that need it, and on a
    developer's machine it skips them saying what to install."""

    def __init__(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            missing_tool("redis-server is not installed (Debian/Ubuntu: apt-get install redis-server)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._command = [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                         "--appendonly", "no"]
        self._process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        self._process = subprocess.Popen(self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self._answers():
            if time.monotonic() > deadline or self._process.poll() is not None:
                self._process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The session's shared redis-server (see RedisServer)."""
    server = RedisServer().start()
    yield server.url
    server.stop()


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


class Clock:
    """A clock a test moves on (``create_app(..., clock=)``), to cross a time boundary without sleeping."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium, driven by Selenium through chromedriver (given by path, so
    Selenium downloads nothing). .ci/run installs both; in CI a missing one fails the test."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        missing_tool("chromium and chromedriver are not installed (Debian: apt-get install chromium chromium-driver)")
    # Selenium logs every command it sends the browser at DEBUG, the keys it types included: that
    # is the tests' client talking, not the connector, whose own logs are still swept.
    logging.getLogger("selenium").setLevel(logging.INFO)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    session = webdriver.Chrome(service=Service(driver), options=options)
    yield session
    session.quit()


class LiveServer:
    """The connector under uvicorn on a loopback port, in a background thread."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()  # a port chosen beforehand: for an app that must know its own URL
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


ROOT = Path(__file__).resolve().parent.parent


class ServeProcess:
    """``connector serve`` in a subprocess, as an operator runs it, with its output in LOG_DIR (so
    the session's log sweep reads it) and only the environment given (nothing from the shell)."""

    def __init__(self, *args: str, env: dict[str, str], name: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = LOG_DIR / f"{name}-{self.port}.log"
        self._args = ["serve", "--port", str(self.port), *args]
        self._env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT),
                     "CONNECTOR_VALIDATE_RESPONSES": "true", **env}
        self.process: subprocess.Popen | None = None

    def start(self, *, ready_path: str = "/health") -> ServeProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "connector", *self._args], env=self._env,
                                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(self.url + ready_path, timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"connector serve did not start:\n{self.output()}")
            time.sleep(0.1)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
