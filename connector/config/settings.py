"""Configuration, read once at start-up into one typed object.

Nothing else in the package reads ``os.environ``. Secrets may come from ``NAME`` or from a file named
by ``NAME_FILE`` (Docker and Kubernetes secrets, Vault Agent templates); they are wrapped in
:class:`Secret` so that neither ``repr(settings)`` nor a log line can show them.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from .allowlist import PATTERN as ALLOWED_REPO_PATTERN
from .allowlist import RepoAllowlist

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

__all__ = ["Secret", "Settings", "SettingsError", "DEFAULT_CORS_ORIGINS"]

DEFAULT_CORS_ORIGINS = ("https://chatgpt.com", "https://chat.openai.com")
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,37}[A-Za-z0-9])?$")
_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable and a valid value."""


class Secret:
    """A string that never shows itself in ``repr``/``str``; call :meth:`reveal` to use it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


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
    ip_allowlist: tuple[Network, ...] = ()
    trusted_proxies: tuple[Network, ...] = ()
    # None: JSON lines on stdout. A path: appended to that file.
    audit_log: Path | None = None
    metrics_token: Secret | None = None
    metrics_port: int | None = None
    # Off as in Connexion: a guard against the connector's own bugs that the tests keep on, and a
    # quarter to a third of the connector's own CPU time per request (docs/benchmarks.md).
    validate_responses: bool = False
    sandbox: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, sandbox: bool = False) -> Settings:
        """Build settings from environment variables; raise :class:`SettingsError` on bad input."""
        env = _Env(os.environ if environ is None else environ)
        keys = env.secret("CONNECTOR_API_KEY")
        return cls(
            api_keys=_split_keys(keys) if keys else (),
            mcp_api_key=env.secret("CONNECTOR_MCP_API_KEY"),
            mcp=_parse_bool("CONNECTOR_MCP", env.get("CONNECTOR_MCP"), default=True),
            keys_file=_parse_file_path("CONNECTOR_KEYS_FILE", env.get("CONNECTOR_KEYS_FILE"),
                                       "a TOML or YAML keys file (`connector keys new NAME --scopes prs:read` "
                                       "prints an entry for one)"),
            events_file=_parse_file_path("CONNECTOR_EVENTS_FILE", env.get("CONNECTOR_EVENTS_FILE"),
                                         "a YAML event catalog, such as examples/events.yaml"),
            github_token=env.secret("GITHUB_TOKEN"),
            github_app_id=_parse_id("GITHUB_APP_ID", env.get("GITHUB_APP_ID")),
            github_app_private_key=_parse_private_key(env, allow_readable=_parse_bool(
                "CONNECTOR_ALLOW_READABLE_KEY_FILE", env.get("CONNECTOR_ALLOW_READABLE_KEY_FILE"))),
            github_app_installation_id=_parse_id("GITHUB_APP_INSTALLATION_ID", env.get("GITHUB_APP_INSTALLATION_ID")),
            github_webhook_secret=env.secret("GITHUB_WEBHOOK_SECRET"),
            redis_url=_parse_redis_url(env.secret("CONNECTOR_REDIS_URL")),
            rate_limit=_parse_rate_limit("CONNECTOR_RATE_LIMIT", env.get("CONNECTOR_RATE_LIMIT")),
            ip_rate_limit=_parse_rate_limit("CONNECTOR_IP_RATE_LIMIT", env.get("CONNECTOR_IP_RATE_LIMIT")),
            github_api_url=_parse_api_url(env.get("GITHUB_API_URL")),
            github_timeout=_parse_timeout(env.get("CONNECTOR_GITHUB_TIMEOUT")),
            public_base_url=_parse_base_url(env.get("PUBLIC_BASE_URL")),
            default_repo=_parse_repo(env.get("CONNECTOR_DEFAULT_REPO")),
            cors_origins=_parse_origins(env.get("CONNECTOR_CORS_ORIGINS")),
            allowed_repos=_parse_allowed_repos(env.get("CONNECTOR_ALLOWED_REPOS")),
            max_mentions=_parse_count("CONNECTOR_MAX_MENTIONS", env.get("CONNECTOR_MAX_MENTIONS"), Settings.max_mentions),
            comment_footer=_parse_bool("CONNECTOR_COMMENT_FOOTER", env.get("CONNECTOR_COMMENT_FOOTER")),
            read_only=_parse_bool("CONNECTOR_READ_ONLY", env.get("CONNECTOR_READ_ONLY")),
            max_body_bytes=_parse_body_limit(env.get("CONNECTOR_MAX_BODY_BYTES")),
            labels_allow=_parse_label_patterns(env.get("CONNECTOR_LABELS_ALLOW")),
            labels_create=_parse_bool("CONNECTOR_LABELS_CREATE", env.get("CONNECTOR_LABELS_CREATE")),
            labels_mode=_parse_labels_mode(env.get("CONNECTOR_LABELS_MODE")),
            ip_allowlist=_parse_networks("CONNECTOR_IP_ALLOWLIST", env.get("CONNECTOR_IP_ALLOWLIST")),
            trusted_proxies=_parse_networks("CONNECTOR_TRUSTED_PROXIES", env.get("CONNECTOR_TRUSTED_PROXIES")),
            validate_responses=_parse_bool("CONNECTOR_VALIDATE_RESPONSES", env.get("CONNECTOR_VALIDATE_RESPONSES")),
            audit_log=_parse_audit_log(env.get("CONNECTOR_AUDIT_LOG")),
            metrics_token=_parse_metrics_token(env.secret("CONNECTOR_METRICS_TOKEN")),
            metrics_port=_parse_port("CONNECTOR_METRICS_PORT", env.get("CONNECTOR_METRICS_PORT")),
            sandbox=sandbox,
        ).validated()

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
        return self

    @property
    def has_github_credentials(self) -> bool:
        return self.github_token is not None or self.github_app_id is not None

    @property
    def public_base_url_is_https(self) -> bool:
        return self.public_base_url is not None and self.public_base_url.startswith("https://")


class _Env:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str) -> str | None:
        value = self._environ.get(name, "").strip()
        return value or None

    def secret(self, name: str, *, refuse_world_readable: bool = False) -> Secret | None:
        direct, file_name = self.get(name), self.get(f"{name}_FILE")
        if direct and file_name:
            raise SettingsError(f"set either {name} or {name}_FILE, not both")
        if file_name:
            if refuse_world_readable:
                _refuse_world_readable(f"{name}_FILE", Path(file_name))
            try:
                value = Path(file_name).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SettingsError(
                    f"{name}_FILE={file_name!r} cannot be read ({exc.strerror}); "
                    "it must name a readable file holding the secret"
                ) from None
            if not value:
                raise SettingsError(f"{name}_FILE={file_name!r} is empty; it must hold the secret")
            return Secret(value)
        return Secret(direct) if direct else None


def _refuse_world_readable(name: str, path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # reading it reports the problem
    if mode & stat.S_IROTH:
        raise SettingsError(
            f"{name}={str(path)!r} is readable by every user on this machine; restrict it "
            f"(chmod 600 {path}, or defaultMode: 0400 on a Kubernetes secret volume), or set "
            "CONNECTOR_ALLOW_READABLE_KEY_FILE=true if the file system is yours alone"
        )


def _parse_private_key(env: _Env, *, allow_readable: bool) -> Secret | None:
    """The App's private key (PEM), checked now so a bad key stops start-up, not the first request."""
    key = env.secret("GITHUB_APP_PRIVATE_KEY", refuse_world_readable=not allow_readable)
    if key is None:
        return None
    # Environment variables often carry a PEM with each line break written as backslash + n.
    pem = key.reveal().replace("\\n", "\n")
    try:
        parsed = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise SettingsError(
            "GITHUB_APP_PRIVATE_KEY is not an unencrypted PEM private key; use the .pem file GitHub "
            "generated for the App (GITHUB_APP_PRIVATE_KEY_FILE=/path/to/app.private-key.pem)"
        ) from None
    if not isinstance(parsed, RSAPrivateKey):
        raise SettingsError("GITHUB_APP_PRIVATE_KEY is not an RSA key; GitHub Apps sign with RS256")
    return Secret(pem)


