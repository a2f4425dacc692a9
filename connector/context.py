"""What a handler needs from the running app: its settings and its GitHub client.

``create_app`` stores one :class:`Services` in the Flask app's ``extensions``; handlers reach it
through :func:`services`/:func:`github` and never touch the framework otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from .errors import Misconfigured
from .github import GitHub
from .settings import Settings

__all__ = ["Services", "services", "github", "EXTENSION_KEY"]

EXTENSION_KEY = "connector"


@dataclass(frozen=True)
class Services:
    settings: Settings
    github: GitHub | None


def services() -> Services:
    return current_app.extensions[EXTENSION_KEY]


def github() -> GitHub:
    client = services().github
    if client is None:
        raise Misconfigured(
            "The connector has no GitHub credentials; the operator has to set GITHUB_TOKEN "
            "(or start it in sandbox mode)."
        )
    return client
