"""The connector over MCP: tools generated from the spec, called with the SDK's own client over real
streamable HTTP (and once over stdio), answering exactly as the HTTP routes do."""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import time
import uuid
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
import requests
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from connector.api import runs as runs_api
from connector.app import create_app
from connector.mcp.tools import tools_from_document, tools_markdown
from connector.spec.document import advertised_document, document_for
from tests.conftest import API_KEY, GITHUB_TOKEN, LOG_DIR, OWNER, REPO, LiveServer, keys_file_with

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("get", "put", "post", "delete", "patch")


def operations(document: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    return {op["operationId"]: (method, op) for item in document["paths"].values()
            for method, op in item.items() if method in METHODS}


def resolved(document: dict[str, Any], node: Any) -> Any:
    """The schema with its references followed, written independently of connector.mcp.tools."""
    if isinstance(node, list):
        return [resolved(document, value) for value in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        _, _, name = node["$ref"].rpartition("/")
        return resolved(document, document["components"]["schemas"][name])
    return {key: resolved(document, value) for key, value in node.items() if not key.startswith("x-")}


def mcp_client(url: str, key: str = API_KEY, mode: str = "auto") -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30)
    return Client(streamable_http_client(f"{url}/mcp", http_client=http), mode=mode)


def run(coroutine_function, *args):
    return anyio.run(coroutine_function, *args)


# -- the tool list is the spec ----------------------------------------------------------------------

@pytest.mark.parametrize("read_only", [False, True], ids=["read-write", "read-only"])
def test_every_advertised_operation_is_a_tool_and_every_tool_an_operation(read_only):
    document = advertised_document(document_for(has_default_repo=False, read_only=read_only))
    tools = {tool.name for tool in tools_from_document(document)}
    public = {name for name, (_, op) in operations(document).items() if op.get("security") == []}
    assert tools == set(operations(document)) - public
    assert public == set()  # get_health is routed for load balancers, advertised to no model (MCP has ping)
    assert "gateway_dispatch" not in tools  # hidden: routed for the old gateway, advertised nowhere


def test_the_readme_lists_the_tools_the_spec_generates():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = readme.split("<!-- mcp-tools:start", 1)[1].split("-->", 1)[1].split("<!-- mcp-tools:end -->")[0]
    generated = tools_markdown(tools_from_document(advertised_document(document_for(has_default_repo=False))))
    assert listed.strip() == generated  # after changing openapi.yaml, paste tools_markdown(...) into the README


def test_an_operation_a_tool_cannot_express_fails_start_up():
    document = advertised_document(document_for(has_default_repo=False))
    document["paths"]["/chatgpt/prs/list"]["post"]["parameters"] = [{"name": "q", "in": "query"}]
    with pytest.raises(ValueError, match="list_pull_requests takes parameters"):
        tools_from_document(document)


def without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A field's type and enum as a model is shown them: ``null`` (taken as "absent") unsaid."""
    kinds = schema.get("type")
    kinds = [kind for kind in kinds if kind != "null"] if isinstance(kinds, list) else [kinds]
    enum = [member for member in schema["enum"] if member is not None] if "enum" in schema else None
    return {"type": kinds[0] if len(kinds) == 1 else kinds, "enum": enum, "default": schema.get("default")}


def keywords(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(keywords(value) for value in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    inner = [value for key, value in node.items() if key not in ("properties", "examples")]
    inner += list(node.get("properties", {}).values())
    return set(node) - {"properties"} | keywords(inner)


@pytest.mark.parametrize("mode", ["auto", "legacy"], ids=["2026-07-28", "initialize-handshake"])
@pytest.mark.one_github_layout
def test_tools_list_over_streamable_http_is_a_view_of_the_served_spec(make_settings, double, mode):
    """Every tool is its operation: same name, title, description, fields, types, enums, defaults
    and required fields, and it accepts the spec's own examples; what only a validator uses is
    left out, and the shared fields are described once, in the instructions."""
    from jsonschema import Draft202012Validator

    with LiveServer(create_app(make_settings())) as server:
        document = requests.get(f"{server.url}/openapi.json?view=enforced").json()

        async def listed():
            async with mcp_client(server.url, mode=mode) as client:
                return client.instructions or "", (await client.list_tools()).tools

        instructions, listed_tools = run(listed)
    tools = {tool.name: tool for tool in listed_tools}
    expected = operations(document)
    assert set(tools) == set(expected)
    for name, (_method, op) in expected.items():
        tool = tools[name]
        assert (tool.title, tool.description) == (op["summary"], op["description"])
        body = op.get("requestBody")
        schema = resolved(document, body["content"]["application/json"]["schema"]) if body else \
            {"type": "object", "properties": {}, "additionalProperties": False}
        view = tool.input_schema
        assert set(view["properties"]) == set(schema["properties"])
        assert view.get("required", []) == schema.get("required", [])
        for field, served in schema["properties"].items():
            shown = view["properties"][field]
            assert {k: v for k, v in without_null(shown).items()} == without_null(served), (name, field)
            assert shown.get("description") in (served.get("description"), None), (name, field)
            if "description" not in shown and "description" in served:
                assert served["description"] in instructions, (name, field)  # said once, for every tool
        assert keywords(view).isdisjoint({"pattern", "not", "propertyNames", "dependentRequired", "minLength",
                                          "maxLength", "$ref"}), name
        for example in (body or {}).get("content", {}).get("application/json", {}).get("examples", {}).values():
            Draft202012Validator(view).validate(example["value"])  # the view admits what the spec shows
        writes = op["x-openai-isConsequential"]
        # MCP's defaults are left unsaid: a write is neither read-only nor idempotent unless it says so.
        assert bool(tool.annotations.read_only_hint) is (not writes)
        if writes:  # only what can stop something a person started is destructive
            assert tool.annotations.destructive_hint is op.get("x-connector-destructive", False)
            assert tool.annotations.destructive_hint is (name == "cancel_workflow_run")
            assert bool(tool.annotations.idempotent_hint) is op.get("x-connector-idempotent", False)


@pytest.mark.parametrize("default_repo", [False, True], ids=["no-default-repo", "default-repo"])
@pytest.mark.one_github_layout
def test_tools_list_stays_within_700_characters_per_tool(make_settings, double, default_repo):
    """Every conversation pays for the tool list: on average at most 700 characters a tool, as the
    SDK's client receives it (instructions, read once, are reported in docs/benchmarks.md)."""
    settings = make_settings(default_repo=(OWNER, REPO)) if default_repo else make_settings()
    with LiveServer(create_app(settings)) as server:
        async def listed():
            async with mcp_client(server.url) as client:
                return (await client.list_tools()).tools

        tools = run(listed)
    wire = [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]
    assert len(tools) == 13
    assert len(json.dumps(wire, separators=(",", ":"))) / len(tools) <= 700


@pytest.mark.one_github_layout
def test_a_tool_call_the_view_admits_is_still_checked_by_the_whole_schema(make_settings, double, pr):
    """The view drops patterns and lengths; the route still enforces them, before calling GitHub."""
    with LiveServer(create_app(make_settings())) as server:
        async def call():
            async with mcp_client(server.url) as client:
                return await client.call_tool("comment_on_pull_request", {
                    "owner": "not an owner!", "repo": REPO, "number": pr, "body": "x" * 65537})

        before = len(double.requests)
        result = run(call)
    assert result.is_error
    problem = json.loads(result.content[0].text)
    assert problem["code"] == "validation_error"
    assert {error["path"] for error in problem["errors"]} >= {"$.owner", "$.body"}
    assert len(double.requests) == before  # refused before any GitHub call


@pytest.mark.one_github_layout
def test_read_only_mode_lists_no_write_tool_and_refuses_calling_one(make_settings, double):
    with LiveServer(create_app(make_settings(read_only=True))) as server:
        async def scenario():
            async with mcp_client(server.url) as client:
                names = {tool.name for tool in (await client.list_tools()).tools}
                with pytest.raises(MCPError, match="Unknown tool 'comment_on_pull_request'"):
                    await client.call_tool("comment_on_pull_request", {"owner": OWNER, "repo": REPO,
                                                                       "number": 1, "body": "hi"})
                return names

        names = run(scenario)
    assert names == {"list_pull_requests", "get_pull_request", "list_dispatch_events", "list_workflow_runs",
                     "get_workflow_run", "get_job_logs", "get_dispatch_status"}
    assert double.requests == []


@pytest.mark.one_github_layout
def test_mcp_without_a_valid_key_is_refused_like_the_api(make_settings, double):
    with LiveServer(create_app(make_settings())) as server:
        for headers in ({}, {"Authorization": "Bearer not-a-key"}):
            response = requests.post(f"{server.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                                     headers=headers)
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["code"] == "unauthorized"


# -- every tool call answers as its HTTP route does, with the same GitHub requests -------------------

def seed(double) -> None:
    double.reset()
    double.add_repo(OWNER, REPO, labels=("bug", "enhancement", "needs-review"))
    double.add_repo(OWNER, "secret")
    double.add_pull(OWNER, REPO, title="Fix", head="fix")  # 1
    double.add_issue(OWNER, REPO, title="Just an issue")  # 2
    double.add_workflow(OWNER, REPO, "Deploy", jobs=["build", "deploy"])
    double.add_workflow(OWNER, REPO, "Release", file_name="release.yml", workflow_file=(
        "on:\n  workflow_dispatch:\n    inputs:\n      channel: {type: choice, options: [beta, stable], required: true}\n"
        "jobs:\n  release: {runs-on: ubuntu-latest, steps: [{run: ./release.sh}]}\n"))
    # One run to read and cancel (ids restart with every reset, so it is always SEEDED_RUN).
    seeded = requests.post(f"{double.url}/repos/{OWNER}/{REPO}/dispatches", timeout=10,
                           json={"event_type": "deploy", "client_payload": {"request_id": "seeded-1"}},
                           headers={"Authorization": f"token {GITHUB_TOKEN}"})
    assert seeded.status_code == 204 and double.runs(OWNER, REPO)[0]["id"] == SEEDED_RUN
    double.clear_requests()


SEEDED_RUN = 30_433_642


REPO_ARGS = {"owner": OWNER, "repo": REPO}
CASES: list[tuple[str, dict[str, Any]]] = [
    ("dispatch_event", {**REPO_ARGS, "event_type": "deploy", "request_id": "mcp-1",
                        "client_payload": {"env": "staging"}}),
    ("dispatch_event", {**REPO_ARGS, "event_type": "deploy", "dry_run": True, "request_id": "mcp-2"}),
    ("dispatch_event", {"owner": OWNER, "repo": "secret", "event_type": "deploy"}),  # repo_not_allowed
    ("dispatch_event", {**REPO_ARGS, "event_type": ""}),  # validation_error
    ("list_pull_requests", {**REPO_ARGS, "state": "all"}),
    ("list_pull_requests", {"state": "open"}),  # no repository and no default: validation_error
    ("comment_on_pull_request", {**REPO_ARGS, "number": 1, "body": "Looks good."}),
    ("comment_on_pull_request", {**REPO_ARGS, "number": 2, "body": "Looks good."}),  # not_a_pull_request
    ("add_labels_to_pull_request", {**REPO_ARGS, "number": 1, "labels": ["bug"]}),
    ("add_labels_to_pull_request", {**REPO_ARGS, "number": 1, "labels": ["bugg"]}),  # unknown_label
    ("list_dispatch_events", {}),
    ("list_workflow_runs", {**REPO_ARGS, "event": "repository_dispatch"}),
    ("get_workflow_run", {**REPO_ARGS, "run_id": SEEDED_RUN}),
    ("get_workflow_run", {**REPO_ARGS, "run_id": 987654}),  # not_found
    ("get_dispatch_status", {**REPO_ARGS, "request_id": "seeded-1"}),
    ("get_dispatch_status", {**REPO_ARGS, "request_id": "never-sent"}),  # not_found
    ("cancel_workflow_run", {**REPO_ARGS, "run_id": SEEDED_RUN, "dry_run": True}),
    ("cancel_workflow_run", {**REPO_ARGS, "run_id": SEEDED_RUN}),
    ("cancel_workflow_run", {**REPO_ARGS, "run_id": 987654}),  # not_found
    ("cancel_workflow_run", {**REPO_ARGS, "run_id": 987654, "extra": 1}),  # validation_error
    ("get_pull_request", {**REPO_ARGS, "number": 1}),
    ("get_pull_request", {**REPO_ARGS, "number": 2}),  # not_a_pull_request
    ("get_job_logs", {**REPO_ARGS, "run_id": SEEDED_RUN, "failed_only": False}),  # queued: nothing to read yet
    ("rerun_workflow_run", {**REPO_ARGS, "run_id": SEEDED_RUN, "dry_run": True}),
    ("rerun_workflow_run", {**REPO_ARGS, "run_id": SEEDED_RUN, "request_id": "mcp-3"}),  # not completed: refused
    ("dispatch_workflow", {**REPO_ARGS, "workflow": "release.yml", "ref": "main", "inputs": {"channel": "beta"},
                           "request_id": "mcp-4"}),
    ("dispatch_workflow", {**REPO_ARGS, "workflow": "release.yml", "ref": "main", "inputs": {"channel": "nightly"},
                           "request_id": "mcp-5"}),  # validation_error: not one of the options
]
# Values that are the clock's, or GitHub's per request, not the operation's.
VOLATILE = {"created_at", "updated_at", "seconds_since_dispatch", "github_request_id"}


def without_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: without_volatile(item) for key, item in value.items() if key not in VOLATILE}
    if isinstance(value, list):
        return [without_volatile(item) for item in value]
    return value


def github_requests(double) -> list[tuple[str, str, dict[str, str], Any]]:
    return [(r.method, r.path, r.query, r.body) for r in double.requests]


class _StoppedWallClock:
    """The ``time`` module as connector.api.runs sees it, with ``time.time()`` held at one instant
    (monotonic time and sleeps are the real ones)."""

    def __init__(self, now: float) -> None:
        self._now = now

    def time(self) -> float:
        return self._now

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@pytest.fixture
def stopped_wall_clock(monkeypatch):
    """get_dispatch_status asks GitHub for runs created since "now" less a day, to the second: an HTTP
    call and its MCP twin that straddle a second would ask for different windows. connector.api.runs
    takes no clock, so its module's ``time`` is replaced for the test."""
    monkeypatch.setattr(runs_api, "time", _StoppedWallClock(time.time()))


@pytest.mark.usefixtures("stopped_wall_clock")
def test_every_tool_answers_as_its_http_route_and_sends_github_the_same_requests(make_settings, double):
    """Two apps with the same settings see the same sequence of calls, one over HTTP and one over MCP,
    each against a GitHub double seeded afresh: their answers and GitHub's request logs must match."""
    settings = make_settings(allowed_repos=(f"{OWNER}/{REPO}",))
    assert {name for name, _ in CASES} == {tool.name for tool in tools_from_document(
        advertised_document(document_for(has_default_repo=False)))}  # every tool is called
    with LiveServer(create_app(settings)) as over_http, LiveServer(create_app(settings)) as over_mcp:
        async def scenario():
            async with mcp_client(over_mcp.url) as client:
                for name, arguments in CASES:
                    path = next(tool.path for tool in tools_from_document(
                        advertised_document(document_for(has_default_repo=False))) if tool.name == name)
                    seed(double)
                    response = await anyio.to_thread.run_sync(functools.partial(
                        requests.post, f"{over_http.url}{path}",
                        json=arguments,
                        headers={"Authorization": f"Bearer {API_KEY}"}))
                    http_requests = github_requests(double)
                    seed(double)
                    result = await client.call_tool(name, arguments)
                    mcp_requests = github_requests(double)

                    assert result.is_error is (not response.ok), (name, arguments)
                    assert without_volatile(result.structured_content) == without_volatile(response.json()), name
                    assert json.loads(result.content[0].text) == result.structured_content
                    assert mcp_requests == http_requests, (name, arguments)
                    if not response.ok:
                        problem = response.json()
                        assert (result.structured_content["code"], result.structured_content["detail"]) == \
                            (problem["code"], problem["detail"])

        run(scenario)


def test_a_tool_call_needs_the_scope_its_route_needs(make_settings, double, tmp_path):
    from connector.config.keys import digest

    keys_file = tmp_path / "keys.toml"
    keys_file.write_text(f'[[keys]]\nname = "reader"\nsha256 = "{digest("reader-key-0123456789abcdef").hex()}"\n'
                         'scopes = ["prs:read"]\n')
    keys_file.chmod(0o600)
    with LiveServer(create_app(make_settings(keys_file=keys_file))) as server:
        async def scenario():
            async with mcp_client(server.url, key="reader-key-0123456789abcdef") as client:
                listed = await client.call_tool("list_pull_requests", REPO_ARGS)
                refused = await client.call_tool("comment_on_pull_request", {**REPO_ARGS, "number": 1, "body": "x"})
                return listed, refused

        listed, refused = run(scenario)
    assert not listed.is_error
    assert refused.is_error
    assert refused.structured_content["code"] == "insufficient_scope"
    assert refused.structured_content["required_scope"] == "prs:write"


def test_serving_mcp_imports_neither_the_sdk_nor_pydantic():
    """The SDK's server would cost a worker ~24 MB of pydantic models (docs/benchmarks.md): /mcp
    answers a handshake, a tool list and a tool call without importing either."""
    code = ("import sys; from connector.app import create_app; from connector.config.settings import Settings; "
            "from connector.types import Secret; "
            "client = create_app(Settings(api_keys=(Secret('k' * 32),), sandbox=True)).test_client("
            "headers={'Authorization': 'Bearer ' + 'k' * 32}); "
            "calls = [('initialize', {'protocolVersion': '2025-11-25', 'capabilities': {}, 'clientInfo': {'name': 'x', 'version': '1'}}), "
            "('tools/list', {}), ('tools/call', {'name': 'list_pull_requests', 'arguments': {}})]; "
            "print([client.post('/mcp', json={'jsonrpc': '2.0', 'id': 1, 'method': m, 'params': p}).status_code for m, p in calls]); "
            "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith(('mcp.', 'mcp_types', 'pydantic'))))")
    printed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert printed.stdout.split("\n")[-3:-1] == ["[200, 200, 200]", "[]"], printed.stdout


# -- stdio -----------------------------------------------------------------------------------------

def test_stdio_serves_the_same_tools_end_to_end(make_settings, double):
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("CONNECTOR_", "GITHUB_", "PUBLIC_BASE_URL"))}
    env.update(GITHUB_TOKEN=GITHUB_TOKEN, GITHUB_API_URL=double.url, CONNECTOR_API_KEY=API_KEY,
               CONNECTOR_MCP_API_KEY=API_KEY, CONNECTOR_ALLOWED_REPOS=f"{OWNER}/{REPO}",
               PYTHONPATH=str(ROOT))
    params = StdioServerParameters(command=sys.executable, args=["-m", "connector", "mcp", "--stdio"],
                                   env=env, cwd=str(ROOT))
    number = double.add_pull(OWNER, REPO, title="Over stdio", head="stdio")
    double.clear_requests()

    async def scenario():
        async with Client(params) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            labelled = await client.call_tool("add_labels_to_pull_request",
                                              {**REPO_ARGS, "number": number, "labels": ["bug"]})
            refused = await client.call_tool("list_pull_requests", {"owner": OWNER, "repo": "elsewhere"})
            return names, labelled, refused

    names, labelled, refused = run(scenario)
    assert "dispatch_event" in names and "get_health" not in names
    assert not labelled.is_error
    assert labelled.structured_content == {"ok": True, "number": number, "labels": ["bug"]}
    assert double.labels_on(OWNER, REPO, number) == ["bug"]
    assert refused.is_error and refused.structured_content["code"] == "repo_not_allowed"


@pytest.mark.one_github_layout
def test_mcp_can_be_switched_off(make_settings, double):
    client = create_app(make_settings(mcp=False)).test_client(headers={"Authorization": f"Bearer {API_KEY}"})

    response = client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_tool_call_is_audited_like_the_http_route(make_settings, double, pr):
    audit = LOG_DIR / f"mcp-audit-{uuid.uuid4().hex}.log"
    with LiveServer(create_app(make_settings(audit_log=audit))) as server:
        async def scenario():
            async with mcp_client(server.url) as client:
                await client.call_tool("comment_on_pull_request", {
                    "owner": OWNER, "repo": REPO, "number": pr, "body": "Audited through MCP, never logged."})

        run(scenario)

    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(line["operation"], line["key"], line["number"], line["status"]) for line in lines] == [
        ("comment_on_pull_request", "key-1", pr, 201)]
    assert "never logged" not in audit.read_text()


