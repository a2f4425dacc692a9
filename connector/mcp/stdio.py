"""``connector mcp --stdio``: the tools for a local MCP client (Claude Desktop, VS Code, Cursor ...)
that starts the connector itself and talks to it over stdin and stdout.

The process builds the same app ``connector serve`` would and sends each tool call to its route
in-process, exactly as ``/mcp`` does. A local client sends no API key, so the calls carry the one
in ``CONNECTOR_MCP_API_KEY`` (else the first of ``CONNECTOR_API_KEY``): its scopes and repositories
apply, as they would to the same key over HTTP. The caller is taken to be on this machine
(127.0.0.1) for ``CONNECTOR_IP_ALLOWLIST``.

A client lists the tools before it calls one, and the list needs only the API description, so the
app (Connexion, PyGithub: about half of start-up) is built in a worker thread while the client
starts up; the first tool call waits for what is left of it. A failure to build it ends the process
at once with its error on stderr and status 2, as a failure before serving would (without waiting, because
a blocking read of stdin cannot be interrupted and the client may hold stdin open).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, BinaryIO, NoReturn

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from ..config.keys import KeyRing
from ..config.settings import Settings, SettingsError
from ..spec.catalog import load_catalog
from ..spec.document import advertised_document, document_for_settings
from ..types import Secret
from .protocol import INTERNAL_ERROR, PARSE_ERROR, ToolServer, encode
from .tools import instructions_for, tools_from_document

__all__ = ["serve_lines", "stdio_key", "run_stdio"]
log = logging.getLogger(__name__)

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


class AppBuiltMeanwhile:
    """The ASGI app ``build()`` makes, built in a worker thread once :meth:`build` is started;
    a request made before it is ready waits for it."""

    def __init__(self, build: Callable[[], ASGIApp]) -> None:
        self._build = build
        self._app: ASGIApp | None = None
        self._ready = threading.Event()  # set once the build ends; a request polls it from the event loop

    async def build(self) -> None:
        try:
            self._app = await anyio.to_thread.run_sync(self._build)
        except SettingsError as exc:
            _end(f"connector: configuration error: {exc}")
        except Exception:
            _end(f"connector: could not start:\n{traceback.format_exc()}")
        finally:
            self._ready.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        while not self._ready.is_set():
            await anyio.sleep(0.01)
        if self._app is None:
            raise RuntimeError("the connector's app could not be built")  # the process is stopping
        await self._app(scope, receive, send)


def run_stdio(settings: Settings, build_app: Callable[[], ASGIApp]) -> None:
    """Serve the operations of the app ``build_app()`` makes from ``settings`` (its audit lines on
    stderr) over stdio."""
    local = {"authorization": f"Bearer {stdio_key(settings).reveal()}", "host": "127.0.0.1",
             "user-agent": "connector-mcp-stdio"}
    catalog = load_catalog(settings.events_file) if settings.events_file is not None else None
    advertised = advertised_document(document_for_settings(settings, catalog), catalog)
    tools = tools_from_document(advertised)
    keys = KeyRing(settings.api_keys, settings.keys_file)

    def scopes_of(carrier: Any) -> frozenset[str] | None:  # looked up each time: the keys file may change
        key = keys.find(stdio_key(settings).reveal())
        return key.scopes if key is not None else None

    app = AppBuiltMeanwhile(build_app)
    server = ToolServer(tools, instructions_for(advertised), app, lambda carrier: (local, LOCAL_CALLER), scopes_of)

    # stdout is the MCP channel: anything else printed while serving goes to stderr instead.
    channel, sys.stdout = sys.stdout.buffer, sys.stderr

    async def serve() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(app.build)
            await serve_lines(server, sys.stdin.buffer, channel)
            group.cancel_scope.cancel()  # the client hung up

    anyio.run(serve)


async def serve_lines(server: ToolServer, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """MCP's stdio transport: one JSON-RPC message per line each way, until stdin ends. Each
    request is answered in a task of its own, so a slow tool call holds up no other message."""

    async def answer(line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError as exc:
            reply: dict[str, Any] | None = {"jsonrpc": "2.0", "id": None,
                                            "error": {"code": PARSE_ERROR, "message": f"Parse error: {exc}"}}
        else:
            try:
                reply, _status = await server.answer(message)
            except Exception:  # a bug answering one message must not end the client's session
                log.exception("answering an MCP message over stdio failed")
                reply = _internal_error(message)
        if reply is not None:
            stdout.write(encode(reply) + b"\n")
            stdout.flush()

    async with anyio.create_task_group() as group:
        while line := await anyio.to_thread.run_sync(stdin.readline, abandon_on_cancel=True):
            if line.strip():
                group.start_soon(answer, line)


def _internal_error(message: Any) -> dict[str, Any] | None:
    request_id = message.get("id") if isinstance(message, dict) else None
    if request_id is None:  # a notification gets no answer, even a failed one
        return None
    return {"jsonrpc": "2.0", "id": request_id,
            "error": {"code": INTERNAL_ERROR, "message": "Internal error: the connector failed to answer this "
                                                         "request; its log (stderr) says why."}}


def _end(message: str) -> NoReturn:
    print(message, file=sys.stderr, flush=True)
    os._exit(2)
