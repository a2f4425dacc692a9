"""People who sign in with GitHub: who they are, whether they may, and the credentials they act with.

At sign-in, the person's new token asks GitHub who they are (``GET /user``) and, for the
organisations the policy names, whether they are active members; :class:`UserPolicy` then says
what they may do, or that they may not sign in. The same check runs again whenever the client
refreshes its tokens, so someone removed from the organisation loses access at the next refresh
(within ``CONNECTOR_OAUTH_TOKEN_SECONDS``). Per request, the grant's session gives the person's
scopes and repositories without calling GitHub, and :class:`UserCredentials` to call it with.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from ..config.github_users import Allowance, UserPolicy
from ..errors import ConnectorError, Unauthorized
from ..github.client import GitHub
from ..github.credentials import TokenCredentials
from ..github.users import UserCredentials
from ..types import Secret
from .github_sessions import GitHubSession, GitHubSessions
from .github_web import UserTokens
from .grants import RecheckFailed

__all__ = ["GitHubPeople", "Person", "SUBJECT_PREFIX"]

log = logging.getLogger(__name__)

SUBJECT_PREFIX = "github:"  # a grant's subject for a person signed in with GitHub: "github:<user id>"


@dataclass(frozen=True)
class Person:
    user_id: int
    login: str
    allowance: Allowance

    @property
    def subject(self) -> str:
        return f"{SUBJECT_PREFIX}{self.user_id}"


class GitHubPeople:
    def __init__(self, *, policy: UserPolicy, sessions: GitHubSessions, github: GitHub) -> None:
        self.policy, self.sessions, self.github = policy, sessions, github

    def admit(self, tokens: UserTokens) -> Person | str:
        """Who the tokens belong to and what they may do, or why they may not sign in."""
        # The token just issued, before it has a session: a plain token, whose quota bucket is its
        # own (named by its digest), so one person's sign-in cannot block another's.
        asking = self.github.as_user(TokenCredentials(Secret(tokens.access_token)))
        user = asking.authenticated_user()
        login, user_id = str(user["login"]), int(user["id"])
        allowance = self.policy.admit(login, asking.is_org_member, _team_question(asking, login))
        if allowance is None:
            log.info("GitHub user @%s refused: not among the allowed users or organisations", login)
            return (f"The GitHub account @{login} may not use this connector. Ask its operator to add you "
                    "(CONNECTOR_OAUTH_ALLOWED_USERS, an allowed organisation, or the users file).")
        return Person(user_id, login, allowance)

    def recheck(self, session_id: str) -> Allowance | None:
        """At a refresh of the client's tokens: what the person may still do, None when they may no
        longer sign in (or GitHub no longer accepts their sign-in), which ends the session."""
        try:
            session = self.sessions.current(session_id)
            asking = self.github.as_user(self.credentials(session))
            allowance = self.policy.admit(session.login, asking.is_org_member, _team_question(asking, session.login))
        except Unauthorized:
            return None  # the session has ended (GitHub refused the refresh, or it expired)
        except ConnectorError as exc:
            # GitHub is unreachable or limiting: the refresh fails, the session stays for a retry.
            raise RecheckFailed(exc.detail) from None
        if allowance is None:
            log.info("GitHub user @%s no longer allowed; their session ends", session.login)
            self.sessions.end(session_id)
            return None
        if allowance != session.allowance:
            self.sessions.with_allowance(session, allowance)
        return allowance

    def session(self, session_id: str) -> GitHubSession | None:
        return self.sessions.get(session_id)

    def credentials(self, session: GitHubSession) -> UserCredentials:
        """Credentials for one request, starting from the session the request's authentication
        read: each GitHub call uses it as held, and only a renewal goes back to the store."""
        held = [session]

        def current() -> str:
            held[0] = self.sessions.fresh(held[0])
            return held[0].tokens.access_token

        def renewed(refused: str) -> bool:
            held[0] = self.sessions.renewed(session.session_id, refused)  # raises when it cannot be
            return True

        return UserCredentials(user_id=session.user_id, login=session.login, current=current, renewed=renewed)


def _team_question(asking: GitHub, login: str) -> Callable[[str], bool]:
    def in_team(team: str) -> bool:
        org, _, slug = team.partition("/")
        return asking.is_team_member(org, slug, login)

    return in_team
