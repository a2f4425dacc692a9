"""Who the connector is on GitHub: a personal access token, or a GitHub App installation.

:class:`TokenCredentials` hands out the one token. :class:`AppCredentials` acts as a GitHub App:
for each repository it finds the installation that covers it (``GET /repos/{o}/{r}/installation``,
unless ``GITHUB_APP_INSTALLATION_ID`` names it) and an installation token for that installation.
PyGithub signs the App's JWTs and makes both calls (``AppAuth``, ``GithubIntegration``); what
PyGithub's own ``AppInstallationAuth`` lacks for a shared service is added here:

* tokens are renewed five minutes before they expire, not 20 seconds (a request started just
  before expiry must not race it);
* one renewal per installation at a time: concurrent requests wait for the token being fetched
  instead of each asking GitHub for one (no stampede at expiry);
* one installation per repository, found once and remembered until GitHub says it is gone; a
  token GitHub rejects is dropped and the call made once more with a new one.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from github import Auth, GithubException, GithubIntegration

from ..errors import AppNotInstalled, GitHubForbidden, Misconfigured
from ..types import Repository, Secret

__all__ = ["AppCredentials", "Credentials", "Repository", "TokenCredentials"]

REFRESH_MARGIN_SECONDS = 300


class Credentials(Protocol):
    def token_for(self, repo: Repository) -> str:
        """The token to call GitHub with about ``repo``."""

    def forget(self, repo: Repository, token: str) -> bool:
        """GitHub rejected ``token`` (401): drop it; True when ``token_for`` may now give another."""

    def describe(self) -> str:
        """Who the connector acts as, for logs and ``connector check`` (never a secret)."""

    def quota_bucket(self, repo: Repository) -> str:
        """Which of GitHub's rate-limit quotas calls about ``repo`` count against (never a secret)."""


class TokenCredentials:
    def __init__(self, token: Secret) -> None:
        self._token = token
        self._bucket = "token-" + hashlib.sha256(token.reveal().encode()).hexdigest()[:12]

    def token_for(self, repo: Repository) -> str:
        return self._token.reveal()

    def forget(self, repo: Repository, token: str) -> bool:
        return False  # a personal token does not renew itself

    def describe(self) -> str:
        return "a personal access token (GITHUB_TOKEN)"

    def quota_bucket(self, repo: Repository) -> str:
        # Named by a digest of the token, so deployments with different tokens that share a Redis
        # never share a block (a prefix of SHA-256 of a random token tells nothing about it).
        return self._bucket


@dataclass
class _Token:
    value: str
    expires_at: float


