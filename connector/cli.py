"""``connector serve``, ``connector mcp --stdio``, ``connector check``, ``connector spec`` and ``connector keys new``."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import shutil
import socket
import sys
import tempfile
from typing import Any

from .config.settings import Settings, SettingsError
from .http.request_id import configure_logging

__all__ = ["main"]

log = logging.getLogger("connector")

# Longer than a write waiting on GitHub (CONNECTOR_GITHUB_TIMEOUT, 10 s by default) or a wait for a
# run's state to change (wait_seconds, at most 25 s).
GRACEFUL_SHUTDOWN_SECONDS = 30


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="connector", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP API under uvicorn")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    serve.add_argument("--sandbox", action="store_true",
                       help="use an embedded GitHub double even if GITHUB_TOKEN is set")
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes (default 1); with several, set CONNECTOR_REDIS_URL so that "
                            "idempotency and rate limits hold across them")
    mcp = commands.add_parser("mcp", help="serve the operations as MCP tools to a local client over stdin/stdout")
    mcp.add_argument("--stdio", action="store_true", required=True,
                     help="talk MCP over stdin/stdout (over HTTP, `connector serve` serves /mcp)")
    mcp.add_argument("--sandbox", action="store_true",
                     help="use an embedded GitHub double even if GITHUB_TOKEN is set")
    keys = commands.add_parser("keys", help="manage API keys for CONNECTOR_KEYS_FILE")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    new_key = keys_commands.add_parser("new", help="print a fresh random key, once, and its keys-file entry")
    new_key.add_argument("name", help="a name for the key, shown in logs and comment footers")
    new_key.add_argument("--scopes", required=True,
                         help="comma-separated scopes out of prs:read, prs:write, dispatch, runs:read, runs:write, runs:cancel")
    new_key.add_argument("--repos", default="", help="optional comma-separated owner/repo or owner/* patterns")
    oauth = commands.add_parser("oauth", help="OAuth clients and sign-ins of the embedded authorization server")
    oauth_commands = oauth.add_subparsers(dest="oauth_command", required=True)
    clients = oauth_commands.add_parser("clients", help="pre-registered clients (CONNECTOR_OAUTH_CLIENTS_FILE)")
    clients_commands = clients.add_subparsers(dest="clients_command", required=True)
    add_client = clients_commands.add_parser("add", help="print a new client's id and secret, once, and its entry")
    add_client.add_argument("name", help="a name for the client, shown on the consent page")
    add_client.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris",
                            help="a redirect URI of the client (repeatable), e.g. a custom GPT's callback")
    add_client.add_argument("--public", action="store_true", help="a client without a secret (it uses PKCE alone)")
    revoke = oauth_commands.add_parser("revoke", help="end sign-ins (needs CONNECTOR_REDIS_URL)")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--grant", help="one sign-in, by the grant id the audit log names")
    which.add_argument("--client", help="every sign-in of a client, by client id")
    which.add_argument("--key", help="every sign-in made with an API key, by the key's name")
    check = commands.add_parser("check", help="check the settings, GitHub access and the served schema")
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    spec = commands.add_parser("spec", help="print /openapi.json exactly as these settings serve it")
    spec.add_argument("--base-url", help="server URL to put in the document (default: PUBLIC_BASE_URL)")
    spec.add_argument("--sandbox", action="store_true",
                      help="as the sandbox serves it (a default repository, OAuth on), whatever the settings say")
    spec.add_argument("--enforced", action="store_true",
                      help="the enforced view (/openapi.json?view=enforced: every schema whole, for contract testers)")
    args = parser.parse_args(argv)

    configure_logging()
    try:
        if args.command == "check":
            return _check(args.json)
        if args.command == "spec":
            return _spec(args.base_url, args.sandbox, "enforced" if args.enforced else "model")
        if args.command == "keys":
            return _new_key(args.name, args.scopes, args.repos)
        if args.command == "oauth":
            return _oauth(args)
        if args.command == "mcp":
            return _mcp_stdio(args.sandbox)
        return _serve(args.host, args.port, args.sandbox, args.workers)
    except SettingsError as exc:
        print(f"connector: configuration error: {exc}", file=sys.stderr)
        return 2


def _new_key(name: str, scopes: str, repos: str) -> int:
    import json
    import secrets

    from .config.allowlist import PATTERN
    from .config.keys import SCOPES, digest

    scope_list = [scope.strip() for scope in scopes.split(",") if scope.strip()]
    repo_list = [repo.strip() for repo in repos.split(",") if repo.strip()]
    if not scope_list or any(scope not in SCOPES for scope in scope_list):
        raise SettingsError(f"--scopes must list some of {', '.join(SCOPES)}")
    if any(not PATTERN.match(repo) for repo in repo_list):
        raise SettingsError("--repos must list owner/repo or owner/* patterns")
    key = secrets.token_urlsafe(32)
    print(f"API key for {name} (shown once; give it to the caller, store only the entry below):\n\n  {key}\n")
    print("Add to the TOML keys file (CONNECTOR_KEYS_FILE):\n")
    print("[[keys]]")
    print(f"name = {json.dumps(name)}")
    print(f'sha256 = "{digest(key).hex()}"')
    print(f"scopes = {json.dumps(scope_list)}")
    if repo_list:
        print(f"repos = {json.dumps(repo_list)}")
    return 0


def _oauth(args: argparse.Namespace) -> int:
    from .ops.oauth_admin import new_client_entry, revoke

    settings = Settings.from_env(sandbox=True)  # neither command needs an API key of its own
    if args.oauth_command == "clients":
        print(new_client_entry(settings, args.name, args.redirect_uris, public=args.public))
        return 0
    ended = revoke(settings, grant=args.grant, client=args.client, key=args.key)
    print(f"connector: {ended} sign-in{'s' * (ended != 1)} ended; their access tokens stop working within "
          f"{settings.oauth_token_seconds} s, when they expire")
    return 0


def _check(as_json: bool) -> int:
    from .ops.doctor import render_json, render_table, run_checks

    checks = run_checks()
    print(render_json(checks) if as_json else render_table(checks))
    return 1 if any(check.status == "fail" for check in checks) else 0


def _spec(base_url: str | None, sandbox: bool, view: str) -> int:
    from .app import openapi_json
    from .spec.catalog import load_catalog
    from .spec.document import document_for_settings

    # The document needs no API key or GitHub credentials, so settings are read in sandbox terms,
    # then left there only when asked: the sandbox also has a default repository and OAuth on.
    settings = Settings.from_env(sandbox=True)
    if sandbox:
        from .ops.sandbox import DEMO_REPOSITORY

        settings = dataclasses.replace(settings, default_repo=DEMO_REPOSITORY)
    else:
        settings = dataclasses.replace(settings, sandbox=False)
    catalog = load_catalog(settings.events_file) if settings.events_file is not None else None
    document = document_for_settings(settings, catalog)
    print(openapi_json(document, (base_url or settings.public_base_url or "http://127.0.0.1:8080").rstrip("/"),
                       catalog, embedded_oauth=settings.oauth_mode == "embedded", view=view))
    return 0


def _mcp_stdio(force_sandbox: bool) -> int:
    from .mcp.stdio import run_stdio, stdio_key

    settings, sandbox = _settings_or_sandbox(force_sandbox)
    try:
        stdio_key(settings)  # before anything starts: a missing key is a configuration error
        if sandbox is not None:  # stdout is the MCP channel, so a short note goes to stderr (the client's log)
            print(f"connector: SANDBOX MODE, an embedded GitHub double; demo repository "
                  f"{sandbox.demo['owner']}/{sandbox.demo['repo']}", file=sys.stderr, flush=True)
        # stdout is the MCP channel: audit lines go to stderr, which clients keep as the server's log.
        # (run_stdio also sends stray prints to stderr while it serves; this does not rely on that.)
        run_stdio(settings, lambda: _stdio_app(settings))
    finally:
        if sandbox is not None:
            sandbox.stop()
    return 0


def _stdio_app(settings: Settings) -> Any:
    from .app import create_app

    return create_app(settings, audit_stream=sys.stderr, over_http=False)


def _settings_or_sandbox(force_sandbox: bool) -> tuple[Settings, Any]:
    """The settings to run with, and the sandbox started when there are no GitHub credentials."""
    # Read once in sandbox terms: whether an API key is mandatory depends on the mode chosen here.
    settings = Settings.from_env(sandbox=True)
    if force_sandbox or not settings.has_github_credentials:
        from .ops.sandbox import start_sandbox

        sandbox = start_sandbox(settings)
        return sandbox.settings, sandbox
    return dataclasses.replace(settings, sandbox=False).validated(), None


def _serve(host: str, port: int, force_sandbox: bool, workers: int) -> int:
    import uvicorn

    from .http.slow_clients import MAX_CONNECTIONS, MAX_HEADER_BYTES, HeaderDeadlineProtocol

    if workers < 1:
        raise SettingsError("--workers must be 1 or more")
    settings, sandbox = _settings_or_sandbox(force_sandbox)
    if sandbox is not None and workers > 1:
        sandbox.stop()
        raise SettingsError("the sandbox's GitHub double lives in one process, so it serves one worker; "
                            "drop --workers, or set GITHUB_TOKEN (or a GitHub App) to run several")
    if workers > 1 and settings.redis_url is None:
        log.warning("--workers %d without CONNECTOR_REDIS_URL: each worker keeps its own idempotency records and "
                    "rate-limit counters, so a repeated write can reach GitHub once per worker", workers)
    metrics_dir = _multiprocess_metrics_dir(settings, workers)
    options: dict[str, Any] = dict(
        host=host, port=port, log_level="info",
        # Forwarded headers are believed from CONNECTOR_TRUSTED_PROXIES only, never from uvicorn's
        # own default (127.0.0.1, or FORWARDED_ALLOW_IPS), so one setting decides who the caller is.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=[str(network) for network in settings.trusted_proxies] or None,
        # On SIGTERM uvicorn stops accepting and lets requests in flight finish, a write waiting on
        # GitHub included, for up to this long (orchestrators: allow a few seconds more).
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        # Before authentication, a client can only hold connections: bounded per process, headers
        # capped in size and due within HEADER_SECONDS (connector.http.slow_clients).
        http=HeaderDeadlineProtocol, limit_concurrency=MAX_CONNECTIONS, h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )
    try:
        if settings.metrics_port is not None:
            _serve_metrics(host, settings.metrics_port)
        if workers == 1:
            from .app import create_app

            app = create_app(settings)
            _refuse_a_taken_port(host, port)  # before the banner: its key and curls must reach this server
            if sandbox is not None:
                shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
                print(sandbox.banner(f"http://{shown_host}:{port}"), flush=True)
            uvicorn.run(app, **options)
        else:  # each worker process builds its app from the same environment
            uvicorn.run("connector.app:app_from_environment", factory=True, workers=workers, **options)
    finally:
        if sandbox is not None:
            sandbox.stop()
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _refuse_a_taken_port(host: str, port: int) -> None:
    """A configuration error when another process listens on the port (uvicorn binds it itself
    right after, as it always did; what it logs then is unchanged)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SettingsError(f"cannot listen on {host}:{port} ({exc.strerror}): another process holds the port "
                                "(an earlier `connector serve`?); stop it, or choose another with --port 8081") from None


def _multiprocess_metrics_dir(settings: Settings, workers: int) -> str | None:
    """With several workers and metrics on, a fresh directory they all write their samples to
    (prometheus-client reads the variable when it is first imported, in each worker)."""
    from .http.metrics import MULTIPROCESS_DIR

    if workers == 1 or (settings.metrics_token is None and settings.metrics_port is None):
        return None
    if os.environ.get(MULTIPROCESS_DIR):
        return None  # the operator's own; emptying it between runs is theirs too
    directory = tempfile.mkdtemp(prefix="connector-metrics-")
    os.environ[MULTIPROCESS_DIR] = directory
    return directory


def _serve_metrics(host: str, port: int) -> None:
    """``/metrics`` on a port of its own, in this process (with several workers, the parent's)."""
    from prometheus_client import start_http_server

    from .http.metrics import registry_to_scrape

    start_http_server(port, addr=host, registry=registry_to_scrape())
    log.info("metrics on http://%s:%d/metrics", host, port)
