"""Configuration, read once at start-up into one typed object.

Nothing else in the package reads ``os.environ``. Every environment variable is declared once, in
:data:`VARIABLES`: its name, the :class:`Settings` field it fills, its parser (from
:mod:`connector.config.parsers`) and whether it is a secret. Secrets may come from ``NAME`` or from
a file named by ``NAME_FILE`` (Docker and Kubernetes secrets, Vault Agent templates); they are
wrapped in :class:`~connector.types.Secret` so that neither ``repr(settings)`` nor a log line can
show them. The README's configuration table is checked against the declaration (tests).

pydantic-settings has this shape too, but importing it cost ~0.46 s of a ~0.4 s cold start; this
module copies the shape instead.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ..types import Network, Secret
from . import parsers as p
from .allowlist import RepoAllowlist
from .parsers import Environment, SettingsError

__all__ = ["DEFAULT_CORS_ORIGINS", "Settings", "SettingsError", "VARIABLES", "Variable"]

DEFAULT_CORS_ORIGINS = ("https://chatgpt.com", "https://chat.openai.com")
# ChatGPT's MCP connectors, its older connector redirect, custom GPTs' OAuth callbacks, and native
# clients on this machine (RFC 8252: any port).
# What a person signed in with GitHub may do unless the users file says otherwise: no dispatch and
# no cancelling, which start or stop work for everyone, unless the operator lists them.
DEFAULT_USER_SCOPES = ("prs:read", "prs:write", "runs:read")

DEFAULT_OAUTH_REDIRECT_URIS = (
    "https://chatgpt.com/connector/oauth/*",
    "https://chatgpt.com/connector_platform_oauth_redirect",
    "https://chat.openai.com/aip/*/oauth/callback",
    "https://chatgpt.com/aip/*/oauth/callback",
    "http://127.0.0.1:*/**",
    "http://localhost:*/**",
    "http://[::1]:*/**",
)


@dataclasses.dataclass(frozen=True)
class Settings:
    api_keys: tuple[Secret, ...] = ()
    # The key `connector mcp --stdio` calls the tools with (a local client sends none of its own).
    mcp_api_key: Secret | None = None
    mcp: bool = True
    keys_file: Path | None = None
    events_file: Path | None = None
    github_token: Secret | None = None
    github_app_id: int | None = None
    github_app_private_key: Secret | None = None
    github_app_installation_id: int | None = None
    github_webhook_secret: Secret | None = None
    redis_url: Secret | None = None
    rate_limit: tuple[str, ...] = ()
    ip_rate_limit: tuple[str, ...] = ()
    github_api_url: str = "https://api.github.com"
    github_timeout: int = 10
    # Sent as X-GitHub-Api-Version on every call (GitHub's REST API versions).
    github_api_version: str = "2022-11-28"
    public_base_url: str | None = None
    default_repo: tuple[str, str] | None = None
    cors_origins: tuple[str, ...] = DEFAULT_CORS_ORIGINS
    allowed_repos: tuple[str, ...] = ()
    max_mentions: int = 5
    comment_footer: bool = False
    read_only: bool = False
    max_body_bytes: int = 64 * 1024
    labels_allow: tuple[str, ...] = ()
    labels_create: bool = False
    labels_mode: str = "apply"
    # Text by people without write access in answers: "public" withholds it on public repositories.
    lockdown: str = "public"
    ip_allowlist: tuple[Network, ...] = ()
    trusted_proxies: tuple[Network, ...] = ()
    # None: JSON lines on stdout. A path: appended to that file.
    audit_log: Path | None = None
    metrics_token: Secret | None = None
    metrics_port: int | None = None
    # Off as in Connexion: a guard against the connector's own bugs that the tests keep on, and a
    # quarter to a third of the connector's own CPU time per request (docs/benchmarks.md).
    validate_responses: bool = False
    # OAuth (connector.oauth): off, "embedded" (the connector is its own authorization server), or an
    # external issuer's tokens. None: embedded in the sandbox, off elsewhere.
    oauth: str | None = None
    oauth_issuer: str | None = None
    oauth_audience: str | None = None
    oauth_scope_claim: str = "scope"
    oauth_signing_key: Secret | None = None
    oauth_clients_file: Path | None = None
    oauth_redirect_uris: tuple[str, ...] = DEFAULT_OAUTH_REDIRECT_URIS
    oauth_token_seconds: int = 900
    mcp_api_keys: bool = True
    # Signing in with GitHub on the consent page (connector.oauth.github_signin): a GitHub App's (or
    # OAuth App's) client credentials, who may sign in, and what they may do through the connector.
    github_oauth_client_id: str | None = None
    github_oauth_client_secret: Secret | None = None
    oauth_allowed_users: tuple[str, ...] = ()
    oauth_allowed_orgs: tuple[str, ...] = ()
    oauth_user_scopes: tuple[str, ...] = DEFAULT_USER_SCOPES
    oauth_users_file: Path | None = None
    oauth_encryption_key: Secret | None = None
    sandbox: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, sandbox: bool = False) -> Settings:
        """Build settings from environment variables; raise :class:`SettingsError` on bad input."""
        env = Environment(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for variable in VARIABLES:
            value = variable.read(env)
            if variable.field is not None and value is not dataclasses.MISSING:
                values[variable.field] = value
        return cls(**values, sandbox=sandbox).validated()

    def validated(self) -> Settings:
        """Check the combination of settings; outside the sandbox an API key is mandatory."""
        if not self.sandbox and not self.api_keys and self.keys_file is None:
            raise SettingsError(
                "CONNECTOR_API_KEY is not set: set it (or CONNECTOR_API_KEY_FILE, or a CONNECTOR_KEYS_FILE) to one or more "
                "comma-separated random keys, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        if self.github_token is not None and (self.github_app_id is not None or self.github_app_private_key is not None):
            raise SettingsError(
                "both GITHUB_TOKEN and a GitHub App (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY) are set; "
                "choose one: unset GITHUB_TOKEN to act as the App, or the App settings to use the token"
            )
        if (self.github_app_id is None) != (self.github_app_private_key is None):
            missing = "GITHUB_APP_PRIVATE_KEY (or GITHUB_APP_PRIVATE_KEY_FILE)" if self.github_app_id else "GITHUB_APP_ID"
            raise SettingsError(f"a GitHub App needs both GITHUB_APP_ID and its private key; {missing} is not set")
        if self.github_app_installation_id is not None and self.github_app_id is None:
            raise SettingsError("GITHUB_APP_INSTALLATION_ID is set without GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY")
        if self.default_repo is not None and not RepoAllowlist(self.allowed_repos).allows(*self.default_repo):
            raise SettingsError(
                f"CONNECTOR_DEFAULT_REPO={'/'.join(self.default_repo)} is not matched by "
                "CONNECTOR_ALLOWED_REPOS; add it there or choose an allowed repository"
            )
        self._validate_oauth()
        return self

    def _validate_oauth(self) -> None:
        if self.oauth == "embedded" and self.oauth_issuer is not None:
            raise SettingsError("CONNECTOR_OAUTH=embedded and CONNECTOR_OAUTH_ISSUER are both set; the connector "
                                "either issues its own tokens or accepts another issuer's: unset one")
        if self.oauth_mode == "embedded" and not self.sandbox:
            if self.public_base_url is None or not _secure_origin(self.public_base_url):
                raise SettingsError("CONNECTOR_OAUTH=embedded needs PUBLIC_BASE_URL, the https origin clients reach "
                                    "the connector on (it is the issuer), e.g. https://connector.example.com "
                                    "(http only on 127.0.0.1, [::1] or localhost)")
            if self.oauth_signing_key is None:
                raise SettingsError("CONNECTOR_OAUTH=embedded needs CONNECTOR_OAUTH_SIGNING_KEY_FILE, a PEM private "
                                    "key (EC P-256 or RSA) to sign access tokens with, e.g. made by `openssl ecparam "
                                    "-name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt > oauth.pem`")
        if self.oauth_issuer is not None and not _secure_origin(self.oauth_issuer):
            raise SettingsError(f"CONNECTOR_OAUTH_ISSUER={self.oauth_issuer} is not https (http is accepted only on "
                                "127.0.0.1, [::1] or localhost)")
        self._validate_github_sign_in()
        if not self.mcp_api_keys and self.oauth_mode == "off":
            raise SettingsError("CONNECTOR_MCP_API_KEYS=false leaves /mcp no way in: turn OAuth on "
                                "(CONNECTOR_OAUTH=embedded or CONNECTOR_OAUTH_ISSUER) or allow API keys there")

    def _validate_github_sign_in(self) -> None:
        if self.github_oauth_client_id is None:
            if self.github_oauth_client_secret is not None:
                raise SettingsError("GITHUB_OAUTH_CLIENT_SECRET is set without GITHUB_OAUTH_CLIENT_ID; set the client "
                                    "ID of the same GitHub App (on its settings page, not the numeric App ID)")
            return
        if self.oauth_mode != "embedded":
            raise SettingsError("GITHUB_OAUTH_CLIENT_ID turns on signing in with GitHub on the connector's consent "
                                "page, which needs CONNECTOR_OAUTH=embedded")
        if self.github_oauth_client_secret is None:
            raise SettingsError("GITHUB_OAUTH_CLIENT_ID is set without GITHUB_OAUTH_CLIENT_SECRET (or _FILE): "
                                "generate a client secret on the GitHub App's settings page")
        if self.sandbox:
            return  # the sandbox's GitHub double has its own seeded users and an ephemeral key
        if not (self.oauth_allowed_users or self.oauth_allowed_orgs or self.oauth_users_file):
            raise SettingsError("signing in with GitHub is on but nobody may sign in: set CONNECTOR_OAUTH_ALLOWED_USERS "
                                "(GitHub logins) and/or CONNECTOR_OAUTH_ALLOWED_ORGS (organisations), or list users "
                                "in CONNECTOR_OAUTH_USERS_FILE")
        if self.oauth_encryption_key is None:
            raise SettingsError("signing in with GitHub keeps each user's GitHub tokens, encrypted: set "
                                "CONNECTOR_OAUTH_ENCRYPTION_KEY_FILE to a file holding a key made by "
                                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`")

    @property
    def github_sign_in(self) -> bool:
        """People may sign in with GitHub on the consent page, and then act on GitHub as themselves."""
        return self.github_oauth_client_id is not None and self.oauth_mode == "embedded"

    @property
    def github_web_origin(self) -> str:
        """Where GitHub's sign-in pages are: github.com for api.github.com, else the API's own host
        (GitHub Enterprise Server serves ``https://HOST/api/v3`` and ``https://HOST/login/oauth``).
        PyGithub's ``ApplicationOAuth`` finds the token endpoint by the same rule."""
        parts = urlsplit(self.github_api_url)
        host = "github.com" if parts.netloc.lower() == "api.github.com" else parts.netloc
        return f"{parts.scheme}://{host}"

    @property
    def oauth_mode(self) -> str:
        """"embedded", "external" or "off"."""
        if self.oauth_issuer is not None:
            return "external"
        if self.oauth == "embedded" or (self.oauth is None and self.sandbox):
            return "embedded"
        return "off"

    @property
    def has_github_credentials(self) -> bool:
        return self.github_token is not None or self.github_app_id is not None

    @property
    def public_base_url_is_https(self) -> bool:
        return self.public_base_url is not None and self.public_base_url.startswith("https://")


@dataclasses.dataclass(frozen=True)
class Variable:
    """One environment variable: what it is called, which field it fills and how it is read."""

    name: str
    field: str | None  # None: read only to shape how another variable is read
    parse: Callable[[str, Any], Any]  # (name, value) -> field value; called only when it is set
    secret: bool = False  # from NAME or NAME_FILE, and a Secret
    private_file: bool = False  # NAME_FILE must not be world-readable (unless CONNECTOR_ALLOW_READABLE_KEY_FILE)

    def read(self, env: Environment) -> Any:
        """The parsed value, or ``dataclasses.MISSING`` when the variable is unset."""
        if self.secret:
            value: Any = env.secret(self.name, world_readable_ok=not self.private_file or _readable_key_file_ok(env))
        else:
            value = env.get(self.name)
        return dataclasses.MISSING if value is None else self.parse(self.name, value)


def _readable_key_file_ok(env: Environment) -> bool:
    allow = env.get("CONNECTOR_ALLOW_READABLE_KEY_FILE")
    return allow is not None and p.boolean("CONNECTOR_ALLOW_READABLE_KEY_FILE", allow)


def _private_key(name: str, key: Secret) -> Secret:
    """The App's private key (PEM), checked now so a bad key stops start-up, not the first request."""
    # Environment variables often carry a PEM with each line break written as backslash + n.
    pem = key.reveal().replace("\\n", "\n")
    try:
        parsed = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise SettingsError(
            f"{name} is not an unencrypted PEM private key; use the .pem file GitHub "
            f"generated for the App ({name}_FILE=/path/to/app.private-key.pem)"
        ) from None
    if not isinstance(parsed, RSAPrivateKey):
        raise SettingsError(f"{name} is not an RSA key; GitHub Apps sign with RS256")
    return Secret(pem)


_API_URL = "is not a base URL; use https://api.github.com or, for GitHub Enterprise Server, https://HOST/api/v3"
_PUBLIC_URL = ("is not an absolute URL; use the https origin ChatGPT reaches the connector on, "
               "e.g. https://connector.example.com")

# One entry per variable, in the order of the README's configuration table.
VARIABLES: tuple[Variable, ...] = (
    Variable("CONNECTOR_API_KEY", "api_keys", p.keys, secret=True),
    Variable("CONNECTOR_MCP_API_KEY", "mcp_api_key", lambda name, key: key, secret=True),
    Variable("CONNECTOR_KEYS_FILE", "keys_file", p.readable_file(
        "a TOML or YAML keys file (`connector keys new NAME --scopes prs:read` prints an entry for one)")),
    Variable("GITHUB_TOKEN", "github_token", lambda name, token: token, secret=True),
    Variable("GITHUB_APP_ID", "github_app_id", p.positive_id),
    Variable("GITHUB_APP_PRIVATE_KEY", "github_app_private_key", _private_key, secret=True, private_file=True),
    Variable("GITHUB_APP_INSTALLATION_ID", "github_app_installation_id", p.positive_id),
    Variable("GITHUB_WEBHOOK_SECRET", "github_webhook_secret", lambda name, secret: secret, secret=True),
    Variable("CONNECTOR_RATE_LIMIT", "rate_limit", p.rate_limits),
    Variable("CONNECTOR_IP_RATE_LIMIT", "ip_rate_limit", p.rate_limits),
    Variable("CONNECTOR_MCP", "mcp", p.boolean),
    Variable("CONNECTOR_REDIS_URL", "redis_url", p.redis_url, secret=True),
    Variable("CONNECTOR_ALLOW_READABLE_KEY_FILE", None, p.boolean),
    Variable("GITHUB_API_URL", "github_api_url", p.base_url(_API_URL)),
    # Whole seconds: PyGithub accepts only an int timeout.
    Variable("CONNECTOR_GITHUB_TIMEOUT", "github_timeout", p.whole_number(
        1, 40, "is not a whole number of seconds from 1 to 40 (ChatGPT gives up after about 45 s), e.g. 10")),
    Variable("GITHUB_API_VERSION", "github_api_version", p.one_of("2022-11-28", "2026-03-10")),
    Variable("PUBLIC_BASE_URL", "public_base_url", p.base_url(_PUBLIC_URL)),
    Variable("CONNECTOR_DEFAULT_REPO", "default_repo", p.repository),
    Variable("CONNECTOR_ALLOWED_REPOS", "allowed_repos", p.repo_patterns),
    Variable("CONNECTOR_MAX_MENTIONS", "max_mentions", p.whole_number(
        0, 1000, "is not a whole number from 0 to 1000, e.g. 5")),
    Variable("CONNECTOR_COMMENT_FOOTER", "comment_footer", p.boolean),
    Variable("CONNECTOR_LABELS_ALLOW", "labels_allow", p.label_patterns),
    Variable("CONNECTOR_LABELS_CREATE", "labels_create", p.boolean),
    Variable("CONNECTOR_LABELS_MODE", "labels_mode", p.one_of("apply", "suggest")),
    Variable("CONNECTOR_LOCKDOWN", "lockdown", p.one_of("public", "on", "off")),
    Variable("CONNECTOR_READ_ONLY", "read_only", p.boolean),
    Variable("CONNECTOR_MAX_BODY_BYTES", "max_body_bytes", p.whole_number(
        1024, 64 * 1024 * 1024, "is not a number of bytes from 1024 to 67108864, e.g. 65536")),
    Variable("CONNECTOR_EVENTS_FILE", "events_file", p.readable_file(
        "a YAML event catalog, such as examples/events.yaml")),
    Variable("CONNECTOR_IP_ALLOWLIST", "ip_allowlist", p.networks),
    Variable("CONNECTOR_TRUSTED_PROXIES", "trusted_proxies", p.networks),
    Variable("CONNECTOR_CORS_ORIGINS", "cors_origins", p.origins),
    Variable("CONNECTOR_AUDIT_LOG", "audit_log", p.writable_file),
    Variable("CONNECTOR_METRICS_TOKEN", "metrics_token", p.long_secret, secret=True),
    Variable("CONNECTOR_METRICS_PORT", "metrics_port", p.port),
    Variable("CONNECTOR_VALIDATE_RESPONSES", "validate_responses", p.boolean),
    Variable("CONNECTOR_OAUTH", "oauth", p.one_of("off", "embedded")),
    Variable("CONNECTOR_OAUTH_SIGNING_KEY", "oauth_signing_key", lambda name, pem: pem, secret=True, private_file=True),
    Variable("CONNECTOR_OAUTH_CLIENTS_FILE", "oauth_clients_file", p.readable_file(
        "a TOML file of OAuth clients (`connector oauth clients add NAME --redirect-uri URI` prints an entry)")),
    Variable("CONNECTOR_OAUTH_REDIRECT_URIS", "oauth_redirect_uris", p.redirect_patterns),
    Variable("CONNECTOR_OAUTH_TOKEN_SECONDS", "oauth_token_seconds", p.whole_number(
        60, 3600, "is not a number of seconds from 60 to 3600, e.g. 900")),
    Variable("CONNECTOR_OAUTH_ISSUER", "oauth_issuer", p.base_url(
        "is not an issuer URL; use the https URL the authorization server names as its issuer")),
    Variable("CONNECTOR_OAUTH_AUDIENCE", "oauth_audience", lambda name, value: value),
    Variable("CONNECTOR_OAUTH_SCOPE_CLAIM", "oauth_scope_claim", lambda name, value: value),
    Variable("CONNECTOR_MCP_API_KEYS", "mcp_api_keys", p.boolean),
    Variable("GITHUB_OAUTH_CLIENT_ID", "github_oauth_client_id", lambda name, value: value),
    Variable("GITHUB_OAUTH_CLIENT_SECRET", "github_oauth_client_secret", lambda name, secret: secret, secret=True,
             private_file=True),
    Variable("CONNECTOR_OAUTH_ALLOWED_USERS", "oauth_allowed_users", p.github_logins),
    Variable("CONNECTOR_OAUTH_ALLOWED_ORGS", "oauth_allowed_orgs", p.github_logins),
    Variable("CONNECTOR_OAUTH_USER_SCOPES", "oauth_user_scopes", p.scopes),
    Variable("CONNECTOR_OAUTH_USERS_FILE", "oauth_users_file", p.readable_file(
        "a TOML file of GitHub users and organisations with their scopes and repositories")),
    Variable("CONNECTOR_OAUTH_ENCRYPTION_KEY", "oauth_encryption_key", p.encryption_keys, secret=True,
             private_file=True),
)


def _secure_origin(url: str) -> bool:
    """https, or http on a loopback address (OAuth 2.1 allows that, and the sandbox and tests use it)."""
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"))

