"""``connector check``: is this deployment set up right, before a GPT finds out in front of a user?

Reads the same settings as ``connector serve`` and checks, in order: the settings, the API keys,
the event catalog, GitHub (reachable, credentials accepted, and for each repository the connector
should serve: readable, its workflow runs readable, and writable where the connector writes), and the schema ChatGPT will
import. Only read calls reach GitHub, never a test write, so write permission is read from what
GitHub reports: an App installation's permissions, a classic token's scopes. A fine-grained
token's own permissions cannot be read; the check says so instead of guessing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

import requests
from github import Auth, Github, GithubException

from ..config.keys import KeyRing
from ..config.settings import Settings, SettingsError
from ..errors import ConnectorError
from ..github.client import GitHub, github_client, read_retry
from ..github.credentials import AppCredentials
from ..spec.catalog import EventCatalog, load_catalog
from ..spec.document import document_for_settings, served_document
from ..spec.openapi31 import validate_document
from ..types import Repository

__all__ = ["Check", "run_checks", "render_table", "render_json"]

Status = Literal["ok", "warn", "fail"]
# What each write operation needs, by the names GitHub uses for App permissions.
NEEDED_FOR_WRITES = {"pull_requests": "write", "issues": "write"}
NEEDED_FOR_DISPATCH = {"contents": "write"}
NEEDED_FOR_ACTIONS = {"actions": "write"}  # cancel and rerun runs, start workflow_dispatch


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


def run_checks(environ: dict[str, str] | None = None) -> list[Check]:
    return list(_checks(environ))


def _checks(environ: dict[str, str] | None) -> Iterator[Check]:
    try:
        settings = Settings.from_env(environ)
    except SettingsError as exc:
        yield Check("settings", "fail", str(exc))
        return
    yield Check("settings", "ok", "read from the environment")
    yield _api_keys(settings)
    catalog_check, catalog = _catalog(settings)
    yield catalog_check
    yield from _github(settings)
    yield _public_url(settings)
    yield from _oauth(settings)
    yield _served_schema(settings, catalog)


def _oauth(settings: Settings) -> Iterator[Check]:
    """The OAuth setup: the signing key, the redirect patterns and clients, or the external issuer."""
    if settings.oauth_mode == "off":
        return  # nothing to check; README says ChatGPT's MCP connectors need CONNECTOR_OAUTH=embedded
    if settings.oauth_mode == "external":
        yield _external_issuer(settings)
        return
    from ..oauth.clients import parse_clients_file
    from ..oauth.redirects import RedirectPolicy
    from ..oauth.signing import SigningKeys

    try:
        keys = SigningKeys.from_pem(settings.oauth_signing_key) if settings.oauth_signing_key is not None else None
    except SettingsError as exc:
        yield Check("OAuth signing key", "fail", str(exc))
        return
    yield Check("OAuth signing key", "ok", f"{keys.current.algorithm}, kid {keys.current.kid}" if keys is not None
                else "an ephemeral key (sandbox): tokens end when it restarts")
    patterns = ", ".join(settings.oauth_redirect_uris)
    yield Check("OAuth redirect URIs", "ok" if settings.oauth_redirect_uris else "fail",
                f"clients may register: {patterns}" if patterns else "CONNECTOR_OAUTH_REDIRECT_URIS allows nothing")
    if settings.oauth_clients_file is not None:
        try:
            clients = parse_clients_file(settings.oauth_clients_file, RedirectPolicy(settings.oauth_redirect_uris))
        except SettingsError as exc:
            yield Check("OAuth clients", "fail", str(exc))
        else:
            yield Check("OAuth clients", "ok", f"{len(clients)} pre-registered: {', '.join(c.name for c in clients.values())}")
    if settings.github_sign_in:
        yield _github_sign_in(settings)
    if settings.redis_url is None:
        yield Check("OAuth sign-ins", "warn", "kept in this process's memory: with several instances, or after a "
                    "restart, a sign-in one started fails on another; set CONNECTOR_REDIS_URL")


def _github_sign_in(settings: Settings) -> Check:
    from ..config.github_users import UserPolicy

    try:
        policy = UserPolicy.from_settings(settings)
    except SettingsError as exc:
        return Check("GitHub sign-in", "fail", str(exc))
    who = [f"users {', '.join(sorted(policy.allowed_users))}" if policy.allowed_users else "",
           f"members of {', '.join(policy.allowed_orgs)}" if policy.allowed_orgs else "",
           f"{len(policy.entries)} named in the users file" if policy.entries else ""]
    return Check("GitHub sign-in", "ok", f"client {settings.github_oauth_client_id} at {settings.github_web_origin}; "
                 f"who may sign in: {'; '.join(part for part in who if part) or 'anyone (sandbox)'}; "
                 f"callback {settings.public_base_url or '<PUBLIC_BASE_URL>'}/oauth/github/callback must be "
                 "registered on the app")


def _external_issuer(settings: Settings) -> Check:
    from ..oauth.tokens import discover_jwks_uri

    assert settings.oauth_issuer is not None
    jwks_uri = discover_jwks_uri(settings.oauth_issuer)
    if jwks_uri is not None:
        return Check("OAuth issuer", "ok", f"{settings.oauth_issuer} publishes its keys at {jwks_uri}")
    return Check("OAuth issuer", "fail", f"{settings.oauth_issuer} cannot be reached, or its metadata names another "
                 "issuer or no jwks_uri; check CONNECTOR_OAUTH_ISSUER")


def _api_keys(settings: Settings) -> Check:
    keys = KeyRing(settings.api_keys, settings.keys_file).keys()
    if not keys:
        return Check("API keys", "fail", "no key: set CONNECTOR_API_KEY or add keys to CONNECTOR_KEYS_FILE")
    names = ", ".join(f"{key.name} ({', '.join(sorted(key.scopes))})" for key in keys[:10])
    return Check("API keys", "ok", f"{len(keys)} key(s): {names}{', …' if len(keys) > 10 else ''}")


def _catalog(settings: Settings) -> tuple[Check, EventCatalog | None]:
    if settings.events_file is None:
        return Check("event catalog", "ok", "none: any event_type may be dispatched"), None
    try:
        catalog = load_catalog(settings.events_file)
    except SettingsError as exc:
        return Check("event catalog", "fail", str(exc)), None
    listed = [f"{len(catalog.names)} event(s): {', '.join(catalog.names)}" if catalog.restricts_events
              else "any event_type",
              f"{len(catalog.workflows)} workflow(s): {', '.join(catalog.workflows)}" if catalog.restricts_workflows
              else "any workflow"]
    return Check("event catalog", "ok", "; ".join(listed)), catalog


def _github(settings: Settings) -> Iterator[Check]:
    client = github_client(settings)
    if client is None:
        yield Check("GitHub credentials", "fail", "neither GITHUB_TOKEN nor GITHUB_APP_ID with its private key is set")
        return
    where = settings.github_api_url
    try:
        who, scopes = _identity(settings, client)
    except requests.RequestException as exc:
        yield Check("GitHub API", "fail", f"cannot reach {where} ({type(exc).__name__}); check GITHUB_API_URL "
                                          "and the network path to it")
        return
    except (GithubException, ConnectorError) as exc:
        yield Check("GitHub API", "ok", f"reachable at {where}")
        yield Check("GitHub credentials", "fail", _reason(exc))
        return
    yield Check("GitHub API", "ok", f"reachable at {where}")
    yield Check("GitHub credentials", "ok", who)
    repositories = _repositories(settings)
    if not repositories:
        yield Check("repositories", "warn", "nothing to check: set CONNECTOR_DEFAULT_REPO, or list exact owner/repo "
                                            "names in CONNECTOR_ALLOWED_REPOS (owner/* cannot be listed)")
    for repo in repositories:
        yield from _repository(settings, client, repo, scopes)


def _identity(settings: Settings, client: GitHub) -> tuple[str, list[str] | None]:
    """Who the credentials are, and a classic token's OAuth scopes (None when GitHub sends none)."""
    credentials = client.credentials
    if isinstance(credentials, AppCredentials):
        return f"GitHub App '{credentials.app_name()}' (id {credentials.app_id})", None
    assert settings.github_token is not None
    plain = Github(auth=Auth.Token(settings.github_token.reveal()), base_url=settings.github_api_url,
                   timeout=settings.github_timeout, retry=read_retry(),
                   seconds_between_requests=None, seconds_between_writes=None)
    login = plain.get_user().login
    scopes = plain.oauth_scopes
    kind = f"classic token, scopes: {', '.join(scopes) or 'none'}" if scopes is not None else "fine-grained token"
    return f"token of {login} ({kind})", scopes


