"""MCP's JSON-RPC for a tools-only server, without the SDK: what ``/mcp`` and stdio both answer.

The server is stateless: it keeps nothing between messages, so every message is answered on its
own, in either era of the protocol:

* the handshake era (2024-11-05 to 2025-11-25): ``initialize`` negotiates a version, then
  ``ping``, ``tools/list`` and ``tools/call``; errors travel in a 200 answer;
* 2026-07-28: no handshake; every request carries its protocol version and the client's
  capabilities in ``params._meta`` (over HTTP also in ``MCP-Protocol-Version``, ``Mcp-Method`` and,
  for a tool call, ``Mcp-Name``, which must agree with the body), ``server/discover`` replaces
  ``initialize``, ``ping`` is gone, and an error's HTTP status follows its code.

Why not the SDK's server, which this replaced: importing it costs a worker ~24 MB of pydantic models
for the whole protocol (docs/benchmarks.md), for the handful of methods a tools-only server
answers. The SDK's client still checks this server in both eras (tests/test_mcp.py).

Nothing here touches a transport: :meth:`ToolServer.answer` takes a decoded message and returns
the answer to send, if any, with the HTTP status it calls for.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp

from .. import __version__
from .inprocess import Reply, call_route
from .tools import ToolSpec

__all__ = ["HANDSHAKE_VERSIONS", "MODERN_VERSIONS", "Envelope", "RpcError", "ToolServer", "encode", "is_modern", "tool_result"]

HANDSHAKE_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
MODERN_VERSIONS = ("2026-07-28",)
PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"
SERVER_INFO = {"name": "github-connector", "title": "GitHub connector", "version": __version__}
CAPABILITIES = {"tools": {"listChanged": False}}

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS, INTERNAL_ERROR = -32700, -32600, -32601, -32602, -32603
HEADER_MISMATCH, UNSUPPORTED_PROTOCOL_VERSION = -32020, -32022
# 2026-07-28 gives each error code its HTTP status; anything else is answered 200.
HTTP_STATUS = {PARSE_ERROR: 400, INVALID_REQUEST: 400, INVALID_PARAMS: 400, HEADER_MISMATCH: 400,
               UNSUPPORTED_PROTOCOL_VERSION: 400, METHOD_NOT_FOUND: 404}

# What a tool call needs from the message's carrier: the headers and scope its inner request is
# made with (the POST to /mcp, or stdio's fixed local caller).
Caller = Callable[[Any], tuple[dict[str, str], Mapping[str, Any] | None]]
Scopes = Callable[[Any], frozenset[str] | None]  # the scopes of the key behind a message (None: all)


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data

    def error(self) -> dict[str, Any]:
        error = {"code": self.code, "message": self.message}
        return error if self.data is None else {**error, "data": self.data}


@dataclass(frozen=True)
class Envelope:
    """What came with a message besides its body: the carrier (passed to ``caller`` and
    ``scopes_of``) and, over HTTP, the request's headers (lower-case names) to check against it."""

    carrier: Any = None
    headers: Mapping[str, str] | None = None


def is_modern(message: Any, headers: Mapping[str, str] | None) -> bool:
    """Over HTTP the era is the ``MCP-Protocol-Version`` header's: absent or a handshake version is
    the handshake era, anything else is judged (and refused if unknown) as 2026-07-28. Over stdio,
    which has no headers, it is the version in ``params._meta``."""
    if headers is not None:
        version = headers.get("mcp-protocol-version")
        return version is not None and version not in HANDSHAKE_VERSIONS
    params = message.get("params") if isinstance(message, dict) else None
    meta = params.get("_meta") if isinstance(params, dict) else None
    return isinstance(meta, dict) and PROTOCOL_VERSION_KEY in meta and meta[PROTOCOL_VERSION_KEY] not in HANDSHAKE_VERSIONS