class AppCredentials:
    def __init__(self, *, app_id: int, private_key: Secret, base_url: str, installation_id: int | None = None,
                 clock: Callable[[], float] = time.time, **client_options: Any) -> None:
        """``client_options`` go to PyGithub's ``GithubIntegration`` (timeout, retry, user_agent)."""
        self.app_id = app_id
        self._fixed_installation = installation_id
        self._clock = clock
        self._integration = GithubIntegration(
            auth=Auth.AppAuth(app_id, private_key.reveal()),
            base_url=base_url,
            seconds_between_requests=None,
            seconds_between_writes=None,
            **client_options,
        )
        self._lock = threading.Lock()  # guards the two dicts below and the per-installation locks
        self._installations: dict[tuple[str, str], int] = {}
        self._tokens: dict[int, _Token] = {}
        self._renewing: dict[int, threading.Lock] = {}

    def token_for(self, repo: Repository) -> str:
        installation = self.installation_for(repo)
        token = self._fresh(installation)
        if token is not None:
            return token.value
        with self._renewal_lock(installation):
            token = self._fresh(installation)  # someone else may have renewed it meanwhile
            if token is None:
                token = self._create_token(installation, repo)
                with self._lock:
                    self._tokens[installation] = token
            return token.value

    def installation_for(self, repo: Repository) -> int:
        if self._fixed_installation is not None:
            return self._fixed_installation
        key = (repo.owner.lower(), repo.name.lower())
        with self._lock:
            known = self._installations.get(key)
        if known is not None:
            return known
        try:
            installation = self._integration.get_repo_installation(repo.owner, repo.name).id
        except GithubException as exc:
            raise self._app_error(exc, repo)  # noqa: B904 - may be exc itself
        with self._lock:
            self._installations[key] = installation
        return installation

    def forget(self, repo: Repository, token: str) -> bool:
        # Under load many requests see the same token rejected; the first one drops it, the others
        # find a newer token (or its renewal under way) on their retry. The installation stays
        # known: if it was removed, creating its next token answers 404, which forgets it.
        with self._lock:
            for installation in [i for i, t in self._tokens.items() if t.value == token]:
                del self._tokens[installation]
        return True

    def describe(self) -> str:
        which = (f"installation {self._fixed_installation}" if self._fixed_installation is not None
                 else "the installation on each repository")
        return f"GitHub App {self.app_id} ({which})"

    def quota_bucket(self, repo: Repository) -> str:
        return f"installation-{self.installation_for(repo)}"  # each installation has its own quota

    # -- for `connector check` ------------------------------------------------------------

    def app_name(self) -> str:
        """The App's slug, as GitHub knows it (proves the JWT is accepted)."""
        return self._integration.get_app().slug

    def permissions_on(self, repo: Repository) -> tuple[int, dict[str, str]]:
        """The installation covering ``repo`` and the permissions it was granted."""
        try:
            if self._fixed_installation is not None:
                installation = self._integration.get_app_installation(self._fixed_installation)
            else:
                installation = self._integration.get_repo_installation(repo.owner, repo.name)
        except GithubException as exc:
            raise self._app_error(exc, repo)  # noqa: B904 - may be exc itself
        return installation.id, dict(installation.raw_data.get("permissions") or {})

    # -- plumbing ------------------------------------------------------------------------

    def _fresh(self, installation: int) -> _Token | None:
        with self._lock:
            token = self._tokens.get(installation)
        if token is not None and token.expires_at - REFRESH_MARGIN_SECONDS > self._clock():
            return token
        return None

    def _renewal_lock(self, installation: int) -> threading.Lock:
        with self._lock:
            return self._renewing.setdefault(installation, threading.Lock())

    def _create_token(self, installation: int, repo: Repository) -> _Token:
        try:
            authorization = self._integration.get_access_token(installation)
        except GithubException as exc:
            if exc.status == 404:
                with self._lock:  # the installation is gone; look it up again next time
                    self._installations = {k: i for k, i in self._installations.items() if i != installation}
            raise self._app_error(exc, repo)  # noqa: B904 - may be exc itself
        return _Token(authorization.token, authorization.expires_at.timestamp())

    def _app_error(self, exc: GithubException, repo: Repository) -> Exception:
        """What an App call's failure means to the caller; anything not App-specific (rate limits,
        5xx) goes back unchanged, for the GitHub client's usual translation."""
        if exc.status == 404:
            return AppNotInstalled(
                f"The connector's GitHub App is not installed on {repo.full_name} (or its installation was "
                "removed); an owner of the repository has to install it there and grant it access to "
                "the repository (GitHub → Settings → GitHub Apps → Configure)."
            )
        if exc.status == 401:
            return Misconfigured(
                "GitHub rejected the connector's App credentials; the operator has to check GITHUB_APP_ID, "
                "the private key (GitHub → App settings → Private keys) and the server's clock."
            )
        if exc.status == 403 and "rate limit" not in str(exc.data).lower() and "retry-after" not in {
                k.lower() for k in (exc.headers or {})}:
            return GitHubForbidden(
                f"GitHub refused an App token for {repo.full_name}: "
                f"{(exc.data or {}).get('message', 'forbidden') if isinstance(exc.data, dict) else 'forbidden'} "
                "(a suspended installation is re-enabled under GitHub → Settings → GitHub Apps)."
            )
        return exc
