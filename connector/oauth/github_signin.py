"""The consent page's "Sign in with GitHub": to GitHub's authorization page and back.

From the consent page (its form checked as for an API key), the browser goes to GitHub with a
fresh ``state`` and a PKCE challenge, and a cookie that binds the round trip to this browser
(``SameSite=Lax``, since GitHub's redirect back is a cross-site navigation; the consent page's own
cookie is ``Strict``). GitHub's callback must bring back the same state to the same browser; the
code is exchanged once, GitHub says who signed in, and the policy (:mod:`connector.oauth.github_people`)
says whether and with what. The consent page's pending authorization then completes as if an API
key had been given, with the person as the subject.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass

from starlette.responses import Response

from ..errors import ConnectorError
from ..state.protocols import OAuthStore
from .consent import error_page
from .github_people import GitHubPeople, Person
from .github_web import GitHubSignInRefused, GitHubWeb, UserTokens, s256
from .grants import hashed

__all__ = ["CALLBACK_PATH", "FLOW_COOKIE", "Declined", "GitHubSignIn", "Returned"]

log = logging.getLogger(__name__)

CALLBACK_PATH = "/oauth/github/callback"
FLOW_COOKIE = "connector_github_flow"
FLOW_SECONDS = 600  # GitHub's codes live 10 minutes; a sign-in at GitHub takes less


@dataclass(frozen=True)
class Declined:
    """The person said no at GitHub (or GitHub refused): the client is told ``access_denied``."""

    transaction_hash: str
    error: str


@dataclass(frozen=True)
class Returned:
    """Back from GitHub: the pending authorization (by the hash of its transaction) and who signed in."""

    transaction_hash: str
    person: Person
    tokens: UserTokens


class GitHubSignIn:
    def __init__(self, *, web: GitHubWeb, people: GitHubPeople, store: OAuthStore) -> None:
        self.web, self.people, self.store = web, people, store

    @property
    def web_origin(self) -> str:
        return self.web.web_origin

    def start(self, transaction_hash: str, issuer: str) -> Response:
        """Send the browser to GitHub for the consent page's pending authorization."""
        state, verifier, binding = (secrets.token_urlsafe(32) for _ in range(3))
        self.store.put("github_flow", hashed(state), {"transaction": transaction_hash, "verifier": verifier,
                                                      "binding": hashed(binding)}, FLOW_SECONDS)
        url = self.web.authorize_url(redirect_uri=issuer + CALLBACK_PATH, state=state, challenge=s256(verifier))
        response = Response(status_code=302, headers={"Location": url, "Cache-Control": "no-store"})
        response.set_cookie(FLOW_COOKIE, binding, max_age=FLOW_SECONDS, path=CALLBACK_PATH,
                            secure=issuer.startswith("https://"), httponly=True, samesite="lax")
        return response

    def returned(self, query: dict[str, str], cookie: str | None) -> Returned | Declined | Response:
        """GitHub's redirect back: who signed in, that they declined, or the page saying why the
        sign-in cannot go on."""
        state = query.get("state", "")
        flow, used = self.store.use("github_flow", hashed(state)) if state else (None, False)
        if flow is None or used:
            return error_page("This sign-in with GitHub has expired or was already used.",
                              "Go back to the app you came from and connect again.")
        if not cookie or not hmac.compare_digest(hashed(cookie), flow["binding"]):
            return error_page("This sign-in with GitHub was started in another browser.",
                              "Go back to the app you came from and connect again from this browser.", status=403)
        if query.get("error"):
            return Declined(flow["transaction"], query["error"])
        try:
            tokens = self.web.exchange(query.get("code", ""), flow["verifier"])
            admitted = self.people.admit(tokens)
        except GitHubSignInRefused as refusal:
            log.info("GitHub sign-in refused at the code exchange: %s", refusal.error)
            return error_page(f"GitHub did not complete the sign-in ({refusal.error}).",
                              "Go back to the app you came from and connect again.")
        except ConnectorError as exc:
            return error_page(f"GitHub could not be asked who you are: {exc.detail}",
                              "Try again in a moment from the app you came from.", status=502)
        if isinstance(admitted, str):
            return error_page(admitted, "You may close this page.", status=403)
        return Returned(flow["transaction"], admitted, tokens)

