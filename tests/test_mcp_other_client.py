"""The connector's MCP server driven by a client this project did not write in a language it does
not use: the official TypeScript SDK's (npm, run by Node; tests/mcp-client), the client much of the
MCP world is built on. It checks every answer against its own schemas, so a result shape the
Python SDK forgives fails here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from connector.app import create_app
from tests.conftest import API_KEY, GITHUB_TOKEN, LOG_DIR, OWNER, REPO, LiveServer, missing_tool

CLIENT = Path(__file__).resolve().parent / "mcp-client"
ROOT = CLIENT.parent.parent
CALLS = [
    {"name": "list_pull_requests", "arguments": {"owner": OWNER, "repo": REPO, "per_page": 2}},
    {"name": "list_pull_requests", "arguments": {"owner": OWNER, "repo": "elsewhere"}},
    {"name": "merge_pull_request", "arguments": {}},
]


@pytest.fixture(scope="module")
def node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing_tool("node and npm are not installed (Debian: apt-get install nodejs npm)")
    if not (CLIENT / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=CLIENT, check=True, timeout=300)
    return node


def drive(node: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run([node, "client.mjs", *args], cwd=CLIENT, capture_output=True, text=True, timeout=120,
                          env=env or {"PATH": os.environ.get("PATH", "")})
    (LOG_DIR / f"mcp-ts-client-{os.getpid()}-{args[0]}.log").write_text(done.stderr)  # for the log sweep
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def check(answer: dict[str, Any]) -> None:
    assert answer["server"]["name"] == "github-connector"
    assert "dispatch_event" in answer["tools"] and "get_health" not in answer["tools"]
    assert "request_id" in answer["instructions"]
    listed, refused, unknown = answer["calls"]
    assert listed["result"]["isError"] is False
    assert listed["result"]["structuredContent"]["repository"] == f"{OWNER}/{REPO}"
    assert json.loads(listed["result"]["content"][0]["text"]) == listed["result"]["structuredContent"]
    assert refused["result"]["isError"] is True and refused["result"]["structuredContent"]["code"] == "repo_not_allowed"
    assert unknown["error"]["code"] == -32602 and "merge_pull_request" in unknown["error"]["message"]
    assert answer["ping"] == {}


def test_the_typescript_sdk_client_over_streamable_http(node, make_settings, double):
    with LiveServer(create_app(make_settings(allowed_repos=(f"{OWNER}/{REPO}",)))) as server:
        answer = drive(node, "http", f"{server.url}/mcp", API_KEY, json.dumps(CALLS))

    check(answer)
    assert answer["protocolVersion"] == "2025-11-25"  # the newest version both speak


def test_the_typescript_sdk_client_over_stdio(node, double):
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "GITHUB_TOKEN": GITHUB_TOKEN,
           "GITHUB_API_URL": double.url, "CONNECTOR_API_KEY": API_KEY, "CONNECTOR_ALLOWED_REPOS": f"{OWNER}/{REPO}"}

    answer = drive(node, "stdio", json.dumps(CALLS), sys.executable, "-m", "connector", "mcp", "--stdio", env=env)

    check(answer)
