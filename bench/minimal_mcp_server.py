"""The start-up floor for ``bench/peers.py``: the MCP SDK's low-level ``Server`` with one tool, over
stdio, the least a Python MCP server starts in. The connector's time to its first ``tools/list``
is measured against this in the same run (the connector no longer runs on the SDK's server; the
floor stays what issue 18 set it to)."""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

TOOL = types.Tool(name="echo", description="Echo the text back.",
                  input_schema={"type": "object", "properties": {"text": {"type": "string"}}})


async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[TOOL])


async def main() -> None:
    server: Server[Any] = Server("minimal", on_list_tools=list_tools)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
