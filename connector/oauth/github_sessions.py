"""Each signed-in person's GitHub session: who they are, what they may do, and their GitHub tokens.

A session is opened when someone signs in with GitHub and is bound to the grant their sign-in
made (``Grant.github_session``); the tokens the connector issues to the client are its own, and
the GitHub tokens never leave: they are kept sealed (:mod:`connector.oauth.sealing`) in the OAuth
store, so in Redis when one is configured.

GitHub App user tokens expire after 8 hours. A token within five minutes of expiry (or past half
its life, if GitHub gave a shorter one) is renewed before use, and only once across every worker and instance: the renewer takes a short lock in the
store, and the others wait for the new token to appear instead of refreshing too (GitHub rotates
refresh tokens, so a second refresh with the same one would fail and end the session). When GitHub
refuses the refresh token (revoked, expired, or the person withdrew the app), the session ends.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..config.github_users import Allowance
from ..errors import GitHubUnavailable, Unauthorized
from ..state.protocols import OAuthStore
from .github_web import GitHubSignInRefused, GitHubWeb, UserTokens
from .sealing import Sealer, Unsealable

__all__ = ["GitHubSession", "GitHubSessions"]

log = logging.getLogger(__name__)

LOCK_SECONDS = 20  # longer than a refresh can take (the GitHub timeout is at most 40 s, but a lock
                   # left by a dead worker must not stall the session for long)
WAIT_SECONDS = 10.0  # how long a request waits for another worker's refresh
SESSION_SECONDS = 30 * 24 * 3600  # as long as the grant it belongs to


@dataclass(frozen=True)
class GitHubSession:
    session_id: str
    user_id: int
    login: str
    allowance: Allowance
    tokens: UserTokens

    def needs_renewal(self, now: float) -> bool:
        return self.tokens.renew_at is not None and now >= self.tokens.renew_at


class GitHubSessions:
    def __init__(self, store: OAuthStore, sealer: Sealer, web: GitHubWeb, *, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.store, self.sealer, self.web = store, sealer, web
        self._clock, self._sleep = clock, sleep

    def open(self, user_id: int, login: str, allowance: Allowance, tokens: UserTokens) -> str:
        session_id = secrets.token_urlsafe(16)
        self._save(GitHubSession(session_id, user_id, login, allowance, tokens))
        return session_id

    def get(self, session_id: str) -> GitHubSession | None:
        record = self.store.get("github_session", session_id)
        if record is None:
            return None
        try:
            sealed = self.sealer.open(record["sealed"])
        except Unsealable:
            log.warning("GitHub session %s was sealed with a key no longer configured; it has ended", session_id)
            return None
        tokens = UserTokens(sealed["access_token"], sealed["expires_at"], sealed["refresh_token"],
                            sealed["refresh_expires_at"], sealed.get("renew_at"))
        allowance = Allowance(frozenset(record["scopes"]), tuple(record["repos"]))
        return GitHubSession(session_id, record["user_id"], record["login"], allowance, tokens)

    def with_allowance(self, session: GitHubSession, allowance: Allowance) -> GitHubSession:
        updated = GitHubSession(session.session_id, session.user_id, session.login, allowance, session.tokens)
        self._save(updated)
        return updated

    def end(self, session_id: str) -> None:
        self.store.delete("github_session", session_id)

    # -- the token to call GitHub with ------------------------------------------------------------
    def current(self, session_id: str) -> GitHubSession:
        """The session with a token good for the next few minutes, renewed first if need be."""
        return self.fresh(self._live(session_id))

    def fresh(self, session: GitHubSession) -> GitHubSession:
        """``session`` as read, unless its token is due for renewal (then renewed, or as another
        worker renewed it): what a request calls GitHub with, without reading the store again."""
        if not session.needs_renewal(self._clock()):
            return session
        return self._renew(session, stale=session.tokens.access_token)

    def renewed(self, session_id: str, refused: str) -> GitHubSession:
        """GitHub refused the token ``refused`` (401): the session with a newer one. Raises
        ``Unauthorized`` when there is none to be had, having ended the session."""
        session = self._live(session_id)
        if session.tokens.access_token != refused:
            return session  # another request renewed it meanwhile
        return self._renew(session, stale=refused)

    def _renew(self, session: GitHubSession, *, stale: str) -> GitHubSession:
        if session.tokens.refresh_token is None:
            return self._ended(session, "its GitHub token expired and cannot be renewed")
        if not self.store.add("github_refresh_lock", session.session_id, {"at": self._clock()}, LOCK_SECONDS):
            return self._wait_for_renewal(session.session_id, stale)
        try:
            fresh = self._live(session.session_id)  # renewed by someone whose lock just ended?
            if fresh.tokens.access_token != stale:
                return fresh
            try:
                tokens = self.web.refresh(session.tokens.refresh_token)
            except GitHubSignInRefused as refusal:
                return self._ended(session, f"GitHub refused to renew it ({refusal.error})")
            renewed = GitHubSession(session.session_id, session.user_id, session.login, session.allowance, tokens)
            self._save(renewed)
            log.info("GitHub token of @%s renewed (session %s)", session.login, session.session_id)
            return renewed
        finally:
            self.store.delete("github_refresh_lock", session.session_id)

    def _wait_for_renewal(self, session_id: str, stale: str) -> GitHubSession:
        deadline = self._clock() + WAIT_SECONDS
        while self._clock() < deadline:
            self._sleep(0.05)
            session = self._live(session_id)
            if session.tokens.access_token != stale:
                return session
            if self.store.get("github_refresh_lock", session_id) is None:
                break  # the renewer gave up without a new token: try it here
        session = self._live(session_id)
        if session.tokens.access_token != stale:
            return session
        if self.store.add("github_refresh_lock", session_id, {"at": self._clock()}, LOCK_SECONDS):
            self.store.delete("github_refresh_lock", session_id)
            return self._renew(session, stale=stale)
        raise GitHubUnavailable("Your GitHub token is being renewed and it is taking long; try again in a moment.")

    def _live(self, session_id: str) -> GitHubSession:
        session = self.get(session_id)
        if session is None:
            raise Unauthorized("Your GitHub sign-in has ended; sign in again.", token_error="invalid_token")
        return session

    def _ended(self, session: GitHubSession, why: str) -> GitHubSession:
        self.end(session.session_id)
        log.info("GitHub session of @%s ended: %s", session.login, why)
        raise Unauthorized(f"Your GitHub sign-in as @{session.login} has ended: {why}; sign in again.",
                           token_error="invalid_token")

    def _save(self, session: GitHubSession) -> None:
        tokens = session.tokens
        sealed = self.sealer.seal({"access_token": tokens.access_token, "expires_at": tokens.expires_at,
                                   "refresh_token": tokens.refresh_token, "refresh_expires_at": tokens.refresh_expires_at,
                                   "renew_at": tokens.renew_at})
        ttl = SESSION_SECONDS
        if tokens.refresh_expires_at is not None:
            ttl = min(ttl, int(tokens.refresh_expires_at - self._clock()))
        elif tokens.expires_at is not None:
            ttl = min(ttl, int(tokens.expires_at - self._clock()))
        self.store.put("github_session", session.session_id, {
            "user_id": session.user_id, "login": session.login, "scopes": sorted(session.allowance.scopes),
            "repos": list(session.allowance.repos), "sealed": sealed}, max(1, ttl))