def _repositories(settings: Settings) -> list[Repository]:
    names = [pattern for pattern in settings.allowed_repos if "*" not in pattern]
    if settings.default_repo is not None:
        names.insert(0, "/".join(settings.default_repo))
    unique = {name.lower(): name for name in reversed(names)}
    return [Repository(*name.split("/", 1)) for name in reversed(list(unique.values()))]


def _repository(settings: Settings, client: GitHub, repo: Repository, scopes: list[str] | None) -> Iterator[Check]:
    label = repo.full_name
    try:
        data = client.get_repository(repo)
    except ConnectorError as exc:
        yield Check(f"{label}: read", "fail", _reason(exc))
        return
    yield Check(f"{label}: read", "ok", f"{'private' if data.get('private') else 'public'} repository")
    yield _workflow_runs(client, repo)
    if settings.read_only:
        yield Check(f"{label}: write", "ok", "not needed: CONNECTOR_READ_ONLY is set")
        return
    credentials = client.credentials
    if isinstance(credentials, AppCredentials):
        try:
            installation, granted = credentials.permissions_on(repo)
        except (GithubException, ConnectorError) as exc:
            yield Check(f"{label}: App permissions", "fail", _reason(exc))
            return
        yield _granted(f"{label}: comment and label pull requests", installation, granted, NEEDED_FOR_WRITES)
        yield _granted(f"{label}: repository_dispatch", installation, granted, NEEDED_FOR_DISPATCH)
        yield _granted(f"{label}: cancel, rerun, workflow_dispatch", installation, granted, NEEDED_FOR_ACTIONS)
    elif scopes is not None:
        enough = "repo" in scopes or ("public_repo" in scopes and not data.get("private"))
        status: Status = "ok" if enough else "fail"
        detail = ("the token's scopes cover it" if enough
                  else f"a classic token needs the 'repo' scope here (it has: {', '.join(scopes) or 'none'})")
        yield Check(f"{label}: {WRITES}", status, detail)
    elif (data.get("permissions") or {}).get("push") is False:
        yield Check(f"{label}: {WRITES}", "fail", "the token's user cannot write to this repository")
    else:
        yield Check(f"{label}: {WRITES}", "warn",
                    "a fine-grained token does not reveal its permissions; make sure it grants Pull requests, "
                    "Issues, Contents and Actions: read and write on this repository")


