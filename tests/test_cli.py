"""The command line, run as an operator would: `connector spec` and `connector serve` in subprocesses."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import API_KEY, free_port, missing_tool

ROOT = Path(__file__).resolve().parent.parent


def clean_env(**values: str) -> dict[str, str]:
    """A minimal environment: nothing from the developer's shell leaks into the connector. Responses
    are checked against the spec, as in every other test."""
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "CONNECTOR_VALIDATE_RESPONSES": "true",
            **values}


def connector(*args: str, env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "connector", *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


@pytest.mark.one_github_layout
def test_spec_prints_the_document_exactly_as_served(make_client, double):
    env = clean_env(PUBLIC_BASE_URL="https://connector.example.com", CONNECTOR_DEFAULT_REPO="octo-org/webapp")
    printed = subprocess.run([sys.executable, "-m", "connector", "spec"], env=env, cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout

    served = make_client(public_base_url="https://connector.example.com", default_repo=("octo-org", "webapp")
                         ).get("/openapi.json").text

    assert printed.strip() == served
    assert json.loads(printed)["servers"] == [{"url": "https://connector.example.com"}]


def test_serve_refuses_to_start_without_an_api_key_outside_the_sandbox():
    process = connector("serve", "--port", str(free_port()), env=clean_env(GITHUB_TOKEN="ghp_x"))
    output, _ = process.communicate(timeout=30)

    assert process.returncode == 2
    assert "CONNECTOR_API_KEY is not set" in output
    assert "ghp_x" not in output


SERVED: dict[str, int] = {}  # a sandbox server's URL -> its process id


@pytest.fixture
def sandbox_server():
    port = free_port()
    process = connector("serve", "--port", str(port), env=clean_env())
    lines: list[str] = []
    deadline = time.monotonic() + 30
    key = None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if match := re.search(r"API key:\s+(\S+)", line):
            key = match.group(1)
        if "Uvicorn running" in line:  # logged once the socket is bound
            break
    assert key, "".join(lines)
    SERVED[f"http://127.0.0.1:{port}"] = process.pid
    yield f"http://127.0.0.1:{port}", key, lines
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=15)


def test_serve_without_a_token_starts_the_sandbox_with_a_working_demo_key(sandbox_server):
    url, key, lines = sandbox_server
    banner = "".join(lines)
    assert "SANDBOX MODE" in banner and "curl -s" in banner
    assert "Warning" not in banner  # Starlette's test-client deprecation, raised by Connexion's import
    auth = {"Authorization": f"Bearer {key}"}

    listed = requests.post(f"{url}/chatgpt/prs/list", json={"state": "all"}, headers=auth, timeout=10).json()
    number = next(pr["number"] for pr in listed["pull_requests"] if pr["state"] == "open")
    commented = requests.post(f"{url}/chatgpt/prs/comment", json={"number": number, "body": "hi"}, headers=auth, timeout=10)
    labelled = requests.post(f"{url}/chatgpt/prs/label", json={"number": number, "labels": ["bug"]}, headers=auth, timeout=10)
    dispatched = requests.post(f"{url}/chatgpt/dispatch", json={"event_type": "deploy"}, headers=auth, timeout=10)
    anonymous = requests.post(f"{url}/chatgpt/prs/list", json={}, timeout=10)

    assert listed["repository"] == "octo-demo/hello-connector"
    assert len(listed["pull_requests"]) >= 5
    assert commented.status_code == 201
    assert "bug" in labelled.json()["labels"]
    assert dispatched.status_code == 202
    assert anonymous.status_code == 401
    assert key != API_KEY


def test_every_curl_command_the_banner_prints_works_as_pasted(sandbox_server):
    url, key, lines = sandbox_server
    commands = [shlex.split(line.strip()) for line in lines if line.strip().startswith("curl ")]
    assert len(commands) >= 5

    for command in commands:
        target = next(arg for arg in command if arg.startswith("http"))
        headers = dict(command[i + 1].split(": ", 1) for i, arg in enumerate(command) if arg == "-H")
        body = next(command[i + 1] for i, arg in enumerate(command) if arg == "-d")
        response = requests.post(target, data=body, headers=headers, timeout=30)

        assert response.status_code < 300, (command, response.text)
    status = requests.post(f"{url}/chatgpt/dispatch/status", json={"request_id": "demo-1"},
                           headers={"Authorization": f"Bearer {key}"}, timeout=10).json()
    assert status["state"] in ("queued", "in_progress", "completed") and status["runs"]


def test_spec_sandbox_prints_the_document_the_sandbox_serves(sandbox_server):
    url, _key, _lines = sandbox_server
    printed = subprocess.run([sys.executable, "-m", "connector", "spec", "--sandbox", "--base-url", url],
                             env=clean_env(), cwd=ROOT, capture_output=True, text=True, check=True).stdout
    configured = json.loads(subprocess.run([sys.executable, "-m", "connector", "spec"], env=clean_env(), cwd=ROOT,
                                           capture_output=True, text=True, check=True).stdout)

    enforced = subprocess.run([sys.executable, "-m", "connector", "spec", "--sandbox", "--enforced", "--base-url", url],
                              env=clean_env(), cwd=ROOT, capture_output=True, text=True, check=True).stdout

    assert printed.strip() == requests.get(f"{url}/openapi.json", timeout=10).text
    assert enforced.strip() == requests.get(f"{url}/openapi.json?view=enforced", timeout=10).text
    # Without --sandbox the settings have no default repository, so the document says owner and repo are needed.
    assert "owner" in configured["components"]["schemas"]["ListPullRequestsRequest"]["required"]
    assert "owner" not in json.loads(printed)["components"]["schemas"]["ListPullRequestsRequest"].get("required", [])


def readme_curl_blocks() -> list[str]:
    """Every bash block in the README that calls curl, as written."""
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.DOTALL)
    return [block for block in blocks if re.search(r"^\s*curl ", block, flags=re.MULTILINE)]


def test_every_curl_example_in_the_readme_works_against_the_sandbox(sandbox_server):
    if shutil.which("curl") is None:
        missing_tool("curl is not installed (apt-get install curl)")
    url, key, _lines = sandbox_server
    blocks = readme_curl_blocks()
    calls = sum(len(re.findall(r"^\s*curl ", block, flags=re.MULTILINE)) for block in blocks)
    assert len(blocks) >= 2 and calls >= 5, blocks

    # Each block runs in bash as pasted, at the sandbox's port with its key; curl answers a status
    # of 400 or more with a failure, which stops the block.
    prelude = 'set -euo pipefail\ncurl() { command curl --fail-with-body --max-time 30 "$@"; echo; }\n'
    for block in blocks:
        script = prelude + block.replace("http://127.0.0.1:8080", url)
        ran = subprocess.run(["bash", "-c", script], env={"PATH": os.environ["PATH"], "KEY": key},
                             capture_output=True, text=True, timeout=120)

        assert ran.returncode == 0, (block, ran.stdout, ran.stderr)
        answers = [json.loads(line) for line in ran.stdout.splitlines() if line.strip()]
        assert answers and all(isinstance(answer, dict) for answer in answers), ran.stdout


def test_serve_closes_connections_whose_headers_are_too_slow_or_too_large(sandbox_server):
    """Before authentication a client can only hold connections: headers are due within
    HEADER_SECONDS and capped in size, so slow ones are closed and memory stays flat."""
    from connector.http.slow_clients import HEADER_SECONDS

    url, key, _ = sandbox_server
    host, port = url.removeprefix("http://").split(":")
    pid = SERVED[url]
    rss_before = _rss_kb(pid)
    slow = []
    for _ in range(50):
        sock = socket.create_connection((host, int(port)), timeout=HEADER_SECONDS + 5)
        sock.sendall(b"POST /chatgpt/prs/list HTTP/1.1\r\nHost: x\r\nX-Slow: a")  # and never the rest
        slow.append(sock)
    started = time.monotonic()
    health = requests.get(f"{url}/health", timeout=5)
    oversized = socket.create_connection((host, int(port)), timeout=5)
    oversized.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n")
    too_large = oversized.recv(100)

    closed = [sock.recv(100) == b"" for sock in slow]
    waited = time.monotonic() - started
    for sock in [*slow, oversized]:
        sock.close()

    assert health.status_code == 200
    assert too_large.startswith((b"HTTP/1.1 431", b"HTTP/1.1 400")), too_large
    assert all(closed) and HEADER_SECONDS - 1 <= waited <= HEADER_SECONDS + 4, waited
    assert _rss_kb(pid) - rss_before < 10_000  # kB: 50 held connections cost next to nothing


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
