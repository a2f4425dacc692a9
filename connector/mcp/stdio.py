"""``connector mcp --stdio``: the tools for a local MCP client (Claude Desktop, VS Code, Cursor ...)
that starts the connector itself and talks to it over stdin and stdout.

The process builds the same app ``connector serve`` would and sends each tool call to its route
in-process, exactly as ``/mcp`` does. A local client sends no API key, so the calls carry the one
in ``CONNECTOR_MCP_API_KEY`` (else the first of ``CONNECTOR_API_KEY``): its scopes and repositories
apply, as they would to the same key over HTTP. The caller is taken to be on this machine
(127.0.0.1) for ``CONNECTOR_IP_ALLOWLIST``.
"""

from __future__ import annotations

from typing import Any

import anyio

from ..config.keys import KeyRing
from ..config.settings import Settings, SettingsError
from ..spec.catalog import load_catalog
from ..spec.document import advertised_document, document_for_settings
from ..types import Secret
from .tools import instructions_for, tools_from_document

__all__ = ["stdio_key", "run_stdio"]

LOCAL_CALLER = {"client": ("127.0.0.1", 0), "server": ("127.0.0.1", 0)}


def stdio_key(settings: Settings) -> Secret:
    key = settings.mcp_api_key or (settings.api_keys[0] if settings.api_keys else None)
    if key is None:
        raise SettingsError(
            "CONNECTOR_MCP_API_KEY is not set: `connector mcp --stdio` calls every tool with it; set it (or "
            "CONNECTOR_MCP_API_KEY_FILE) to one of the connector's API keys (keys in CONNECTOR_KEYS_FILE are "
            "stored as digests, so the key itself has to be given here)"
        )
    return key


def run_stdio(settings: Settings, app: Any) -> None:
    """Serve ``app``'s operations (an app built from ``settings``, its audit lines on stderr) over stdio."""
    from .server import build_server, serve_stdio

    headers = {"authorization": f"Bearer {stdio_key(settings).reveal()}", "host": "127.0.0.1",
               "user-agent": "connector-mcp-stdio"}
    catalog = load_catalog(settings.events_file) if settings.events_file is not None else None
    advertised = advertised_document(document_for_settings(settings, catalog), catalog)
    tools = tools_from_document(advertised)

    def caller(ctx: Any) -> tuple[dict[str, str], dict[str, Any]]:
        return headers, LOCAL_CALLER

    keys = KeyRing(settings.api_keys, settings.keys_file)

    def scopes_of(ctx: Any) -> frozenset[str] | None:  # looked up each time: the keys file may change
        key = keys.find(stdio_key(settings).reveal())
        return key.scopes if key is not None else None

    server = build_server(tools, instructions_for(advertised), app, caller, scopes_of)
    anyio.run(serve_stdio, server)
