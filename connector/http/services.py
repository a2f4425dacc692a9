"""What a handler needs from the running app: its settings and its GitHub client.

``create_app`` wraps the app in :class:`ServicesMiddleware`, which makes that app's
:class:`Services` current for the duration of each request (a context variable, which Starlette
carries into the worker thread a sync handler runs in). Handlers reach it through
:func:`services`/:func:`github` and never touch the framework otherwise, and several apps with
different settings can live in one process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from ..config.allowlist import RepoAllowlist
from ..config.settings import Settings
from ..errors import Misconfigured
from ..github.client import GitHub
from ..github.labels import LabelCache
from ..policy.rules import resolve_repository
from ..spec.catalog import EventCatalog
from ..state.claims import MemoryClaimStore
from ..state.protocols import ClaimStore, RunStore
from ..state.runs import MemoryRunStore
from ..types import Repository
from .auth import Authenticator
from .current import ServicesMiddleware, current_services
from .rate_limits import RateLimits
from .readiness import Readiness

__all__ = ["Services", "ServicesMiddleware", "services", "github"]


@dataclass(frozen=True)
class Services:
    settings: Settings
    github: GitHub | None
    readiness: Readiness
    auth: Authenticator
    events: EventCatalog | None = None
    labels: LabelCache = field(default_factory=LabelCache)
    runs: RunStore = field(default_factory=MemoryRunStore)
    idempotency: ClaimStore = field(default_factory=MemoryClaimStore)
    limits: RateLimits | None = None

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
        if self.events is None:
            return payload or {}
        return self.events.get(event_type).check_payload(payload, at=at)


def services() -> Services:
    found = current_services()
    if found is None:
        raise LookupError("no connector app is serving a request here")
    return found


def github() -> GitHub:
    client = services().github
    if client is None:
        raise Misconfigured(
            "The connector has no GitHub credentials; the operator has to set GITHUB_TOKEN "
            "(or start it in sandbox mode)."
        )
    return client