class ToolServer:
    def __init__(self, tools: list[ToolSpec], instructions: str, app: ASGIApp, caller: Caller,
                 scopes_of: Scopes | None = None) -> None:
        """A tool call is a request to the tool's own route in ``app`` (:mod:`connector.mcp.inprocess`).
        ``scopes_of`` narrows ``tools/list`` to the tools the caller's key may call: a tool it would
        only be refused (403 insufficient_scope) is one more thing for a model to get wrong."""
        self.tools, self.instructions = tools, instructions
        self.app, self.caller, self.scopes_of = app, caller, scopes_of
        self.by_name = {tool.name: tool for tool in tools}
        self.described = {tool.name: _described(tool) for tool in tools}

    async def answer(self, message: Any, envelope: Envelope = Envelope()) -> tuple[dict[str, Any] | None, int]:
        """The JSON-RPC answer to ``message`` (None for a notification or a response, which need
        none) and the HTTP status to send it with."""
        modern = is_modern(message, envelope.headers)
        try:
            request_id = _request_id(message)
        except RpcError as error:
            return {"jsonrpc": "2.0", "id": None, "error": error.error()}, 400
        if request_id is None:  # a notification, or a client's answer to a request this server never sends
            return None, 202
        try:
            if modern:
                _check_envelope(message, envelope.headers)
                result = await self._modern(message["method"], message.get("params"), envelope)
                result = {**result, "resultType": "complete",
                          "_meta": {**result.get("_meta", {}), SERVER_INFO_KEY: SERVER_INFO}}
            else:
                result = await self._handshake_era(message["method"], message.get("params"), envelope)
        except RpcError as error:
            status = HTTP_STATUS.get(error.code, 200) if modern else 200
            return {"jsonrpc": "2.0", "id": request_id, "error": error.error()}, status
        return {"jsonrpc": "2.0", "id": request_id, "result": result}, 200

    async def _handshake_era(self, method: str, params: Any, envelope: Envelope) -> dict[str, Any]:
        if method == "initialize":
            if not isinstance(params, dict) or not isinstance(params.get("protocolVersion"), str):
                raise RpcError(INVALID_PARAMS, "initialize needs params.protocolVersion, the version the client speaks.")
            asked = params["protocolVersion"]
            return {"protocolVersion": asked if asked in HANDSHAKE_VERSIONS else HANDSHAKE_VERSIONS[-1],
                    "capabilities": CAPABILITIES, "serverInfo": SERVER_INFO, "instructions": self.instructions}
        if method == "ping":
            return {}
        return await self._tools_method(method, params, envelope)

    async def _modern(self, method: str, params: Any, envelope: Envelope) -> dict[str, Any]:
        if method == "server/discover":
            return {"supportedVersions": list(MODERN_VERSIONS), "capabilities": CAPABILITIES,
                    "instructions": self.instructions, "cacheScope": "private", "ttlMs": 0}
        if method == "tools/list":  # private: the list depends on the caller's key
            return {**await self._tools_method(method, params, envelope), "cacheScope": "private", "ttlMs": 0}
        return await self._tools_method(method, params, envelope)

    async def _tools_method(self, method: str, params: Any, envelope: Envelope) -> dict[str, Any]:
        if params is not None and not isinstance(params, dict):
            raise RpcError(INVALID_PARAMS, "params must be an object.")
        if method == "tools/list":  # one page: the list is short
            scopes = self.scopes_of(envelope.carrier) if self.scopes_of is not None else None
            return {"tools": [self.described[tool.name] for tool in self.tools
                              if scopes is None or tool.scopes <= scopes]}
        if method == "tools/call":
            return await self._call(params or {}, envelope)
        raise RpcError(METHOD_NOT_FOUND, "Method not found", method)

    async def _call(self, params: dict[str, Any], envelope: Envelope) -> dict[str, Any]:
        name, arguments = params.get("name"), params.get("arguments")
        if not isinstance(name, str):
            raise RpcError(INVALID_PARAMS, "tools/call needs params.name, a tool's name from tools/list.")
        if arguments is not None and not isinstance(arguments, dict):
            raise RpcError(INVALID_PARAMS, "tools/call params.arguments must be an object of the tool's fields.")
        spec = self.by_name.get(name)
        if spec is None:  # a protocol error, as MCP asks for an unknown tool, not a tool error
            raise RpcError(INVALID_PARAMS, f"Unknown tool {name!r}; tools/list names the tools.")
        headers, like = self.caller(envelope.carrier)
        # ASCII escapes: a lone surrogate in the arguments reaches the route, which names it (400).
        body = json.dumps(arguments or {}).encode() if spec.takes_body else None
        return tool_result(await call_route(self.app, spec.method, spec.path, body, headers=headers, like=like))


