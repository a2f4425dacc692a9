"""GitHub's side of signing in with GitHub: the web authorization flow of a GitHub App (or OAuth App).

The browser is sent to ``/login/oauth/authorize`` on GitHub's web host with ``state`` and a PKCE
challenge (S256); the code that comes back is exchanged, and expiring user tokens are refreshed,
at ``/login/oauth/access_token`` through PyGithub's ``ApplicationOAuth`` (which finds the web host
as this module does: github.com for api.github.com, the same host for GitHub Enterprise Server).
GitHub answers the token endpoint's errors with status 200 and an ``error`` field; PyGithub raises
them, and they leave here as :class:`GitHubSignInRefused` with GitHub's error code.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from github import Github, GithubException

from ..errors import GitHubUnavailable
from ..types import Secret

__all__ = ["GitHubSignInRefused", "GitHubWeb", "RENEW_MARGIN_SECONDS", "UserTokens", "s256"]

RENEW_MARGIN_SECONDS = 300  # a token is renewed this long before it expires (GitHub's last 8 hours)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


class GitHubSignInRefused(Exception):
    """GitHub's token endpoint said no: ``error`` is its code (``bad_refresh_token``, …)."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error, self.description = error, description


@dataclass(frozen=True)
class UserTokens:
    access_token: str
    expires_at: float | None  # None: GitHub issued a token that does not expire
    refresh_token: str | None
    refresh_expires_at: float | None
    renew_at: float | None = None  # when to renew it before use: 5 minutes before expiry, or halfway if sooner

    def __repr__(self) -> str:  # never the tokens, wherever this ends up printed
        return f"UserTokens(expires_at={self.expires_at}, refresh_expires_at={self.refresh_expires_at})"


class GitHubWeb:
    def __init__(self, *, api_url: str, web_origin: str, client_id: str, client_secret: Secret, timeout: int,
                 clock: Any = time.time) -> None:
        self.web_origin, self.client_id, self._clock = web_origin.rstrip("/"), client_id, clock
        github = Github(base_url=api_url, timeout=timeout, retry=None, seconds_between_requests=None,
                        seconds_between_writes=None)
        self._app = github.get_oauth_application(client_id, client_secret.reveal())

    def authorize_url(self, *, redirect_uri: str, state: str, challenge: str) -> str:
        query = {"client_id": self.client_id, "redirect_uri": redirect_uri, "state": state,
                 "code_challenge": challenge, "code_challenge_method": "S256", "allow_signup": "false"}
        return f"{self.web_origin}/login/oauth/authorize?{urlencode(query)}"

    def exchange(self, code: str, verifier: str) -> UserTokens:
        return self._tokens(lambda: self._app.get_access_token(code, code_verifier=verifier))

    def refresh(self, refresh_token: str) -> UserTokens:
        return self._tokens(lambda: self._app.refresh_access_token(refresh_token))

    def _tokens(self, call: Any) -> UserTokens:
        now = self._clock()
        try:
            answer = call()
        except GithubException as exc:
            data = exc.data if isinstance(exc.data, dict) else {}
            if exc.status == 200 and data.get("error"):
                raise GitHubSignInRefused(str(data["error"]), str(data.get("error_description") or "")) from None
            raise GitHubUnavailable(f"GitHub's sign-in answered {exc.status}; try again in a moment.") from None
        except requests.RequestException as exc:
            raise GitHubUnavailable(f"GitHub's sign-in could not be reached ({type(exc).__name__}); "
                                    "try again in a moment.") from None
        data = answer.raw_data
        if not data.get("access_token"):
            raise GitHubSignInRefused("no_token", "GitHub's answer held no access token")
        expires_in, refresh_in = data.get("expires_in"), data.get("refresh_token_expires_in")
        lifetime = int(expires_in) if expires_in else None
        return UserTokens(access_token=data["access_token"],
                          expires_at=now + lifetime if lifetime else None,
                          refresh_token=data.get("refresh_token") or None,
                          refresh_expires_at=now + int(refresh_in) if refresh_in else None,
                          renew_at=now + max(lifetime - RENEW_MARGIN_SECONDS, lifetime / 2) if lifetime else None)
