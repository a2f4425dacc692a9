"""Who may sign in with GitHub, and what each person may then do through the connector.

``CONNECTOR_OAUTH_ALLOWED_USERS`` (logins) and ``CONNECTOR_OAUTH_ALLOWED_ORGS`` (organisations whose
active members may) say who gets in, with ``CONNECTOR_OAUTH_USER_SCOPES``. The users file
(``CONNECTOR_OAUTH_USERS_FILE``, TOML like the keys file) names people or organisations with other
scopes and repositories; being named there lets a person in too::

    [[users]]
    login = "mona"
    scopes = ["prs:read", "prs:write", "dispatch", "runs:read", "runs:cancel"]
    repos = ["octo-org/*"]

    [[users]]
    org = "octo-org"
    scopes = ["prs:read", "runs:read"]

A person's own entry wins over their organisations'; among organisations, the first in the file
they belong to. What is decided here is then narrowed by the consent page, the repository
allowlist, the event catalog, the label rules and read-only mode, as for API keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .allowlist import PATTERN as REPO_PATTERN
from .parsers import github_logins
from .settings import Settings, SettingsError

__all__ = ["Allowance", "UserEntry", "UserPolicy", "parse_users_file"]


@dataclass(frozen=True)
class Allowance:
    scopes: frozenset[str]
    repos: tuple[str, ...]  # owner/repo patterns; empty: every repository the operator allows


@dataclass(frozen=True)
class UserEntry:
    login: str | None  # lower case, as GitHub compares logins
    org: str | None
    allowance: Allowance


def parse_users_file(path: Path) -> tuple[UserEntry, ...]:
    import tomllib

    from .keys import SCOPES

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SettingsError(f"{path} cannot be read as TOML: {str(exc).splitlines()[0]}") from None
    entries = data.get("users")
    if not isinstance(entries, list):
        raise SettingsError(f"{path} has no [[users]] tables")
    parsed = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path}, entry {number}"
        if not isinstance(entry, dict) or ("login" in entry) == ("org" in entry):
            raise SettingsError(f"{where}: give either login (a GitHub user) or org (an organisation), with scopes")
        name = entry.get("login") or entry.get("org")
        if not isinstance(name, str):
            raise SettingsError(f"{where}: login or org must be a string")
        (lowered,) = github_logins(f"{where} ({'login' if 'login' in entry else 'org'})", name)
        scopes, repos = entry.get("scopes"), entry.get("repos", [])
        if not isinstance(scopes, list) or not scopes or any(scope not in SCOPES for scope in scopes):
            raise SettingsError(f"{where} ({name}): scopes must list some of {', '.join(SCOPES)}")
        if not isinstance(repos, list) or any(not isinstance(r, str) or not REPO_PATTERN.match(r) for r in repos):
            raise SettingsError(f"{where} ({name}): repos must list owner/repo or owner/* patterns")
        allowance = Allowance(frozenset(scopes), tuple(repos))
        parsed.append(UserEntry(lowered if "login" in entry else None, lowered if "org" in entry else None, allowance))
    return tuple(parsed)


class UserPolicy:
    def __init__(self, *, allowed_users: tuple[str, ...] = (), allowed_orgs: tuple[str, ...] = (),
                 default_scopes: frozenset[str], entries: tuple[UserEntry, ...] = (), open_to_all: bool = False) -> None:
        self.allowed_users, self.allowed_orgs = frozenset(allowed_users), allowed_orgs
        self.default = Allowance(default_scopes, ())
        self.entries = entries
        self.open_to_all = open_to_all  # the sandbox without lists: its double has only seeded users

    @classmethod
    def from_settings(cls, settings: Settings) -> UserPolicy:
        entries = parse_users_file(settings.oauth_users_file) if settings.oauth_users_file is not None else ()
        configured = bool(settings.oauth_allowed_users or settings.oauth_allowed_orgs or entries)
        return cls(allowed_users=settings.oauth_allowed_users, allowed_orgs=settings.oauth_allowed_orgs,
                   default_scopes=frozenset(settings.oauth_user_scopes), entries=entries,
                   open_to_all=settings.sandbox and not configured)

    def admit(self, login: str, member_of: Callable[[str], bool]) -> Allowance | None:
        """What ``login`` may do, or None when they may not sign in. ``member_of(org)`` asks GitHub
        (with the person's token), and only for organisations this policy names."""
        lowered = login.lower()
        own = next((entry for entry in self.entries if entry.login == lowered), None)
        if own is not None:
            return own.allowance
        for entry in self.entries:
            if entry.org is not None and member_of(entry.org):
                return entry.allowance
        if lowered in self.allowed_users or self.open_to_all:
            return self.default
        if any(member_of(org) for org in self.allowed_orgs):
            return self.default
        return None
