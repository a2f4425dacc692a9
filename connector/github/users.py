"""Acting on GitHub as the person who signed in, with their user-to-server token.

:class:`UserCredentials` is the :class:`~connector.github.credentials.Credentials` of one signed-in
person: the token comes from their GitHub session (``connector.oauth.github_sessions``), renewed
there before it expires; a token GitHub refuses (401) is renewed once, and when that fails too the
sign-in has ended. GitHub then applies its own permissions, and what is written is attributed to
the person. Their calls count against their own GitHub quota, so the quota bucket is theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import Misconfigured
from ..types import Repository

__all__ = ["NoCredentials", "UserCredentials"]


@dataclass(frozen=True)
class UserCredentials:
    user_id: int
    login: str
    current: Callable[[], str]  # the session's token, renewed first when it is about to expire
    renewed: Callable[[str], bool]  # GitHub refused this token: renew it; False when it cannot be

    def token_for(self, repo: Repository) -> str:
        return self.current()

    def forget(self, repo: Repository, token: str) -> bool:
        return self.renewed(token)

    def describe(self) -> str:
        return f"the GitHub user @{self.login}"

    def quota_bucket(self, repo: Repository) -> str:
        # GitHub counts a user token's calls against the user, whichever token or app made them.
        return f"user-{self.user_id}"

    @property
    def whose(self) -> str:
        """Who a refusal is about, in a sentence ("… lacks the permission …")."""
        return f"Your GitHub account (@{self.login})"


class NoCredentials:
    """What acts for API keys when the operator set no GitHub credentials: people signed in with
    GitHub act as themselves, and anyone else is told why nothing can be done."""

    def token_for(self, repo: Repository) -> str:
        raise Misconfigured("This connector acts on GitHub only as people who signed in with GitHub; it has no "
                            "GitHub credentials of its own for API keys (GITHUB_TOKEN or a GitHub App).")

    def forget(self, repo: Repository, token: str) -> bool:
        return False

    def describe(self) -> str:
        return "no credentials of its own"

    def quota_bucket(self, repo: Repository) -> str:
        return "none"