def _parse_rate_limit(name: str, value: str | None) -> tuple[str, ...]:
    from ..http.rate_limits import parse_limits  # imported here: that module imports this one

    return parse_limits(name, value)


def _parse_redis_url(url: Secret | None) -> Secret | None:
    # A secret: the URL may carry Redis's password.
    if url is not None and urlsplit(url.reveal()).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError("CONNECTOR_REDIS_URL is not a redis://, rediss:// or unix:// URL, "
                            "e.g. redis://redis.internal:6379/0")
    return url


def _parse_id(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or int(value) == 0:
        raise SettingsError(f"{name}={value!r} is not a positive whole number (GitHub shows it on the App's page)")
    return int(value)


def _split_keys(keys: Secret) -> tuple[Secret, ...]:
    parts = tuple(Secret(part.strip()) for part in keys.reveal().split(",") if part.strip())
    if any(len(part.reveal()) < 16 for part in parts):
        raise SettingsError(
            "CONNECTOR_API_KEY holds a key shorter than 16 characters; use long random keys, "
            "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    return parts


def _parse_api_url(value: str | None) -> str:
    if value is None:
        return Settings.github_api_url
    return _absolute_url(value, "GITHUB_API_URL", "is not a base URL; use https://api.github.com or, for "
                         "GitHub Enterprise Server, https://HOST/api/v3")


def _parse_timeout(value: str | None) -> int:
    if value is None:
        return Settings.github_timeout
    # Whole seconds: PyGithub accepts only an int timeout.
    if not value.isdigit() or not 1 <= int(value) <= 40:
        raise SettingsError(
            f"CONNECTOR_GITHUB_TIMEOUT={value!r} is not a whole number of seconds from 1 to 40 "
            "(ChatGPT gives up after about 45 s), e.g. 10"
        )
    return int(value)


def _parse_base_url(value: str | None) -> str | None:
    if value is None:
        return None
    return _absolute_url(value, "PUBLIC_BASE_URL", "is not an absolute URL; use the https origin ChatGPT "
                         "reaches the connector on, e.g. https://connector.example.com")


def _absolute_url(value: str, name: str, problem: str) -> str:
    """An http(s) URL with a host and no query or fragment, without its trailing slash."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise SettingsError(f"{name}={value!r} {problem}")
    return value.rstrip("/")


def _parse_repo(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    owner, _, repo = value.partition("/")
    if not _OWNER.match(owner) or not _REPO.match(repo) or repo in (".", ".."):
        raise SettingsError(
            f"CONNECTOR_DEFAULT_REPO={value!r} is not owner/repo; use e.g. octo-org/webapp"
        )
    return owner, repo


def _parse_file_path(name: str, value: str | None, what: str) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        raise SettingsError(f"{name}={value!r} is not a readable file; point it at {what}")
    return path


def _parse_audit_log(value: str | None) -> Path | None:
    if value is None or value.strip() in ("", "-"):
        return None
    path = Path(value)
    if path.is_dir() or not path.parent.is_dir():
        raise SettingsError(
            f"CONNECTOR_AUDIT_LOG={value!r} must name a file in an existing directory (it is created if "
            "missing and appended to), or '-' for stdout"
        )
    return path


def _parse_metrics_token(token: Secret | None) -> Secret | None:
    if token is not None and len(token.reveal()) < 16:
        raise SettingsError("CONNECTOR_METRICS_TOKEN is shorter than 16 characters; use a random one, e.g. the "
                            "output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`")
    return token


def _parse_port(name: str, value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    if not value.strip().isdigit() or not 1 <= int(value) <= 65535:
        raise SettingsError(f"{name}={value!r} is not a port number from 1 to 65535, e.g. 9090")
    return int(value)


def _parse_count(name: str, value: str | None, default: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or int(value) > 1000:
        raise SettingsError(f"{name}={value!r} is not a whole number from 0 to 1000, e.g. {default}")
    return int(value)


def _parse_label_patterns(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    patterns = tuple(part.strip() for part in value.split(",") if part.strip())
    for pattern in patterns:
        if len(pattern) > 50 or any(ord(char) < 32 for char in pattern):
            raise SettingsError(
                f"CONNECTOR_LABELS_ALLOW contains {pattern!r}; list label names or shell-style patterns "
                "of at most 50 characters separated by commas, e.g. bug,needs-*,area/*"
            )
    return patterns


def _parse_labels_mode(value: str | None) -> str:
    if value is None:
        return Settings.labels_mode
    if value.lower() not in ("apply", "suggest"):
        raise SettingsError(f"CONNECTOR_LABELS_MODE={value!r} is not apply or suggest")
    return value.lower()


def _parse_networks(name: str, value: str | None) -> tuple[Network, ...]:
    if value is None:
        return ()
    networks = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise SettingsError(
                f"{name} contains {part!r}; list IP addresses or CIDR ranges separated by commas, "
                "e.g. 10.0.0.0/8,2001:db8::/32"
            ) from None
    return tuple(networks)


def _parse_body_limit(value: str | None) -> int:
    if value is None:
        return Settings.max_body_bytes
    if not value.isdigit() or not 1024 <= int(value) <= 64 * 1024 * 1024:
        raise SettingsError(
            f"CONNECTOR_MAX_BODY_BYTES={value!r} is not a number of bytes from 1024 to 67108864, e.g. 65536"
        )
    return int(value)


def _parse_bool(name: str, value: str | None, *, default: bool = False) -> bool:
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={value!r} is not a boolean; use true or false")


def _parse_allowed_repos(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    patterns = tuple(part.strip() for part in value.split(",") if part.strip())
    for pattern in patterns:
        if not ALLOWED_REPO_PATTERN.match(pattern) or pattern.endswith(("/.", "/..")):
            raise SettingsError(
                f"CONNECTOR_ALLOWED_REPOS contains {pattern!r}; list owner/repo or owner/* patterns "
                "separated by commas, e.g. octo-org/webapp,octo-org/*"
            )
    return patterns


def _parse_origins(value: str | None) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_CORS_ORIGINS
    origins = tuple(origin.strip().rstrip("/") for origin in value.split(",") if origin.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if origin != "*" and (parts.scheme not in ("http", "https") or not parts.netloc or parts.path):
            raise SettingsError(
                f"CONNECTOR_CORS_ORIGINS contains {origin!r}; list origins such as "
                "https://chatgpt.com separated by commas (or * for any origin)"
            )
    return origins
