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
    team = "octo-org/release-managers"
    scopes = ["prs:read", "prs:write", "dispatch", "runs:read"]

    [[users]]
    org = "octo-org"
    scopes = ["prs:read", "runs:read"]

The most specific entry wins: a person's own, then the first team in the file they are an active
member of, then the first organisation. What is decided here is then narrowed by the consent page, the repository
allowlist, the event catalog, the label rules and read-only mode, as for API keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .allowlist import PATTERN as REPO_PATTERN
from .parsers import github_logins
from .settings import Settings, SettingsError

__all__ = ["Allowance", "UserEntry", "UserPolicy", "parse_users_file"]

# A team as the users file names it: "org/team-slug" (GitHub's slugs: letters, digits, - and _).
TEAM = re.compile(r"^(?P<org>[^/]+)/(?P<slug>[A-Za-z0-9_-]{1,100})$")
KINDS = ("login", "team", "org")


@dataclass(frozen=True)
class Allowance:
    scopes: frozenset[str]
    repos: tuple[str, ...]  # owner/repo patterns; empty: every repository the operator allows


@dataclass(frozen=True)
class UserEntry:
    kind: str  # login, team or org
    name: str  # lower case, as GitHub compares them; a team is "org/team-slug"
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
        named = [kind for kind in KINDS if isinstance(entry, dict) and kind in entry]
        if len(named) != 1:
            raise SettingsError(f"{where}: give one of login (a GitHub user), team (org/team-slug) or org "
                                "(an organisation), with scopes")
        (kind,) = named
        name = entry[kind]
        if not isinstance(name, str):
            raise SettingsError(f"{where}: {kind} must be a string")
        lowered = _team(where, name) if kind == "team" else github_logins(f"{where} ({kind})", name)[0]
        scopes, repos = entry.get("scopes"), entry.get("repos", [])
        if not isinstance(scopes, list) or not scopes or any(scope not in SCOPES for scope in scopes):
            raise SettingsError(f"{where} ({name}): scopes must list some of {', '.join(SCOPES)}")
        if not isinstance(repos, list) or any(not isinstance(r, str) or not REPO_PATTERN.match(r) for r in repos):
            raise SettingsError(f"{where} ({name}): repos must list owner/repo or owner/* patterns")
        allowance = Allowance(frozenset(scopes), tuple(repos))
        parsed.append(UserEntry(kind, lowered, allowance))
    return tuple(parsed)


def _team(where: str, name: str) -> str:
    match = TEAM.match(name)
    if match is None:
        raise SettingsError(f"{where} (team): {name!r} is not org/team-slug, the team's slug as in its URL")
    (org,) = github_logins(f"{where} (team's organisation)", match["org"])
    return f"{org}/{match['slug'].lower()}"


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

    def admit(self, login: str, member_of: Callable[[str], bool], in_team: Callable[[str], bool]
              ) -> Allowance | None:
        """What ``login`` may do, or None when they may not sign in. ``member_of(org)`` and
        ``in_team("org/team-slug")`` ask GitHub (with the person's token), and only about the
        organisations and teams this policy names, most specific first."""
        asks = {"login": lambda name: name == login.lower(), "team": in_team, "org": member_of}
        for kind in KINDS:
            for entry in self.entries:
                if entry.kind == kind and asks[kind](entry.name):
                    return entry.allowance
        lowered = login.lower()
        if lowered in self.allowed_users or self.open_to_all:
            return self.default
        if any(member_of(org) for org in self.allowed_orgs):
            return self.default
        return None
