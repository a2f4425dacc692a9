"""The value formats environment variables share, each a function ``(name, value) -> parsed``.

A parser is called only for a variable that is set (a blank value counts as unset), so it never
deals with defaults: those are the :class:`~connector.config.settings.Settings` fields' own. Every
refusal is a :class:`SettingsError` whose message names the variable and shows a valid value.
"""

from __future__ import annotations

import ipaddress
import re
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from ..types import Network, Secret
from .allowlist import PATTERN as ALLOWED_REPO_PATTERN

__all__ = [
    "SettingsError", "Environment", "boolean", "whole_number", "positive_id", "port", "base_url", "repository",
    "readable_file", "writable_file", "networks", "comma_list", "origins", "repo_patterns", "label_patterns",
    "one_of", "rate_limits", "redirect_patterns", "long_secret", "keys", "redis_url", "refuse_world_readable",
]

_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,37}[A-Za-z0-9])?$")
_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_RANDOM_KEY = "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable and a valid value."""


class Environment:
    """The process environment (or a test's mapping), read one variable at a time."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str) -> str | None:
        value = self._environ.get(name, "").strip()
        return value or None

    def secret(self, name: str, *, world_readable_ok: bool = True) -> Secret | None:
        """``name``, or the contents of the file ``name_FILE`` names; never both."""
        direct, file_name = self.get(name), self.get(f"{name}_FILE")
        if direct and file_name:
            raise SettingsError(f"set either {name} or {name}_FILE, not both")
        if file_name:
            if not world_readable_ok:
                refuse_world_readable(f"{name}_FILE", Path(file_name))
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


def refuse_world_readable(name: str, path: Path) -> None:
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


def boolean(name: str, value: str) -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={value!r} is not a boolean; use true or false")


def whole_number(low: int, high: int, problem: str) -> Callable[[str, str], int]:
    """A whole number from ``low`` to ``high``; ``problem`` completes "NAME='x' ..." when it is not."""
    def parse(name: str, value: str) -> int:
        if not value.isdigit() or not low <= int(value) <= high:
            raise SettingsError(f"{name}={value!r} {problem}")
        return int(value)
    return parse


def positive_id(name: str, value: str) -> int:
    if not value.isdigit() or int(value) == 0:
        raise SettingsError(f"{name}={value!r} is not a positive whole number (GitHub shows it on the App's page)")
    return int(value)


port = whole_number(1, 65535, "is not a port number from 1 to 65535, e.g. 9090")


def base_url(problem: str) -> Callable[[str, str], str]:
    """An http(s) URL with a host and no query or fragment, without its trailing slash."""
    def parse(name: str, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise SettingsError(f"{name}={value!r} {problem}")
        return value.rstrip("/")
    return parse


def repository(name: str, value: str) -> tuple[str, str]:
    owner, _, repo = value.partition("/")
    if not _OWNER.match(owner) or not _REPO.match(repo) or repo in (".", ".."):
        raise SettingsError(f"{name}={value!r} is not owner/repo; use e.g. octo-org/webapp")
    return owner, repo


def readable_file(what: str) -> Callable[[str, str], Path]:
    def parse(name: str, value: str) -> Path:
        path = Path(value)
        if not path.is_file():
            raise SettingsError(f"{name}={value!r} is not a readable file; point it at {what}")
        return path
    return parse


def writable_file(name: str, value: str) -> Path | None:
    """A file to append to, created if missing; ``-`` for stdout (``None``)."""
    if value == "-":
        return None
    path = Path(value)
    if path.is_dir() or not path.parent.is_dir():
        raise SettingsError(
            f"{name}={value!r} must name a file in an existing directory (it is created if "
            "missing and appended to), or '-' for stdout"
        )
    return path


def comma_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def networks(name: str, value: str) -> tuple[Network, ...]:
    parsed = []
    for part in comma_list(value):
        try:
            parsed.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise SettingsError(
                f"{name} contains {part!r}; list IP addresses or CIDR ranges separated by commas, "
                "e.g. 10.0.0.0/8,2001:db8::/32"
            ) from None
    return tuple(parsed)


def origins(name: str, value: str) -> tuple[str, ...]:
    parsed = tuple(origin.rstrip("/") for origin in comma_list(value))
    for origin in parsed:
        parts = urlsplit(origin)
        if origin != "*" and (parts.scheme not in ("http", "https") or not parts.netloc or parts.path):
            raise SettingsError(
                f"{name} contains {origin!r}; list origins such as "
                "https://chatgpt.com separated by commas (or * for any origin)"
            )
    return parsed


def repo_patterns(name: str, value: str) -> tuple[str, ...]:
    patterns = comma_list(value)
    for pattern in patterns:
        if not ALLOWED_REPO_PATTERN.match(pattern) or pattern.endswith(("/.", "/..")):
            raise SettingsError(
                f"{name} contains {pattern!r}; list owner/repo or owner/* patterns "
                "separated by commas, e.g. octo-org/webapp,octo-org/*"
            )
    return patterns


def label_patterns(name: str, value: str) -> tuple[str, ...]:
    patterns = comma_list(value)
    for pattern in patterns:
        if len(pattern) > 50 or any(ord(char) < 32 for char in pattern):
            raise SettingsError(
                f"{name} contains {pattern!r}; list label names or shell-style patterns "
                "of at most 50 characters separated by commas, e.g. bug,needs-*,area/*"
            )
    return patterns


def one_of(*choices: str) -> Callable[[str, str], str]:
    def parse(name: str, value: str) -> str:
        if value.lower() not in choices:
            raise SettingsError(f"{name}={value!r} is not {' or '.join(choices)}")
        return value.lower()
    return parse


def redirect_patterns(name: str, value: str) -> tuple[str, ...]:
    """Redirect URI patterns: ``*`` stands for part of one path segment or a port, ``**`` for the rest."""
    patterns = comma_list(value)
    for pattern in patterns:
        parts = urlsplit(pattern.replace("*", "x"))
        loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
        if not (parts.scheme == "https" or loopback) or not parts.netloc or "@" in parts.netloc or parts.fragment:
            raise SettingsError(
                f"{name} contains {pattern!r}; list https redirect URIs (or http on 127.0.0.1, [::1] or localhost), "
                "where * stands for part of a path segment and ** for the rest, e.g. "
                "https://chatgpt.com/connector/oauth/*"
            )
    return patterns


def rate_limits(name: str, value: str) -> tuple[str, ...]:
    """The limits in ``value`` (the ``limits`` library's notation) as normalised strings."""
    from limits import parse_many  # the library (~60 ms to import) only where a limit is set

    try:
        return tuple(str(item) for item in parse_many(value))
    except ValueError:
        raise SettingsError(f"{name}={value!r} is not a rate limit such as 60/minute or 60/minute;1000/hour") from None


def long_secret(name: str, value: Secret) -> Secret:
    if len(value.reveal()) < 16:
        raise SettingsError(f"{name} is shorter than 16 characters; use a random one, e.g. the "
                            f"output of {_RANDOM_KEY}")
    return value


def keys(name: str, value: Secret) -> tuple[Secret, ...]:
    """Comma-separated API keys, each long enough to be random."""
    parts = tuple(Secret(part) for part in comma_list(value.reveal()))
    if any(len(part.reveal()) < 16 for part in parts):
        raise SettingsError(f"{name} holds a key shorter than 16 characters; use long random keys, e.g. {_RANDOM_KEY}")
    return parts


def redis_url(name: str, value: Secret) -> Secret:
    # Still a secret: the URL may carry Redis's password.
    if urlsplit(value.reveal()).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError(f"{name} is not a redis://, rediss:// or unix:// URL, e.g. redis://redis.internal:6379/0")
    return value


# GitHub's rule for user and organisation names: alphanumerics and single hyphens, at most 39.
_GITHUB_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


def github_logins(name: str, value: str) -> tuple[str, ...]:
    """GitHub logins (or organisation names), compared without regard to case as GitHub does."""
    logins = tuple(login.removeprefix("@") for login in comma_list(value))
    for login in logins:
        if not _GITHUB_LOGIN.match(login):
            raise SettingsError(f"{name} contains {login!r}; list GitHub logins separated by commas, e.g. mona,hubot")
    return tuple(login.lower() for login in logins)


def scopes(name: str, value: str) -> tuple[str, ...]:
    from .keys import SCOPES  # keys.py reads settings, so not at the top

    chosen = tuple(dict.fromkeys(part for part in value.replace(",", " ").split()))
    unknown = [scope for scope in chosen if scope not in SCOPES]
    if unknown or not chosen:
        raise SettingsError(f"{name}={value!r} must list some of {', '.join(SCOPES)}, separated by spaces")
    return chosen


def encryption_keys(name: str, value: Secret) -> Secret:
    """One or more Fernet keys, one per line: the first encrypts, every one decrypts (rotation)."""
    from cryptography.fernet import Fernet

    lines = [line.strip() for line in value.reveal().splitlines() if line.strip() and not line.startswith("#")]
    try:
        for line in lines:
            Fernet(line)
    except ValueError:
        raise SettingsError(f"{name} must hold Fernet keys, one per line (the newest first), each made by "
                            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
                            ) from None
    if not lines:
        raise SettingsError(f"{name} holds no key")
    return Secret("\n".join(lines))