def encode(answer: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON; escaped where a text holds what UTF-8 cannot (a lone surrogate)."""
    try:
        return json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return json.dumps(answer, separators=(",", ":")).encode()


def tool_result(reply: Reply) -> dict[str, Any]:
    """A route's answer as a tool's result: its JSON as text and as structured content; a refusal
    (problem+json) is a tool error carrying the same problem, so a model acts on it as over HTTP."""
    text = reply.body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    result: dict[str, Any] = {"content": [{"type": "text", "text": text}],
                              "isError": not 200 <= reply.status < 300}
    if isinstance(data, dict):
        result["structuredContent"] = data
    # A refusal that signing in (again, or with more scopes) would cure carries the OAuth challenge:
    # ChatGPT shows its sign-in prompt only for a tool result with _meta["mcp/www_authenticate"].
    if reply.status in (401, 403) and reply.www_authenticate and "resource_metadata=" in reply.www_authenticate:
        result["_meta"] = {"mcp/www_authenticate": [reply.www_authenticate]}
    return result


def _described(spec: ToolSpec) -> dict[str, Any]:
    return {"name": spec.name, "title": spec.title, "description": spec.description,
            "inputSchema": spec.input_schema, "annotations": spec.annotations}


def _request_id(message: Any) -> str | int | None:
    """The id of a request; None for a notification or a response. Anything else is not JSON-RPC."""
    if not isinstance(message, dict):
        what = "a batch (an array)" if isinstance(message, list) else "not an object"
        raise RpcError(INVALID_REQUEST, f"Invalid Request: the message is {what}; send one JSON-RPC 2.0 object.")
    if message.get("jsonrpc") != "2.0":
        raise RpcError(INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0".')
    if "method" not in message:
        if "id" in message and ("result" in message or "error" in message):
            return None
        raise RpcError(INVALID_REQUEST, 'Invalid Request: a request needs "method".')
    if not isinstance(message["method"], str):
        raise RpcError(INVALID_REQUEST, 'Invalid Request: "method" must be a string.')
    if "id" not in message:
        return None
    request_id = message["id"]
    if isinstance(request_id, bool) or not isinstance(request_id, str | int):
        raise RpcError(INVALID_REQUEST, 'Invalid Request: "id" must be a string or an integer.')
    return request_id


def _check_envelope(message: dict[str, Any], headers: Mapping[str, str] | None) -> None:
    """2026-07-28's checks of a request, first failure wins: its ``_meta`` carries the version and
    the client's capabilities; over HTTP the routing headers agree with the body; the version is
    one this server speaks."""
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    if not isinstance(meta, dict) or PROTOCOL_VERSION_KEY not in meta or CLIENT_CAPABILITIES_KEY not in meta:
        raise RpcError(INVALID_PARAMS, f"params._meta must be an object carrying {PROTOCOL_VERSION_KEY!r} and "
                                       f"{CLIENT_CAPABILITIES_KEY!r}.")
    version = meta[PROTOCOL_VERSION_KEY]
    if headers is not None:
        if headers.get("mcp-protocol-version") != version:
            raise RpcError(HEADER_MISMATCH, "MCP-Protocol-Version header does not match params._meta's protocol version.")
        if headers.get("mcp-method") != message["method"]:
            raise RpcError(HEADER_MISMATCH, "Mcp-Method header does not match the request's method.")
        name = params.get("name") if message["method"] == "tools/call" and isinstance(params, dict) else None
        if name is not None and _header_value(headers.get("mcp-name")) != name:
            raise RpcError(HEADER_MISMATCH, "Mcp-Name header does not match the tool call's name.")
    if not isinstance(version, str):
        raise RpcError(INVALID_PARAMS, "params._meta's protocol version must be a string.")
    if version not in MODERN_VERSIONS:
        raise RpcError(UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version",
                       {"supported": list(MODERN_VERSIONS), "requested": version})


def _header_value(value: str | None) -> str | None:
    """A header value as sent: a name that is not plain visible ASCII travels as ``=?base64?...?=``."""
    if value is None or not (value.startswith("=?base64?") and value.endswith("?=")):
        return value
    payload = value[len("=?base64?"):-2]
    try:
        decoded = base64.b64decode(payload, validate=True)
        # Only the canonical form matches: another spelling of the same bytes is a corrupt header.
        return decoded.decode("utf-8") if base64.b64encode(decoded).decode("ascii") == payload else None
    except (binascii.Error, UnicodeDecodeError):
        return None
