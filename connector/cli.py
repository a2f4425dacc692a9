"""``connector serve`` and ``connector spec``."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys

from .settings import Settings, SettingsError

__all__ = ["main"]

log = logging.getLogger("connector")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="connector", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP API under uvicorn")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    serve.add_argument("--sandbox", action="store_true",
                       help="use an embedded GitHub double even if GITHUB_TOKEN is set")
    spec = commands.add_parser("spec", help="print /openapi.json exactly as served")
    spec.add_argument("--base-url", help="server URL to put in the document (default: PUBLIC_BASE_URL)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "spec":
            return _spec(args.base_url)
        return _serve(args.host, args.port, args.sandbox)
    except SettingsError as exc:
        print(f"connector: configuration error: {exc}", file=sys.stderr)
        return 2


def _spec(base_url: str | None) -> int:
    from .spec import document_for_settings, served_json

    # Printing the document needs no API key, so settings are read in sandbox terms.
    settings = Settings.from_env(sandbox=True)
    document = document_for_settings(settings)
    print(served_json(document, base_url or settings.public_base_url or "http://127.0.0.1:8080"))
    return 0


def _serve(host: str, port: int, force_sandbox: bool) -> int:
    import uvicorn

    from .app import create_app

    # Read once in sandbox terms: whether an API key is mandatory depends on the mode chosen here.
    settings = Settings.from_env(sandbox=True)
    sandbox = None
    if force_sandbox or settings.github_token is None:
        from .sandbox import start_sandbox

        sandbox = start_sandbox(settings)
        settings = sandbox.settings
    else:
        settings = dataclasses.replace(settings, sandbox=False).validated()
    app = create_app(settings)
    if sandbox is not None:
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        print(sandbox.banner(f"http://{shown_host}:{port}"), flush=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
    finally:
        if sandbox is not None:
            sandbox.stop()
    return 0