def post_tool_call(url: str, name: str, arguments: dict[str, Any], **headers: str) -> requests.Response:
    """One stateless tools/call POST, as the 2026-07-28 protocol sends it, without a handshake."""
    return requests.post(f"{url}/mcp", timeout=30, json={
        "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}},
        headers={"Authorization": f"Bearer {API_KEY}", "Accept": "application/json, text/event-stream", **headers})


def test_a_tool_call_is_audited_with_the_request_id_its_client_saw(make_settings, double, pr):
    audit = LOG_DIR / f"mcp-audit-{uuid.uuid4().hex}.log"
    arguments = {"owner": OWNER, "repo": REPO, "number": pr, "body": "Traced through MCP, never logged."}
    with LiveServer(create_app(make_settings(audit_log=audit))) as server:
        chosen = post_tool_call(server.url, "comment_on_pull_request", arguments, **{"X-Request-ID": "mcp-trace-1"})
        generated = post_tool_call(server.url, "comment_on_pull_request", arguments)

    assert chosen.headers["X-Request-ID"] == "mcp-trace-1"
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(line["operation"], line["x_request_id"], line["status"]) for line in lines] == [
        ("comment_on_pull_request", "mcp-trace-1", 201),
        ("comment_on_pull_request", generated.headers["X-Request-ID"], 201)]


