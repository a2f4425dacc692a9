"""GitHub App authentication in the double: the App's JWTs, its installations and their tokens.

A connector running as a GitHub App holds no long-lived token. It signs a short-lived JWT with
the App's private key, asks GitHub for an installation access token, and uses that token for
repository calls until it expires (an hour) or the App is uninstalled. The bugs worth catching
live in that exchange: a JWT GitHub would refuse, a token used after it expired or was revoked,
a token used on a repository its installation does not cover. So JWTs are checked the way
GitHub checks them (RS256 against the registered public key, GitHub's messages; PyJWT, a
PyGithub dependency, does the cryptography), and every issued token is kept so it can be
refused later.
"""

from __future__ import annotations

import itertools
import secrets
import string
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeGuard

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .state import HTML, State, node_id
from .views import Views

__all__ = ["DEFAULT_PERMISSIONS", "JWT_OPERATIONS", "App", "Apps", "Installation", "IssuedToken"]

# The operations GitHub serves only to the App itself, authenticated with its JWT.
JWT_OPERATIONS = frozenset({
    "apps/get-authenticated", "apps/get-installation", "apps/get-repo-installation",
    "apps/create-installation-access-token",
})
DEFAULT_PERMISSIONS = {"metadata": "read", "contents": "write", "pull_requests": "write",
                       "issues": "write", "actions": "write"}

# GitHub's docs: exp must be "no more than 10 minutes into the future", counted from GitHub's
# clock rather than from iat (its own recipe, iat = now - 60 and exp = now + 600, spans eleven
# minutes). Clocks drift, so allow a little more, and an iat slightly in the future.
MAX_JWT_LIFETIME = 600
CLOCK_SLACK = 30

NOT_A_JWT = "A JSON web token could not be decoded"
NO_SUCH_APP = "Integration not found"
EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future"
EXP_PAST = ("'Expiration time' claim ('exp') must be a numeric value representing the future "
            "time at which the assertion expires")
IAT_BAD = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"

_CREATED = "2024-01-15T09:00:00Z"  # App and installations predate any seeded repository
_TOKEN_CHARS = string.ascii_letters + string.digits


@dataclass
class App:
    id: int
    public_key: Any  # a cryptography RSA public key
    slug: str
    name: str
    token_lifetime: int


@dataclass
class Installation:
    id: int
    account: str
    repos: frozenset[str] | None  # lower-case names; None = every repository of the account
    permissions: dict[str, str]
    revoked: bool = False

    def covers(self, owner: str, name: str) -> bool:
        return (not self.revoked and owner.lower() == self.account.lower()
                and (self.repos is None or name.lower() in self.repos))


@dataclass
class IssuedToken:
    installation: Installation
    token: str
    expires_at: int
    permissions: dict[str, str]
    repos: frozenset[str] | None  # narrowed by the token request, else the installation's

    def live(self) -> bool:
        return not self.installation.revoked and time.time() < self.expires_at

    def covers(self, owner: str, name: str) -> bool:
        return (self.installation.covers(owner, name)
                and (self.repos is None or name.lower() in self.repos))