WRITES = "write pull requests, issues, dispatch, cancel and rerun runs"


def _workflow_runs(client: GitHub, repo: Repository) -> Check:
    """Listing one run is a read like any other: whether it works is what GitHub says, for every
    kind of credential (a fine-grained token without Actions: read gets 403 on a private repository)."""
    name = f"{repo.full_name}: read workflow runs"
    try:
        client.list_runs(repo, {"per_page": 1})
    except ConnectorError as exc:
        return Check(name, "fail", f"{_reason(exc)} (listing, following and cancelling runs need Actions: read)")
    return Check(name, "ok", "Actions: read")


def _granted(name: str, installation: int, granted: dict[str, str], needed: dict[str, str]) -> Check:
    missing = [f"{permission}: {level}" for permission, level in needed.items()
               if not (granted.get(permission) == level or (level == "read" and granted.get(permission) == "write"))]
    if missing:
        return Check(name, "fail", f"installation {installation} lacks {', '.join(missing)}; grant it in the "
                                   "App's permissions and accept the change on the installation")
    return Check(name, "ok", f"installation {installation}: " + ", ".join(f"{p}: {granted[p]}" for p in needed))


def _public_url(settings: Settings) -> Check:
    if settings.public_base_url is None:
        return Check("public URL", "fail", "PUBLIC_BASE_URL is not set; ChatGPT needs the https origin it calls")
    if not settings.public_base_url_is_https:
        return Check("public URL", "fail", f"{settings.public_base_url} is not https; ChatGPT only calls https")
    return Check("public URL", "ok", settings.public_base_url)


def _served_schema(settings: Settings, catalog: EventCatalog | None) -> Check:
    base_url = settings.public_base_url or "https://connector.invalid"
    document = served_document(document_for_settings(settings, catalog), base_url, catalog)
    problems = []
    try:
        validate_document(document)
    except Exception as exc:  # InvalidSpecification, or anything the meta-schema check trips on
        problems.append(str(exc)[:200])
    too_long = [path for path, text in _descriptions(document, "$") if len(text) > 300]
    if too_long:
        problems.append(f"descriptions over 300 characters at {', '.join(too_long[:5])}")
    operations = [op for item in document["paths"].values() for op in item.values()
                  if isinstance(op, dict) and "operationId" in op]
    unmarked = [op["operationId"] for op in operations if not isinstance(op.get("x-openai-isConsequential"), bool)]
    if unmarked:
        problems.append(f"operations without x-openai-isConsequential: {', '.join(unmarked)}")
    size = len(json.dumps(document, separators=(",", ":")))
    if size >= 100_000:
        problems.append(f"{size} characters; ChatGPT's importer takes under 100,000")
    if problems:
        return Check("served schema", "fail", "; ".join(problems))
    return Check("served schema", "ok", f"valid OpenAPI 3.1, {len(operations)} operations, {size} characters")


def _descriptions(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                yield path, value
            else:
                yield from _descriptions(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _descriptions(item, f"{path}[{index}]")


def _reason(exc: Exception) -> str:
    if isinstance(exc, ConnectorError):
        return exc.detail
    if isinstance(exc, GithubException):
        message = exc.data.get("message") if isinstance(exc.data, dict) else None
        return f"GitHub answered {exc.status}: {message or 'error'}"
    return type(exc).__name__


def render_table(checks: list[Check]) -> str:
    width = max(len(check.name) for check in checks)
    marks = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}
    return "\n".join(f"{check.name.ljust(width)}  {marks[check.status]}  {check.detail}" for check in checks)


def render_json(checks: list[Check]) -> str:
    return json.dumps({"ok": all(check.status != "fail" for check in checks),
                       "checks": [asdict(check) for check in checks]}, indent=2)
