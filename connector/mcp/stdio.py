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
the SDK's read of stdin cannot be cancelled and the client may hold stdin open).
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, NoReturn

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

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

    app = AppBuiltMeanwhile(build_app)
    server = build_server(tools, instructions_for(advertised), app, caller, scopes_of)

    async def serve() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(app.build)
            await serve_stdio(server)
            group.cancel_scope.cancel()  # the client hung up

    anyio.run(serve)


def _end(message: str) -> NoReturn:
    print(message, file=sys.stderr, flush=True)
    os._exit(2)