class Apps:
    """The one registered App, its installations and every token issued, under one lock."""

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock  # the double's lock, so reset() clears this with the request log
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.app: App | None = None
            self.installations: dict[int, Installation] = {}
            self.tokens: dict[str, IssuedToken] = {}  # in issue order
            self._ids = itertools.count(50_000_001)

    # -- set-up by tests -------------------------------------------------------------------
    def register(self, app_id: int, public_key_pem: str | bytes, *, slug: str, name: str,
                 token_lifetime: int) -> None:
        pem = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
        with self.lock:
            self.app = App(app_id, load_pem_public_key(pem), slug, name, token_lifetime)

    def install(self, account: str, repos: Iterable[str] | None, *,
                permissions: Mapping[str, str] | None, installation_id: int | None) -> int:
        with self.lock:
            if self.app is None:
                raise RuntimeError("register_app() before install_app()")
            if any(i.account.lower() == account.lower() and not i.revoked
                   for i in self.installations.values()):
                raise ValueError(f"the App is already installed on {account}")  # one per account
            if installation_id is None:
                installation_id = next(i for i in self._ids if i not in self.installations)
            elif installation_id in self.installations:
                raise ValueError(f"installation {installation_id} already exists")
            self.installations[installation_id] = Installation(
                installation_id, account,
                None if repos is None else frozenset(r.lower() for r in repos),
                dict(DEFAULT_PERMISSIONS if permissions is None else permissions))
            return installation_id

    def revoke(self, installation_id: int) -> None:
        with self.lock:
            if installation_id not in self.installations:
                raise KeyError(f"no installation {installation_id} in the double")
            self.installations[installation_id].revoked = True

    def expire_tokens(self) -> None:
        with self.lock:
            now = int(time.time())
            for issued in self.tokens.values():
                issued.expires_at = min(issued.expires_at, now - 1)

    @property
    def issued(self) -> list[tuple[int, str, int]]:
        with self.lock:
            return [(t.installation.id, t.token, t.expires_at) for t in self.tokens.values()]

    # -- what requests ask -----------------------------------------------------------------
    def installation(self, installation_id: int) -> Installation | None:
        with self.lock:
            found = self.installations.get(installation_id)
            return None if found is None or found.revoked else found

    def installation_for(self, owner: str, name: str) -> Installation | None:
        with self.lock:
            return next((i for i in self.installations.values() if i.covers(owner, name)), None)

    def token(self, credential: str) -> IssuedToken | None:
        with self.lock:
            return self.tokens.get(credential)

    def issue(self, installation: Installation, permissions: dict[str, str],
              repos: frozenset[str] | None) -> IssuedToken:
        token = "ghs_" + "".join(secrets.choice(_TOKEN_CHARS) for _ in range(36))
        with self.lock:
            assert self.app is not None  # a JWT was verified against it to get here
            issued = IssuedToken(installation, token, int(time.time()) + self.app.token_lifetime,
                                 permissions, repos)
            self.tokens[token] = issued
        return issued

    def verify_jwt(self, credential: str) -> str | None:
        """Why GitHub would refuse ``credential`` as this App's JWT, or ``None`` if it is good.

        Checked in the order GitHub's answers suggest: the token must parse, name a known App
        (``iss``), carry that App's signature, and only then be within its time limits.
        """
        try:
            claimed = jwt.decode(credential, options={"verify_signature": False})
        except jwt.PyJWTError:
            return NOT_A_JWT
        with self.lock:
            app = self.app
        # PyGithub sends iss as a string, octokit as a number; GitHub takes both.
        if app is None or str(claimed.get("iss")) != str(app.id):
            return NO_SUCH_APP
        try:
            claims = jwt.decode(credential, app.public_key, algorithms=["RS256"],
                                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                         "verify_aud": False, "verify_iss": False})
        except jwt.PyJWTError:
            return NOT_A_JWT
        now = time.time()
        exp, iat = claims.get("exp"), claims.get("iat")
        if not _is_number(exp) or exp <= now:
            return EXP_PAST
        if exp > now + MAX_JWT_LIFETIME + CLOCK_SLACK:
            return EXP_TOO_FAR
        if not _is_number(iat) or iat > now + CLOCK_SLACK:
            return IAT_BAD
        return None


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


# -- GitHub's JSON for the App, an installation and a token ---------------------------------
def app_view(app: App, views: Views, installations: int) -> dict[str, Any]:
    html = f"{HTML}/apps/{app.slug}"
    return {
        "id": app.id, "slug": app.slug, "node_id": node_id("Integration", app.id),
        "client_id": f"Iv1.{app.id:016x}", "owner": views.user(views.state.viewer),
        "name": app.name, "description": "", "external_url": html, "html_url": html,
        "created_at": _CREATED, "updated_at": _CREATED, "permissions": dict(DEFAULT_PERMISSIONS),
        "events": [], "installations_count": installations,
    }


def installation_view(app: App, installation: Installation, views: Views) -> dict[str, Any]:
    account = views.user(installation.account)
    return {
        "id": installation.id, "account": account,
        "repository_selection": "all" if installation.repos is None else "selected",
        "access_tokens_url": f"{views.api}/app/installations/{installation.id}/access_tokens",
        "repositories_url": f"{views.api}/installation/repositories",
        "html_url": f"{HTML}/settings/installations/{installation.id}",
        "app_id": app.id, "app_slug": app.slug, "client_id": f"Iv1.{app.id:016x}",
        "target_id": account["id"], "target_type": account["type"],
        "permissions": dict(installation.permissions), "events": [],
        "created_at": _CREATED, "updated_at": _CREATED, "single_file_name": None,
        "has_multiple_single_files": False, "single_file_paths": [],
        "suspended_by": None, "suspended_at": None,
    }


def token_view(issued: IssuedToken, state: State, views: Views) -> dict[str, Any]:
    expires = datetime.fromtimestamp(issued.expires_at, UTC)
    data: dict[str, Any] = {
        "token": issued.token, "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "permissions": dict(issued.permissions),
        "repository_selection": "all" if issued.repos is None else "selected",
    }
    if issued.repos is not None:  # GitHub lists the repositories only for a selection
        with state.lock:
            repos = sorted((r for r in state.repos.values()
                            if issued.covers(r.owner, r.name)), key=lambda r: r.name.lower())
            data["repositories"] = [views.repo(r) for r in repos]
    return data
