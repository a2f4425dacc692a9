"""People on the double's GitHub: who they are, what they may do, and the user tokens they hold.

GitHub's user side as its documentation describes it ("Generating a user access token for a GitHub
App", "Refreshing user access tokens", "Authorizing OAuth apps"): an app (a GitHub
App's client credentials, or an OAuth App's) with registered callback URLs; authorization codes
that live 10 minutes, work once and are bound to the client, the redirect URI, the PKCE challenge
and the person; user access tokens (``ghu_``, 8 hours) with refresh tokens (``ghr_``, 6 months)
that rotate on every use, the old pair dying with it; and revocation, after which GitHub answers
``401 Bad credentials``. A person's permission on a repository is one of GitHub's roles (read,
triage, write, maintain, admin); a GitHub App's user tokens reach only the repositories the App is
installed on. The web flow itself is ``web_flow``; what a token may do per request, ``pipeline``.
"""

from __future__ import annotations

import fnmatch
import secrets
import string
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["CODE_SECONDS", "LEVELS", "NEVER", "Code", "OAuthApp", "People", "User", "UserToken"]

# GitHub's repository roles, weakest first; a role includes every weaker one.
LEVELS = {"read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}
CODE_SECONDS = 600  # an authorization code lives 10 minutes
USER_TOKEN_SECONDS = 28800  # 8 hours
REFRESH_TOKEN_SECONDS = 15897600  # 6 months
NEVER = 253402300799  # 9999-12-31T23:59:59Z: when a token that does not expire "expires"
# GitHub lets a loopback callback's port differ from the registered one (apps bind ports late).
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_CHARS = string.ascii_letters + string.digits


def _secret(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(_CHARS) for _ in range(length))


def _level(level: str) -> str:
    if level not in LEVELS:
        raise ValueError(f"permission level must be one of {', '.join(LEVELS)}, not {level!r}")
    return level


@dataclass
class User:
    login: str
    id: int
    name: str | None
    orgs: dict[str, str] = field(default_factory=dict)  # lower case -> as given
    permissions: dict[str, str] = field(default_factory=dict)  # "owner/repo" (lower case) -> level
    teams: dict[str, str] = field(default_factory=dict)  # "org/team-slug" (lower case) -> member or maintainer

    def level_on(self, full_name: str, private: bool) -> int:
        """The person's role on a repository as a number (0: none); anyone may read a public one."""
        held = LEVELS.get(self.permissions.get(full_name.lower(), ""), 0)
        return held if private else max(held, LEVELS["read"])

    def in_org(self, org: str) -> bool:
        return org.lower() in self.orgs

    def team_role(self, org: str, slug: str) -> str | None:
        return self.teams.get(f"{org}/{slug}".lower())


@dataclass(frozen=True)
class OAuthApp:
    client_id: str
    client_secret: str
    callback_urls: tuple[str, ...]
    name: str
    kind: Literal["github_app", "oauth_app"]
    expiring: bool
    installed_on: tuple[str, ...] | None  # "owner/repo" or "owner/*" patterns; None: no limit

    @property
    def refreshes(self) -> bool:
        """Whether its user tokens expire and come with refresh tokens: a GitHub App's do unless it
        opted out; an OAuth App's never do (GitHub has no expiring tokens for OAuth Apps)."""
        return self.kind == "github_app" and self.expiring

    def accepts_callback(self, uri: str) -> bool:
        """Exact, except that a loopback callback's port may differ (GitHub allows that)."""
        got = urlsplit(uri)
        for registered in self.callback_urls:
            want = urlsplit(registered)
            if uri == registered or (want.hostname in _LOOPBACK and got.hostname == want.hostname
                                     and (got.scheme, got.path, got.query, got.fragment)
                                     == (want.scheme, want.path, want.query, want.fragment)):
                return True
        return False

    def reaches(self, full_name: str) -> bool:
        """Whether its user tokens reach a repository: a GitHub App's only where it is installed."""
        return (self.kind != "github_app" or self.installed_on is None
                or any(fnmatch.fnmatchcase(full_name.lower(), pattern.lower()) for pattern in self.installed_on))


@dataclass
class Code:
    client_id: str
    redirect_uri: str | None  # as the authorization request gave it (None: not given)
    challenge: str | None  # the S256 PKCE challenge, if one was sent
    login: str
    scope: str  # an OAuth App's granted scopes, comma-separated as GitHub answers them
    expires: float
    used: bool = False


@dataclass
class UserToken:
    """One pair GitHub issued: the access token and (for expiring tokens) its refresh token."""

    access_token: str
    refresh_token: str | None  # None when the app's tokens do not expire
    expires_at: int  # epoch seconds (NEVER for a token that does not expire)
    refresh_expires_at: int | None
    client_id: str
    login: str
    scope: str = ""
    revoked: bool = False  # the person revoked the app, or the pair was refreshed away

    def live(self) -> bool:
        return not self.revoked and self.expires_at > time.time()

    def refreshable(self) -> bool:
        return (not self.revoked and self.refresh_token is not None
                and (self.refresh_expires_at or 0) > time.time())

    def __repr__(self) -> str:  # never the tokens, wherever a test prints one
        return f"UserToken(login={self.login!r}, client_id={self.client_id!r}, live={self.live()})"


class People:
    """People, the apps they sign in to, codes and user tokens, under the double's lock."""

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.users: dict[str, User] = {}  # by lower-case login
            self.apps: dict[str, OAuthApp] = {}  # by client id
            self.codes: dict[str, Code] = {}
            self.tokens: list[UserToken] = []  # in issue order
            self.user_token_seconds = USER_TOKEN_SECONDS
            self.refresh_token_seconds = REFRESH_TOKEN_SECONDS

    # -- set-up by tests -------------------------------------------------------------------------
    def register_app(self, app: OAuthApp) -> None:
        if not app.callback_urls:
            raise ValueError("an app needs at least one callback URL")
        with self.lock:
            self.apps[app.client_id] = app

    def add_user(self, login: str, user_id: int, name: str | None, orgs: Iterable[str],
                 permissions: Mapping[str, str]) -> User:
        user = User(login, user_id, name, {org.lower(): org for org in orgs},
                    {repo.lower(): _level(level) for repo, level in permissions.items()})
        with self.lock:
            self.users[login.lower()] = user
        return user

    def user(self, login: str) -> User | None:
        with self.lock:
            return self.users.get(login.lower())

    def person(self, login: str) -> User:
        found = self.user(login)
        if found is None:
            raise KeyError(f"no user {login!r} on the double; add_user() first")
        return found

    def set_permission(self, login: str, full_name: str, level: str | None) -> None:
        with self.lock:
            permissions = self.person(login).permissions
            if level is None:
                permissions.pop(full_name.lower(), None)
            else:
                permissions[full_name.lower()] = _level(level)

    def join(self, login: str, org: str) -> None:
        with self.lock:
            self.person(login).orgs[org.lower()] = org

    def leave(self, login: str, org: str) -> None:
        """Leaving an organisation is leaving its teams too, as on GitHub."""
        with self.lock:
            person = self.person(login)
            person.orgs.pop(org.lower(), None)
            for team in [team for team in person.teams if team.split("/")[0] == org.lower()]:
                del person.teams[team]

    def join_team(self, login: str, org: str, slug: str, role: str) -> None:
        if role not in ("member", "maintainer"):
            raise ValueError(f"a team role is member or maintainer, not {role!r}")
        with self.lock:
            person = self.person(login)
            person.orgs.setdefault(org.lower(), org)  # a team's members belong to its organisation
            person.teams[f"{org}/{slug}".lower()] = role

    def leave_team(self, login: str, org: str, slug: str) -> None:
        with self.lock:
            self.person(login).teams.pop(f"{org}/{slug}".lower(), None)

    def revoke(self, login: str) -> None:
        """The person revoked the app: every token and unused code of theirs stops working."""
        with self.lock:
            for token in self.tokens_of(login):
                token.revoked = True
            for code in self.codes.values():
                if code.login.lower() == login.lower():
                    code.used = True

    def expire(self, login: str | None) -> None:
        """Access tokens (of ``login``, or everyone's) expire now; refresh tokens still work."""
        with self.lock:
            now = int(time.time())
            for token in self.tokens:
                if login is None or token.login.lower() == login.lower():
                    token.expires_at = min(token.expires_at, now - 1)

    # -- what the web flow and requests ask ------------------------------------------------------
    def new_code(self, app: OAuthApp, redirect_uri: str | None, challenge: str | None, login: str,
                 scope: str) -> str:
        code = secrets.token_hex(10)  # GitHub's codes are 20 hex digits
        with self.lock:
            self.codes[code] = Code(app.client_id, redirect_uri, challenge, login, scope,
                                    time.time() + CODE_SECONDS)
        return code

    def redeem(self, app: OAuthApp, value: str) -> Code | None:
        """The code, used up now, if ``app`` may still redeem it; a code works once, whoever tries."""
        with self.lock:
            code = self.codes.get(value)
            if code is None or code.used:
                return None
            code.used = True
            return code if code.client_id == app.client_id and code.expires > time.time() else None

    def issue(self, app: OAuthApp, login: str, scope: str) -> UserToken:
        with self.lock:
            now = int(time.time())
            token = UserToken(
                access_token=_secret("ghu_" if app.kind == "github_app" else "gho_", 36),
                refresh_token=_secret("ghr_", 76) if app.refreshes else None,
                expires_at=now + self.user_token_seconds if app.refreshes else NEVER,
                refresh_expires_at=now + self.refresh_token_seconds if app.refreshes else None,
                client_id=app.client_id, login=login, scope=scope)
            self.tokens.append(token)
            return token

    def rotate(self, app: OAuthApp, refresh_token: str) -> UserToken | None:
        """A new pair for a usable refresh token of ``app``'s; the old pair dies with it."""
        with self.lock:
            old = next((t for t in self.tokens if refresh_token and t.refresh_token == refresh_token), None)
            if old is None or old.client_id != app.client_id or not old.refreshable():
                return None
            old.revoked = True
            return self.issue(app, old.login, old.scope)

    def by_access_token(self, value: str) -> UserToken | None:
        with self.lock:
            return next((token for token in self.tokens if token.access_token == value), None)

    def tokens_of(self, login: str) -> list[UserToken]:
        with self.lock:
            return [token for token in self.tokens if token.login.lower() == login.lower()]
