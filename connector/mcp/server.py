"""The MCP server: the SDK's low-level ``Server`` with the generated tools, over streamable HTTP or stdio.

``tools/list`` answers the tools :mod:`connector.mcp.tools` generated from the advertised document
that the caller's key has the scopes for.
``tools/call`` sends the arguments as the JSON body of a request to the tool's own HTTP route, in
process (:mod:`connector.mcp.inprocess`), with the caller's ``Authorization`` header: validation,
scopes, allowlists, the event catalog, label rules and the handler are the route's. A 2xx answer
becomes the tool's result (the JSON as structured content and as text); a problem+json answer
becomes a tool error carrying the same problem, ``code`` and ``detail`` included, so an assistant
acts on it exactly as it would over HTTP.

Importing this module imports the SDK (pydantic models for the whole protocol): ~0.2 s and ~15 MB
that a worker only pays once something speaks MCP to it (connector.mcp.endpoint imports it then).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from starlette.types import ASGIApp

from .. import __version__
from .inprocess import Reply, call_route
from .tools import ToolSpec

__all__ = ["Caller", "build_server", "session_manager", "serve_stdio"]

# What a tool call's inner request carries: its headers, and the scope of the request it is made for.
Caller = Callable[[ServerRequestContext[Any, Any]], tuple[dict[str, str], Mapping[str, Any] | None]]
# The scopes of the key behind a request (None: show every tool).
Scopes = Callable[[ServerRequestContext[Any, Any]], frozenset[str] | None]

def build_server(tools: list[ToolSpec], instructions: str, app: ASGIApp, caller: Caller,
                 scopes_of: Scopes | None = None) -> Server[Any]:
    """``scopes_of`` narrows ``tools/list`` to the tools the caller's key may call: a tool it would
    only be refused (403 insufficient_scope) is one more thing for a model to get wrong."""
    by_name = {tool.name: tool for tool in tools}
    described = {tool.name: _tool(tool) for tool in tools}
    everything = types.ListToolsResult(tools=list(described.values()))

    async def list_tools(ctx: ServerRequestContext[Any, Any], params: Any) -> types.ListToolsResult:
        scopes = scopes_of(ctx) if scopes_of is not None else None
        if scopes is None:
            return everything
        return types.ListToolsResult(tools=[described[spec.name] for spec in tools if spec.scopes <= scopes])

    async def call_tool(ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        spec = by_name.get(params.name)
        if spec is None:  # a protocol error, as MCP asks for an unknown tool, not a tool error
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool {params.name!r}; tools/list names the tools.")
        headers, like = caller(ctx)
        # ASCII escapes: a lone surrogate in the arguments reaches the route, which names it (400).
        body = json.dumps(params.arguments or {}).encode() if spec.takes_body else None
        return _result(await call_route(app, spec.method, spec.path, body, headers=headers, like=like))

    def input_schema(name: str) -> Mapping[str, Any] | None:
        spec = by_name.get(name)
        return spec.input_schema if spec is not None else None

    return Server("github-connector", version=__version__, title="GitHub connector", instructions=instructions,
                  on_list_tools=list_tools, on_call_tool=call_tool, get_tool_input_schema=input_schema)


def session_manager(server: Server[Any], max_request_body_size: int) -> StreamableHTTPSessionManager:
    """Stateless with JSON answers: every POST stands alone, so any instance behind a load balancer
    can serve it (run state is already shared through Redis), and nothing needs a held-open stream.
    No DNS-rebinding check: every request needs an API key, which a rebound page does not have."""
    return StreamableHTTPSessionManager(app=server, stateless=True, json_response=True,
                                        max_request_body_size=max_request_body_size)


async def serve_stdio(server: Server[Any]) -> None:
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def _tool(spec: ToolSpec) -> types.Tool:
    return types.Tool(name=spec.name, title=spec.title, description=spec.description,
                      input_schema=spec.input_schema,
                      annotations=types.ToolAnnotations.model_validate(spec.annotations))


def _result(reply: Reply) -> types.CallToolResult:
    text = reply.body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    # A refusal that signing in (again, or with more scopes) would cure carries the OAuth challenge:
    # ChatGPT shows its sign-in prompt only for a tool result with _meta["mcp/www_authenticate"].
    challenge = reply.www_authenticate if reply.status in (401, 403) and reply.www_authenticate and \
        "resource_metadata=" in reply.www_authenticate else None
    result = types.CallToolResult(content=[types.TextContent(text=text)],
                                  structured_content=data if isinstance(data, dict) else None,
                                  is_error=not 200 <= reply.status < 300)
    if challenge:
        result.meta = {"mcp/www_authenticate": [challenge]}
    return result
