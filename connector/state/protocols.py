"""What every store of a kind promises, whichever implementation ``create_app`` picked: the memory
one for a single process, or the Redis one shared by every instance. Callers type against these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = ["Claim", "ClaimState", "ClaimStore", "DispatchRecord", "OAuthStore", "RunStore"]


@dataclass(frozen=True)
class DispatchRecord:
    repository: str
    request_id: str
    event_type: str
    at: float  # epoch seconds


class RunStore(Protocol):
    """What the connector knows about workflow runs without asking GitHub: the dispatches it sent,
    and the run and job states GitHub's webhooks delivered (newest state wins, whatever the order)."""

    def record_dispatch(self, repository: str, request_id: str, event_type: str) -> None: ...

    def dispatch(self, repository: str, request_id: str) -> DispatchRecord | None: ...

    def first_delivery(self, delivery_id: str) -> bool:
        """True the first time a delivery id is seen (and remembers it); False for a replay."""
        ...

    def seen_delivery(self, delivery_id: str) -> bool:
        """Whether a delivery id was taken already (applied, within the last 24 hours)."""
        ...

    def apply_run(self, repository: str, run: dict[str, Any]) -> None: ...

    def apply_job(self, repository: str, job: dict[str, Any]) -> None: ...

    def run(self, repository: str, run_id: int) -> dict[str, Any] | None: ...

    def jobs(self, repository: str, run_id: int) -> list[dict[str, Any]]: ...

    def runs_titled(self, repository: str, title: str) -> list[dict[str, Any]]: ...

    def wait_for_change(self, timeout: float) -> None:
        """Block until a delivery changed something, or ``timeout`` seconds passed."""
        ...


ClaimState = Literal["new", "done", "running", "unknown"]


@dataclass(frozen=True)
class Claim:
    state: ClaimState  # new: this request owns the key; otherwise what the first request left
    fingerprint: str = ""
    status: int = 0
    body: Any = None


class ClaimStore(Protocol):
    """Idempotency claims: which request owns a ``request_id``, and what its answer was."""

    def claim(self, key: str, fingerprint: str) -> Claim:
        """Take ``key`` for this request (``Claim("new")``), or return what the first request left."""
        ...

    def peek(self, key: str) -> Claim | None: ...

    def settle(self, key: str, claim: Claim | None) -> None:
        """Record the first request's outcome, or (``None``) release the key for a retry."""
        ...


class OAuthStore(Protocol):
    """The embedded authorization server's records: registered clients, pending authorizations,
    codes, grants and refresh tokens, each a JSON object under a ``kind`` and a key that expires.
    Secrets (codes, refresh tokens, client secrets) are stored only as hashes, and signed-in
    people's GitHub tokens only encrypted (connector.oauth.sealing): keys and values here are never
    a credential itself."""

    def put(self, kind: str, key: str, value: dict[str, Any], ttl: int) -> None: ...

    def get(self, kind: str, key: str) -> dict[str, Any] | None: ...

    def use(self, kind: str, key: str) -> tuple[dict[str, Any] | None, bool]:
        """The record, marked used in the same step; and whether it had been used before (a replay)."""
        ...

    def add(self, kind: str, key: str, value: dict[str, Any], ttl: int) -> bool:
        """Store ``value`` only if nothing live is stored there yet; whether it was (a lock, taken)."""
        ...

    def delete(self, kind: str, key: str) -> None: ...

    def index(self, name: str, member: str, ttl: int) -> None:
        """Remember ``member`` under ``name`` (a client's grants, a key's grants), for ``ttl`` seconds."""
        ...

    def members(self, name: str) -> set[str]: ...

    def count(self, name: str) -> int:
        """How many members ``name`` has (dynamically registered clients, to bound them)."""
        ...