def test_a_tool_call_counts_once_against_the_per_address_limit(make_settings, double, pr):
    arguments = {"owner": OWNER, "repo": REPO, "number": pr, "body": "Counted once, never logged."}
    with LiveServer(create_app(make_settings(ip_rate_limit=("1/minute",)))) as server:
        first = post_tool_call(server.url, "comment_on_pull_request", arguments)
        second = post_tool_call(server.url, "comment_on_pull_request", arguments)

    assert first.status_code == 200
    assert first.json()["result"]["isError"] is False
    assert (second.status_code, second.json()["code"]) == (429, "rate_limited")
    assert len(double.calls("POST", re.compile(r".*/issues/\d+/comments"))) == 1


def test_an_ip_allowlist_refuses_the_post_to_mcp_and_admits_its_tool_calls(make_settings, double, pr):
    with LiveServer(create_app(make_settings(ip_allowlist=(ip_network("127.0.0.1/32"),)))) as admitted:
        ok = post_tool_call(admitted.url, "list_pull_requests", {"owner": OWNER, "repo": REPO})
    with LiveServer(create_app(make_settings(ip_allowlist=(ip_network("192.0.2.0/24"),)))) as refusing:
        refused = post_tool_call(refusing.url, "list_pull_requests", {"owner": OWNER, "repo": REPO})

    assert (ok.status_code, ok.json()["result"]["isError"]) == (200, False)
    assert (refused.status_code, refused.json()["code"]) == (403, "ip_not_allowed")


