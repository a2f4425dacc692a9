"""People on the double's GitHub: who they are, what they may do, and the user tokens they hold.

GitHub's user side, as ``../shared/github-rest/oauth-web-flow.md`` records it: an app (a GitHub
App's client credentials, or an OAuth App's) with registered callback URLs; authorization codes
that live 10 minutes, work once and are bound to the client, the redirect URI, the PKCE challenge
and the person; user access tokens (``ghu_``, 8 hours) with refresh tokens (``ghr_``, 6 months)
that rotate on every use, the old pair dying with it; and revocation, after which GitHub answers
``401 Bad credentials``. A person's permission on a repository is a level (read, triage, write,
admin); a GitHub App's user tokens reach only the repositories the App is installed on.
"""

from __future__ import annotations

import fnmatch
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["Code", "OAuthApp", "People", "User", "UserToken", "LEVELS"]

LEVELS = {"read": 1, "triage": 2, "write": 3, "admin": 4}
CODE_SECONDS = 600
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")


@dataclass
class User:
    login: str
    id: int
    name: str | None
    orgs: set[str] = field(default_factory=set)  # lower case
    permissions: dict[str, str] = field(default_factory=dict)  # "owner/repo" (lower case) -> level


@dataclass(frozen=True)
class OAuthApp:
    client_id: str
    client_secret: str
    callback_urls: tuple[str, ...]
    name: str
    kind: str  # "github_app" or "oauth_app"
    expiring: bool
    installed_on: tuple[str, ...] | None  # owner/repo or owner/* patterns; None: no limit

    def accepts_callback(self, uri: str) -> bool:
        """Exact, except that a loopback callback's port may differ (GitHub allows that)."""
        for registered in self.callback_urls:
            if uri == registered:
                return True
            want, got = urlsplit(registered), urlsplit(uri)
            if (want.hostname in _LOOPBACK and got.hostname == want.hostname and want.scheme == got.scheme
                    and want.path == got.path and not got.query and not got.fragment):
                return True
        return False

    def reaches(self, full_name: str) -> bool:
        return self.installed_on is None or any(fnmatch.fnmatchcase(full_name.lower(), pattern.lower())
                                                for pattern in self.installed_on)


@dataclass
class Code:
    client_id: str
    redirect_uri: str | None
    challenge: str | None
    login: str
    expires: float
    used: bool = False


@dataclass
class UserToken:
    access_token: str
    refresh_token: str | None
    expires_at: float
    refresh_expires_at: float | None
    client_id: str
    login: str
    revoked: bool = False  # the person revoked the app, or the pair was rotated away

    def live(self) -> bool:
        return not self.revoked and self.expires_at > time.time()

    def __repr__(self) -> str:
        return f"UserToken(login={self.login!r}, live={self.live()})"


class People:
    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self.user_token_seconds = 28800
        self.refresh_token_seconds = 15897600
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.users: dict[str, User] = {}  # by lower-case login
            self.apps: dict[str, OAuthApp] = {}
            self.codes: dict[str, Code] = {}
            self.tokens: list[UserToken] = []

    # -- seeding -------------------------------------------------------------------------------
    def register_app(self, app: OAuthApp) -> None:
        with self.lock:
            self.apps[app.client_id] = app

    def add_user(self, login: str, user_id: int, name: str | None, orgs: Iterable[str],
                 permissions: Mapping[str, str]) -> User:
        with self.lock:
            user = User(login, user_id, name, {org.lower() for org in orgs},
                        {repo.lower(): level for repo, level in permissions.items()})
            self.users[login.lower()] = user
            return user

    def user(self, login: str) -> User | None:
        with self.lock:
            return self.users.get(login.lower())

    # -- the flow --------------------------------------------------------------------------------
    def new_code(self, client_id: str, redirect_uri: str | None, challenge: str | None, login: str) -> str:
        code = secrets.token_hex(10)
        with self.lock:
            self.codes[code] = Code(client_id, redirect_uri, challenge, login, time.time() + CODE_SECONDS)
        return code

    def issue(self, app: OAuthApp, login: str) -> UserToken:
        now = time.time()
        prefix = "ghu_" if app.kind == "github_app" else "gho_"
        token = UserToken(
            access_token=prefix + secrets.token_urlsafe(27)[:36],
            refresh_token="ghr_" + secrets.token_urlsafe(57)[:76] if app.expiring else None,
            expires_at=now + (self.user_token_seconds if app.expiring else 10**9),
            refresh_expires_at=now + self.refresh_token_seconds if app.expiring else None,
            client_id=app.client_id, login=login)
        with self.lock:
            self.tokens.append(token)
        return token

    def by_access_token(self, value: str) -> UserToken | None:
        with self.lock:
            return next((token for token in self.tokens if token.access_token == value), None)

    def by_refresh_token(self, value: str) -> UserToken | None:
        with self.lock:
            return next((token for token in self.tokens if token.refresh_token == value), None)

    def tokens_of(self, login: str) -> list[UserToken]:
        with self.lock:
            return [token for token in self.tokens if token.login.lower() == login.lower()]
