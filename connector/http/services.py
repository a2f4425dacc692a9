"""What a handler needs from the running app: its settings and its GitHub client.

``create_app`` wraps the app in :class:`ServicesMiddleware`, which makes that app's
:class:`Services` current for the duration of each request (a context variable, which Starlette
carries into the worker thread a sync handler runs in). Handlers reach it through
:func:`services`/:func:`github` and never touch the framework otherwise, and several apps with
different settings can live in one process.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..config.allowlist import RepoAllowlist
from ..config.settings import Settings
from ..errors import Misconfigured
from ..github.client import GitHub
from ..github.labels import LabelCache, TimedCache
from ..github.pulls import KnownPullRequests
from ..policy.rules import resolve_repository
from ..spec.catalog import EventCatalog
from ..state.claims import MemoryClaimStore
from ..state.protocols import ClaimStore, RunStore
from ..state.runs import MemoryRunStore
from ..state.shared_polls import SharedPolls
from ..types import Repository
from .auth import Authenticator, acts_as_person
from .current import ServicesMiddleware, current_services
from .rate_limits import RateLimits
from .readiness import Readiness
from .wait_slots import WaitSlots

__all__ = ["Services", "ServicesMiddleware", "services", "github"]


@dataclass(frozen=True)
class Services:
    settings: Settings
    github: GitHub | None
    readiness: Readiness
    auth: Authenticator
    events: EventCatalog | None = None
    labels: LabelCache = field(default_factory=LabelCache)
    pulls: KnownPullRequests = field(default_factory=KnownPullRequests)
    # A workflow file's declared inputs, by repository, file and ref (connector.api.workflow_dispatch).
    workflow_inputs: TimedCache[Any] = field(default_factory=TimedCache)
    runs: RunStore = field(default_factory=MemoryRunStore)
    idempotency: ClaimStore = field(default_factory=MemoryClaimStore)
    limits: RateLimits | None = None
    people_github: GitHub | None = None  # what people signed in with GitHub act through, when they may
    waits: WaitSlots = field(default_factory=WaitSlots)  # long-polls and run streams open at once
    polls: SharedPolls = field(default_factory=SharedPolls)  # their GitHub reads, shared per run

    def webhook_state_for(self, token_info: Mapping[str, Any]) -> bool:
        """Whether run state GitHub pushed may answer this caller: it was pushed about what the
        connector's own credentials see; a person acting as themselves is answered by GitHub with
        their own token, which may see less."""
        return self.webhooks_enabled and not acts_as_person(token_info)

    @staticmethod
    def cache_scope(token_info: Mapping[str, Any]) -> str:
        """The prefix of a cache key for what GitHub answered this caller: the same for everyone
        using the connector's credentials, one per person acting as themselves."""
        return f"{token_info['sub']}|" if acts_as_person(token_info) else ""

    @staticmethod
    def caller_identity(token_info: Mapping[str, Any]) -> str:
        """Who made the request, stably: an API key's digest prefix or a person's GitHub id, never a
        name two keys may share. What one caller wrote down (idempotency claims, dispatch records)
        is keyed by it, so another caller can neither read nor disturb it."""
        key = token_info.get("key")
        return key.subject if key is not None else str(token_info.get("sub"))

    @property
    def webhooks_enabled(self) -> bool:
        """GitHub pushes run state (GITHUB_WEBHOOK_SECRET is set), so it can be read from ``runs``."""
        return self.settings.github_webhook_secret is not None

    @functools.cached_property
    def allowlist(self) -> RepoAllowlist:
        return RepoAllowlist(self.settings.allowed_repos)

    def repository(self, body: dict[str, Any], token_info: dict[str, Any]) -> Repository:
        """The repository a request body names, checked against the operator's allowlist and the
        calling key's own repositories."""
        key = token_info.get("key")
        allowlists = (self.allowlist, key.repos) if key is not None else (self.allowlist,)
        return resolve_repository(body, self.settings.default_repo, allowlists)

    def event_payload(self, event_type: str, payload: dict[str, Any] | None, *, at: tuple[str, ...]) -> dict[str, Any]:
        """The payload for ``event_type``, checked against the operator's event catalog if there is one."""
        if self.events is None or not self.events.restricts_events:
            return payload or {}
        return self.events.get(event_type).check_payload(payload, at=at)


def services() -> Services:
    found = current_services()
    if found is None:
        raise LookupError("no connector app is serving a request here")
    return found


def github(token_info: Mapping[str, Any]) -> GitHub:
    """The GitHub client for the caller: a person signed in with GitHub acts with their own token;
    anyone else with the connector's credentials."""
    current = services()
    person = token_info.get("github_credentials")
    if person is not None:
        acting = current.github or current.people_github
        assert acting is not None, "signing in with GitHub is on only with a client for it"
        return acting.as_user(person)
    client = current.github
    if client is None and current.people_github is not None:
        raise Misconfigured("This connector acts on GitHub only for people signed in with GitHub; it has no "
                            "credentials of its own for API keys (the operator may set GITHUB_TOKEN or a GitHub App).")
    if client is None:
        raise Misconfigured(
            "The connector has no GitHub credentials; the operator has to set GITHUB_TOKEN "
            "(or start it in sandbox mode)."
        )
    return client