def exchange(process: subprocess.Popen, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Write each JSON-RPC message on the process's stdin, one per line; read the answer to each request."""
    answers = []
    for message in messages:
        process.stdin.write(json.dumps(message) + "\n")
        process.stdin.flush()
        if "id" in message:
            answers.append(json.loads(process.stdout.readline()))
    return answers


def test_stdio_writes_nothing_but_mcp_on_stdout(double, pr):
    """The audit log goes to stdout by default, but over stdio stdout is the MCP channel: a write
    and a refusal there must leave only JSON-RPC messages on it (their audit lines on stderr)."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "GITHUB_TOKEN": GITHUB_TOKEN,
           "GITHUB_API_URL": double.url, "CONNECTOR_API_KEY": API_KEY, "CONNECTOR_ALLOWED_REPOS": f"{OWNER}/{REPO}"}
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "add_labels_to_pull_request", "arguments": {**REPO_ARGS, "number": pr, "labels": ["bug"]}}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "list_pull_requests", "arguments": {"owner": OWNER, "repo": "elsewhere"}}},
    ]
    process = subprocess.Popen([sys.executable, "-m", "connector", "mcp", "--stdio"], env=env, cwd=ROOT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    answers = []
    try:
        answers = exchange(process, messages)
    finally:
        process.stdin.close()  # end of input: the server exits
        rest, errors = process.stdout.read(), process.stderr.read()
        process.wait(timeout=30)
    (LOG_DIR / f"mcp-stdio-{uuid.uuid4().hex}.log").write_text(errors + rest)  # for the session's log sweep

    assert [answer["id"] for answer in answers] == [1, 2, 3] and rest.strip() == ""
    assert [answer["result"].get("isError", False) for answer in answers[1:]] == [False, True]
    audited = [json.loads(line) for line in errors.splitlines() if line.startswith('{"time"')]
    assert [(line["operation"], line["status"]) for line in audited] == [
        ("add_labels_to_pull_request", 200), ("list_pull_requests", 403)]


@pytest.mark.one_github_layout
def test_tools_list_shows_a_key_only_the_tools_its_scopes_allow(make_settings, double, tmp_path):
    reader_key = "reader-key-0123456789abcdef0123"
    keys_file = keys_file_with(tmp_path / "keys.toml", "reader", reader_key, ["prs:read", "runs:read"])
    with LiveServer(create_app(make_settings(keys_file=keys_file))) as server:
        async def names_for(key):
            async with mcp_client(server.url, key=key) as client:
                return {tool.name for tool in (await client.list_tools()).tools}

        reader, full = run(names_for, reader_key), run(names_for, API_KEY)

    assert reader == {"list_pull_requests", "get_pull_request", "list_workflow_runs", "get_workflow_run", "get_job_logs"}
    everything = tools_from_document(advertised_document(document_for(has_default_repo=False)))
    assert full == {tool.name for tool in everything}


def test_stdio_lists_tools_before_the_app_is_built_and_ends_with_its_error_if_it_cannot_be(tmp_path):
    """tools/list needs only the API description; the app is built meanwhile, and a failure to
    build it ends the process with that error (and a non-zero status), not a hung client."""
    script = tmp_path / "serve.py"
    script.write_text(
        "import threading\n"
        "from connector.config.settings import Settings\n"
        "from connector.mcp.stdio import run_stdio\n"
        "from connector.types import Secret\n"
        "listed = threading.Event()\n"
        "def build():\n"
        "    listed.wait(20)  # fail only once the client has its tool list\n"
        "    raise RuntimeError('the app cannot be built here')\n"
        "threading.Timer(3, listed.set).start()\n"
        f"run_stdio(Settings(api_keys=(Secret({API_KEY!r}),), github_token=Secret({GITHUB_TOKEN!r}),"
        " github_api_url='http://127.0.0.1:9').validated(), build)\n")
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, str(script)], env=env, cwd=ROOT, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    answers = []
    try:
        answers = exchange(process, messages)
        status = process.wait(timeout=30)  # stdin stays open: only the failed build ends it
    finally:
        process.kill()
        errors = process.stderr.read()

    assert len(answers[1]["result"]["tools"]) == 13
    assert status == 2 and "could not start" in errors and "the app cannot be built here" in errors


@pytest.mark.one_github_layout
def test_get_and_delete_on_the_stateless_endpoint_are_405_not_a_stream_that_never_ends(make_settings, double):
    with LiveServer(create_app(make_settings())) as server:
        headers = {"Authorization": f"Bearer {API_KEY}", "Accept": "text/event-stream"}
        got = requests.get(f"{server.url}/mcp", headers=headers, timeout=5)
        deleted = requests.delete(f"{server.url}/mcp", headers=headers, timeout=5)

    for answer in (got, deleted):
        assert answer.status_code == 405 and answer.headers["allow"] == "POST"
        assert answer.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize("number", ["1e400", "-1e999", "Infinity", "NaN"])
def test_a_tool_calls_non_finite_number_is_refused_at_its_field(make_settings, double, pr, number):
    """The message is parsed (1e400 becomes infinity) before the route sees it; the route still
    names the field, as it does over HTTP."""
    call = ('{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "list_workflow_runs", '
            f'"arguments": {{"owner": "{OWNER}", "repo": "{REPO}", "per_page": {number}}}}}}}')
    with LiveServer(create_app(make_settings())) as server:
        response = requests.post(f"{server.url}/mcp", data=call, timeout=30, headers={
            "Authorization": f"Bearer {API_KEY}", "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json"})

    assert response.status_code == 200, response.text
    result = response.json()["result"]
    problem = result["structuredContent"]
    assert result["isError"] is True and problem["code"] == "validation_error"
    assert [error["path"] for error in problem["errors"]] == ["$.per_page"]
    assert double.requests == []
