"""MCP's JSON-RPC as /mcp and stdio speak it, message by message, in both eras of the protocol:
what a client that is not the SDK's may send, and what it gets back. (tests/test_mcp.py drives the
same server with the SDK's own client.)"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import anyio
import pytest

from connector.app import create_app
from connector.mcp.protocol import HANDSHAKE_VERSIONS, ToolServer
from connector.mcp.stdio import serve_lines
from connector.mcp.tools import ToolSpec
from tests.conftest import API_KEY, OWNER, REPO

MODERN = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
SDK_HEADERS = {"Accept": "application/json, text/event-stream"}


@pytest.fixture
def mcp(make_settings, double):
    client = create_app(make_settings()).test_client(headers={"Authorization": f"Bearer {API_KEY}"})

    def post(message: Any, **headers: str):
        return client.post("/mcp", content=message if isinstance(message, bytes) else json.dumps(message),
                           headers={"Content-Type": "application/json", **SDK_HEADERS, **headers})

    return post


def modern(post, method: str, params: dict[str, Any] | None = None, **headers: str):
    """A 2026-07-28 request, its routing headers agreeing with its body unless ``headers`` says otherwise."""
    routing = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method}
    if method == "tools/call":
        routing["Mcp-Name"] = (params or {}).get("name", "")
    return post({"jsonrpc": "2.0", "id": 7, "method": method, "params": {**(params or {}), "_meta": META}},
                **{**routing, **headers})


# -- the handshake era -----------------------------------------------------------------------------

@pytest.mark.parametrize("version", HANDSHAKE_VERSIONS)
def test_initialize_agrees_to_each_handshake_version_the_client_asks_for(mcp, version):
    answer = mcp({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}})

    assert answer.status_code == 200
    result = answer.json()["result"]
    assert result["protocolVersion"] == version
    assert result["capabilities"] == {"tools": {"listChanged": False}}
    assert result["serverInfo"]["name"] == "github-connector" and "request_id" in result["instructions"]


def test_initialize_with_a_version_it_does_not_know_offers_the_latest_handshake_version(mcp):
    answer = mcp({"jsonrpc": "2.0", "id": "a", "method": "initialize", "params": {
        "protocolVersion": "2099-01-01", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}})

    assert answer.json() == {"jsonrpc": "2.0", "id": "a", "result": {**answer.json()["result"],
                                                                      "protocolVersion": HANDSHAKE_VERSIONS[-1]}}


def test_a_tool_call_answers_the_route_and_an_unknown_method_is_method_not_found(mcp, double):
    called = mcp({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "list_pull_requests", "arguments": {"owner": OWNER, "repo": REPO, "per_page": 1}}})
    unknown = mcp({"jsonrpc": "2.0", "id": 3, "method": "resources/list"})
    pinged = mcp({"jsonrpc": "2.0", "id": 4, "method": "ping"})

    result = called.json()["result"]
    assert result["isError"] is False and result["structuredContent"]["repository"] == f"{OWNER}/{REPO}"
    assert json.loads(result["content"][0]["text"]) == result["structuredContent"]
    assert (unknown.status_code, unknown.json()["error"]) == (
        200, {"code": -32601, "message": "Method not found", "data": "resources/list"})
    assert pinged.json() == {"jsonrpc": "2.0", "id": 4, "result": {}}


@pytest.mark.parametrize("params, says", [
    (None, "params.name"),
    ({"name": 5}, "params.name"),
    ({"name": "list_pull_requests", "arguments": [1]}, "arguments must be an object"),
    ({"name": "merge_pull_request", "arguments": {}}, "Unknown tool 'merge_pull_request'"),
], ids=["no-params", "name-not-a-string", "arguments-not-an-object", "unknown-tool"])
def test_a_tool_call_it_cannot_route_is_invalid_params_and_reaches_no_route(mcp, double, params, says):
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": 5, "method": "tools/call"}
    if params is not None:
        message["params"] = params
    double.clear_requests()

    error = mcp(message).json()["error"]

    assert error["code"] == -32602 and says in error["message"]
    assert double.requests == []


# -- what is not a request -------------------------------------------------------------------------

@pytest.mark.parametrize("message", [
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 9, "result": {}},
    {"jsonrpc": "2.0", "id": 9, "error": {"code": -1, "message": "no"}},
    {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"_meta": META}},
], ids=["notification", "response", "error-response", "2026-notification"])
def test_a_notification_or_a_response_is_accepted_with_no_answer(mcp, message):
    answer = mcp(message, **({"MCP-Protocol-Version": MODERN} if "params" in message else {}))

    assert (answer.status_code, answer.content) == (202, b"")


@pytest.mark.parametrize("body, code, says", [
    (b"{nope", -32700, "Parse error"),
    (b"\xff\xfe\xfa", -32700, "Parse error"),
    (b'[{"jsonrpc": "2.0", "id": 1, "method": "ping"}]', -32600, "batch"),
    (b'"ping"', -32600, "not an object"),
    (b'{"jsonrpc": "1.0", "id": 1, "method": "ping"}', -32600, '"jsonrpc" must be "2.0"'),
    (b'{"jsonrpc": "2.0", "id": null, "method": "ping"}', -32600, '"id" must be a string or an integer'),
    (b'{"jsonrpc": "2.0", "id": true, "method": "ping"}', -32600, '"id" must be a string or an integer'),
    (b'{"jsonrpc": "2.0", "id": 1, "method": 5}', -32600, '"method" must be a string'),
    (b'{"jsonrpc": "2.0", "id": 1}', -32600, 'needs "method"'),
], ids=["not-json", "not-utf8", "batch", "string", "jsonrpc-1", "null-id", "bool-id", "method-number", "no-method"])
def test_what_is_not_one_json_rpc_message_is_400_with_the_reason(mcp, body, code, says):
    answer = mcp(body)

    assert answer.status_code == 400 and answer.headers["content-type"] == "application/json"
    assert answer.json()["id"] is None
    assert answer.json()["error"]["code"] == code and says in answer.json()["error"]["message"]


def test_a_body_that_is_not_json_by_its_content_type_is_415(mcp):
    answer = mcp({"jsonrpc": "2.0", "id": 1, "method": "ping"}, **{"Content-Type": "text/plain"})

    assert answer.status_code == 415 and "application/json" in answer.json()["error"]["message"]


# -- 2026-07-28 ------------------------------------------------------------------------------------

def test_discover_then_list_then_call_without_a_handshake(mcp, double):
    discovered = modern(mcp, "server/discover").json()["result"]
    listed = modern(mcp, "tools/list").json()["result"]
    called = modern(mcp, "tools/call", {"name": "list_pull_requests",
                                        "arguments": {"owner": OWNER, "repo": REPO, "per_page": 1}}).json()["result"]

    assert discovered["supportedVersions"] == [MODERN] and discovered["capabilities"] == {"tools": {"listChanged": False}}
    assert "request_id" in discovered["instructions"]
    assert {tool["name"] for tool in listed["tools"]} >= {"dispatch_event", "list_pull_requests"}
    assert (discovered["cacheScope"], listed["cacheScope"]) == ("private", "private")  # the list is the key's
    for result in (discovered, listed, called):
        assert result["resultType"] == "complete"
        assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "github-connector"
    assert called["isError"] is False and called["structuredContent"]["page"] == 1


@pytest.mark.parametrize("method", ["initialize", "ping", "resources/list"])
def test_a_method_2026_does_not_have_is_404(mcp, method):
    answer = modern(mcp, method)

    assert answer.status_code == 404 and answer.json()["error"]["code"] == -32601


@pytest.mark.parametrize("headers, says", [
    ({"Mcp-Method": "tools/list"}, "Mcp-Method"),
    ({"MCP-Protocol-Version": "2025-11-25"}, None),  # a handshake version: judged as that era
    ({"Mcp-Name": "get_pull_request"}, "Mcp-Name"),
    ({"Mcp-Name": "=?base64?bGlzdF9wdWxsX3JlcXVlc3Rz?"}, "Mcp-Name"),  # not the sentinel: compared as is
])
def test_routing_headers_that_disagree_with_the_body_are_refused_before_any_route(mcp, double, headers, says):
    double.clear_requests()
    answer = modern(mcp, "tools/call", {"name": "list_pull_requests", "arguments": {"owner": OWNER, "repo": REPO}},
                    **headers)

    if says is None:  # the handshake era's server answers it, _meta and all
        assert answer.status_code == 200 and answer.json()["result"]["isError"] is False
        return
    assert answer.status_code == 400 and answer.json()["error"]["code"] == -32020
    assert says in answer.json()["error"]["message"]
    assert double.requests == []


def test_a_tool_name_that_travels_base64_in_its_header_is_decoded(mcp):
    name = "list_pull_requests"
    encoded = f"=?base64?{base64.b64encode(name.encode()).decode()}?="

    answer = modern(mcp, "tools/call", {"name": name, "arguments": {"owner": OWNER, "repo": REPO}},
                    **{"Mcp-Name": encoded})

    assert answer.status_code == 200 and answer.json()["result"]["isError"] is False


@pytest.mark.parametrize("meta, code, says", [
    (None, -32602, "params._meta"),
    ({"io.modelcontextprotocol/protocolVersion": MODERN}, -32602, "clientCapabilities"),
    ({**META, "io.modelcontextprotocol/protocolVersion": "2027-01-01"}, -32022, "Unsupported protocol version"),
], ids=["no-meta", "no-capabilities", "unknown-version"])
def test_a_2026_request_without_its_envelope_is_400(mcp, meta, code, says):
    version = (meta or {}).get("io.modelcontextprotocol/protocolVersion", MODERN)
    params = {} if meta is None else {"_meta": meta}
    answer = mcp({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": params},
                 **{"MCP-Protocol-Version": version, "Mcp-Method": "tools/list"})

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == code and says in error["message"]
    if code == -32022:
        assert error["data"] == {"supported": [MODERN], "requested": "2027-01-01"}


# -- stdio -----------------------------------------------------------------------------------------

def test_stdio_answers_each_line_and_judges_the_era_by_the_message(make_settings):
    calls: list[bytes | None] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:  # the tool's route: records what it is sent
        calls.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"ok":true}'})

    tool = ToolSpec(name="echo", title="Echo", description="", input_schema={"type": "object"},
                    annotations={"readOnlyHint": True}, method="POST", path="/echo", takes_body=True)
    server = ToolServer([tool], "Say hello.", app, lambda carrier: ({}, None))
    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18",
                                                                        "capabilities": {}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"a": "é"}}},
        {"jsonrpc": "2.0", "id": 3, "method": "server/discover", "params": {"_meta": META}},
        {"jsonrpc": "2.0", "id": 4, "method": "ping", "params": {"_meta": META}},
    ]
    stdin = io.BytesIO(b"".join(json.dumps(line).encode() + b"\n" for line in lines) + b"\n{broken\n")
    stdout = io.BytesIO()

    anyio.run(serve_lines, server, stdin, stdout)

    answers = {answer["id"]: answer for answer in map(json.loads, stdout.getvalue().splitlines())}
    assert set(answers) == {1, 2, 3, 4, None}  # nothing for the notification or the blank line
    assert answers[1]["result"]["protocolVersion"] == "2025-06-18"
    assert answers[2]["result"]["structuredContent"] == {"ok": True} and calls == [b'{"a": "\\u00e9"}']
    assert answers[3]["result"]["supportedVersions"] == [MODERN]
    assert answers[4]["error"]["code"] == -32601  # no ping in 2026-07-28
    assert answers[None]["error"]["code"] == -32700


def test_a_request_stdio_fails_to_answer_is_an_internal_error_and_the_session_goes_on(caplog):
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("a bug in a route")

    tool = ToolSpec(name="boom", title="Boom", description="", input_schema={"type": "object"},
                    annotations={}, method="POST", path="/boom", takes_body=True)
    server = ToolServer([tool], "", app, lambda carrier: ({}, None))
    lines = [{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "boom"}},
             {"jsonrpc": "2.0", "id": 2, "method": "ping"}]
    stdin = io.BytesIO(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    stdout = io.BytesIO()

    anyio.run(serve_lines, server, stdin, stdout)

    answers = {answer["id"]: answer for answer in map(json.loads, stdout.getvalue().splitlines())}
    assert answers[1]["error"]["code"] == -32603 and "stderr" in answers[1]["error"]["message"]
    assert answers[2]["result"] == {}
    assert "a bug in a route" in caplog.text
