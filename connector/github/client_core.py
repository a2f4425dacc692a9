"""What the GitHub client's call mixins (:mod:`.actions_calls`, :mod:`.pull_query`) use of the
client they are mixed into, declared once for the type checker: the real definitions are
:class:`connector.github.client.GitHub`'s, which inherits both mixins."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from ..types import Repository

__all__ = ["ClientCore"]


class ClientCore:
    if TYPE_CHECKING:
        def _call(self, repo: Repository, verb: str, url: str, *, reading: bool = False, **kwargs: Any
                  ) -> tuple[dict[str, Any], Any]: ...

        def _translated(self, repo: Repository, *, number: int | None = None, run_id: int | None = None,
                        write: str | None = None, missing: str | None = None
                        ) -> AbstractContextManager[None]: ...
